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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", schema(as = ClientError))]
pub struct BoxError {
    /// Always `"error"` (the JSON `type`).
    #[serde(rename = "type", default = "error_type")]
    pub kind: String,
    /// The HTTP status, repeated in the body.
    #[serde(default)]
    pub status: u16,
    /// Box's machine-readable code, e.g. `item_name_in_use`.
    #[serde(default)]
    pub code: String,
    /// A human-readable explanation.
    #[serde(default)]
    pub message: String,
    /// Details some codes carry, e.g. the `conflicts` of a 409.
    #[serde(default)]
    pub context_info: Option<Value>,
    /// Where Box documents its errors.
    #[serde(default)]
    pub help_url: Option<String>,
    /// The id of the request, to quote when reporting the failure.
    #[serde(default)]
    pub request_id: Option<String>,
}

fn error_type() -> String {
    "error".to_owned()
}

impl BoxError {
    /// An error object with Box's `help_url` and no context or request id.
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

/// Box's error codes as boxup spells them on the wire, so that server,
/// client and tests write each one once. [`ErrorKind`] pairs each with the
/// status it is answered with.
pub struct ErrorCode;

impl ErrorCode {
    /// The code of [`ErrorKind::Unauthorized`].
    pub const UNAUTHORIZED: &'static str = "unauthorized";
    /// The code of [`ErrorKind::InsufficientStorage`]: the server's storage
    /// is full (not the user's quota).
    pub const INSUFFICIENT_STORAGE: &'static str = "insufficient_storage";
    /// The code of [`ErrorKind::NotFound`].
    pub const NOT_FOUND: &'static str = "not_found";
    /// The code of [`ErrorKind::MethodNotAllowed`].
    pub const METHOD_NOT_ALLOWED: &'static str = "method_not_allowed";
    /// The code of [`ErrorKind::BadRequest`].
    pub const BAD_REQUEST: &'static str = "bad_request";
    /// The code of [`ErrorKind::InvalidJson`].
    pub const INVALID_JSON: &'static str = "invalid_json";
    /// The code of [`ErrorKind::MissingDestination`].
    pub const MISSING_DESTINATION: &'static str = "missing_destination";
    /// The code of [`ErrorKind::InvalidFolderId`].
    pub const INVALID_FOLDER_ID: &'static str = "invalid_folder_id";
    /// The code of [`ErrorKind::ItemNameInvalid`].
    pub const ITEM_NAME_INVALID: &'static str = "item_name_invalid";
    /// The code of [`ErrorKind::ItemNameTooLong`].
    pub const ITEM_NAME_TOO_LONG: &'static str = "item_name_too_long";
    /// The code of [`ErrorKind::MissingFileSize`].
    pub const MISSING_FILE_SIZE: &'static str = "missing_file_size";
    /// The code of [`ErrorKind::InvalidFileSize`].
    pub const INVALID_FILE_SIZE: &'static str = "invalid_file_size";
    /// The code of [`ErrorKind::FileSizeTooSmall`].
    pub const FILE_SIZE_TOO_SMALL: &'static str = "file_size_too_small";
    /// The code of [`ErrorKind::MissingFileName`].
    pub const MISSING_FILE_NAME: &'static str = "missing_file_name";
    /// The code of [`ErrorKind::ParentNotFound`].
    pub const INVALID_PARAMETER: &'static str = "invalid_parameter";
    /// The code of [`ErrorKind::ItemNameInUse`].
    pub const ITEM_NAME_IN_USE: &'static str = "item_name_in_use";
    /// The code of [`ErrorKind::FileSizeLimitExceeded`].
    pub const FILE_SIZE_LIMIT_EXCEEDED: &'static str = "file_size_limit_exceeded";
    /// The code of [`ErrorKind::StorageLimitExceeded`].
    pub const STORAGE_LIMIT_EXCEEDED: &'static str = "storage_limit_exceeded";
    /// The code of [`ErrorKind::InvalidUploadSessionId`].
    pub const INVALID_UPLOAD_SESSION_ID: &'static str = "invalid_upload_session_id";
    /// The code of [`ErrorKind::SessionExpired`].
    pub const SESSION_EXPIRED: &'static str = "session_expired";
    /// The code of [`ErrorKind::SessionCommitted`].
    pub const SESSION_COMMITTED: &'static str = "upload_session_committed";
    /// The code of [`ErrorKind::RangeOverlaps`].
    pub const RANGE_OVERLAPS: &'static str = "range_overlaps_existing_part";
    /// The code of [`ErrorKind::RangeNotSatisfiable`].
    pub const RANGE_NOT_SATISFIABLE: &'static str = "requested_range_not_satisfiable";
    /// The code of [`ErrorKind::RequestSizeMismatch`].
    pub const REQUEST_SIZE_MISMATCH: &'static str = "request_size_mismatch";
    /// The code of [`ErrorKind::BadDigest`].
    pub const BAD_DIGEST: &'static str = "bad_digest";
    /// The code of [`ErrorKind::InvalidOffset`].
    pub const INVALID_OFFSET: &'static str = "invalid_offset";
    /// The code of [`ErrorKind::InvalidLimit`].
    pub const INVALID_LIMIT: &'static str = "invalid_limit";
    /// The code of [`ErrorKind::PartsMismatch`].
    pub const PARTS_MISMATCH: &'static str = "parts_mismatch";
    /// The code of [`ErrorKind::DigestMismatch`].
    pub const DIGEST_MISMATCH: &'static str = "digest_mismatch";
    /// The code of [`ErrorKind::PreconditionFailed`].
    pub const PRECONDITION_FAILED: &'static str = "precondition_failed";
    /// The code of [`ErrorKind::MetadataAfterFile`].
    pub const METADATA_AFTER_FILE: &'static str = "metadata_after_file_contents";
    /// The code of [`ErrorKind::PayloadTooLarge`].
    pub const PAYLOAD_TOO_LARGE: &'static str = "request_entity_too_large";
    /// The code of [`ErrorKind::FolderNotEmpty`].
    pub const FOLDER_NOT_EMPTY: &'static str = "folder_not_empty";
    /// The code of [`ErrorKind::CyclicalFolderStructure`].
    pub const CYCLICAL_FOLDER_STRUCTURE: &'static str = "cyclical_folder_structure";
    /// The code of [`ErrorKind::InvalidMarker`].
    pub const INVALID_MARKER: &'static str = "invalid_marker";
    /// The code of [`ErrorKind::Forbidden`].
    pub const FORBIDDEN: &'static str = "forbidden";
    /// The code of [`ErrorKind::RateLimitExceeded`].
    pub const RATE_LIMIT_EXCEEDED: &'static str = "rate_limit_exceeded";
    /// The code of [`ErrorKind::Internal`].
    pub const INTERNAL: &'static str = "internal_server_error";
    /// The code of [`ErrorKind::Unavailable`].
    pub const UNAVAILABLE: &'static str = "unavailable";
}

/// Declares [`ErrorKind`] from one table, so that its `ALL`, `status` and
/// `code` cannot disagree with each other.
macro_rules! catalogue {
    ($( $(#[$doc:meta])* $kind:ident => $status:literal $code:ident, )*) => {
        /// The error catalogue: every error boxup answers with, each a
        /// (status, Box code) pair. It is the only way the server raises a
        /// client error, so a code is never paired with a status by hand;
        /// docs/protocol.md lists the same table, and a test holds the two
        /// together.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $( $(#[$doc])* $kind, )*
        }

        impl ErrorKind {
            /// Every entry, in table order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind,)*];

            /// The HTTP status this error is answered with.
            pub const fn status(self) -> u16 {
                match self {
                    $(ErrorKind::$kind => $status,)*
                }
            }

            /// Box's code for this error.
            pub const fn code(self) -> &'static str {
                match self {
                    $(ErrorKind::$kind => ErrorCode::$code,)*
                }
            }
        }
    };
}

catalogue! {
    /// A request body or header that is malformed.
    BadRequest => 400 BAD_REQUEST,
    /// A JSON body that does not parse.
    InvalidJson => 400 INVALID_JSON,
    /// No parent folder given where one is required.
    MissingDestination => 400 MISSING_DESTINATION,
    /// A `folder_id` that is not an id.
    InvalidFolderId => 400 INVALID_FOLDER_ID,
    /// A name Box does not allow.
    ItemNameInvalid => 400 ITEM_NAME_INVALID,
    /// A name over 255 characters.
    ItemNameTooLong => 400 ITEM_NAME_TOO_LONG,
    /// No `file_size` where one is required.
    MissingFileSize => 400 MISSING_FILE_SIZE,
    /// A `file_size` that is not a non-negative integer, or needs too many parts.
    InvalidFileSize => 400 INVALID_FILE_SIZE,
    /// A file below the upload-session minimum.
    FileSizeTooSmall => 400 FILE_SIZE_TOO_SMALL,
    /// No file name where one is required.
    MissingFileName => 400 MISSING_FILE_NAME,
    /// An upload session id of the wrong form.
    InvalidUploadSessionId => 400 INVALID_UPLOAD_SESSION_ID,
    /// A part whose length is not what its `Content-Range` says.
    RequestSizeMismatch => 400 REQUEST_SIZE_MISMATCH,
    /// A missing or malformed `Digest`, or bytes that do not match it.
    BadDigest => 400 BAD_DIGEST,
    /// An `offset` that is not a non-negative integer, or out of range.
    InvalidOffset => 400 INVALID_OFFSET,
    /// A `limit` that is not a non-negative integer.
    InvalidLimit => 400 INVALID_LIMIT,
    /// A commit whose parts are not exactly the stored parts.
    PartsMismatch => 400 PARTS_MISMATCH,
    /// A commit whose whole-file SHA-1 is not the file's.
    DigestMismatch => 400 DIGEST_MISMATCH,
    /// A multipart upload whose `attributes` come after the file.
    MetadataAfterFile => 400 METADATA_AFTER_FILE,
    /// A folder deleted without `recursive` that still holds items.
    FolderNotEmpty => 400 FOLDER_NOT_EMPTY,
    /// A folder moved or copied into itself or a folder inside it.
    CyclicalFolderStructure => 400 CYCLICAL_FOLDER_STRUCTURE,
    /// A listing `marker` that boxup did not issue for this folder and user.
    InvalidMarker => 400 INVALID_MARKER,
    /// No valid bearer token.
    Unauthorized => 401 UNAUTHORIZED,
    /// A file over the size limit.
    FileSizeLimitExceeded => 403 FILE_SIZE_LIMIT_EXCEEDED,
    /// A file that would take the user past their quota.
    StorageLimitExceeded => 403 STORAGE_LIMIT_EXCEEDED,
    /// A download link that is expired, altered or not boxup's.
    Forbidden => 403 FORBIDDEN,
    /// No such item, session or route, or another user's.
    NotFound => 404 NOT_FOUND,
    /// A parent folder that does not exist or is another user's.
    ParentNotFound => 404 INVALID_PARAMETER,
    /// A route that exists, with another method.
    MethodNotAllowed => 405 METHOD_NOT_ALLOWED,
    /// A name taken by another item in the folder.
    ItemNameInUse => 409 ITEM_NAME_IN_USE,
    /// A part or commit for a session that is already committed.
    SessionCommitted => 409 SESSION_COMMITTED,
    /// An upload session past its expiry.
    SessionExpired => 410 SESSION_EXPIRED,
    /// An `If-Match` / `If-None-Match` that does not hold.
    PreconditionFailed => 412 PRECONDITION_FAILED,
    /// A JSON body over the size limit.
    PayloadTooLarge => 413 PAYLOAD_TOO_LARGE,
    /// A part that overlaps a different stored part.
    RangeOverlaps => 416 RANGE_OVERLAPS,
    /// A part range or download range outside the file or the part grid.
    RangeNotSatisfiable => 416 RANGE_NOT_SATISFIABLE,
    /// Over the caller's request budget (`--rate-limit`). Answered with
    /// `Retry-After`.
    RateLimitExceeded => 429 RATE_LIMIT_EXCEEDED,
    /// A bug or a failed backend; the detail is logged, never shown.
    Internal => 500 INTERNAL,
    /// A backend the server needs (database, object store) is out of
    /// reach for now. Answered with `Retry-After`.
    Unavailable => 503 UNAVAILABLE,
    /// The server's storage is full; nothing was stored.
    InsufficientStorage => 507 INSUFFICIENT_STORAGE,
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

    /// The catalogue as docs/protocol.md §6.3 documents it: `(status, code)`
    /// from each row of its table.
    fn documented_catalogue() -> Vec<(u16, String)> {
        let doc = include_str!("../../../docs/protocol.md");
        let start = doc
            .find("### 6.3 Catalogue")
            .expect("§6.3 in docs/protocol.md");
        let end = start + doc[start..].find("### 6.4").expect("§6.4 after §6.3");
        doc[start..end]
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let status = cells.get(1)?.parse().ok()?;
                Some((status, cells.get(2)?.trim_matches('`').to_owned()))
            })
            .collect()
    }

    #[test]
    fn the_catalogue_is_what_the_protocol_documents() {
        let documented = documented_catalogue();
        assert!(documented.len() >= 30, "parsed {documented:?}");
        let ours: Vec<(u16, String)> = ErrorKind::ALL
            .iter()
            .map(|k| (k.status(), k.code().to_owned()))
            .collect();
        for entry in &ours {
            assert!(documented.contains(entry), "{entry:?} is not in §6.3");
        }
        for entry in &documented {
            assert!(
                ours.contains(entry),
                "§6.3 lists {entry:?}, the catalogue does not"
            );
        }
        let mut unique = ours.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ours.len(), "a (status, code) pair twice");
    }

    #[test]
    fn every_entry_is_an_error_status_with_a_snake_case_code() {
        for kind in ErrorKind::ALL {
            let (status, code) = (kind.status(), kind.code());
            assert!((400..600).contains(&status), "{kind:?}: {status}");
            assert!(
                !code.is_empty()
                    && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    && !code.starts_with('_')
                    && !code.ends_with('_'),
                "{kind:?}: {code:?}"
            );
        }
        // Spot checks of the pairs Box's clients rely on.
        assert_eq!(ErrorKind::SessionExpired.status(), 410);
        assert_eq!(ErrorKind::RangeOverlaps.status(), 416);
        assert_eq!(ErrorKind::ItemNameInUse.code(), "item_name_in_use");
        assert_eq!(ErrorKind::InsufficientStorage.status(), 507);
    }

    #[test]
    fn renders_type_error() {
        let v = serde_json::to_value(BoxError::new(404, "not_found", "gone")).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["status"], 404);
        assert_eq!(v["help_url"], HELP_URL);
    }
}
