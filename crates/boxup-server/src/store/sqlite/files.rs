//! Files, their versions and the objects of each version.

use rusqlite::{OptionalExtension, Transaction, params};

use super::housekeeping::release_objects;
use super::items::{check_name_free, check_parent};
use super::{DbResult, name_key, new_id, to_db};
use crate::store::rows::{self, file_columns, version_columns};
use crate::store::{
    DeleteDecision, FileCopy, FileId, FileMoveDecision, FileRecord, FileValues, FileWrite,
    FolderId, ItemId, NewContent, ObjectRef, StoreError, UserId, VersionDecision, VersionId,
    VersionRecord,
};

pub(super) const FILE_SELECT: &str = concat!(
    "SELECT ",
    file_columns!(),
    " FROM files f JOIN file_versions v ON v.id = f.current_version_id"
);

pub(super) fn get_file(
    tx: &Transaction<'_>,
    owner: UserId,
    id: FileId,
) -> DbResult<Option<FileRecord>> {
    let sql = format!("{FILE_SELECT} WHERE f.id = ?1 AND f.owner_id = ?2");
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![id, owner], |row| rows::file(row))
        .optional()?)
}

/// The file, which the caller knows exists (read back after a write).
fn load_file(tx: &Transaction<'_>, owner: UserId, id: FileId) -> DbResult<FileRecord> {
    get_file(tx, owner, id)?
        .ok_or_else(|| StoreError::backend(format!("file {id} vanished mid-transaction")).into())
}

pub(super) fn get_version(
    tx: &Transaction<'_>,
    owner: UserId,
    file_id: FileId,
    version_id: VersionId,
) -> DbResult<Option<VersionRecord>> {
    let sql = concat!(
        "SELECT ",
        version_columns!(),
        " FROM file_versions v JOIN files f ON f.id = v.file_id \
         WHERE v.id = ?1 AND v.file_id = ?2 AND f.owner_id = ?3"
    );
    Ok(tx
        .prepare_cached(sql)?
        .query_row(params![version_id, file_id, owner], |row| {
            rows::version_at(row, 0)
        })
        .optional()?)
}

