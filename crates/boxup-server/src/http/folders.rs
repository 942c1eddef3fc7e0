//! Folder handlers, and the current user.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use boxup_protocol::{
    BoxError, CopyItemRequest, CreateFolderRequest, Folder, Items, UpdateItemRequest, User,
};
use serde_json::Value;

use super::AppState;
use super::extract::{Id, QueryParams, SmallBody, header};
use crate::error::ApiResult;
use crate::service::Caller;

#[utoipa::path(get, path = "/2.0/folders/{id}", tag = "Folders",
    params(("id" = String, Path, description = "The folder's id; \"0\" is the root", example = "0"), ("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries")),
    responses((status = 200, description = "The folder", body = Folder), (status = 404, description = "No such item, or not the caller's", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn get(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    params: QueryParams,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        s.service.get_folder(&caller, &id, &params.fields).await?,
    ))
}

#[utoipa::path(get, path = "/2.0/folders/{id}/items", tag = "Folders",
    params(("id" = String, Path, description = "The folder's id; \"0\" is the root", example = "0"), ("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries"),
        ("offset" = Option<u64>, Query, description = "Offset paging: the first item"),
        ("limit" = Option<u64>, Query, description = "Page size"),
        ("usemarker" = Option<bool>, Query, description = "Marker paging"),
        ("marker" = Option<String>, Query, description = "Marker paging: where the page starts")),
    responses((status = 200, description = "A page of the folder's items", body = Items), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn items(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    params: QueryParams,
) -> ApiResult<Json<Value>> {
    let query = params.items_query();
    Ok(Json(
        s.service
            .list_items(&caller, &id, &query, &params.fields)
            .await?,
    ))
}

#[utoipa::path(post, path = "/2.0/folders", tag = "Folders",
    params(("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries")),
    request_body(content = CreateFolderRequest, content_type = "application/json"),
    responses((status = 201, description = "The new folder", body = Folder), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn create(
    State(s): State<AppState>,
    caller: Caller,
    params: QueryParams,
    SmallBody(body): SmallBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let folder = s.service.create_folder(&caller, &body).await?;
    Ok((StatusCode::CREATED, Json(params.fields.folder(&folder))))
}

/// `PUT /folders/{id}`.
#[utoipa::path(put, path = "/2.0/folders/{id}", tag = "Folders",
    params(("id" = String, Path, description = "The folder's id; \"0\" is the root", example = "0"), ("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries"),
        ("if-match" = Option<String>, Header, description = "The etag the folder must have")),
    request_body(content = UpdateItemRequest, content_type = "application/json"),
    responses((status = 200, description = "The updated folder", body = Folder), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError), (status = 412, description = "If-Match precondition failed", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    params: QueryParams,
    headers: HeaderMap,
    SmallBody(body): SmallBody,
) -> ApiResult<Json<Value>> {
    let folder = s
        .service
        .update_folder(&caller, &id, &body, header(&headers, "if-match"))
        .await?;
    Ok(Json(params.fields.folder(&folder)))
}

/// `DELETE /folders/{id}[?recursive=true]`.
#[utoipa::path(delete, path = "/2.0/folders/{id}", tag = "Folders",
    params(("id" = String, Path, description = "The folder's id; \"0\" is the root", example = "0"),
        ("recursive" = Option<bool>, Query, description = "Delete a non-empty folder"),
        ("if-match" = Option<String>, Header, description = "The etag the folder must have")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError), (status = 412, description = "If-Match precondition failed", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn delete(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    params: QueryParams,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    s.service
        .delete_folder(&caller, &id, params.recursive, header(&headers, "if-match"))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /folders/{id}/copy`.
#[utoipa::path(post, path = "/2.0/folders/{id}/copy", tag = "Folders",
    params(("id" = String, Path, description = "The folder's id; \"0\" is the root", example = "0"), ("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries")),
    request_body(content = CopyItemRequest, content_type = "application/json"),
    responses((status = 201, description = "The copy", body = Folder), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn copy(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    params: QueryParams,
    SmallBody(body): SmallBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let folder = s.service.copy_folder(&caller, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(params.fields.folder(&folder))))
}

/// `GET /users/me`.
#[utoipa::path(get, path = "/2.0/users/me", tag = "Users",
    responses((status = 200, description = "The caller", body = User)),
    security(("bearer" = [])))]
pub(super) async fn me(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(s.service.current_user(&caller).await?))
}
