//! File handlers: metadata, delete, download, simple upload, preflight.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header as h};
use axum::response::{IntoResponse, Response};
use boxup_protocol::{Files, PreflightResponse};

use super::AppState;
use super::extract::{Id, Paging, SmallBody, header};
use super::multipart::upload_request;
use crate::error::ApiResult;
use crate::service::{Caller, Origin, none_match_hits};

pub(super) async fn get(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let file = s.service.get_file(&caller, &id).await?;
    let unchanged = header(&headers, "if-none-match")
        .zip(file.etag.as_deref().and_then(|e| e.parse().ok()))
        .is_some_and(|(wanted, etag)| none_match_hits(wanted, etag));
    if unchanged {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    Ok(Json(file).into_response())
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

pub(super) async fn download(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    paging: Paging,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let range = header(&headers, "range");
    let d = s
        .service
        .download(&caller, &id, paging.version.as_deref(), range)
        .await?;
    let (status, len) = match d.range {
        Some((first, last)) => (StatusCode::PARTIAL_CONTENT, last - first + 1),
        None => (StatusCode::OK, d.total),
    };
    let mut response = Response::new(Body::from_stream(d.body));
    *response.status_mut() = status;
    let out = response.headers_mut();
    out.insert(
        h::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    out.insert(h::CONTENT_LENGTH, HeaderValue::from(len));
    out.insert(h::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", d.etag)) {
        out.insert(h::ETAG, v);
    }
    if let Some((first, last)) = d.range {
        let v = format!("bytes {first}-{last}/{}", d.total);
        out.insert(h::CONTENT_RANGE, HeaderValue::from_str(&v).expect("ascii"));
    } else if let Ok(v) = HeaderValue::from_str(&format!("sha={}", sha1_b64(&d.sha1))) {
        out.insert("digest", v);
    }
    // The name is data: percent-encoded (RFC 5987), never interpreted.
    let encoded: String = d
        .name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}")) {
        out.insert(h::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

fn sha1_b64(hex: &str) -> String {
    boxup_protocol::Sha1Digest::from_hex(hex)
        .map(|d| d.to_base64())
        .unwrap_or_default()
}

pub(super) async fn upload(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Files>)> {
    let request = upload_request(&headers, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(s.service.upload_file(&caller, request).await?),
    ))
}

pub(super) async fn upload_version(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Files>> {
    let request = upload_request(&headers, body).await?;
    Ok(Json(s.service.upload_version(&caller, &id, request).await?))
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
