//! Upload-session handlers: parse, call the service, render.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use boxup_protocol::{
    BoxError, CommitRequest, CreateUploadSessionRequest, CreateVersionUploadSessionRequest, Files,
    UploadParts, UploadSession, UploadSessionPlanRequest, UploadSessionPlanResponse, UploadedPart,
};
use futures::TryStreamExt;
use serde_json::Value;

use super::AppState;
use super::extract::{Id, QueryParams, SmallBody, header};
use crate::error::ApiResult;
use crate::service::{Caller, CommitHeaders, Origin, PartHeaders};

#[utoipa::path(post, path = "/2.0/files/upload_sessions", tag = "Chunked uploads",
    request_body(content = CreateUploadSessionRequest, content_type = "application/json"),
    responses((status = 201, description = "The new session", body = UploadSession), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn create(
    State(s): State<AppState>,
    caller: Caller,
    origin: Origin,
    SmallBody(body): SmallBody,
) -> ApiResult<(StatusCode, Json<UploadSession>)> {
    let session = s.service.create_session(&caller, &body, &origin).await?;
    Ok((StatusCode::CREATED, Json(session)))
}

#[utoipa::path(post, path = "/2.0/files/{id}/upload_sessions", tag = "Chunked uploads",
    params(("id" = String, Path, description = "The file's id")),
    request_body(content = CreateVersionUploadSessionRequest, content_type = "application/json"),
    responses((status = 201, description = "The new session", body = UploadSession), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError)),
    security(("bearer" = [])))]
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

#[utoipa::path(get, path = "/2.0/files/upload_sessions/{id}", tag = "Chunked uploads",
    params(("id" = String, Path, description = "The upload session's id")),
    responses((status = 200, description = "The session", body = UploadSession), (status = 404, description = "No such item, or not the caller's", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn get(
    State(s): State<AppState>,
    caller: Caller,
    origin: Origin,
    Id(id): Id,
) -> ApiResult<Json<UploadSession>> {
    Ok(Json(s.service.get_session(&caller, &id, &origin).await?))
}

#[utoipa::path(put, path = "/2.0/files/upload_sessions/{id}", tag = "Chunked uploads",
    params(("id" = String, Path, description = "The upload session's id"),
        ("content-range" = String, Header, description = "bytes FIRST-LAST/TOTAL"),
        ("digest" = String, Header, description = "sha=BASE64 of the part's SHA-1")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "The stored part", body = UploadedPart),
        (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 412, description = "Digest mismatch", body = BoxError), (status = 416, description = "Range outside the file or misaligned", body = BoxError)),
    security(("bearer" = [])))]
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

#[utoipa::path(delete, path = "/2.0/files/upload_sessions/{id}", tag = "Chunked uploads",
    params(("id" = String, Path, description = "The upload session's id")),
    responses((status = 204, description = "Aborted"), (status = 404, description = "No such item, or not the caller's", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn abort(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    s.service.abort_session(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/2.0/files/upload_sessions/{id}/parts", tag = "Chunked uploads",
    params(("id" = String, Path, description = "The upload session's id"),
        ("offset" = Option<u64>, Query, description = "First part of the page"),
        ("limit" = Option<u64>, Query, description = "Page size")),
    responses((status = 200, description = "A page of parts", body = UploadParts), (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError)),
    security(("bearer" = [])))]
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

#[utoipa::path(post, path = "/2.0/files/upload_sessions/{id}/commit", tag = "Chunked uploads",
    params(("id" = String, Path, description = "The upload session's id"), ("fields" = Option<String>, Query, description = "Comma-separated fields the answer carries"),
        ("digest" = String, Header, description = "sha=BASE64 of the whole file's SHA-1"),
        ("if-match" = Option<String>, Header, description = "The etag the file must have"),
        ("if-none-match" = Option<String>, Header, description = "An etag the file must not have")),
    request_body(content = CommitRequest, content_type = "application/json"),
    responses((status = 201, description = "The committed file", body = Files),
        (status = 202, description = "Parts still processing; retry after Retry-After"),
        (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError), (status = 409, description = "Name in use, or a conflicting state", body = BoxError), (status = 412, description = "If-Match precondition failed", body = BoxError)),
    security(("bearer" = [])))]
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

#[utoipa::path(post, path = "/2.0/files/upload_sessions/{id}/plan", tag = "Chunked uploads",
    params(("id" = String, Path, description = "The upload session's id")),
    request_body(content = UploadSessionPlanRequest, content_type = "application/json"),
    responses((status = 200, description = "Which parts the server already holds", body = UploadSessionPlanResponse),
        (status = 400, description = "Malformed request", body = BoxError), (status = 404, description = "No such item, or not the caller's", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn plan(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    SmallBody(body): SmallBody,
) -> ApiResult<Json<UploadSessionPlanResponse>> {
    Ok(Json(s.service.plan_session(&caller, &id, &body).await?))
}

#[utoipa::path(post, path = "/2.0/files/upload_sessions/{id}/log", tag = "Chunked uploads",
    params(("id" = String, Path, description = "The upload session's id")),
    responses((status = 204, description = "Accepted and dropped"), (status = 404, description = "No such item, or not the caller's", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn log_event(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    s.service.log_event(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
