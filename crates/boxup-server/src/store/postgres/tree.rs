//! Whole-subtree folder operations: move (with its cycle check), delete
//! (recursive or not) and copy, and the space a user's files take.
//!
//! Why it is safe with many replicas (READ COMMITTED, explicit locks; see
//! the module doc of `postgres`):
//! - every move, delete and copy of a folder first takes the owner's tree
//!   lock (`lock_tree`), so no folder changes parent while one of them
//!   walks a subtree or checks for a cycle;
//! - inserting into a folder (file, folder, move target) holds that folder
//!   `FOR KEY SHARE`; a delete locks every folder of the subtree `FOR
//!   UPDATE`, so it waits for such inserts, then walks the subtree again
//!   (they may have added folders) until the walk adds nothing new. Later
//!   inserts find their parent gone: `ParentNotFound`.

use sqlx::PgConnection;

use super::edits::{copy_file, share_files_in};
use super::files::file_object_keys;
use super::housekeeping::release_objects;
use super::items::{
    check_name_free, check_parent, get_folder, insert_folder, lock_names, lock_tree,
};
use super::{DbResult, name_key};
use crate::store::rows::{self, folder_columns};
use crate::store::{
    CopyRules, FileId, FolderCopy, FolderDeleteDecision, FolderId, FolderMoveDecision,
    FolderRecord, ItemId, StoreError, UserId,
};

/// The folder and every folder below it.
async fn subtree(c: &mut PgConnection, owner: UserId, top: FolderId) -> DbResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "WITH RECURSIVE sub(id) AS (SELECT $1::bigint UNION ALL \
         SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id WHERE f.owner_id = $2) \
         SELECT id FROM sub ORDER BY id",
    )
    .bind(top)
    .bind(owner)
    .fetch_all(&mut *c)
    .await?)
}

/// Whether `folder` is `ancestor` or inside it (walking up from `folder`).
async fn is_within(
    c: &mut PgConnection,
    owner: UserId,
    folder: FolderId,
    ancestor: FolderId,
) -> DbResult<bool> {
    Ok(sqlx::query_scalar(
        "WITH RECURSIVE up(id) AS (SELECT $1::bigint UNION ALL \
         SELECT f.parent_id FROM folders f JOIN up ON f.id = up.id WHERE f.owner_id = $2) \
         SELECT EXISTS (SELECT 1 FROM up WHERE id = $3)",
    )
    .bind(folder)
    .bind(owner)
    .bind(ancestor)
    .fetch_one(&mut *c)
    .await?)
}

/// Locks the owner's folder `FOR UPDATE` and reads it; `NotFound` if none.
async fn lock_folder(c: &mut PgConnection, owner: UserId, id: FolderId) -> DbResult<FolderRecord> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM folders WHERE id = $1 AND owner_id = $2 FOR UPDATE")
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut *c)
            .await?;
    found.ok_or(StoreError::NotFound)?;
    get_folder(c, owner, id)
        .await?
        .ok_or_else(|| StoreError::backend(format!("folder {id} vanished under its lock")).into())
}

/// `MetadataStore::update_folder`.
pub(super) async fn update_folder(
    c: &mut PgConnection,
    owner: UserId,
    id: FolderId,
    decide: &FolderMoveDecision,
) -> DbResult<FolderRecord> {
    lock_tree(c, owner).await?;
    let current = lock_folder(c, owner, id).await?;
    let to = decide.decide(&current)?;
    if to.parent_id != current.parent_id {
        check_parent(c, owner, to.parent_id).await?;
        if is_within(c, owner, to.parent_id, id).await? {
            return Err(StoreError::FolderCycle.into());
        }
    }
    let key = name_key(&to.values.name);
    lock_names(c, owner, to.parent_id).await?;
    check_name_free(c, owner, to.parent_id, &key, Some(ItemId::Folder(id))).await?;
    let v = &to.values;
    sqlx::query(
        "UPDATE folders SET parent_id = $1, name = $2, name_key = $3, description = $4, \
         etag = $5, modified_at = $6 WHERE id = $7",
    )
    .bind(to.parent_id)
    .bind(&v.name)
    .bind(&key)
    .bind(&v.description)
    .bind(v.etag)
    .bind(v.modified_at)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(FolderRecord {
        parent_id: to.parent_id,
        name: v.name.clone(),
        description: v.description.clone(),
        etag: v.etag,
        modified_at: v.modified_at,
        ..current
    })
}

