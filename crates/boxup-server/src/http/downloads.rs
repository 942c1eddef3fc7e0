//! Download handlers: the authenticated redirect and the signed link it
//! points to (docs/protocol.md §5.4).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header as h};
use axum::response::{IntoResponse, Response};
use boxup_protocol::BoxError;

use super::AppState;
use super::extract::{Id, QueryParams, header};
use crate::error::ApiResult;
use crate::service::{Caller, Download, Origin, content_disposition};

/// `GET /files/{id}/content`: 302 to a signed, expiring download URL.
/// `HEAD` gets boxup's own link even where GET would get the object
/// store's presigned one (see `UploadService::download_url`).
#[utoipa::path(get, path = "/2.0/files/{id}/content", tag = "Files",
    params(("id" = String, Path, description = "The file's id"),
        ("version" = Option<String>, Query, description = "A file version's id; default the current one")),
    responses((status = 302, description = "To a signed, expiring download URL (Location)"),
        (status = 404, description = "No such file, or not the caller's", body = BoxError)),
    security(("bearer" = [])))]
pub(super) async fn redirect(
    State(s): State<AppState>,
    method: Method,
    caller: Caller,
    origin: Origin,
    Id(id): Id,
    params: QueryParams,
) -> ApiResult<Response> {
    let url = s
        .service
        .download_url(
            &caller,
            &id,
            params.version.as_deref(),
            &origin,
            method != Method::HEAD,
        )
        .await?;
    let mut response = StatusCode::FOUND.into_response();
    let location = HeaderValue::from_str(&url).expect("signed URLs are ASCII");
    response.headers_mut().insert(h::LOCATION, location);
    Ok(response)
}

/// `GET /downloads/{token}`: the bytes, for whoever holds the link.
#[utoipa::path(get, path = "/downloads/{token}", tag = "Files",
    params(("token" = String, Path,
            description = "The signed, expiring token of a `GET /2.0/files/{id}/content` redirect"),
        ("range" = Option<String>, Header,
            description = "One byte range, `bytes=FIRST-[LAST]` or `bytes=-SUFFIX`; \
                anything else is ignored and the whole file served")),
    responses((status = 200, description = "The file version's bytes (with ETag, Digest, \
            Content-Disposition, Accept-Ranges)", content_type = "application/octet-stream",
            body = Vec<u8>),
        (status = 206, description = "The range's bytes (Content-Range)",
            content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, description = "The link is not valid or has expired", body = BoxError),
        (status = 404, description = "The file or version is gone", body = BoxError),
        (status = 416, description = "The range is outside the file (Content-Range: bytes */SIZE)",
            body = BoxError)),
    security(()))]
pub(super) async fn by_link(
    State(s): State<AppState>,
    Id(token): Id,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let range = header(&headers, "range");
    let d = s.service.download_by_link(&token, range).await?;
    Ok(bytes_response(d))
}

/// A download's bytes with their headers: 200, or 206 for a range.
fn bytes_response(d: Download) -> Response {
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
    // A link's bytes never change: the URL names one version.
    out.insert(
        h::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", d.etag)) {
        out.insert(h::ETAG, v);
    }
    if let Some((first, last)) = d.range {
        let v = format!("bytes {first}-{last}/{}", d.total);
        out.insert(h::CONTENT_RANGE, HeaderValue::from_str(&v).expect("ascii"));
    } else if let Ok(v) = HeaderValue::from_str(&format!("sha={}", sha1_b64(&d.sha1))) {
        out.insert("digest", v);
    }
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&d.name)) {
        out.insert(h::CONTENT_DISPOSITION, v);
    }
    response
}

fn sha1_b64(hex: &str) -> String {
    boxup_protocol::Sha1Digest::from_hex(hex)
        .map(|d| d.to_base64())
        .unwrap_or_default()
}
