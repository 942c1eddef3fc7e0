//! Whole-subtree folder operations: move (with its cycle check), delete
//! (recursive or not) and copy, and the space a user's files take.
//!
//! SQLite runs one writer at a time (`BEGIN IMMEDIATE`), so a subtree read
//! at the start of a write transaction is the subtree the write changes:
//! no concurrent insert can land in a folder being deleted.

use rusqlite::{Transaction, params};

use super::files::{FILE_SELECT, copy_file, file_object_keys};
use super::housekeeping::release_objects;
use super::items::{check_name_free, check_parent, get_folder, insert_folder};
use super::{DbResult, name_key};
use crate::store::rows::{self, folder_columns};
use crate::store::{
    CopyRules, FileId, FolderCopy, FolderDeleteDecision, FolderId, FolderMoveDecision,
    FolderRecord, ItemId, StoreError, UserId,
};

/// The folder and every folder below it, the folder first.
fn subtree(tx: &Transaction<'_>, owner: UserId, top: FolderId) -> DbResult<Vec<FolderId>> {
    let mut stmt = tx.prepare_cached(
        "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL \
         SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id WHERE f.owner_id = ?2) \
         SELECT id FROM sub",
    )?;
    let ids = stmt.query_map(params![top, owner], |r| r.get(0).map(FolderId))?;
    Ok(ids.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Whether `folder` is `ancestor` or inside it (walking up from `folder`).
fn is_within(
    tx: &Transaction<'_>,
    owner: UserId,
    folder: FolderId,
    ancestor: FolderId,
) -> DbResult<bool> {
    Ok(tx
        .prepare_cached(
            "WITH RECURSIVE up(id) AS (SELECT ?1 UNION ALL \
             SELECT f.parent_id FROM folders f JOIN up ON f.id = up.id WHERE f.owner_id = ?2) \
             SELECT EXISTS (SELECT 1 FROM up WHERE id = ?3)",
        )?
        .query_row(params![folder, owner, ancestor], |r| r.get(0))?)
}

/// `MetadataStore::update_folder`.
pub(super) fn update_folder(
    tx: &Transaction<'_>,
    owner: UserId,
    id: FolderId,
    decide: &FolderMoveDecision,
) -> DbResult<FolderRecord> {
    let current = get_folder(tx, owner, id)?.ok_or(StoreError::NotFound)?;
    let to = decide.decide(&current)?;
    if to.parent_id != current.parent_id {
        check_parent(tx, owner, to.parent_id)?;
        if is_within(tx, owner, to.parent_id, id)? {
            return Err(StoreError::FolderCycle.into());
        }
    }
    let key = name_key(&to.values.name);
    check_name_free(tx, owner, to.parent_id, &key, Some(ItemId::Folder(id)))?;
    let v = &to.values;
    tx.prepare_cached(
        "UPDATE folders SET parent_id = ?1, name = ?2, name_key = ?3, description = ?4, \
         etag = ?5, modified_at = ?6 WHERE id = ?7",
    )?
    .execute(params![
        to.parent_id,
        v.name,
        key,
        v.description,
        v.etag,
        v.modified_at,
        id
    ])?;
    get_folder(tx, owner, id)?
        .ok_or_else(|| StoreError::backend(format!("folder {id} vanished mid-transaction")).into())
}

/// `MetadataStore::delete_folder`.
pub(super) fn delete_folder(
    tx: &Transaction<'_>,
    owner: UserId,
    id: FolderId,
    recursive: bool,
    decide: &FolderDeleteDecision,
) -> DbResult<()> {
    let current = get_folder(tx, owner, id)?.ok_or(StoreError::NotFound)?;
    decide.decide(&current)?;
    if !recursive {
        let occupied: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM folders WHERE owner_id = ?1 AND parent_id = ?2) \
                     OR EXISTS (SELECT 1 FROM files WHERE owner_id = ?1 AND parent_id = ?2)",
            )?
            .query_row(params![owner, id], |r| r.get(0))?;
        if occupied {
            return Err(StoreError::FolderNotEmpty.into());
        }
    }
    let mut keys = Vec::new();
    for folder in subtree(tx, owner, id)? {
        let files: Vec<FileId> = tx
            .prepare_cached("SELECT id FROM files WHERE owner_id = ?1 AND parent_id = ?2")?
            .query_map(params![owner, folder], |r| r.get(0).map(FileId))?
            .collect::<rusqlite::Result<_>>()?;
        for file in files {
            keys.extend(file_object_keys(tx, file)?);
            // Versions and their objects go by ON DELETE CASCADE.
            tx.prepare_cached("DELETE FROM files WHERE id = ?1")?
                .execute([file])?;
        }
        tx.prepare_cached("DELETE FROM folders WHERE id = ?1")?
            .execute([folder])?;
    }
    release_objects(tx, &keys)
}

/// `MetadataStore::copy_folder`.
pub(super) fn copy_folder(tx: &Transaction<'_>, copy: &FolderCopy) -> DbResult<FolderRecord> {
    let owner = copy.owner_id;
    let source = get_folder(tx, owner, copy.source)?.ok_or(StoreError::NotFound)?;
    check_parent(tx, owner, copy.parent_id)?;
    if is_within(tx, owner, copy.parent_id, source.id)? {
        return Err(StoreError::FolderCycle.into());
    }
    let top = insert_folder(tx, owner, copy.parent_id, &copy.top.decide(&source)?)?;
    // Breadth first: (source folder, its copy). The destination is outside
    // the source's subtree, so the walk never meets a copy it just made.
    let mut queue = vec![(source.id, top.id)];
    while let Some((from, to)) = queue.pop() {
        copy_children(tx, owner, from, to, &copy.rules, &mut queue)?;
    }
    Ok(top)
}

/// Copies the files and folders directly in `from` into `to`, queueing
/// each copied folder for its own children.
fn copy_children(
    tx: &Transaction<'_>,
    owner: UserId,
    from: FolderId,
    to: FolderId,
    rules: &CopyRules,
    queue: &mut Vec<(FolderId, FolderId)>,
) -> DbResult<()> {
    let folders: Vec<FolderRecord> = tx
        .prepare_cached(concat!(
            "SELECT ",
            folder_columns!(),
            " FROM folders WHERE owner_id = ?1 AND parent_id = ?2"
        ))?
        .query_map(params![owner, from], |row| rows::folder(row))?
        .collect::<rusqlite::Result<_>>()?;
    for folder in folders {
        let made = insert_folder(tx, owner, to, &rules.folder.decide(&folder)?)?;
        queue.push((folder.id, made.id));
    }
    let sql = format!("{FILE_SELECT} WHERE f.owner_id = ?1 AND f.parent_id = ?2");
    let files: Vec<_> = tx
        .prepare_cached(&sql)?
        .query_map(params![owner, from], |row| rows::file(row))?
        .collect::<rusqlite::Result<_>>()?;
    for file in files {
        copy_file(tx, owner, &file, to, &rules.file.decide(&file)?)?;
    }
    Ok(())
}

/// `MetadataStore::space_used`.
pub(super) fn space_used(tx: &Transaction<'_>, owner: UserId) -> DbResult<u64> {
    let used: i64 = tx
        .prepare_cached(
            "SELECT COALESCE(SUM(v.size), 0) FROM file_versions v \
             JOIN files f ON f.id = v.file_id WHERE f.owner_id = ?1",
        )?
        .query_row([owner], |r| r.get(0))?;
    Ok(used.unsigned_abs())
}
