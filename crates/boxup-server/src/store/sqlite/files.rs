//! Files, their versions and the objects of each version.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::items::{check_name_free, check_parent};
use super::{DbResult, col_u64, name_key, new_id, to_db};
use crate::store::{
    FileAttributes, FileRecord, NewContent, NewFile, NewVersion, ObjectRef, StoreError,
    VersionRecord,
};

const FILE_SELECT: &str = "SELECT f.id, f.owner_id, f.parent_id, f.name, f.description, f.etag, \
     f.created_at, f.modified_at, f.content_created_at, f.content_modified_at, \
     v.id, v.file_id, v.size, v.sha1, v.created_at \
     FROM files f JOIN file_versions v ON v.id = f.current_version_id";

fn file_from_row(row: &Row<'_>) -> rusqlite::Result<FileRecord> {
    Ok(FileRecord {
        id: row.get(0)?,
        owner_id: row.get(1)?,
        parent_id: row.get(2)?,
        name: row.get(3)?,
        description: row.get(4)?,
        etag: row.get(5)?,
        created_at: row.get(6)?,
        modified_at: row.get(7)?,
        content_created_at: row.get(8)?,
        content_modified_at: row.get(9)?,
        version: VersionRecord {
            id: row.get(10)?,
            file_id: row.get(11)?,
            size: col_u64(row, 12)?,
            sha1: row.get(13)?,
            created_at: row.get(14)?,
        },
    })
}

pub(super) fn get_file(tx: &Transaction<'_>, owner: i64, id: i64) -> DbResult<Option<FileRecord>> {
    let sql = format!("{FILE_SELECT} WHERE f.id = ?1 AND f.owner_id = ?2");
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![id, owner], file_from_row)
        .optional()?)
}

/// The file, which the caller knows exists (read back after a write).
fn load_file(tx: &Transaction<'_>, owner: i64, id: i64) -> DbResult<FileRecord> {
    get_file(tx, owner, id)?
        .ok_or_else(|| StoreError::backend(format!("file {id} vanished mid-transaction")).into())
}

pub(super) fn get_version(
    tx: &Transaction<'_>,
    owner: i64,
    file_id: i64,
    version_id: i64,
) -> DbResult<Option<VersionRecord>> {
    let sql = "SELECT v.id, v.file_id, v.size, v.sha1, v.created_at \
               FROM file_versions v JOIN files f ON f.id = v.file_id \
               WHERE v.id = ?1 AND v.file_id = ?2 AND f.owner_id = ?3";
    Ok(tx
        .prepare_cached(sql)?
        .query_row(params![version_id, file_id, owner], |row| {
            Ok(VersionRecord {
                id: row.get(0)?,
                file_id: row.get(1)?,
                size: col_u64(row, 2)?,
                sha1: row.get(3)?,
                created_at: row.get(4)?,
            })
        })
        .optional()?)
}

