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

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::items::{check_name_free, check_parent, lock_names};
use super::{DbResult, col_u64, name_key, new_id, object_from_row, to_db};
use crate::store::{
    FileAttributes, FileRecord, NewContent, NewFile, NewVersion, ObjectRef, StoreError,
    VersionRecord,
};

macro_rules! file_select {
    () => {
        "SELECT f.id, f.owner_id, f.parent_id, f.name, f.description, f.etag, \
         f.created_at, f.modified_at, f.content_created_at, f.content_modified_at, \
         v.id, v.file_id, v.size, v.sha1, v.created_at \
         FROM files f JOIN file_versions v ON v.id = f.current_version_id"
    };
}

fn file_from_row(row: &PgRow) -> DbResult<FileRecord> {
    Ok(FileRecord {
        id: row.try_get(0)?,
        owner_id: row.try_get(1)?,
        parent_id: row.try_get(2)?,
        name: row.try_get(3)?,
        description: row.try_get(4)?,
        etag: row.try_get(5)?,
        created_at: row.try_get(6)?,
        modified_at: row.try_get(7)?,
        content_created_at: row.try_get(8)?,
        content_modified_at: row.try_get(9)?,
        version: VersionRecord {
            id: row.try_get(10)?,
            file_id: row.try_get(11)?,
            size: col_u64(row, 12)?,
            sha1: row.try_get(13)?,
            created_at: row.try_get(14)?,
        },
    })
}

pub(super) async fn get_file(
    c: &mut PgConnection,
    owner: i64,
    id: i64,
) -> DbResult<Option<FileRecord>> {
    let row = sqlx::query(concat!(
        file_select!(),
        " WHERE f.id = $1 AND f.owner_id = $2"
    ))
    .bind(id)
    .bind(owner)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(file_from_row).transpose()
}

pub(super) async fn get_version(
    c: &mut PgConnection,
    owner: i64,
    file_id: i64,
    version_id: i64,
) -> DbResult<Option<VersionRecord>> {
    let row = sqlx::query(
        "SELECT v.id, v.file_id, v.size, v.sha1, v.created_at \
         FROM file_versions v JOIN files f ON f.id = v.file_id \
         WHERE v.id = $1 AND v.file_id = $2 AND f.owner_id = $3",
    )
    .bind(version_id)
    .bind(file_id)
    .bind(owner)
    .fetch_optional(&mut *c)
    .await?;
    row.map(|row| {
        Ok(VersionRecord {
            id: row.try_get(0)?,
            file_id: row.try_get(1)?,
            size: col_u64(&row, 2)?,
            sha1: row.try_get(3)?,
            created_at: row.try_get(4)?,
        })
    })
    .transpose()
}

