//! Splits a `multipart/form-data` upload into its `attributes` JSON and a
//! stream of its `file` part, without buffering the file.
//!
//! multer is used directly (not axum's `Multipart`) because its fields own
//! their stream, so the file part can be handed to the service as a
//! `'static` byte stream. Box requires `attributes` before the file part,
//! which may have any name (`file` for the SDKs, `contents` for rclone).

use axum::body::Body;
use axum::http::HeaderMap;
use boxup_protocol::{ErrorKind, UploadAttributes};
use futures::TryStreamExt;

use super::extract::header;
use crate::error::{ApiError, ApiResult};
use crate::service::UploadFileRequest;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::BadRequest, message)
}

/// The largest `attributes` part accepted.
const MAX_ATTRIBUTES_BYTES: usize = 64 * 1024;

pub(super) async fn upload_request(
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<UploadFileRequest> {
    let content_type = header(headers, "content-type")
        .ok_or_else(|| bad("Content-Type multipart/form-data is required"))?;
    let boundary = multer::parse_boundary(content_type).map_err(|e| {
        bad(format!(
            "Content-Type must be multipart/form-data with a boundary: {e}"
        ))
    })?;
    let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut attributes: Option<UploadAttributes> = None;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| bad(format!("The multipart body is malformed: {e}")))?
            .ok_or_else(|| bad("The multipart body has no 'file' part"))?;
        match field.name() {
            Some("attributes") => {
                let mut raw = Vec::new();
                let mut field = field;
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| bad(format!("The multipart body is malformed: {e}")))?
                {
                    raw.extend_from_slice(&chunk);
                    if raw.len() > MAX_ATTRIBUTES_BYTES {
                        return Err(bad("The 'attributes' part is too large"));
                    }
                }
                attributes = Some(serde_json::from_slice(&raw).map_err(ApiError::invalid_json)?);
            }
            // After `attributes`, the next part is the file, whatever its
            // name (`file`, `contents`, …). Before it, a part that looks
            // like a file is out of order; a plain form field is skipped.
            name => {
                let Some(attributes) = attributes.take() else {
                    if name == Some("file") || field.file_name().is_some() {
                        return Err(ApiError::new(
                            ErrorKind::MetadataAfterFile,
                            "Metadata must be sent before the file contents",
                        ));
                    }
                    continue;
                };
                let body = Box::pin(field.map_err(std::io::Error::other));
                return Ok(UploadFileRequest {
                    attributes,
                    content_sha1: header(headers, "content-md5").map(str::to_owned),
                    if_match: header(headers, "if-match").map(str::to_owned),
                    body,
                });
            }
        }
    }
}
