//! Folders, name lookups across files and folders, and folder listings.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{DbResult, name_key, new_id, page_bound};
use crate::store::rows::{self, folder_columns};
use crate::store::{FileId, FolderId, FolderRecord, ItemRef, NewFolder, StoreError, UserId};

pub(super) fn get_folder(
    tx: &Transaction<'_>,
    owner: UserId,
    id: FolderId,
) -> DbResult<Option<FolderRecord>> {
    let sql = concat!(
        "SELECT ",
        folder_columns!(),
        " FROM folders WHERE id = ?1 AND owner_id = ?2"
    );
    Ok(tx
        .prepare_cached(sql)?
        .query_row(params![id, owner], |row| rows::folder(row))
        .optional()?)
}

/// `ParentNotFound` unless `parent` is the root or one of the owner's folders.
pub(super) fn check_parent(tx: &Transaction<'_>, owner: UserId, parent: FolderId) -> DbResult<()> {
    if parent == FolderId::ROOT {
        return Ok(());
    }
    let found = tx
        .prepare_cached("SELECT 1 FROM folders WHERE id = ?1 AND owner_id = ?2")?
        .exists(params![parent, owner])?;
    if found {
        Ok(())
    } else {
        Err(StoreError::ParentNotFound.into())
    }
}

/// `NameInUse` if a file or folder with this name key is in `parent`,
/// except the file `except_file` itself (a file renamed to its own name).
pub(super) fn check_name_free(
    tx: &Transaction<'_>,
    owner: UserId,
    parent: FolderId,
    key: &str,
    except_file: Option<FileId>,
) -> DbResult<()> {
    match find_item(tx, owner, parent, key)? {
        Some(item) if except_file.is_none_or(|file| !item.is_file(file)) => {
            Err(StoreError::NameInUse(item).into())
        }
        _ => Ok(()),
    }
}

const FOLDER_ITEMS: &str = "SELECT 0, id, name, etag, NULL, NULL, NULL, name_key \
     FROM folders WHERE owner_id = ?1 AND parent_id = ?2";
const FILE_ITEMS: &str = "SELECT 1, f.id, f.name, f.etag, v.id, v.sha1, v.size, f.name_key \
     FROM files f JOIN file_versions v ON v.id = f.current_version_id \
     WHERE f.owner_id = ?1 AND f.parent_id = ?2";

/// The file or folder whose name key is `key` in `parent`.
pub(super) fn find_item(
    tx: &Transaction<'_>,
    owner: UserId,
    parent: FolderId,
    key: &str,
) -> DbResult<Option<ItemRef>> {
    let sql = format!(
        "{FOLDER_ITEMS} AND name_key = ?3 UNION ALL {FILE_ITEMS} AND f.name_key = ?3 LIMIT 1"
    );
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![owner, parent, key], |row| rows::item(row))
        .optional()?)
}

pub(super) fn list_items(
    tx: &Transaction<'_>,
    owner: UserId,
    parent: FolderId,
    offset: u64,
    limit: u64,
) -> DbResult<(u64, Vec<ItemRef>)> {
    let total: i64 = tx
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM folders WHERE owner_id = ?1 AND parent_id = ?2) \
                  + (SELECT COUNT(*) FROM files WHERE owner_id = ?1 AND parent_id = ?2)",
        )?
        .query_row(params![owner, parent], |r| r.get(0))?;
    // Folders first, then files; each by case-folded name, then exact name
    // and id so that the order is total and pages never overlap.
    let sql =
        format!("{FOLDER_ITEMS} UNION ALL {FILE_ITEMS} ORDER BY 1, 8, 3, 2 LIMIT ?3 OFFSET ?4");
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![owner, parent, page_bound(limit), page_bound(offset)],
        |row| rows::item(row),
    )?;
    let items = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((total.unsigned_abs(), items))
}

pub(super) fn create_folder(tx: &Transaction<'_>, new: &NewFolder) -> DbResult<FolderRecord> {
    check_parent(tx, new.owner_id, new.parent_id)?;
    let key = name_key(&new.name);
    check_name_free(tx, new.owner_id, new.parent_id, &key, None)?;
    let folder = new.record(FolderId(new_id(tx, "folders")?));
    tx.prepare_cached(
        "INSERT INTO folders \
         (id, owner_id, parent_id, name, name_key, description, etag, created_at, modified_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        folder.id,
        folder.owner_id,
        folder.parent_id,
        folder.name,
        key,
        folder.description,
        folder.etag,
        folder.created_at,
        folder.modified_at,
    ])?;
    Ok(folder)
}
