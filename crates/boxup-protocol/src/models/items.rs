//! Files, folders and the small objects nested in them (docs/protocol.md §3.5–3.6).

use serde::{Deserialize, Serialize};

use super::SortOrder;

/// A user in its mini form: who created, changed or owns an item.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMini {
    /// The JSON `type`, `"user"`.
    #[serde(rename = "type", default = "user_type")]
    pub kind: String,
    /// The user's id.
    pub id: String,
    /// The user's display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The user's login (an email address at Box).
    #[serde(default)]
    pub login: Option<String>,
}

fn user_type() -> String {
    "user".to_owned()
}

/// A folder in its mini form, as nested in other objects (parent, path).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderMini {
    /// The JSON `type`, `"folder"`.
    #[serde(rename = "type", default = "folder_type")]
    pub kind: String,
    /// The item's id: decimal digits in a string; `"0"` is the root folder.
    pub id: String,
    /// Changes whenever the item changes; `null` for the root folder.
    #[serde(default)]
    pub sequence_id: Option<String>,
    /// The value `If-Match` / `If-None-Match` compare against; `null` for
    /// the root folder.
    #[serde(default)]
    pub etag: Option<String>,
    /// The item's name.
    #[serde(default)]
    pub name: Option<String>,
}

fn folder_type() -> String {
    "folder".to_owned()
}

/// A file version in its mini form.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileVersionMini {
    /// The JSON `type`, `"file_version"`.
    #[serde(rename = "type", default = "file_version_type")]
    pub kind: String,
    /// The version's id (a new one for each upload of the file).
    pub id: String,
    /// The version's SHA-1, lowercase hex.
    #[serde(default)]
    pub sha1: Option<String>,
}

fn file_version_type() -> String {
    "file_version".to_owned()
}

/// A file's or folder's ancestors, root first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PathCollection {
    /// Number of ancestors in `entries`.
    pub total_count: u64,
    /// The ancestors, from the root folder down to the parent.
    #[serde(default)]
    pub entries: Vec<FolderMini>,
}

/// Box's standard file representation, as returned by commit, upload and
/// `GET /files/{id}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    /// The JSON `type`, `"file"`.
    #[serde(rename = "type", default = "file_type")]
    pub kind: String,
    /// The item's id: decimal digits in a string; `"0"` is the root folder.
    pub id: String,
    /// The current version.
    #[serde(default)]
    pub file_version: Option<FileVersionMini>,
    /// Changes whenever the item changes; `null` for the root folder.
    #[serde(default)]
    pub sequence_id: Option<String>,
    /// The value `If-Match` / `If-None-Match` compare against; `null` for
    /// the root folder.
    #[serde(default)]
    pub etag: Option<String>,
    /// The current version's SHA-1, lowercase hex.
    #[serde(default)]
    pub sha1: Option<String>,
    /// The item's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Free-text description (empty unless set).
    #[serde(default)]
    pub description: Option<String>,
    /// Size of the current version in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// The folders above the item.
    #[serde(default)]
    pub path_collection: Option<PathCollection>,
    /// When the item was created (RFC 3339, see [`crate::time`]).
    #[serde(default)]
    pub created_at: Option<String>,
    /// When the item was last changed (RFC 3339).
    #[serde(default)]
    pub modified_at: Option<String>,
    /// When the item was moved to the trash; `null` if it was not.
    #[serde(default)]
    pub trashed_at: Option<String>,
    /// When the item will be purged from the trash; `null` if not trashed.
    #[serde(default)]
    pub purged_at: Option<String>,
    /// When the content was created, as the uploader said
    /// (`content_created_at` attribute), else the upload time.
    #[serde(default)]
    pub content_created_at: Option<String>,
    /// When the content was last modified, as the uploader said,
    /// else the upload time.
    #[serde(default)]
    pub content_modified_at: Option<String>,
    /// Who created the item.
    #[serde(default)]
    pub created_by: Option<UserMini>,
    /// Who last changed the item.
    #[serde(default)]
    pub modified_by: Option<UserMini>,
    /// Who owns the item.
    #[serde(default)]
    pub owned_by: Option<UserMini>,
    /// The shared link object, kept opaque; boxup always sends `null`.
    #[serde(default)]
    pub shared_link: Option<serde_json::Value>,
    /// The folder holding the item; `null` for the root folder.
    #[serde(default)]
    pub parent: Option<FolderMini>,
    /// `"active"`, `"trashed"` or `"deleted"`.
    #[serde(default)]
    pub item_status: Option<String>,
}

fn file_type() -> String {
    "file".to_owned()
}

/// `{total_count, entries}`: what commit and simple upload return.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Files {
    /// Number of files in `entries`.
    pub total_count: u64,
    /// The files.
    #[serde(default)]
    pub entries: Vec<File>,
}