pub(super) fn version_objects(
    tx: &Transaction<'_>,
    version_id: VersionId,
) -> DbResult<Vec<ObjectRef>> {
    let mut stmt = tx.prepare_cached(
        "SELECT object_key, offset, size FROM version_objects \
         WHERE version_id = ?1 ORDER BY idx",
    )?;
    let objects = stmt.query_map(params![version_id], |row| rows::object(row))?;
    Ok(objects.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Inserts a version row and its objects (in the given order); returns the
/// new version id.
fn insert_version(
    tx: &Transaction<'_>,
    file_id: FileId,
    content: &NewContent,
    now: i64,
) -> DbResult<VersionId> {
    let id = VersionId(new_id(tx, "file_versions")?);
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

/// A new file in `parent` with its first version, dated `values.modified_at`.
pub(super) fn insert_file(
    tx: &Transaction<'_>,
    owner: UserId,
    parent: FolderId,
    values: &FileValues,
    content: &NewContent,
) -> DbResult<FileRecord> {
    check_parent(tx, owner, parent)?;
    let key = name_key(&values.name);
    check_name_free(tx, owner, parent, &key, None)?;
    let file_id = FileId(new_id(tx, "files")?);
    // The version refers to the file, so the file goes first with a
    // placeholder version id, fixed right after (no foreign key on it).
    tx.prepare_cached(
        "INSERT INTO files (id, owner_id, parent_id, name, name_key, description, etag, \
         created_at, modified_at, content_created_at, content_modified_at, current_version_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, 0)",
    )?
    .execute(params![
        file_id,
        owner,
        parent,
        values.name,
        key,
        values.description,
        values.etag,
        values.modified_at,
        values.content_created_at,
        values.content_modified_at,
    ])?;
    let version_id = insert_version(tx, file_id, content, values.modified_at)?;
    tx.prepare_cached("UPDATE files SET current_version_id = ?1 WHERE id = ?2")?
        .execute(params![version_id, file_id])?;
    load_file(tx, owner, file_id)
}

/// A new current version of `file_id` with the values `decide` picks from
/// the file as it stands: `NotFound`, the decision's error, then `NameInUse`.
fn insert_new_version(
    tx: &Transaction<'_>,
    owner: UserId,
    file_id: FileId,
    decide: &VersionDecision,
    content: &NewContent,
) -> DbResult<FileRecord> {
    // The write transaction (BEGIN IMMEDIATE) already excludes every other
    // writer, so the row read here is the row updated below.
    let current = get_file(tx, owner, file_id)?.ok_or(StoreError::NotFound)?;
    let values = decide.decide(&current)?;
    let key = name_key(&values.name);
    check_name_free(
        tx,
        owner,
        current.parent_id,
        &key,
        Some(ItemId::File(file_id)),
    )?;
    let version_id = insert_version(tx, file_id, content, values.modified_at)?;
    tx.prepare_cached(
        "UPDATE files SET name = ?1, name_key = ?2, etag = ?3, current_version_id = ?4, \
         modified_at = ?5, description = ?6, content_created_at = ?7, content_modified_at = ?8 \
         WHERE id = ?9",
    )?
    .execute(params![
        values.name,
        key,
        values.etag,
        version_id,
        values.modified_at,
        values.description,
        values.content_created_at,
        values.content_modified_at,
        file_id,
    ])?;
    load_file(tx, owner, file_id)
}

/// Executes a file write for `owner`. Shared by `write_file` and commit.
pub(super) fn write_file(
    tx: &Transaction<'_>,
    owner: UserId,
    write: &FileWrite,
    content: &NewContent,
) -> DbResult<FileRecord> {
    match write {
        FileWrite::Create { parent_id, values } => {
            insert_file(tx, owner, *parent_id, values, content)
        }
        FileWrite::NewVersion { file_id, decide } => {
            insert_new_version(tx, owner, *file_id, decide, content)
        }
    }
}

pub(super) fn delete_file(
    tx: &Transaction<'_>,
    owner: UserId,
    id: FileId,
    decide: &DeleteDecision,
) -> DbResult<()> {
    let current = get_file(tx, owner, id)?.ok_or(StoreError::NotFound)?;
    decide.decide(&current)?;
    let keys = file_object_keys(tx, id)?;
    // Versions and their objects go by ON DELETE CASCADE.
    tx.prepare_cached("DELETE FROM files WHERE id = ?1")?
        .execute([id])?;
    release_objects(tx, &keys)
}

/// Every object key of every version of a file (a copy's keys too).
pub(super) fn file_object_keys(tx: &Transaction<'_>, id: FileId) -> DbResult<Vec<String>> {
    let mut stmt = tx.prepare_cached(
        "SELECT DISTINCT o.object_key FROM version_objects o \
         JOIN file_versions v ON v.id = o.version_id WHERE v.file_id = ?1",
    )?;
    let keys = stmt.query_map([id], |r| r.get(0))?;
    Ok(keys.collect::<rusqlite::Result<Vec<String>>>()?)
}

/// Renames, moves or re-describes a file (see `MetadataStore::update_file`).
pub(super) fn update_file(
    tx: &Transaction<'_>,
    owner: UserId,
    id: FileId,
    decide: &FileMoveDecision,
) -> DbResult<FileRecord> {
    let current = get_file(tx, owner, id)?.ok_or(StoreError::NotFound)?;
    let to = decide.decide(&current)?;
    if to.parent_id != current.parent_id {
        check_parent(tx, owner, to.parent_id)?;
    }
    let key = name_key(&to.values.name);
    check_name_free(tx, owner, to.parent_id, &key, Some(ItemId::File(id)))?;
    let v = &to.values;
    tx.prepare_cached(
        "UPDATE files SET parent_id = ?1, name = ?2, name_key = ?3, description = ?4, \
         etag = ?5, modified_at = ?6, content_created_at = ?7, content_modified_at = ?8 \
         WHERE id = ?9",
    )?
    .execute(params![
        to.parent_id,
        v.name,
        key,
        v.description,
        v.etag,
        v.modified_at,
        v.content_created_at,
        v.content_modified_at,
        id,
    ])?;
    load_file(tx, owner, id)
}

/// A new file made of `source`'s current version: its version row is new,
/// its objects are the source's (see `MetadataStore::copy_file`).
pub(super) fn copy_file(
    tx: &Transaction<'_>,
    owner: UserId,
    source: &FileRecord,
    parent: FolderId,
    values: &FileValues,
) -> DbResult<FileRecord> {
    let content = NewContent {
        size: source.version.size,
        sha1: source.version.sha1.clone(),
        objects: version_objects(tx, source.version.id)?,
    };
    insert_file(tx, owner, parent, values, &content)
}

/// `MetadataStore::copy_file`.
pub(super) fn copy_one_file(tx: &Transaction<'_>, copy: &FileCopy) -> DbResult<FileRecord> {
    let source = get_file(tx, copy.owner_id, copy.source)?.ok_or(StoreError::NotFound)?;
    let values = copy.decide.decide(&source)?;
    copy_file(tx, copy.owner_id, &source, copy.parent_id, &values)
}
