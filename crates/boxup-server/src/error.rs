//! `ApiError`: the one error type of the service and HTTP boundary.
//!
//! Every failure leaves the server as Box's error object with a fitting
//! status and code. Store errors are converted here, once. Internal errors
//! are logged once with their detail and shown with a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use boxup_protocol::{BoxError, ErrorCode};
use serde_json::{Value, json};

use crate::store::{ItemId, ItemRef, StoreError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub context_info: Option<Value>,
    /// Headers the answer must carry (e.g. `Content-Range` on a 416).
    pub headers: Vec<(&'static str, String)>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            context_info: None,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn with_context(mut self, context: Value) -> Self {
        self.context_info = Some(context);
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NOT_FOUND,
            "Not Found: the item does not exist or you do not have access to it",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::UNAUTHORIZED,
            "The access token provided is invalid.",
        )
    }

    pub fn invalid_json(detail: impl std::fmt::Display) -> Self {
        Self::bad_request(
            ErrorCode::INVALID_JSON,
            format!("Request body was not valid JSON: {detail}"),
        )
    }

    pub fn session_expired() -> Self {
        Self::new(
            StatusCode::GONE,
            ErrorCode::SESSION_EXPIRED,
            "The upload session has expired",
        )
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            ErrorCode::PRECONDITION_FAILED,
            "The resource has been modified. Please retrieve the resource again and retry",
        )
    }

    /// 409 `item_name_in_use` for a file operation (upload, session,
    /// preflight): `conflicts` is one object, which Box's web uploader reads
    /// as `conflicts.id` (wire spec §3.7).
    pub fn name_in_use(item: &ItemRef) -> Self {
        Self::conflict(conflict_json(item))
    }

    /// 409 `item_name_in_use` for a folder operation: `conflicts` is an array.
    pub fn folder_name_in_use(item: &ItemRef) -> Self {
        Self::conflict(Value::Array(vec![conflict_json(item)]))
    }

    fn conflict(conflicts: Value) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            ErrorCode::ITEM_NAME_IN_USE,
            "Item with the same name already exists",
        )
        .with_context(json!({ "conflicts": conflicts }))
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::INTERNAL,
            "Internal Server Error",
        )
    }

    /// The Box error object for this error, with a fresh request id.
    pub fn to_box_error(&self) -> BoxError {
        let mut e = BoxError::new(self.status.as_u16(), self.code, self.message.clone());
        e.context_info = self.context_info.clone();
        e.request_id = Some(new_request_id());
        e
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

/// A random request id (hex), as Box puts in every error object.
pub fn new_request_id() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::ParentNotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::INVALID_PARAMETER,
                "The parent folder does not exist or you do not have access to it",
            ),
            StoreError::NameInUse(item) => ApiError::name_in_use(&item),
            StoreError::PreconditionFailed => ApiError::precondition_failed(),
            StoreError::SessionNotOpen(crate::store::SessionState::Expired) => {
                ApiError::session_expired()
            }
            StoreError::SessionNotOpen(_) => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::SESSION_COMMITTED,
                "The upload session is already committed",
            ),
            StoreError::Body(e) => ApiError::bad_request(
                ErrorCode::BAD_REQUEST,
                format!("The request body could not be read: {e}"),
            ),
            StoreError::StorageFull(detail) => {
                tracing::error!(%detail, "storage is full");
                ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    ErrorCode::INSUFFICIENT_STORAGE,
                    "The server is out of storage space; try again later",
                )
            }
            StoreError::Backend(detail) => ApiError::internal(detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.to_box_error();
        let request_id = body.request_id.clone().unwrap_or_default();
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(*name, v);
            }
        }
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert("box-request-id", v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
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