/// One entry of a folder listing: a file or a folder in its mini form.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The JSON `type`: `"file"` or `"folder"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The item's id: decimal digits in a string; `"0"` is the root folder.
    pub id: String,
    /// Changes whenever the item changes; `null` for the root folder.
    #[serde(default)]
    pub sequence_id: Option<String>,
    /// The value `If-Match` / `If-None-Match` compare against; `null` for
    /// the root folder.
    #[serde(default)]
    pub etag: Option<String>,
    /// The item's name.
    #[serde(default)]
    pub name: Option<String>,
    /// A file's current SHA-1 (lowercase hex); absent for folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// A file's current version; absent for folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_version: Option<FileVersionMini>,
    /// A file's size in bytes; absent for folders unless asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// `"active"` (with `fields=item_status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_status: Option<String>,
    /// When the item was last changed (with `fields=modified_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<String>,
    /// When the content was last modified (with `fields=content_modified_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_modified_at: Option<String>,
}

/// A page of folder items.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Items {
    /// Number of items in the folder, across all pages (absent, so 0, in
    /// marker-based pages).
    #[serde(default)]
    pub total_count: u64,
    /// This page of items.
    #[serde(default)]
    pub entries: Vec<Item>,
    /// Offset of the first entry of this page.
    #[serde(default)]
    pub offset: Option<u64>,
    /// The page size used.
    #[serde(default)]
    pub limit: Option<u64>,
    /// How the entries are sorted.
    #[serde(default)]
    pub order: Option<Vec<SortOrder>>,
    /// Marker-based pages: the `marker` of the next page; `None` on the
    /// last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// Box's standard folder representation (`GET /folders/{id}`, create).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// The JSON `type`, `"folder"`.
    #[serde(rename = "type", default = "folder_type")]
    pub kind: String,
    /// The item's id: decimal digits in a string; `"0"` is the root folder.
    pub id: String,
    /// Changes whenever the item changes; `null` for the root folder.
    #[serde(default)]
    pub sequence_id: Option<String>,
    /// The value `If-Match` / `If-None-Match` compare against; `null` for
    /// the root folder.
    #[serde(default)]
    pub etag: Option<String>,
    /// The item's name.
    #[serde(default)]
    pub name: Option<String>,
    /// When the item was created (RFC 3339, see [`crate::time`]).
    #[serde(default)]
    pub created_at: Option<String>,
    /// When the item was last changed (RFC 3339).
    #[serde(default)]
    pub modified_at: Option<String>,
    /// Free-text description (empty unless set).
    #[serde(default)]
    pub description: Option<String>,
    /// Total size of the contents in bytes (boxup reports 0).
    #[serde(default)]
    pub size: Option<u64>,
    /// The folders above the item.
    #[serde(default)]
    pub path_collection: Option<PathCollection>,
    /// Who created the item.
    #[serde(default)]
    pub created_by: Option<UserMini>,
    /// Who last changed the item.
    #[serde(default)]
    pub modified_by: Option<UserMini>,
    /// Who owns the item.
    #[serde(default)]
    pub owned_by: Option<UserMini>,
    /// The shared link object, kept opaque; boxup always sends `null`.
    #[serde(default)]
    pub shared_link: Option<serde_json::Value>,
    /// The folder holding the item; `null` for the root folder.
    #[serde(default)]
    pub parent: Option<FolderMini>,
    /// `"active"`, `"trashed"` or `"deleted"`.
    #[serde(default)]
    pub item_status: Option<String>,
    /// The first page of the folder's items (`GET /folders/{id}`).
    #[serde(default)]
    pub item_collection: Option<Items>,
}

/// `GET /users/me`: the caller, and the space their files take.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The JSON `type`, `"user"`.
    #[serde(rename = "type", default = "user_type")]
    pub kind: String,
    /// The user's id.
    pub id: String,
    /// The user's display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The user's login.
    #[serde(default)]
    pub login: Option<String>,
    /// The space the user may use, in bytes.
    #[serde(default)]
    pub space_amount: Option<u64>,
    /// The space the user's files take (every version), in bytes.
    #[serde(default)]
    pub space_used: Option<u64>,
    /// The largest file the user may upload, in bytes.
    #[serde(default)]
    pub max_upload_size: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_tolerates_missing_and_unknown_fields_but_not_wrong_types() {
        let f: File = serde_json::from_str(r#"{"type":"file","id":"12","new_field":[1]}"#).unwrap();
        assert_eq!(f.id, "12");
        assert_eq!(f.size, None);
        assert!(serde_json::from_str::<File>(r#"{"type":"file","id":12}"#).is_err());
        assert!(serde_json::from_str::<File>(r#"{"id":"1","size":"big"}"#).is_err());
    }

    #[test]
    fn file_renders_nulls_for_absent_fields() {
        let f: File = serde_json::from_str(r#"{"id":"1"}"#).unwrap();
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["type"], "file");
        assert!(v.get("trashed_at").unwrap().is_null());
        assert!(v.get("shared_link").unwrap().is_null());
    }
}
