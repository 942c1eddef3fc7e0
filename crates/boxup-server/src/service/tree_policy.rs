//! The rules behind updates, copies and folder deletes (docs/protocol.md
//! §5.9–§5.11), decided here and executed by the stores as `Decision`s
//! (see `policy` for why).
//!
//! - An update changes only what it names; it bumps the etag (any change
//!   is a new sequence) and `modified_at`; `If-Match` is checked on the
//!   item as it stands.
//! - A copy is a new item: etag 0, created and modified now; it keeps the
//!   source's description and content times, and its name unless renamed.
//! - A folder delete checks `If-Match`; emptiness is the store's to check.

use super::policy::Preconditions;
use crate::store::{
    CopyRules, Decision, FileMove, FileMoveDecision, FileRecord, FileValues, FolderDeleteDecision,
    FolderId, FolderMove, FolderMoveDecision, FolderRecord, FolderValues,
};

/// What a `PUT` on a file or folder asks to change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemUpdate {
    pub name: Option<String>,
    pub parent_id: Option<FolderId>,
    pub description: Option<String>,
    /// Files only.
    pub content_created_at: Option<i64>,
    /// Files only.
    pub content_modified_at: Option<i64>,
}

/// The rule for updating a file.
pub fn update_file(update: ItemUpdate, pre: Preconditions, now: i64) -> FileMoveDecision {
    Decision::new(move |f: &FileRecord| {
        pre.check(f.etag)?;
        Ok(FileMove {
            parent_id: update.parent_id.unwrap_or(f.parent_id),
            values: FileValues {
                name: update.name.clone().unwrap_or_else(|| f.name.clone()),
                description: update
                    .description
                    .clone()
                    .unwrap_or_else(|| f.description.clone()),
                etag: f.etag + 1,
                modified_at: now,
                content_created_at: update.content_created_at.unwrap_or(f.content_created_at),
                content_modified_at: update.content_modified_at.unwrap_or(f.content_modified_at),
            },
        })
    })
}

/// The rule for updating a folder.
pub fn update_folder(update: ItemUpdate, pre: Preconditions, now: i64) -> FolderMoveDecision {
    Decision::new(move |f: &FolderRecord| {
        pre.check(f.etag)?;
        Ok(FolderMove {
            parent_id: update.parent_id.unwrap_or(f.parent_id),
            values: FolderValues {
                name: update.name.clone().unwrap_or_else(|| f.name.clone()),
                description: update
                    .description
                    .clone()
                    .unwrap_or_else(|| f.description.clone()),
                etag: f.etag + 1,
                modified_at: now,
            },
        })
    })
}

/// The rule for deleting a folder: its preconditions hold.
pub fn delete_folder(pre: Preconditions) -> FolderDeleteDecision {
    Decision::new(move |f: &FolderRecord| pre.check(f.etag))
}

/// The row of a copy of a file, renamed to `name` if given.
pub fn copy_file(name: Option<String>, now: i64) -> Decision<FileRecord, FileValues> {
    Decision::new(move |f: &FileRecord| {
        Ok(FileValues {
            name: name.clone().unwrap_or_else(|| f.name.clone()),
            description: f.description.clone(),
            etag: 0,
            modified_at: now,
            content_created_at: f.content_created_at,
            content_modified_at: f.content_modified_at,
        })
    })
}

/// The row of a copy of a folder, renamed to `name` if given.
pub fn copy_folder(name: Option<String>, now: i64) -> Decision<FolderRecord, FolderValues> {
    Decision::new(move |f: &FolderRecord| {
        Ok(FolderValues {
            name: name.clone().unwrap_or_else(|| f.name.clone()),
            description: f.description.clone(),
            etag: 0,
            modified_at: now,
        })
    })
}

/// The rows of everything copied below a copied folder (names kept).
pub fn copy_rules(now: i64) -> CopyRules {
    CopyRules {
        folder: copy_folder(None, now),
        file: copy_file(None, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FileId, StoreError, UserId, VersionId, VersionRecord};

    fn file() -> FileRecord {
        FileRecord {
            id: FileId(1),
            owner_id: UserId(2),
            parent_id: FolderId(5),
            name: "a.txt".into(),
            description: "d".into(),
            etag: 3,
            created_at: 10,
            modified_at: 20,
            content_created_at: 30,
            content_modified_at: 40,
            version: VersionRecord {
                id: VersionId(3),
                file_id: FileId(1),
                size: 1,
                sha1: "00".into(),
                created_at: 20,
            },
        }
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let update = ItemUpdate {
            content_modified_at: Some(77),
            ..ItemUpdate::default()
        };
        let to = update_file(update, Preconditions::default(), 99)
            .decide(&file())
            .unwrap();
        assert_eq!(to.parent_id, FolderId(5));
        assert_eq!((to.values.name.as_str(), to.values.etag), ("a.txt", 4));
        assert_eq!(
            (to.values.content_created_at, to.values.content_modified_at),
            (30, 77)
        );
        assert_eq!(to.values.modified_at, 99);
        let stale = update_file(ItemUpdate::default(), Preconditions::if_match(Some(2)), 99);
        assert!(matches!(
            stale.decide(&file()),
            Err(StoreError::PreconditionFailed)
        ));
    }

    #[test]
    fn a_copy_is_new_but_keeps_content_times() {
        let v = copy_file(Some("b.txt".into()), 99).decide(&file()).unwrap();
        assert_eq!((v.name.as_str(), v.etag, v.modified_at), ("b.txt", 0, 99));
        assert_eq!((v.content_created_at, v.content_modified_at), (30, 40));
        assert_eq!(v.description, "d");
    }
}
