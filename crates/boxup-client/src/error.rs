//! The client's one error type.
//!
//! Box answers failures with its error object (`boxup_protocol::BoxError`);
//! that object travels unchanged inside [`Error::Api`] and the accessors on
//! [`Error`] reach into it, so callers can match on `code()` without
//! destructuring. Everything else that can go wrong (transport, a response
//! of the wrong shape, a server breaking the protocol, the local source
//! being shorter than declared, a resume that does not match the local
//! bytes, cancellation) has its own variant, because each calls for a
//! different reaction. [`Error::is_retryable`] is the single place that
//! decides which failures are worth another attempt.

use std::time::Duration;

use boxup_protocol::BoxError;
use serde_json::Value;

/// Shorthand for `Result<T, boxup_client::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can fail in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status. `error` is Box's error
    /// object; when the body was not one (an empty 401, a proxy's HTML
    /// page), it is synthesised from the status with a `code` such as
    /// `unauthorized` or `service_unavailable`.
    #[error("{request} failed: {error}")]
    Api {
        /// `METHOD url` of the failed request.
        request: String,
        /// Box's error object (`status`, `code`, `message`, …).
        error: Box<BoxError>,
        /// The `Retry-After` header, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The request never got a complete answer: connection refused or
    /// reset, timeout, TLS failure, a body that broke off.
    #[error("{request} failed: {source}")]
    Http {
        /// `METHOD url` of the failed request.
        request: String,
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// A successful response whose body is not the expected model (a
    /// field of the wrong JSON type, a missing required field, not JSON).
    /// Unknown fields are never an error.
    #[error("{request}: the {status} response is not a valid {model}: {source}")]
    Decode {
        /// `METHOD url` of the request.
        request: String,
        /// The HTTP status of the response.
        status: u16,
        /// The model the body should have been (e.g. `"UploadSession"`).
        model: &'static str,
        /// Where and why the JSON did not fit.
        #[source]
        source: serde_json::Error,
    },
    /// The commit was accepted (202) but the file was still not ready
    /// after every retry.
    #[error("{request}: the commit is still being processed (202) after all retries")]
    CommitPending {
        /// `METHOD url` of the commit.
        request: String,
        /// The last `Retry-After`, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The server broke the protocol in a way the SDKs check: a part echo
    /// with another SHA-1, offset or size; a part count that does not
    /// match; a session without a usable part size (none, or one that
    /// would need more than 1,000,000 parts).
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// `resume_upload` found a part on the server whose bytes differ from
    /// the local source. Nothing is re-uploaded: the local file is not the
    /// one this session was started with.
    #[error(
        "resume refused: part {part_id} at offset {offset} on the server has sha1 {remote_sha1} \
         ({remote_size} bytes) but the local bytes have sha1 {local_sha1} ({local_size} bytes)"
    )]
    ResumeMismatch {
        /// The server's id of the part.
        part_id: String,
        /// Offset of the part in the file.
        offset: u64,
        /// The part's SHA-1 on the server, lowercase hex.
        remote_sha1: String,
        /// The part's size on the server.
        remote_size: u64,
        /// The SHA-1 of the local bytes at that offset, lowercase hex.
        local_sha1: String,
        /// How many local bytes were read there.
        local_size: u64,
    },
    /// Reading the local source failed.
    #[error("reading the source failed: {0}")]
    Source(#[source] std::io::Error),
    /// The source ended before `expected` bytes.
    #[error("the source ended after {actual} bytes but {expected} were declared")]
    SourceTooShort {
        /// The declared size.
        expected: u64,
        /// The bytes the source held.
        actual: u64,
    },
    /// The source holds more than the declared `expected` bytes.
    #[error("the source holds more than the {expected} bytes declared")]
    SourceTooLong {
        /// The declared size.
        expected: u64,
    },
    /// The upload was cancelled through its `CancellationToken`.
    #[error("the upload was cancelled")]
    Cancelled,
    /// A bad argument or configuration: an unparsable URL, an invalid
    /// header, a file size that does not fit the session.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The token provider could not produce a token.
    #[error("authentication failed: {0}")]
    Auth(String),
}

impl Error {
    /// Box's error object, for [`Error::Api`].
    pub fn box_error(&self) -> Option<&BoxError> {
        match self {
            Error::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The HTTP status of an [`Error::Api`] (or a decode failure).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { error, .. } => Some(error.status),
            Error::Decode { status, .. } => Some(*status),
            Error::Http { source, .. } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Box's error `code`, e.g. `range_overlaps_existing_part`.
    pub fn code(&self) -> Option<&str> {
        self.box_error().map(|e| e.code.as_str())
    }

    /// Box's error `message`.
    pub fn message(&self) -> Option<&str> {
        self.box_error().map(|e| e.message.as_str())
    }

    /// Box's `context_info` (e.g. `conflicting_part` on a 416 overlap).
    pub fn context_info(&self) -> Option<&Value> {
        self.box_error().and_then(|e| e.context_info.as_ref())
    }

    /// Box's `request_id`, worth quoting to Box support.
    pub fn request_id(&self) -> Option<&str> {
        self.box_error().and_then(|e| e.request_id.as_deref())
    }

    /// Box's `help_url`.
    pub fn help_url(&self) -> Option<&str> {
        self.box_error().and_then(|e| e.help_url.as_deref())
    }

    /// The server's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } | Error::CommitPending { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Whether another attempt of the same request may succeed: 5xx, 429,
    /// a commit still processing (202), and transport failures (connect,
    /// timeout, a connection lost mid-request). Client mistakes (4xx),
    /// decode errors and protocol violations are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { error, .. } => error.status == 429 || error.status >= 500,
            Error::Http { source, .. } => {
                source.is_timeout()
                    || source.is_connect()
                    || source.is_request()
                    || source.is_body()
                    // The client decodes JSON itself, so a reqwest decode
                    // error is a body that broke off mid-response.
                    || source.is_decode()
            }
            Error::CommitPending { .. } => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> Error {
        let mut e = BoxError::new(status, code, "m");
        e.request_id = Some("rid".into());
        e.context_info = Some(serde_json::json!({"k": 1}));
        Error::Api {
            request: "PUT http://x/".into(),
            error: Box::new(e),
            retry_after: Some(Duration::from_secs(3)),
        }
    }

    #[test]
    fn accessors_reach_the_box_error() {
        let e = api(416, "range_overlaps_existing_part");
        assert_eq!(e.status(), Some(416));
        assert_eq!(e.code(), Some("range_overlaps_existing_part"));
        assert_eq!(e.message(), Some("m"));
        assert_eq!(e.request_id(), Some("rid"));
        assert_eq!(e.context_info().unwrap()["k"], 1);
        assert!(
            e.help_url()
                .unwrap()
                .starts_with("https://developer.box.com")
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert!(
            e.to_string()
                .starts_with("PUT http://x/ failed: 416 range_overlaps_existing_part")
        );
    }

    #[test]
    fn retryable_statuses() {
        assert!(api(500, "x").is_retryable());
        assert!(api(503, "x").is_retryable());
        assert!(api(429, "x").is_retryable());
        assert!(!api(400, "x").is_retryable());
        assert!(!api(404, "x").is_retryable());
        assert!(!api(416, "x").is_retryable());
        assert!(!Error::Cancelled.is_retryable());
        assert!(!Error::Protocol("p".into()).is_retryable());
        let pending = Error::CommitPending {
            request: "r".into(),
            retry_after: None,
        };
        assert!(pending.is_retryable());
    }
}