pub(super) async fn version_objects(
    c: &mut PgConnection,
    version_id: i64,
) -> DbResult<Vec<ObjectRef>> {
    let rows = sqlx::query(
        "SELECT object_key, byte_offset, size FROM version_objects \
         WHERE version_id = $1 ORDER BY idx",
    )
    .bind(version_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(object_from_row).collect()
}

/// Inserts version `id` of `file_id` and its objects (in the given order).
async fn insert_version(
    c: &mut PgConnection,
    id: i64,
    file_id: i64,
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

/// A new file in `parent` with its first version (etag 0), under the name
/// lock of the parent. Shared by `create_file` and the commit of a new-file
/// session.
pub(super) async fn insert_file(
    c: &mut PgConnection,
    owner: i64,
    parent: i64,
    name: &str,
    attributes: &FileAttributes,
    content: &NewContent,
    now: i64,
) -> DbResult<FileRecord> {
    check_parent(c, owner, parent).await?;
    let key = name_key(name);
    lock_names(c, owner, parent).await?;
    check_name_free(c, owner, parent, &key, None).await?;
    let (file_id, version_id) = (new_id(), new_id());
    let description = attributes.description.clone().unwrap_or_default();
    let content_created_at = attributes.content_created_at.unwrap_or(now);
    let content_modified_at = attributes.content_modified_at.unwrap_or(now);
    // `current_version_id` carries no foreign key, so the file can name its
    // version before the version row (which refers to the file) exists.
    sqlx::query(
        "INSERT INTO files (id, owner_id, parent_id, name, name_key, description, etag, \
         created_at, modified_at, content_created_at, content_modified_at, current_version_id) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, $8, $9, $10)",
    )
    .bind(file_id)
    .bind(owner)
    .bind(parent)
    .bind(name)
    .bind(&key)
    .bind(&description)
    .bind(now)
    .bind(content_created_at)
    .bind(content_modified_at)
    .bind(version_id)
    .execute(&mut *c)
    .await?;
    let version = insert_version(c, version_id, file_id, content, now).await?;
    Ok(FileRecord {
        id: file_id,
        owner_id: owner,
        parent_id: parent,
        name: name.to_owned(),
        description,
        etag: 0,
        created_at: now,
        modified_at: now,
        content_created_at,
        content_modified_at,
        version,
    })
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

/// Locks the owner's file row `FOR UPDATE`; `NotFound` if there is none.
async fn lock_file(c: &mut PgConnection, owner: i64, id: i64) -> DbResult<i64> {
    let etag: Option<i64> =
        sqlx::query_scalar("SELECT etag FROM files WHERE id = $1 AND owner_id = $2 FOR UPDATE")
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut *c)
            .await?;
    Ok(etag.ok_or(StoreError::NotFound)?)
}

/// A new current version of an existing file: `NotFound` (no such file of
/// the owner), then `PreconditionFailed` (etag checks), then `NameInUse`
/// (a rename onto another item). Bumps the etag by one. Shared by
/// `add_version` and the commit of a new-version session.
pub(super) async fn insert_new_version(
    c: &mut PgConnection,
    change: &VersionChange<'_>,
    content: &NewContent,
) -> DbResult<FileRecord> {
    lock_file(c, change.owner, change.file_id).await?;
    let current = get_file(c, change.owner, change.file_id)
        .await?
        .ok_or_else(|| StoreError::backend(format!("file {} has no version", change.file_id)))?;
    if change.if_match.is_some_and(|etag| etag != current.etag)
        || change
            .if_none_match
            .is_some_and(|etag| etag == current.etag)
    {
        return Err(StoreError::PreconditionFailed.into());
    }
    let name = change.rename.unwrap_or(&current.name);
    let key = name_key(name);
    lock_names(c, change.owner, current.parent_id).await?;
    check_name_free(
        c,
        change.owner,
        current.parent_id,
        &key,
        Some(change.file_id),
    )
    .await?;
    let version = insert_version(c, new_id(), change.file_id, content, change.now).await?;
    let attrs = change.attributes;
    let description = attrs
        .description
        .clone()
        .unwrap_or_else(|| current.description.clone());
    let content_created_at = attrs
        .content_created_at
        .unwrap_or(current.content_created_at);
    let content_modified_at = attrs.content_modified_at.unwrap_or(change.now);
    let etag = current.etag + 1;
    sqlx::query(
        "UPDATE files SET name = $1, name_key = $2, etag = $3, current_version_id = $4, \
         modified_at = $5, description = $6, content_created_at = $7, \
         content_modified_at = $8 WHERE id = $9",
    )
    .bind(name)
    .bind(&key)
    .bind(etag)
    .bind(version.id)
    .bind(change.now)
    .bind(&description)
    .bind(content_created_at)
    .bind(content_modified_at)
    .bind(change.file_id)
    .execute(&mut *c)
    .await?;
    Ok(FileRecord {
        name: name.to_owned(),
        description,
        etag,
        modified_at: change.now,
        content_created_at,
        content_modified_at,
        version,
        ..current
    })
}

pub(super) async fn create_file(c: &mut PgConnection, new: &NewFile) -> DbResult<FileRecord> {
    insert_file(
        c,
        new.owner_id,
        new.parent_id,
        &new.name,
        &new.attributes,
        &new.content,
        new.now,
    )
    .await
}

pub(super) async fn add_version(c: &mut PgConnection, new: &NewVersion) -> DbResult<FileRecord> {
    let change = VersionChange {
        owner: new.owner_id,
        file_id: new.file_id,
        rename: new.rename.as_deref(),
        if_match: new.if_match,
        if_none_match: None,
        attributes: &new.attributes,
        now: new.now,
    };
    insert_new_version(c, &change, &new.content).await
}

pub(super) async fn delete_file(
    c: &mut PgConnection,
    owner: i64,
    id: i64,
    if_match: Option<i64>,
) -> DbResult<()> {
    let etag = lock_file(c, owner, id).await?;
    if if_match.is_some_and(|want| want != etag) {
        return Err(StoreError::PreconditionFailed.into());
    }
    sqlx::query(
        "INSERT INTO garbage (key) \
         SELECT o.object_key FROM version_objects o \
         JOIN file_versions v ON v.id = o.version_id WHERE v.file_id = $1 \
         ORDER BY 1 ON CONFLICT (key) DO NOTHING",
    )
    .bind(id)
    .execute(&mut *c)
    .await?;
    // Versions and their objects go by ON DELETE CASCADE.
    sqlx::query("DELETE FROM files WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
