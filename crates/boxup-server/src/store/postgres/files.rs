//! Files, their versions and the objects of each version.
//!
//! Why it looks like this:
//! - A new version locks the file row `FOR UPDATE` in a statement of its
//!   own and only then reads the file: the etag it checks is the one it
//!   bumps, and a concurrent `delete_file` (same lock) either went first
//!   (then this one finds nothing: `NotFound`) or waits.
//! - Records returned by writes are built from the values written rather
//!   than read back: every column is known, and a read costs a round trip.
//! - A version's objects are inserted with one `UNNEST` statement however
//!   many there are.

use sqlx::PgConnection;

use super::housekeeping::release_objects;
use super::items::{check_name_free, check_parent, lock_names};
use super::{DbResult, name_key, to_db};
use crate::store::rows::{self, file_columns, version_columns};
use crate::store::{
    DeleteDecision, FileId, FileRecord, FileValues, FileWrite, FolderId, ItemId, NewContent,
    ObjectRef, StoreError, UserId, VersionDecision, VersionId, VersionRecord,
};

/// `SELECT` of `file_columns!` from files joined to their current version.
macro_rules! file_select {
    () => {
        concat!(
            "SELECT ",
            file_columns!(),
            " FROM files f JOIN file_versions v ON v.id = f.current_version_id"
        )
    };
}

pub(super) use file_select;

pub(super) async fn get_file(
    c: &mut PgConnection,
    owner: UserId,
    id: FileId,
) -> DbResult<Option<FileRecord>> {
    let row = sqlx::query(concat!(
        file_select!(),
        " WHERE f.id = $1 AND f.owner_id = $2"
    ))
    .bind(id)
    .bind(owner)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(rows::file).transpose()
}

pub(super) async fn get_version(
    c: &mut PgConnection,
    owner: UserId,
    file_id: FileId,
    version_id: VersionId,
) -> DbResult<Option<VersionRecord>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        version_columns!(),
        " FROM file_versions v JOIN files f ON f.id = v.file_id \
         WHERE v.id = $1 AND v.file_id = $2 AND f.owner_id = $3"
    ))
    .bind(version_id)
    .bind(file_id)
    .bind(owner)
    .fetch_optional(&mut *c)
    .await?;
    row.map(|row| rows::version_at(&row, 0)).transpose()
}

pub(super) async fn version_objects(
    c: &mut PgConnection,
    version_id: VersionId,
) -> DbResult<Vec<ObjectRef>> {
    let found = sqlx::query(
        "SELECT object_key, byte_offset, size FROM version_objects \
         WHERE version_id = $1 ORDER BY idx",
    )
    .bind(version_id)
    .fetch_all(&mut *c)
    .await?;
    found.iter().map(rows::object).collect()
}

/// Inserts version `id` of `file_id` and its objects (in the given order).
async fn insert_version(
    c: &mut PgConnection,
    id: VersionId,
    file_id: FileId,
    content: &NewContent,
    now: i64,
) -> DbResult<VersionRecord> {
    sqlx::query(
        "INSERT INTO file_versions (id, file_id, size, sha1, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(file_id)
    .bind(to_db(content.size)?)
    .bind(&content.sha1)
    .bind(now)
    .execute(&mut *c)
    .await?;
    if !content.objects.is_empty() {
        let n = content.objects.len();
        let (mut idx, mut keys, mut offsets, mut sizes) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for (i, object) in content.objects.iter().enumerate() {
            idx.push(to_db(i as u64)?);
            keys.push(object.key.as_str());
            offsets.push(to_db(object.offset)?);
            sizes.push(to_db(object.size)?);
        }
        sqlx::query(
            "INSERT INTO version_objects (version_id, idx, object_key, byte_offset, size) \
             SELECT $1, o.idx, o.object_key, o.byte_offset, o.size \
             FROM UNNEST($2::bigint[], $3::text[], $4::bigint[], $5::bigint[]) \
             AS o (idx, object_key, byte_offset, size)",
        )
        .bind(id)
        .bind(&idx)
        .bind(&keys)
        .bind(&offsets)
        .bind(&sizes)
        .execute(&mut *c)
        .await?;
    }
    Ok(VersionRecord {
        id,
        file_id,
        size: content.size,
        sha1: content.sha1.clone(),
        created_at: now,
    })
}

/// A new file in `parent` with its first version, dated
/// `values.modified_at`, under the name lock of the parent.
pub(super) async fn insert_file(
    c: &mut PgConnection,
    owner: UserId,
    parent: FolderId,
    values: &FileValues,
    content: &NewContent,
) -> DbResult<FileRecord> {
    check_parent(c, owner, parent).await?;
    let key = name_key(&values.name);
    lock_names(c, owner, parent).await?;
    check_name_free(c, owner, parent, &key, None).await?;
    // Ids are not checked before use: a collision violates the primary key
    // and the transaction is retried with new ones.
    let (file_id, version_id) = (FileId::random(), VersionId::random());
    // `current_version_id` carries no foreign key, so the file can name its
    // version before the version row (which refers to the file) exists.
    sqlx::query(
        "INSERT INTO files (id, owner_id, parent_id, name, name_key, description, etag, \
         created_at, modified_at, content_created_at, content_modified_at, current_version_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11)",
    )
    .bind(file_id)
    .bind(owner)
    .bind(parent)
    .bind(&values.name)
    .bind(&key)
    .bind(&values.description)
    .bind(values.etag)
    .bind(values.modified_at)
    .bind(values.content_created_at)
    .bind(values.content_modified_at)
    .bind(version_id)
    .execute(&mut *c)
    .await?;
    let version = insert_version(c, version_id, file_id, content, values.modified_at).await?;
    let row = (file_id, owner, parent, values.modified_at);
    Ok(written_record(row, values, version))
}

/// The record of a file row written with `values`.
pub(super) fn written_record(
    (id, owner_id, parent_id, created_at): (FileId, UserId, FolderId, i64),
    values: &FileValues,
    version: VersionRecord,
) -> FileRecord {
    FileRecord {
        id,
        owner_id,
        parent_id,
        name: values.name.clone(),
        description: values.description.clone(),
        etag: values.etag,
        created_at,
        modified_at: values.modified_at,
        content_created_at: values.content_created_at,
        content_modified_at: values.content_modified_at,
        version,
    }
}

/// Locks the owner's file row `FOR UPDATE`; `NotFound` if there is none.
pub(super) async fn lock_file(
    c: &mut PgConnection,
    owner: UserId,
    id: FileId,
) -> DbResult<FileRecord> {
    let locked: Option<i64> =
        sqlx::query_scalar("SELECT etag FROM files WHERE id = $1 AND owner_id = $2 FOR UPDATE")
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut *c)
            .await?;
    locked.ok_or(StoreError::NotFound)?;
    // Read after the lock is granted, so this is the row as the previous
    // holder left it.
    get_file(c, owner, id)
        .await?
        .ok_or_else(|| StoreError::backend(format!("file {id} has no version")).into())
}