/// `MetadataStore::delete_folder`.
pub(super) async fn delete_folder(
    c: &mut PgConnection,
    owner: UserId,
    id: FolderId,
    recursive: bool,
    decide: &FolderDeleteDecision,
) -> DbResult<()> {
    lock_tree(c, owner).await?;
    let current = lock_folder(c, owner, id).await?;
    decide.decide(&current)?;
    if !recursive {
        let occupied: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM folders WHERE owner_id = $1 AND parent_id = $2) \
                 OR EXISTS (SELECT 1 FROM files WHERE owner_id = $1 AND parent_id = $2)",
        )
        .bind(owner)
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
        if occupied {
            return Err(StoreError::FolderNotEmpty.into());
        }
    }
    // Lock the subtree until a walk finds nothing that the last one missed.
    let mut folders = subtree(c, owner, id).await?;
    loop {
        sqlx::query("SELECT id FROM folders WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(&folders)
            .execute(&mut *c)
            .await?;
        let again = subtree(c, owner, id).await?;
        if again == folders {
            break;
        }
        folders = again;
    }
    let files: Vec<FileId> = sqlx::query_scalar(
        "SELECT id FROM files WHERE owner_id = $1 AND parent_id = ANY($2) ORDER BY id FOR UPDATE",
    )
    .bind(owner)
    .bind(&folders)
    .fetch_all(&mut *c)
    .await?;
    let keys = file_object_keys(c, &files).await?;
    // Versions and their objects go by ON DELETE CASCADE.
    sqlx::query("DELETE FROM files WHERE owner_id = $1 AND parent_id = ANY($2)")
        .bind(owner)
        .bind(&folders)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM folders WHERE owner_id = $1 AND id = ANY($2)")
        .bind(owner)
        .bind(&folders)
        .execute(&mut *c)
        .await?;
    release_objects(c, &keys).await
}

/// `MetadataStore::copy_folder`.
pub(super) async fn copy_folder(c: &mut PgConnection, copy: &FolderCopy) -> DbResult<FolderRecord> {
    let owner = copy.owner_id;
    lock_tree(c, owner).await?;
    let source = get_folder(c, owner, copy.source)
        .await?
        .ok_or(StoreError::NotFound)?;
    check_parent(c, owner, copy.parent_id).await?;
    if is_within(c, owner, copy.parent_id, source.id).await? {
        return Err(StoreError::FolderCycle.into());
    }
    let top = insert_folder(c, owner, copy.parent_id, &copy.top.decide(&source)?).await?;
    // The destination is outside the source's subtree, so the walk never
    // meets a copy it just made.
    let mut queue = vec![(source.id, top.id)];
    while let Some((from, to)) = queue.pop() {
        copy_children(c, owner, from, to, &copy.rules, &mut queue).await?;
    }
    Ok(top)
}

/// Copies the files and folders directly in `from` into `to`, queueing
/// each copied folder for its own children.
async fn copy_children(
    c: &mut PgConnection,
    owner: UserId,
    from: FolderId,
    to: FolderId,
    rules: &CopyRules,
    queue: &mut Vec<(FolderId, FolderId)>,
) -> DbResult<()> {
    let found = sqlx::query(concat!(
        "SELECT ",
        folder_columns!(),
        " FROM folders WHERE owner_id = $1 AND parent_id = $2 ORDER BY id"
    ))
    .bind(owner)
    .bind(from)
    .fetch_all(&mut *c)
    .await?;
    for row in &found {
        let folder = rows::folder(row)?;
        let made = insert_folder(c, owner, to, &rules.folder.decide(&folder)?).await?;
        queue.push((folder.id, made.id));
    }
    for file in share_files_in(c, owner, from).await? {
        copy_file(c, owner, &file, to, &rules.file.decide(&file)?).await?;
    }
    Ok(())
}

/// `MetadataStore::space_used`.
pub(super) async fn space_used(c: &mut PgConnection, owner: UserId) -> DbResult<u64> {
    let used: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(v.size), 0)::bigint FROM file_versions v \
         JOIN files f ON f.id = v.file_id WHERE f.owner_id = $1",
    )
    .bind(owner)
    .fetch_one(&mut *c)
    .await?;
    Ok(used.unsigned_abs())
}
