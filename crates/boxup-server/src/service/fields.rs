//! Field selection (`?fields=`), as Box defines it for files and folders.
//!
//! Without `fields`, an item comes in its *standard* representation, and
//! the entries of a folder listing in their *mini* one. With `fields`, an
//! item comes in its mini representation plus exactly the fields named
//! (standard ones, and the few full-only ones boxup can answer truthfully);
//! a name boxup does not know is ignored, as Box ignores it. Clients rely
//! on this: a sync tool lists with `fields=…,item_status,size,…` and keeps
//! only entries whose `item_status` is `active`.

use boxup_protocol::{File, Files, Folder};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The mini representation of a file: always present.
const FILE_MINI: &[&str] = &[
    "type",
    "id",
    "sequence_id",
    "etag",
    "sha1",
    "name",
    "file_version",
];
/// The mini representation of a folder: always present.
const FOLDER_MINI: &[&str] = &["type", "id", "sequence_id", "etag", "name"];

/// The requested field names, or `None` for the default representation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Option<Vec<String>>);

impl Fields {
    /// Parses `fields=a,b,c`; an absent or empty list is the default.
    pub fn parse(raw: Option<&str>) -> Self {
        let names: Vec<String> = raw
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        Fields((!names.is_empty()).then_some(names))
    }

    /// Whether `name` was asked for.
    pub fn wants(&self, name: &str) -> bool {
        self.0.as_ref().is_some_and(|n| n.iter().any(|f| f == name))
    }

    /// A file as an item answer (get, update, copy, upload, commit).
    pub fn file(&self, file: &File) -> Value {
        self.item(file, FILE_MINI, true, file_extras(file))
    }

    /// A folder as an item answer (get, create, update, copy).
    pub fn folder(&self, folder: &Folder) -> Value {
        self.item(folder, FOLDER_MINI, true, folder_extras())
    }

    /// The `{total_count, entries}` answer of an upload or commit.
    pub fn files(&self, files: &Files) -> Value {
        json!({
            "total_count": files.total_count,
            "entries": files.entries.iter().map(|f| self.file(f)).collect::<Vec<_>>(),
        })
    }

    /// A file as an entry of a folder listing.
    pub fn file_entry(&self, file: &File) -> Value {
        self.item(file, FILE_MINI, false, file_extras(file))
    }

    /// A folder as an entry of a folder listing.
    pub fn folder_entry(&self, folder: &Folder) -> Value {
        self.item(folder, FOLDER_MINI, false, folder_extras())
    }

    /// `standard` (with `fields` absent): the whole standard form, else
    /// the mini form. With `fields`: mini plus each requested field the
    /// standard form or `extras` has.
    fn item(
        &self,
        model: &impl Serialize,
        mini: &[&str],
        standard: bool,
        extras: Map<String, Value>,
    ) -> Value {
        let Value::Object(mut all) = serde_json::to_value(model).expect("models serialize") else {
            unreachable!("items serialize as objects")
        };
        let keep = |name: &str| match &self.0 {
            None => standard || mini.contains(&name),
            Some(wanted) => mini.contains(&name) || wanted.iter().any(|w| w == name),
        };
        all.extend(extras.into_iter().filter(|(k, _)| self.wants(k)));
        all.retain(|k, _| keep(k));
        Value::Object(all)
    }
}

/// Full-representation file fields boxup can answer truthfully.
fn file_extras(file: &File) -> Map<String, Value> {
    let name = file.name.as_deref().unwrap_or("");
    let extension = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext,
        _ => "",
    };
    let json = json!({
        "extension": extension,
        "is_package": false,
        "tags": [],
        "lock": null,
        "has_collaborations": false,
        "allowed_invitee_roles": [],
    });
    match json {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Full-representation folder fields boxup can answer truthfully.
fn folder_extras() -> Map<String, Value> {
    let json = json!({
        "tags": [],
        "has_collaborations": false,
        "is_externally_owned": false,
        "allowed_invitee_roles": [],
        "can_non_owners_invite": true,
    });
    match json {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> File {
        serde_json::from_value(json!({
            "type": "file", "id": "7", "etag": "1", "sequence_id": "1",
            "sha1": "ab", "name": "movie.mov", "size": 10, "item_status": "active",
            "file_version": {"type": "file_version", "id": "9"},
            "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn default_is_standard_for_items_and_mini_for_entries() {
        let f = file();
        let standard = Fields::default().file(&f);
        assert_eq!(standard["size"], 10);
        assert_eq!(standard["item_status"], "active");
        assert!(
            standard.get("extension").is_none(),
            "extras only on request"
        );
        let entry = Fields::default().file_entry(&f);
        assert_eq!(entry["name"], "movie.mov");
        assert!(entry.get("size").is_none());
        assert!(entry.get("item_status").is_none());
    }

    #[test]
    fn requested_fields_come_with_the_mini_form_and_unknown_ones_are_ignored() {
        let fields = Fields::parse(Some("size, item_status,extension,bogus,,"));
        let entry = fields.file_entry(&file());
        let mut keys: Vec<_> = entry.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "etag",
                "extension",
                "file_version",
                "id",
                "item_status",
                "name",
                "sequence_id",
                "sha1",
                "size",
                "type"
            ]
        );
        assert_eq!(entry["extension"], "mov");
        assert_eq!(Fields::parse(Some(" , ")), Fields::default());
        let only_name = Fields::parse(Some("name")).file(&file());
        assert!(only_name.get("created_at").is_none());
    }
}
