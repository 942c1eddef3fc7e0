//! File handlers: metadata, update, copy, delete, simple upload, preflight.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use boxup_protocol::{
    BoxError, CopyItemRequest, File, Files, PreflightResponse, UpdateItemRequest, UploadAttributes,
};
use serde_json::Value;

use super::AppState;
use super::extract::{Id, QueryParams, SmallBody, header};
use super::multipart::upload_request;
use super::openapi::UploadForm;
use crate::error::ApiResult;
use crate::service::{Caller, Origin, none_match_hits};

#[utoipa::path(get, path = "/2.0/files/{id}", tag = "Files",
    params(("id" = String, Path, description = "The file's id"), ("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries"),
        ("if-none-match" = Option<String>, Header, description = "304 when the etag matches")),
    responses((status = 200, description = "The file", body = File),
        (status = 304, description = "Unchanged"), (status = 404, description = "No such item, or not the caller's", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn get(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    params: QueryParams,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let file = s.service.get_file(&caller, &id).await?;
    let unchanged = header(&headers, "if-none-match")
        .zip(file.etag.as_deref().and_then(|e| e.parse().ok()))
        .is_some_and(|(wanted, etag)| none_match_hits(wanted, etag));
    if unchanged {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    Ok(Json(params.fields.file(&file)).into_response())
}

/// `PUT /files/{id}`.
#[utoipa::path(put, path = "/2.0/files/{id}", tag = "Files",
    params(("id" = String, Path, description = "The file's id"), ("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries"),
        ("if-match" = Option<String>, Header, description = "The etag the file must have")),
    request_body(content = UpdateItemRequest, content_type = "application/json"),
    responses((status = 200, description = "The updated file", body = File), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError), (status = 412, description = "If-Match precondition failed", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    params: QueryParams,
    headers: HeaderMap,
    SmallBody(body): SmallBody,
) -> ApiResult<Json<Value>> {
    let file = s
        .service
        .update_file(&caller, &id, &body, header(&headers, "if-match"))
        .await?;
    Ok(Json(params.fields.file(&file)))
}

/// `POST /files/{id}/copy`.
#[utoipa::path(post, path = "/2.0/files/{id}/copy", tag = "Files",
    params(("id" = String, Path, description = "The file's id"), ("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries")),
    request_body(content = CopyItemRequest, content_type = "application/json"),
    responses((status = 201, description = "The copy", body = File), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn copy(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    params: QueryParams,
    SmallBody(body): SmallBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let file = s.service.copy_file(&caller, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(params.fields.file(&file))))
}

#[utoipa::path(delete, path = "/2.0/files/{id}", tag = "Files",
    params(("id" = String, Path, description = "The file's id"),
        ("if-match" = Option<String>, Header, description = "The etag the file must have")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 412, description = "If-Match precondition failed", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn delete(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    s.service
        .delete_file(&caller, &id, header(&headers, "if-match"))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/2.0/files/content", tag = "Files",
    params(("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "The new file", body = Files), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn upload(
    State(s): State<AppState>,
    caller: Caller,
    params: QueryParams,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request = upload_request(&headers, body).await?;
    let files = s.service.upload_file(&caller, request).await?;
    Ok((StatusCode::CREATED, Json(params.fields.files(&files))))
}

#[utoipa::path(post, path = "/2.0/files/{id}/content", tag = "Files",
    params(("id" = String, Path, description = "The file's id"), ("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "The file with its new version", body = Files), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError), (status = 412, description = "If-Match precondition failed", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn upload_version(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    params: QueryParams,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let request = upload_request(&headers, body).await?;
    let files = s.service.upload_version(&caller, &id, request).await?;
    Ok(Json(params.fields.files(&files)))
}

#[utoipa::path(options, path = "/2.0/files/content", tag = "Files",
    request_body(content = UploadAttributes, content_type = "application/json"),
    responses((status = 200, description = "The upload would be accepted", body = PreflightResponse),
        (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn preflight_new(
    State(s): State<AppState>,
    caller: Caller,
    origin: Origin,
    SmallBody(body): SmallBody,
) -> ApiResult<Json<PreflightResponse>> {
    Ok(Json(
        s.service.preflight(&caller, None, &body, &origin).await?,
    ))
}

#[utoipa::path(options, path = "/2.0/files/{id}/content", tag = "Files",
    params(("id" = String, Path, description = "The file's id")),
    request_body(content = UploadAttributes, content_type = "application/json"),
    responses((status = 200, description = "The new version would be accepted", body = PreflightResponse),
        (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn preflight_version(
    State(s): State<AppState>,
    caller: Caller,
    origin: Origin,
    Id(id): Id,
    SmallBody(body): SmallBody,
) -> ApiResult<Json<PreflightResponse>> {
    Ok(Json(
        s.service
            .preflight(&caller, Some(&id), &body, &origin)
            .await?,
    ))
}
