//! Request bodies the server accepts and the client sends.
//!
//! Fields are parsed leniently as `serde_json::Value`-free typed options so
//! the server can tell "missing" from "wrong type" and answer with the
//! specific Box error code for each.

use serde::{Deserialize, Serialize};

use super::UploadPart;

/// `POST /files/upload_sessions`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CreateUploadSessionRequest {
    /// The folder the new file goes in (`"0"` for the root).
    #[cfg_attr(feature = "openapi", schema(example = "0"))]
    pub folder_id: String,
    /// Size of the whole file in bytes; it fixes the part grid.
    #[cfg_attr(feature = "openapi", schema(example = 104857600))]
    pub file_size: u64,
    /// Name of the new file.
    #[cfg_attr(feature = "openapi", schema(example = "Project.mov"))]
    pub file_name: String,
}

/// `POST /files/{id}/upload_sessions`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CreateVersionUploadSessionRequest {
    /// Size of the new version in bytes.
    pub file_size: u64,
    /// A new name for the file, if it is to be renamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

/// File attributes a commit may carry (not in OpenAPI, sent by every legacy SDK).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CommitAttributes {
    /// When the content was created (RFC 3339). If absent: the upload time
    /// for a new file, unchanged for a new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_created_at: Option<String>,
    /// When the content was last modified (RFC 3339); the upload time if
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_modified_at: Option<String>,
    /// The file's description; unchanged by a new version if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /files/upload_sessions/{id}/commit`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CommitRequest {
    /// Every part of the file, in offset order, as their uploads echoed
    /// them.
    pub parts: Vec<UploadPart>,
    /// File attributes to set with the commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CommitAttributes>,
}

/// `{"id": "123"}`. Read leniently: legacy SDKs (and hand-written
/// clients) send a folder id as a JSON number, which Box accepts too.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParentRef {
    /// The folder's id.
    #[cfg_attr(feature = "openapi", schema(example = "0"))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CreateFolderRequest {
    /// Name of the new folder.
    #[cfg_attr(feature = "openapi", schema(example = "New Folder"))]
    pub name: String,
    /// The folder to create it in.
    pub parent: ParentRef,
}

/// `PUT /files/{id}` and `PUT /folders/{id}`: what to change (absent
/// fields stay as they are).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UpdateItemRequest {
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new parent folder: a move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentRef>,
    /// A new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Files only: when the content was last modified (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_modified_at: Option<String>,
}

/// `POST /files/{id}/copy` and `POST /folders/{id}/copy`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CopyItemRequest {
    /// The folder to copy into.
    pub parent: ParentRef,
    /// The copy's name, if not the original's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `OPTIONS /files/content` and the `attributes` part of a multipart upload.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UploadAttributes {
    /// Name of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The folder the file goes in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentRef>,
    /// Size in bytes the client announces (preflight only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// When the content was created (RFC 3339). If absent: the upload time
    /// for a new file, unchanged for a new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_created_at: Option<String>,
    /// When the content was last modified (RFC 3339); the upload time if
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_modified_at: Option<String>,
    /// The file's description; unchanged by a new version if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The preflight answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightResponse {
    /// Where to send the upload.
    pub upload_url: String,
    /// A token for the upload, where the server issues one (boxup does
    /// not).
    #[serde(default)]
    pub upload_token: Option<String>,
}
