//! File handlers: metadata, update, copy, delete, simple upload, preflight.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use boxup_protocol::PreflightResponse;
use serde_json::Value;

use super::AppState;
use super::extract::{Id, QueryParams, SmallBody, header};
use super::multipart::upload_request;
use crate::error::ApiResult;
use crate::service::{Caller, Origin, none_match_hits};

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