pub(super) fn version_objects(tx: &Transaction<'_>, version_id: i64) -> DbResult<Vec<ObjectRef>> {
    let mut stmt = tx.prepare_cached(
        "SELECT object_key, offset, size FROM version_objects \
         WHERE version_id = ?1 ORDER BY idx",
    )?;
    let rows = stmt.query_map([version_id], |row| {
        Ok(ObjectRef {
            key: row.get(0)?,
            offset: col_u64(row, 1)?,
            size: col_u64(row, 2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Inserts a version row and its objects (in the given order); returns the
/// new version id.
fn insert_version(
    tx: &Transaction<'_>,
    file_id: i64,
    content: &NewContent,
    now: i64,
) -> DbResult<i64> {
    let id = new_id(tx, "file_versions")?;
    tx.prepare_cached(
        "INSERT INTO file_versions (id, file_id, size, sha1, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        id,
        file_id,
        to_db(content.size)?,
        content.sha1,
        now
    ])?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO version_objects (version_id, idx, object_key, offset, size) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (idx, object) in content.objects.iter().enumerate() {
        stmt.execute(params![
            id,
            to_db(idx as u64)?,
            object.key,
            to_db(object.offset)?,
            to_db(object.size)?
        ])?;
    }
    Ok(id)
}

/// A new file in `parent` with its first version (etag 0). Shared by
/// `create_file` and the commit of a new-file session.
pub(super) fn insert_file(
    tx: &Transaction<'_>,
    owner: i64,
    parent: i64,
    name: &str,
    attributes: &FileAttributes,
    content: &NewContent,
    now: i64,
) -> DbResult<FileRecord> {
    check_parent(tx, owner, parent)?;
    let key = name_key(name);
    check_name_free(tx, owner, parent, &key, None)?;
    let file_id = new_id(tx, "files")?;
    // The version refers to the file, so the file goes first with a
    // placeholder version id, fixed right after (no foreign key on it).
    tx.prepare_cached(
        "INSERT INTO files (id, owner_id, parent_id, name, name_key, description, etag, \
         created_at, modified_at, content_created_at, content_modified_at, current_version_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7, ?8, ?9, 0)",
    )?
    .execute(params![
        file_id,
        owner,
        parent,
        name,
        key,
        attributes.description.as_deref().unwrap_or(""),
        now,
        attributes.content_created_at.unwrap_or(now),
        attributes.content_modified_at.unwrap_or(now),
    ])?;
    let version_id = insert_version(tx, file_id, content, now)?;
    tx.prepare_cached("UPDATE files SET current_version_id = ?1 WHERE id = ?2")?
        .execute(params![version_id, file_id])?;
    load_file(tx, owner, file_id)
}

/// What a new version of an existing file carries besides its content.
pub(super) struct VersionChange<'a> {
    pub owner: i64,
    pub file_id: i64,
    pub rename: Option<&'a str>,
    pub if_match: Option<i64>,
    pub if_none_match: Option<i64>,
    pub attributes: &'a FileAttributes,
    pub now: i64,
}

/// A new current version of an existing file: `NotFound` (no such file of
/// the owner), then `PreconditionFailed` (etag checks), then `NameInUse`
/// (a rename onto another item). Bumps the etag by one. Shared by
/// `add_version` and the commit of a new-version session.
pub(super) fn insert_new_version(
    tx: &Transaction<'_>,
    change: &VersionChange<'_>,
    content: &NewContent,
) -> DbResult<FileRecord> {
    let current = get_file(tx, change.owner, change.file_id)?.ok_or(StoreError::NotFound)?;
    if change.if_match.is_some_and(|etag| etag != current.etag)
        || change
            .if_none_match
            .is_some_and(|etag| etag == current.etag)
    {
        return Err(StoreError::PreconditionFailed.into());
    }
    let name = change.rename.unwrap_or(&current.name);
    let key = name_key(name);
    check_name_free(
        tx,
        change.owner,
        current.parent_id,
        &key,
        Some(change.file_id),
    )?;
    let version_id = insert_version(tx, change.file_id, content, change.now)?;
    let attrs = change.attributes;
    tx.prepare_cached(
        "UPDATE files SET name = ?1, name_key = ?2, etag = etag + 1, current_version_id = ?3, \
         modified_at = ?4, description = ?5, content_created_at = ?6, content_modified_at = ?7 \
         WHERE id = ?8",
    )?
    .execute(params![
        name,
        key,
        version_id,
        change.now,
        attrs.description.as_deref().unwrap_or(&current.description),
        attrs
            .content_created_at
            .unwrap_or(current.content_created_at),
        attrs.content_modified_at.unwrap_or(change.now),
        change.file_id,
    ])?;
    load_file(tx, change.owner, change.file_id)
}

pub(super) fn create_file(tx: &Transaction<'_>, new: &NewFile) -> DbResult<FileRecord> {
    insert_file(
        tx,
        new.owner_id,
        new.parent_id,
        &new.name,
        &new.attributes,
        &new.content,
        new.now,
    )
}

pub(super) fn add_version(tx: &Transaction<'_>, new: &NewVersion) -> DbResult<FileRecord> {
    let change = VersionChange {
        owner: new.owner_id,
        file_id: new.file_id,
        rename: new.rename.as_deref(),
        if_match: new.if_match,
        if_none_match: None,
        attributes: &new.attributes,
        now: new.now,
    };
    insert_new_version(tx, &change, &new.content)
}

pub(super) fn delete_file(
    tx: &Transaction<'_>,
    owner: i64,
    id: i64,
    if_match: Option<i64>,
) -> DbResult<()> {
    let etag: i64 = tx
        .prepare_cached("SELECT etag FROM files WHERE id = ?1 AND owner_id = ?2")?
        .query_row(params![id, owner], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NotFound)?;
    if if_match.is_some_and(|want| want != etag) {
        return Err(StoreError::PreconditionFailed.into());
    }
    tx.prepare_cached(
        "INSERT OR IGNORE INTO garbage (key) \
         SELECT o.object_key FROM version_objects o \
         JOIN file_versions v ON v.id = o.version_id WHERE v.file_id = ?1",
    )?
    .execute([id])?;
    // Versions and their objects go by ON DELETE CASCADE.
    tx.prepare_cached("DELETE FROM files WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}
