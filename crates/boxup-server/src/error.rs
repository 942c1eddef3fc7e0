//! `ApiError`: the one error type of the service and HTTP boundary.
//!
//! Every failure leaves the server as Box's error object. Its status and
//! code come from one catalogue entry ([`ErrorKind`]), never from a status
//! and a code paired by hand. Store errors are converted here, once.
//! Internal errors are logged once with their whole cause chain, inside the
//! request's span (so the log line carries the request id), and shown with
//! a generic message.

use std::error::Error as StdError;
use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use boxup_protocol::{BoxError, ErrorKind};
use serde_json::{Value, json};

use crate::http::request_id;
use crate::store::{ItemId, ItemRef, SessionState, StoreError};

/// The `Retry-After` of a 503: long enough for a restarted database or
/// object-store node to come back, short next to the SDKs' patience.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

#[derive(Debug)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    pub context_info: Option<Value>,
    /// Headers the answer must carry (e.g. `Content-Range` on a 416).
    pub headers: Vec<(&'static str, String)>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The catalogue's `kind`, explained by `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            context_info: None,
            headers: Vec::new(),
        }
    }

    /// The HTTP status, as the catalogue pairs it with the code.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn with_context(mut self, context: Value) -> Self {
        self.context_info = Some(context);
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            ErrorKind::NotFound,
            "Not Found: the item does not exist or you do not have access to it",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            ErrorKind::Unauthorized,
            "The access token provided is invalid.",
        )
    }

    /// Over the caller's request budget: try again in `retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::new(
            ErrorKind::RateLimitExceeded,
            "Request rate limit exceeded, please try again later",
        )
        .with_header("retry-after", retry_after_secs.to_string())
    }

    pub fn invalid_json(detail: impl fmt::Display) -> Self {
        Self::new(
            ErrorKind::InvalidJson,
            format!("Request body was not valid JSON: {detail}"),
        )
    }

    pub fn session_expired() -> Self {
        Self::new(ErrorKind::SessionExpired, "The upload session has expired")
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            ErrorKind::PreconditionFailed,
            "The resource has been modified. Please retrieve the resource again and retry",
        )
    }

    /// 409 `item_name_in_use` for a file operation (upload, session,
    /// preflight): `conflicts` is one object, which Box's web uploader reads
    /// as `conflicts.id` (docs/protocol.md §6.2).
    pub fn name_in_use(item: &ItemRef) -> Self {
        Self::conflict(conflict_json(item))
    }

    /// 409 `item_name_in_use` for a folder operation: `conflicts` is an array.
    pub fn folder_name_in_use(item: &ItemRef) -> Self {
        Self::conflict(Value::Array(vec![conflict_json(item)]))
    }

    fn conflict(conflicts: Value) -> Self {
        Self::new(
            ErrorKind::ItemNameInUse,
            "Item with the same name already exists",
        )
        .with_context(json!({ "conflicts": conflicts }))
    }

    /// A 500 whose `detail` is logged (with the request id of the current
    /// request) and never shown to the client.
    pub fn internal(detail: impl fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(ErrorKind::Internal, "Internal Server Error")
    }

    /// The Box error object for this error, with the current request's id
    /// (a fresh one outside a request).
    pub fn to_box_error(&self) -> BoxError {
        let mut e = BoxError::new(self.kind.status(), self.kind.code(), self.message.clone());
        e.context_info = self.context_info.clone();
        e.request_id = Some(request_id::current());
        e
    }
}

/// An error and every error behind it, joined with ": ", the way an
/// operator reads a cause chain on one log line.
pub struct Chain<'a>(pub &'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}

fn conflict_json(item: &ItemRef) -> Value {
    match item.id {
        ItemId::Folder(_) => json!({
            "type": "folder", "id": item.id.to_string(),
            "sequence_id": item.etag.to_string(), "etag": item.etag.to_string(),
            "name": item.name,
        }),
        ItemId::File(_) => {
            let (vid, sha1) = item
                .version
                .as_ref()
                .map(|v| (v.id.to_string(), v.sha1.as_str()))
                .unwrap_or_default();
            json!({
                "type": "file", "id": item.id.to_string(),
                "file_version": {"type": "file_version", "id": vid.to_string(), "sha1": sha1},
                "sequence_id": item.etag.to_string(), "etag": item.etag.to_string(),
                "sha1": sha1, "name": item.name,
            })
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::ParentNotFound => ApiError::new(
                ErrorKind::ParentNotFound,
                "The parent folder does not exist or you do not have access to it",
            ),
            StoreError::NameInUse(item) => ApiError::name_in_use(&item),
            StoreError::PreconditionFailed => ApiError::precondition_failed(),
            StoreError::FolderNotEmpty => ApiError::new(
                ErrorKind::FolderNotEmpty,
                "The folder is not empty; delete it with recursive=true",
            ),
            StoreError::FolderCycle => ApiError::new(
                ErrorKind::CyclicalFolderStructure,
                "A folder cannot be moved or copied into itself or a folder inside it",
            ),
            StoreError::SessionNotOpen(SessionState::Expired) => ApiError::session_expired(),
            StoreError::SessionNotOpen(_) => ApiError::new(
                ErrorKind::SessionCommitted,
                "The upload session is already committed",
            ),
            StoreError::Body(e) => ApiError::new(
                ErrorKind::BadRequest,
                format!("The request body could not be read: {e}"),
            ),
            e @ StoreError::StorageFull(_) => {
                tracing::error!(error = %Chain(&e), "storage is full");
                ApiError::new(
                    ErrorKind::InsufficientStorage,
                    "The server is out of storage space; try again later",
                )
            }
            e @ StoreError::Unavailable(_) => {
                tracing::warn!(error = %Chain(&e), "a backend is unavailable");
                ApiError::new(
                    ErrorKind::Unavailable,
                    "A storage backend is unavailable; try again shortly",
                )
                .with_header("retry-after", UNAVAILABLE_RETRY_AFTER_SECS.to_string())
            }
            e @ StoreError::Backend(_) => ApiError::internal(Chain(&e)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.to_box_error();
        let request_id = body.request_id.clone().unwrap_or_default();
        let status = self.status();
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(*name, v);
            }
        }
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert(request_id::HEADER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"Service\", error=\"invalid_token\", \
                     error_description=\"The access token provided is invalid.\"",
                ),
            );
        }
        response
    }
}
