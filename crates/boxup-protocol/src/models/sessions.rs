//! Upload sessions and their parts (docs/protocol.md §3.1–3.2).

use serde::{Deserialize, Serialize};

/// The absolute URLs of one session's operations (docs/protocol.md §1.6).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SessionEndpoints {
    /// `PUT`: upload a part.
    #[serde(default)]
    pub upload_part: Option<String>,
    /// `POST`: commit the session into a file.
    #[serde(default)]
    pub commit: Option<String>,
    /// `DELETE`: abort the session and discard its parts.
    #[serde(default)]
    pub abort: Option<String>,
    /// `GET`: list the stored parts.
    #[serde(default)]
    pub list_parts: Option<String>,
    /// `GET`: the session's current state.
    #[serde(default)]
    pub status: Option<String>,
    /// `POST`: telemetry from Box's web uploader (boxup accepts and drops it).
    #[serde(default)]
    pub log_event: Option<String>,
    /// `POST …/plan` (2026 SDKs): which parts the server already holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

impl SessionEndpoints {
    /// The endpoints of session `id` under `upload_base` (which ends in `/api/2.0` or `/2.0`).
    pub fn under(upload_base: &str, id: &str) -> Self {
        let s = format!(
            "{}/files/upload_sessions/{id}",
            upload_base.trim_end_matches('/')
        );
        SessionEndpoints {
            upload_part: Some(s.clone()),
            commit: Some(format!("{s}/commit")),
            abort: Some(s.clone()),
            list_parts: Some(format!("{s}/parts")),
            status: Some(s.clone()),
            log_event: Some(format!("{s}/log")),
            plan: Some(format!("{s}/plan")),
        }
    }
}

/// An upload session: a file being uploaded in fixed-size parts.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSession {
    /// The session's id, used in every later request.
    pub id: String,
    /// The JSON `type`, `"upload_session"`.
    #[serde(rename = "type", default = "upload_session_type")]
    pub kind: String,
    /// When the session expires (RFC 3339); later requests fail.
    #[serde(default)]
    pub session_expires_at: Option<String>,
    /// Size of every part but the last, in bytes.
    #[serde(default)]
    pub part_size: Option<u64>,
    /// Number of parts the file is cut into.
    #[serde(default)]
    pub total_parts: Option<u32>,
    /// Number of parts stored so far (all of them once committed).
    #[serde(default)]
    pub num_parts_processed: Option<u32>,
    /// Absolute URLs of the session's operations.
    #[serde(default)]
    pub session_endpoints: Option<SessionEndpoints>,
}

fn upload_session_type() -> String {
    "upload_session".to_owned()
}

/// One stored part. `sha1` is lowercase hex; it is absent in the "mini"
/// variant that legacy Java sends in commit bodies.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPart {
    /// The part's id: 8 uppercase hex characters chosen by the server.
    pub part_id: String,
    /// Offset of the part in the file.
    pub offset: u64,
    /// Size of the part in bytes.
    pub size: u64,
    /// The part's SHA-1, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
}

/// The answer to a part upload: `{"part": {...}}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedPart {
    /// The part as stored.
    pub part: UploadPart,
}

/// How a listing is sorted.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortOrder {
    /// The field sorted on (e.g. `"offset"`).
    pub by: String,
    /// `"ASC"` or `"DESC"`.
    pub direction: String,
}

impl SortOrder {
    /// Ascending on `by`.
    pub fn asc(by: &str) -> Self {
        SortOrder {
            by: by.to_owned(),
            direction: "ASC".to_owned(),
        }
    }
}

/// A page of parts. `total_count` counts all stored parts, not the page.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadParts {
    /// Number of stored parts, across all pages.
    pub total_count: u64,
    /// The page size used.
    #[serde(default)]
    pub limit: Option<u64>,
    /// Offset of the first entry of this page.
    #[serde(default)]
    pub offset: Option<u64>,
    /// How the entries are sorted.
    #[serde(default)]
    pub order: Option<Vec<SortOrder>>,
    /// This page of parts.
    #[serde(default)]
    pub entries: Vec<UploadPart>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_absolute_under_base() {
        let e = SessionEndpoints::under("http://h:1/api/2.0/", "AB");
        assert_eq!(
            e.upload_part.as_deref(),
            Some("http://h:1/api/2.0/files/upload_sessions/AB")
        );
        assert_eq!(
            e.list_parts.as_deref(),
            Some("http://h:1/api/2.0/files/upload_sessions/AB/parts")
        );
        assert_eq!(
            e.commit.as_deref(),
            Some("http://h:1/api/2.0/files/upload_sessions/AB/commit")
        );
        assert_eq!(
            e.log_event.as_deref(),
            Some("http://h:1/api/2.0/files/upload_sessions/AB/log")
        );
    }

    #[test]
    fn part_sha1_optional_but_typed() {
        let p: UploadPart =
            serde_json::from_str(r#"{"part_id":"6F2D3486","offset":0,"size":3}"#).unwrap();
        assert_eq!(p.sha1, None);
        assert!(
            serde_json::from_str::<UploadPart>(r#"{"part_id":"A","offset":"0","size":3}"#).is_err()
        );
    }
}