/// A new current version of `file_id` with the values `decide` picks from
/// the file as it stands (locked): `NotFound`, the decision's error, then
/// `NameInUse`.
async fn insert_new_version(
    c: &mut PgConnection,
    owner: UserId,
    file_id: FileId,
    decide: &VersionDecision,
    content: &NewContent,
) -> DbResult<FileRecord> {
    let current = lock_file(c, owner, file_id).await?;
    let values = decide.decide(&current)?;
    let key = name_key(&values.name);
    lock_names(c, owner, current.parent_id).await?;
    check_name_free(
        c,
        owner,
        current.parent_id,
        &key,
        Some(ItemId::File(file_id)),
    )
    .await?;
    let version =
        insert_version(c, VersionId::random(), file_id, content, values.modified_at).await?;
    sqlx::query(
        "UPDATE files SET name = $1, name_key = $2, etag = $3, current_version_id = $4, \
         modified_at = $5, description = $6, content_created_at = $7, \
         content_modified_at = $8 WHERE id = $9",
    )
    .bind(&values.name)
    .bind(&key)
    .bind(values.etag)
    .bind(version.id)
    .bind(values.modified_at)
    .bind(&values.description)
    .bind(values.content_created_at)
    .bind(values.content_modified_at)
    .bind(file_id)
    .execute(&mut *c)
    .await?;
    let row = (
        current.id,
        current.owner_id,
        current.parent_id,
        current.created_at,
    );
    Ok(written_record(row, &values, version))
}

/// Executes a file write for `owner`. Shared by `write_file` and commit.
pub(super) async fn write_file(
    c: &mut PgConnection,
    owner: UserId,
    write: &FileWrite,
    content: &NewContent,
) -> DbResult<FileRecord> {
    match write {
        FileWrite::Create { parent_id, values } => {
            insert_file(c, owner, *parent_id, values, content).await
        }
        FileWrite::NewVersion { file_id, decide } => {
            insert_new_version(c, owner, *file_id, decide, content).await
        }
    }
}

pub(super) async fn delete_file(
    c: &mut PgConnection,
    owner: UserId,
    id: FileId,
    decide: &DeleteDecision,
) -> DbResult<()> {
    let current = lock_file(c, owner, id).await?;
    decide.decide(&current)?;
    let keys = file_object_keys(c, &[id]).await?;
    // Versions and their objects go by ON DELETE CASCADE.
    sqlx::query("DELETE FROM files WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    release_objects(c, &keys).await
}

/// Every object key of every version of these files.
pub(super) async fn file_object_keys(
    c: &mut PgConnection,
    files: &[FileId],
) -> DbResult<Vec<String>> {
    let ids: Vec<i64> = files.iter().map(|f| f.0).collect();
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT o.object_key FROM version_objects o \
         JOIN file_versions v ON v.id = o.version_id WHERE v.file_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *c)
    .await?)
}
