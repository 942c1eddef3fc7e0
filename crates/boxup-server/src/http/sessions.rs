//! Upload-session handlers: parse, call the service, render.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use boxup_protocol::{UploadParts, UploadSession, UploadSessionPlanResponse, UploadedPart};
use futures::TryStreamExt;
use serde_json::Value;

use super::AppState;
use super::extract::{Id, QueryParams, SmallBody, header};
use crate::error::ApiResult;
use crate::service::{Caller, CommitHeaders, Origin, PartHeaders};

pub(super) async fn create(
    State(s): State<AppState>,
    caller: Caller,
    origin: Origin,
    SmallBody(body): SmallBody,
) -> ApiResult<(StatusCode, Json<UploadSession>)> {
    let session = s.service.create_session(&caller, &body, &origin).await?;
    Ok((StatusCode::CREATED, Json(session)))
}

pub(super) async fn create_for_version(
    State(s): State<AppState>,
    caller: Caller,
    origin: Origin,
    Id(file_id): Id,
    SmallBody(body): SmallBody,
) -> ApiResult<(StatusCode, Json<UploadSession>)> {
    let session = s
        .service
        .create_version_session(&caller, &file_id, &body, &origin)
        .await?;
    Ok((StatusCode::CREATED, Json(session)))
}

pub(super) async fn get(
    State(s): State<AppState>,
    caller: Caller,
    origin: Origin,
    Id(id): Id,
) -> ApiResult<Json<UploadSession>> {
    Ok(Json(s.service.get_session(&caller, &id, &origin).await?))
}

pub(super) async fn upload_part(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<UploadedPart>> {
    let part_headers = PartHeaders {
        content_range: header(&headers, "content-range"),
        digest: header(&headers, "digest"),
        content_length: header(&headers, "content-length").and_then(|v| v.parse().ok()),
    };
    let stream = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    Ok(Json(
        s.service
            .upload_part(&caller, &id, part_headers, stream)
            .await?,
    ))
}

pub(super) async fn abort(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    s.service.abort_session(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn list_parts(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    paging: QueryParams,
) -> ApiResult<Json<UploadParts>> {
    let parts = s
        .service
        .list_parts(&caller, &id, paging.offset, paging.limit)
        .await?;
    Ok(Json(parts))
}

pub(super) async fn commit(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    params: QueryParams,
    headers: HeaderMap,
    SmallBody(body): SmallBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let commit_headers = CommitHeaders {
        digest: header(&headers, "digest"),
        if_match: header(&headers, "if-match"),
        if_none_match: header(&headers, "if-none-match"),
    };
    let files = s
        .service
        .commit(&caller, &id, commit_headers, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(params.fields.files(&files))))
}

pub(super) async fn plan(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    SmallBody(body): SmallBody,
) -> ApiResult<Json<UploadSessionPlanResponse>> {
    Ok(Json(s.service.plan_session(&caller, &id, &body).await?))
}

pub(super) async fn log_event(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    s.service.log_event(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
