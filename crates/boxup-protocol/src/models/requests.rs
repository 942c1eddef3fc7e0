//! Request bodies the server accepts and the client sends.
//!
//! Fields are parsed leniently as `serde_json::Value`-free typed options so
//! the server can tell "missing" from "wrong type" and answer with the
//! specific Box error code for each.

use serde::{Deserialize, Serialize};

use super::UploadPart;

/// `POST /files/upload_sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CreateUploadSessionRequest {
    pub folder_id: String,
    pub file_size: u64,
    pub file_name: String,
}

/// `POST /files/{id}/upload_sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CreateVersionUploadSessionRequest {
    pub file_size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

/// File attributes a commit may carry (not in OpenAPI, sent by every legacy SDK).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CommitAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_modified_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /files/upload_sessions/{id}/commit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CommitRequest {
    pub parts: Vec<UploadPart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CommitAttributes>,
}

/// `{"id": "123"}`. Read leniently: legacy SDKs (and hand-written
/// clients) send a folder id as a JSON number, which Box accepts too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParentRef {
    #[serde(deserialize_with = "id_string_or_number")]
    pub id: String,
}

/// An id given as a string or as a non-negative integer, kept as a string.
fn id_string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(u64),
    }
    Ok(match Id::deserialize(d)? {
        Id::Text(s) => s,
        Id::Number(n) => n.to_string(),
    })
}

/// `POST /folders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CreateFolderRequest {
    pub name: String,
    pub parent: ParentRef,
}

/// `OPTIONS /files/content` and the `attributes` part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UploadAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_modified_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The preflight answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightResponse {
    pub upload_url: String,
    #[serde(default)]
    pub upload_token: Option<String>,
}
