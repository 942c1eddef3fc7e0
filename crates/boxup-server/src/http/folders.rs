//! Folder handlers, and the current user.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::AppState;
use super::extract::{Id, QueryParams, SmallBody, header};
use crate::error::ApiResult;
use crate::service::Caller;

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
pub(super) async fn me(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(s.service.current_user(&caller).await?))
}
