//! Folders, name lookups across files and folders, and folder listings.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{DbResult, col_u64, name_key, new_id, page_bound};
use crate::store::{
    FileId, FolderId, FolderRecord, ItemRef, ItemVersion, NewFolder, StoreError, UserId,
};

const FOLDER_COLUMNS: &str =
    "id, owner_id, parent_id, name, description, etag, created_at, modified_at";

fn folder_from_row(row: &Row<'_>) -> rusqlite::Result<FolderRecord> {
    Ok(FolderRecord {
        id: row.get(0)?,
        owner_id: row.get(1)?,
        parent_id: row.get(2)?,
        name: row.get(3)?,
        description: row.get(4)?,
        etag: row.get(5)?,
        created_at: row.get(6)?,
        modified_at: row.get(7)?,
    })
}

pub(super) fn get_folder(
    tx: &Transaction<'_>,
    owner: UserId,
    id: FolderId,
) -> DbResult<Option<FolderRecord>> {
    let sql = format!("SELECT {FOLDER_COLUMNS} FROM folders WHERE id = ?1 AND owner_id = ?2");
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![id, owner], folder_from_row)
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

/// Columns: kind (0 folder, 1 file), id, name, etag, version id, sha1,
/// size; the version columns are NULL for folders.
fn item_from_row(row: &Row<'_>) -> rusqlite::Result<ItemRef> {
    let kind: i64 = row.get(0)?;
    let version = match row.get(4)? {
        Some(id) => Some(ItemVersion {
            id,
            sha1: row.get(5)?,
            size: col_u64(row, 6)?,
        }),
        None => None,
    };
    Ok(ItemRef::from_columns(
        kind != 0,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        version,
    ))
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
        .query_row(params![owner, parent, key], item_from_row)
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
        item_from_row,
    )?;
    let items = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((total.unsigned_abs(), items))
}

pub(super) fn create_folder(tx: &Transaction<'_>, new: &NewFolder) -> DbResult<FolderRecord> {
    check_parent(tx, new.owner_id, new.parent_id)?;
    let key = name_key(&new.name);
    check_name_free(tx, new.owner_id, new.parent_id, &key, None)?;
    let id = FolderId(new_id(tx, "folders")?);
    tx.prepare_cached(
        "INSERT INTO folders \
         (id, owner_id, parent_id, name, name_key, description, etag, created_at, modified_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, '', 0, ?6, ?6)",
    )?
    .execute(params![
        id,
        new.owner_id,
        new.parent_id,
        new.name,
        key,
        new.now
    ])?;
    Ok(FolderRecord {
        id,
        owner_id: new.owner_id,
        parent_id: new.parent_id,
        name: new.name.clone(),
        description: String::new(),
        etag: 0,
        created_at: new.now,
        modified_at: new.now,
    })
}
