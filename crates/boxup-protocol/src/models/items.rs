//! Files, folders and the small objects nested in them (docs/protocol.md §3.5–3.6).

use serde::{Deserialize, Serialize};

use super::SortOrder;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMini {
    #[serde(rename = "type", default = "user_type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub login: Option<String>,
}

fn user_type() -> String {
    "user".to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderMini {
    #[serde(rename = "type", default = "folder_type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub sequence_id: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

fn folder_type() -> String {
    "folder".to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileVersionMini {
    #[serde(rename = "type", default = "file_version_type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub sha1: Option<String>,
}

fn file_version_type() -> String {
    "file_version".to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PathCollection {
    pub total_count: u64,
    #[serde(default)]
    pub entries: Vec<FolderMini>,
}

/// Box's standard file representation, as returned by commit, upload and
/// `GET /files/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    #[serde(rename = "type", default = "file_type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub file_version: Option<FileVersionMini>,
    #[serde(default)]
    pub sequence_id: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub sha1: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub path_collection: Option<PathCollection>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub modified_at: Option<String>,
    #[serde(default)]
    pub trashed_at: Option<String>,
    #[serde(default)]
    pub purged_at: Option<String>,
    #[serde(default)]
    pub content_created_at: Option<String>,
    #[serde(default)]
    pub content_modified_at: Option<String>,
    #[serde(default)]
    pub created_by: Option<UserMini>,
    #[serde(default)]
    pub modified_by: Option<UserMini>,
    #[serde(default)]
    pub owned_by: Option<UserMini>,
    #[serde(default)]
    pub shared_link: Option<serde_json::Value>,
    #[serde(default)]
    pub parent: Option<FolderMini>,
    #[serde(default)]
    pub item_status: Option<String>,
}

fn file_type() -> String {
    "file".to_owned()
}

/// `{total_count, entries}`: what commit and simple upload return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Files {
    pub total_count: u64,
    #[serde(default)]
    pub entries: Vec<File>,
}

/// One entry of a folder listing: a file or a folder in its mini form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub sequence_id: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_version: Option<FileVersionMini>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A page of folder items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Items {
    pub total_count: u64,
    #[serde(default)]
    pub entries: Vec<Item>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub order: Option<Vec<SortOrder>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    #[serde(rename = "type", default = "folder_type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub sequence_id: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub modified_at: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub path_collection: Option<PathCollection>,
    #[serde(default)]
    pub created_by: Option<UserMini>,
    #[serde(default)]
    pub modified_by: Option<UserMini>,
    #[serde(default)]
    pub owned_by: Option<UserMini>,
    #[serde(default)]
    pub shared_link: Option<serde_json::Value>,
    #[serde(default)]
    pub parent: Option<FolderMini>,
    #[serde(default)]
    pub item_status: Option<String>,
    #[serde(default)]
    pub item_collection: Option<Items>,
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
