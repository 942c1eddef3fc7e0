//! File updates (rename, move, description, times) and file copies.
//!
//! Locks, in the order taken (see the module doc of `postgres`):
//! - an update locks the file row `FOR UPDATE` (as a new version does), so
//!   its `If-Match` is checked against the etag it replaces; a move then
//!   takes the new parent `FOR KEY SHARE` (via `check_parent`) and that
//!   parent's name lock;
//! - a copy locks its source `FOR KEY SHARE`: a concurrent delete of the
//!   source (`FOR UPDATE`) waits until the copy's rows, which share the
//!   source's objects, are committed, and then does not release them.

use sqlx::PgConnection;

use super::files::{
    file_select, get_file, insert_file, lock_file, version_objects, written_record,
};
use super::items::{check_name_free, check_parent, lock_names};
use super::{DbResult, name_key};
use crate::store::rows::{self, file_columns};
use crate::store::{
    FileCopy, FileId, FileMoveDecision, FileRecord, FileValues, FolderId, ItemId, NewContent,
    StoreError, UserId,
};

/// `MetadataStore::update_file`.
pub(super) async fn update_file(
    c: &mut PgConnection,
    owner: UserId,
    id: FileId,
    decide: &FileMoveDecision,
) -> DbResult<FileRecord> {
    let current = lock_file(c, owner, id).await?;
    let to = decide.decide(&current)?;
    if to.parent_id != current.parent_id {
        check_parent(c, owner, to.parent_id).await?;
    }
    let key = name_key(&to.values.name);
    lock_names(c, owner, to.parent_id).await?;
    check_name_free(c, owner, to.parent_id, &key, Some(ItemId::File(id))).await?;
    let v = &to.values;
    sqlx::query(
        "UPDATE files SET parent_id = $1, name = $2, name_key = $3, description = $4, \
         etag = $5, modified_at = $6, content_created_at = $7, content_modified_at = $8 \
         WHERE id = $9",
    )
    .bind(to.parent_id)
    .bind(&v.name)
    .bind(&key)
    .bind(&v.description)
    .bind(v.etag)
    .bind(v.modified_at)
    .bind(v.content_created_at)
    .bind(v.content_modified_at)
    .bind(id)
    .execute(&mut *c)
    .await?;
    let row = (id, owner, to.parent_id, current.created_at);
    Ok(written_record(row, v, current.version))
}

/// Locks the owner's file `FOR KEY SHARE` and reads it; `NotFound` if
/// there is none.
async fn share_file(c: &mut PgConnection, owner: UserId, id: FileId) -> DbResult<FileRecord> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM files WHERE id = $1 AND owner_id = $2 FOR KEY SHARE")
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut *c)
            .await?;
    found.ok_or(StoreError::NotFound)?;
    get_file(c, owner, id)
        .await?
        .ok_or_else(|| StoreError::backend(format!("file {id} has no version")).into())
}

/// A new file in `parent` made of `source`'s current version: a new
/// version row whose objects are the source's.
pub(super) async fn copy_file(
    c: &mut PgConnection,
    owner: UserId,
    source: &FileRecord,
    parent: FolderId,
    values: &FileValues,
) -> DbResult<FileRecord> {
    let content = NewContent {
        size: source.version.size,
        sha1: source.version.sha1.clone(),
        objects: version_objects(c, source.version.id).await?,
    };
    insert_file(c, owner, parent, values, &content).await
}

/// `MetadataStore::copy_file`.
pub(super) async fn copy_one_file(c: &mut PgConnection, copy: &FileCopy) -> DbResult<FileRecord> {
    let source = share_file(c, copy.owner_id, copy.source).await?;
    let values = copy.decide.decide(&source)?;
    copy_file(c, copy.owner_id, &source, copy.parent_id, &values).await
}

/// The owner's files directly in `folder`, each locked `FOR KEY SHARE`.
pub(super) async fn share_files_in(
    c: &mut PgConnection,
    owner: UserId,
    folder: FolderId,
) -> DbResult<Vec<FileRecord>> {
    let found = sqlx::query(concat!(
        file_select!(),
        " WHERE f.owner_id = $1 AND f.parent_id = $2 ORDER BY f.id FOR KEY SHARE OF f"
    ))
    .bind(owner)
    .bind(folder)
    .fetch_all(&mut *c)
    .await?;
    found.iter().map(rows::file).collect()
}
