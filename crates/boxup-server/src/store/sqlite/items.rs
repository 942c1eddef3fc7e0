//! Folders, name lookups across files and folders, and folder listings.

use rusqlite::{OptionalExtension, Transaction, params};

use super::files::FILE_SELECT;
use super::{DbResult, name_key, new_id, page_bound};
use crate::store::items::HalfQuery;
use crate::store::rows::{self, folder_columns};
use crate::store::{
    FolderId, FolderRecord, FolderValues, ItemId, ItemRecord, ItemRef, ItemsChunk, ItemsPage,
    NewFolder, StoreError, UserId,
};

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
/// except the item `except` itself (an item renamed to its own name).
pub(super) fn check_name_free(
    tx: &Transaction<'_>,
    owner: UserId,
    parent: FolderId,
    key: &str,
    except: Option<ItemId>,
) -> DbResult<()> {
    match find_item(tx, owner, parent, key)? {
        Some(item) if except.is_none_or(|id| item.id != id) => {
            Err(StoreError::NameInUse(item).into())
        }
        _ => Ok(()),
    }
}

const FOLDER_ITEMS: &str = "SELECT 0, id, name, etag, NULL, NULL, NULL \
     FROM folders WHERE owner_id = ?1 AND parent_id = ?2";
const FILE_ITEMS: &str = "SELECT 1, f.id, f.name, f.etag, v.id, v.sha1, v.size \
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

/// A page of a folder's items: folders first, then files (see
/// `ItemsPage` for how the page splits between the two).
pub(super) fn list_items(
    tx: &Transaction<'_>,
    owner: UserId,
    parent: FolderId,
    page: &ItemsPage,
) -> DbResult<ItemsChunk> {
    let count = |table: &str| -> DbResult<u64> {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE owner_id = ?1 AND parent_id = ?2");
        let n: i64 = tx
            .prepare_cached(&sql)?
            .query_row(params![owner, parent], |r| r.get(0))?;
        Ok(n.unsigned_abs())
    };
    let (folders, files) = (count("folders")?, count("files")?);
    let mut items = Vec::new();
    if let Some(q) = page.folders_query(folders) {
        let sql = concat!(
            "SELECT ",
            folder_columns!(),
            " FROM folders WHERE owner_id = ?1 AND parent_id = ?2 \
             AND (?3 IS NULL OR (name_key, name, id) > (?3, ?4, ?5)) \
             ORDER BY name_key, name, id LIMIT ?6 OFFSET ?7"
        );
        let rows = query_half(tx, sql, owner, parent, &q, |row| rows::folder(row))?;
        items.extend(rows.into_iter().map(ItemRecord::Folder));
    }
    if let Some(q) = page.files_query(folders, items.len()) {
        let sql = format!(
            "{FILE_SELECT} WHERE f.owner_id = ?1 AND f.parent_id = ?2 \
             AND (?3 IS NULL OR (f.name_key, f.name, f.id) > (?3, ?4, ?5)) \
             ORDER BY f.name_key, f.name, f.id LIMIT ?6 OFFSET ?7"
        );
        let rows = query_half(tx, &sql, owner, parent, &q, |row| rows::file(row))?;
        items.extend(rows.into_iter().map(ItemRecord::File));
    }
    Ok(ItemsChunk {
        total: folders + files,
        items,
    })
}

/// Runs one half of a listing (`?1` owner, `?2` parent, `?3..?5` the
/// cursor, `?6` limit, `?7` offset).
fn query_half<T>(
    tx: &Transaction<'_>,
    sql: &str,
    owner: UserId,
    parent: FolderId,
    q: &HalfQuery<'_>,
    decode: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> DbResult<Vec<T>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map(
        params![
            owner,
            parent,
            q.after.map(|c| c.name_key.as_str()),
            q.after.map(|c| c.name.as_str()),
            q.after.map(|c| c.id),
            page_bound(q.limit),
            page_bound(q.offset)
        ],
        |row| decode(row),
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn create_folder(tx: &Transaction<'_>, new: &NewFolder) -> DbResult<FolderRecord> {
    check_parent(tx, new.owner_id, new.parent_id)?;
    insert_folder(tx, new.owner_id, new.parent_id, &new.values())
}

/// Inserts a folder row with `values` under `parent` (free name checked).
pub(super) fn insert_folder(
    tx: &Transaction<'_>,
    owner: UserId,
    parent: FolderId,
    values: &FolderValues,
) -> DbResult<FolderRecord> {
    let key = name_key(&values.name);
    check_name_free(tx, owner, parent, &key, None)?;
    let folder = FolderRecord {
        id: FolderId(new_id(tx, "folders")?),
        owner_id: owner,
        parent_id: parent,
        name: values.name.clone(),
        description: values.description.clone(),
        etag: values.etag,
        created_at: values.modified_at,
        modified_at: values.modified_at,
    };
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
