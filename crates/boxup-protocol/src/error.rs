//! Box's error object (`"type": "error"`), shared by server and client.
//!
//! The server renders every failure through [`BoxError`]; the client
//! deserialises the same struct, so an error travels end to end unchanged.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `help_url` Box puts in its error objects.
pub const HELP_URL: &str =
    "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/";

/// Box's JSON error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxError {
    #[serde(rename = "type", default = "error_type")]
    pub kind: String,
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub context_info: Option<Value>,
    #[serde(default)]
    pub help_url: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
}

fn error_type() -> String {
    "error".to_owned()
}

impl BoxError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        BoxError {
            kind: error_type(),
            status,
            code: code.into(),
            message: message.into(),
            context_info: None,
            help_url: Some(HELP_URL.to_owned()),
            request_id: None,
        }
    }
}

impl std::fmt::Display for BoxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for BoxError {}

/// The error codes boxup emits, as constants so that server and tests spell
/// them one way. See the wire spec's error catalogue (§5).
pub struct ErrorCode;

impl ErrorCode {
    pub const UNAUTHORIZED: &'static str = "unauthorized";
    /// 507: the server's storage is full (not the user's quota).
    pub const INSUFFICIENT_STORAGE: &'static str = "insufficient_storage";
    pub const NOT_FOUND: &'static str = "not_found";
    pub const METHOD_NOT_ALLOWED: &'static str = "method_not_allowed";
    pub const BAD_REQUEST: &'static str = "bad_request";
    pub const INVALID_JSON: &'static str = "invalid_json";
    pub const MISSING_DESTINATION: &'static str = "missing_destination";
    pub const INVALID_FOLDER_ID: &'static str = "invalid_folder_id";
    pub const ITEM_NAME_INVALID: &'static str = "item_name_invalid";
    pub const ITEM_NAME_TOO_LONG: &'static str = "item_name_too_long";
    pub const MISSING_FILE_SIZE: &'static str = "missing_file_size";
    pub const INVALID_FILE_SIZE: &'static str = "invalid_file_size";
    pub const FILE_SIZE_TOO_SMALL: &'static str = "file_size_too_small";
    pub const MISSING_FILE_NAME: &'static str = "missing_file_name";
    pub const INVALID_PARAMETER: &'static str = "invalid_parameter";
    pub const ITEM_NAME_IN_USE: &'static str = "item_name_in_use";
    pub const FILE_SIZE_LIMIT_EXCEEDED: &'static str = "file_size_limit_exceeded";
    pub const INVALID_UPLOAD_SESSION_ID: &'static str = "invalid_upload_session_id";
    pub const SESSION_EXPIRED: &'static str = "session_expired";
    pub const SESSION_COMMITTED: &'static str = "upload_session_committed";
    pub const RANGE_OVERLAPS: &'static str = "range_overlaps_existing_part";
    pub const RANGE_NOT_SATISFIABLE: &'static str = "requested_range_not_satisfiable";
    pub const REQUEST_SIZE_MISMATCH: &'static str = "request_size_mismatch";
    pub const BAD_DIGEST: &'static str = "bad_digest";
    pub const INVALID_OFFSET: &'static str = "invalid_offset";
    pub const INVALID_LIMIT: &'static str = "invalid_limit";
    pub const PARTS_MISMATCH: &'static str = "parts_mismatch";
    pub const DIGEST_MISMATCH: &'static str = "digest_mismatch";
    pub const PRECONDITION_FAILED: &'static str = "precondition_failed";
    pub const METADATA_AFTER_FILE: &'static str = "metadata_after_file_contents";
    pub const PAYLOAD_TOO_LARGE: &'static str = "request_entity_too_large";
    pub const INTERNAL: &'static str = "internal_server_error";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_box_error_with_unknown_fields_and_null_context() {
        let json = r#"{"type":"error","status":409,"code":"item_name_in_use",
            "message":"Item with the same name already exists","context_info":null,
            "help_url":"x","request_id":"abc","extra":1}"#;
        let e: BoxError = serde_json::from_str(json).unwrap();
        assert_eq!(e.status, 409);
        assert_eq!(e.code, "item_name_in_use");
        assert_eq!(e.request_id.as_deref(), Some("abc"));
        assert!(e.to_string().contains("409 item_name_in_use"));
    }

    #[test]
    fn renders_type_error() {
        let v = serde_json::to_value(BoxError::new(404, "not_found", "gone")).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["status"], 404);
        assert_eq!(v["help_url"], HELP_URL);
    }
}
