//! Users, folders, name lookups across files and folders, folder listings,
//! and the per-parent name lock.
//!
//! Why the name lock: a name is unique per (owner, parent) across two
//! tables, and the root parent is no row, so no index or row lock can
//! cover the check-then-insert. Every writer of a name into a parent takes
//! [`lock_names`] first (see the module doc of `postgres`).

use sqlx::PgConnection;

use super::files::file_select;
use super::{DbResult, name_key, page_bound};
use crate::store::items::HalfQuery;
use crate::store::rows::{self, file_columns, folder_columns, user_columns};
use crate::store::{
    FolderId, FolderRecord, FolderValues, ItemId, ItemRecord, ItemRef, ItemsChunk, ItemsPage,
    NewFolder, StoreError, UserId, UserRecord,
};

// ---- users ----

pub(super) async fn get_user(c: &mut PgConnection, id: UserId) -> DbResult<Option<UserRecord>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(rows::user).transpose()
}

/// The user with `login`, created if missing. Concurrent first calls meet
/// in `ON CONFLICT (login) DO NOTHING`: the losers' inserts wait for the
/// winner's commit and do nothing, and their next statement sees its row.
pub(super) async fn ensure_user(
    c: &mut PgConnection,
    login: &str,
    name: &str,
) -> DbResult<UserRecord> {
    const SELECT: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE login = $1");
    if let Some(row) = sqlx::query(SELECT)
        .bind(login)
        .fetch_optional(&mut *c)
        .await?
    {
        return rows::user(&row);
    }
    let id = UserId::random();
    let inserted = sqlx::query(
        "INSERT INTO users (id, login, name) VALUES ($1, $2, $3) \
         ON CONFLICT (login) DO NOTHING",
    )
    .bind(id)
    .bind(login)
    .bind(name)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(UserRecord {
            id,
            login: login.to_owned(),
            name: name.to_owned(),
        });
    }
    let row = sqlx::query(SELECT).bind(login).fetch_one(&mut *c).await?;
    rows::user(&row)
}

// ---- folders ----

const FOLDER_SELECT: &str = concat!(
    "SELECT ",
    folder_columns!(),
    " FROM folders WHERE id = $1 AND owner_id = $2"
);

pub(super) async fn get_folder(
    c: &mut PgConnection,
    owner: UserId,
    id: FolderId,
) -> DbResult<Option<FolderRecord>> {
    let row = sqlx::query(FOLDER_SELECT)
        .bind(id)
        .bind(owner)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(rows::folder).transpose()
}

/// `ParentNotFound` unless `parent` is the root or one of the owner's
/// folders. The parent's row stays locked `FOR KEY SHARE` until commit, so
/// a concurrent folder delete (which locks it `FOR UPDATE`) either went
/// first (then the row is gone) or waits for this insert and then sees it.
pub(super) async fn check_parent(
    c: &mut PgConnection,
    owner: UserId,
    parent: FolderId,
) -> DbResult<()> {
    if parent == FolderId::ROOT {
        return Ok(());
    }
    let found: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM folders WHERE id = $1 AND owner_id = $2 FOR KEY SHARE)",
    )
    .bind(parent)
    .bind(owner)
    .fetch_one(&mut *c)
    .await?;
    if found {
        Ok(())
    } else {
        Err(StoreError::ParentNotFound.into())
    }
}

/// Takes the transaction-scoped advisory lock on the names of (owner,
/// parent). The key hashes the schema too, so deployments sharing a
/// database do not contend; it is held until commit or rollback.
pub(super) async fn lock_names(
    c: &mut PgConnection,
    owner: UserId,
    parent: FolderId,
) -> DbResult<()> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended(\
         concat_ws('/', 'boxup-names', current_schema(), $1::bigint, $2::bigint), 0))",
    )
    .bind(owner)
    .bind(parent)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Takes the transaction-scoped advisory lock on the owner's folder tree:
/// held by every folder move, delete and copy, so that a cycle check or a
/// subtree walk is not invalidated by another folder moving meanwhile.
pub(super) async fn lock_tree(c: &mut PgConnection, owner: UserId) -> DbResult<()> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended(\
         concat_ws('/', 'boxup-tree', current_schema(), $1::bigint), 0))",
    )
    .bind(owner)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// `NameInUse` if a file or folder with this name key is in `parent`,
/// except the item `except` itself (an item renamed to its own name).
/// The caller holds [`lock_names`] for (owner, parent).
pub(super) async fn check_name_free(
    c: &mut PgConnection,
    owner: UserId,
    parent: FolderId,
    key: &str,
    except: Option<ItemId>,
) -> DbResult<()> {
    match find_item(c, owner, parent, key).await? {
        Some(item) if except.is_none_or(|id| item.id != id) => {
            Err(StoreError::NameInUse(item).into())
        }
        _ => Ok(()),
    }
}

// ---- items ----

/// Both halves of an item query; `$1` owner, `$2` parent. Macros, so that
/// `concat!` makes whole `&'static str` statements of them.
macro_rules! folder_items {
    () => {
        "SELECT 0::bigint AS kind, id, name, etag, NULL::bigint, NULL::text, NULL::bigint \
         FROM folders WHERE owner_id = $1 AND parent_id = $2"
    };
}
macro_rules! file_items {
    () => {
        "SELECT 1::bigint AS kind, f.id, f.name, f.etag, v.id, v.sha1, v.size \
         FROM files f JOIN file_versions v ON v.id = f.current_version_id \
         WHERE f.owner_id = $1 AND f.parent_id = $2"
    };
}

/// The file or folder whose name key is `key` in `parent`.
pub(super) async fn find_item(
    c: &mut PgConnection,
    owner: UserId,
    parent: FolderId,
    key: &str,
) -> DbResult<Option<ItemRef>> {
    let row = sqlx::query(concat!(
        folder_items!(),
        " AND name_key = $3 UNION ALL ",
        file_items!(),
        " AND f.name_key = $3 LIMIT 1"
    ))
    .bind(owner)
    .bind(parent)
    .bind(key)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(rows::item).transpose()
}

/// A page of a folder's items: folders first, then files (see
/// `ItemsPage` for how the page splits). Runs in one REPEATABLE READ
/// snapshot, so the counts and the page agree.
pub(super) async fn list_items(
    c: &mut PgConnection,
    owner: UserId,
    parent: FolderId,
    page: &ItemsPage,
) -> DbResult<ItemsChunk> {
    let (folders, files): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM folders WHERE owner_id = $1 AND parent_id = $2), \
                (SELECT count(*) FROM files WHERE owner_id = $1 AND parent_id = $2)",
    )
    .bind(owner)
    .bind(parent)
    .fetch_one(&mut *c)
    .await?;
    let folders = folders.unsigned_abs();
    let mut items = Vec::new();
    if let Some(q) = page.folders_query(folders) {
        const SQL: &str = concat!(
            "SELECT ",
            folder_columns!(),
            " FROM folders WHERE owner_id = $1 AND parent_id = $2 \
             AND ($3::text IS NULL OR (name_key, name, id) > ($3, $4, $5)) \
             ORDER BY name_key, name, id LIMIT $6 OFFSET $7"
        );
        let rows = half(SQL, owner, parent, &q).fetch_all(&mut *c).await?;
        for row in &rows {
            items.push(ItemRecord::Folder(rows::folder(row)?));
        }
    }
    if let Some(q) = page.files_query(folders, items.len()) {
        const SQL: &str = concat!(
            file_select!(),
            " WHERE f.owner_id = $1 AND f.parent_id = $2 \
             AND ($3::text IS NULL OR (f.name_key, f.name, f.id) > ($3, $4, $5)) \
             ORDER BY f.name_key, f.name, f.id LIMIT $6 OFFSET $7"
        );
        let rows = half(SQL, owner, parent, &q).fetch_all(&mut *c).await?;
        for row in &rows {
            items.push(ItemRecord::File(rows::file(row)?));
        }
    }
    Ok(ItemsChunk {
        total: folders + files.unsigned_abs(),
        items,
    })
}

/// One half of a listing (`$1` owner, `$2` parent, `$3..$5` the cursor,
/// `$6` limit, `$7` offset).
fn half(
    sql: &'static str,
    owner: UserId,
    parent: FolderId,
    q: &HalfQuery<'_>,
) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(sql)
        .bind(owner)
        .bind(parent)
        .bind(q.after.map(|c| c.name_key.clone()))
        .bind(q.after.map(|c| c.name.clone()))
        .bind(q.after.map(|c| c.id))
        .bind(page_bound(q.limit))
        .bind(page_bound(q.offset))
}

pub(super) async fn create_folder(c: &mut PgConnection, new: &NewFolder) -> DbResult<FolderRecord> {
    check_parent(c, new.owner_id, new.parent_id).await?;
    insert_folder(c, new.owner_id, new.parent_id, &new.values()).await
}

/// Inserts a folder row with `values` under `parent` (name lock taken and
/// the name checked).
pub(super) async fn insert_folder(
    c: &mut PgConnection,
    owner: UserId,
    parent: FolderId,
    values: &FolderValues,
) -> DbResult<FolderRecord> {
    let key = name_key(&values.name);
    lock_names(c, owner, parent).await?;
    check_name_free(c, owner, parent, &key, None).await?;
    let folder = FolderRecord {
        id: FolderId::random(),
        owner_id: owner,
        parent_id: parent,
        name: values.name.clone(),
        description: values.description.clone(),
        etag: values.etag,
        created_at: values.modified_at,
        modified_at: values.modified_at,
    };
    sqlx::query(
        "INSERT INTO folders \
         (id, owner_id, parent_id, name, name_key, description, etag, created_at, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(folder.id)
    .bind(folder.owner_id)
    .bind(folder.parent_id)
    .bind(&folder.name)
    .bind(&key)
    .bind(&folder.description)
    .bind(folder.etag)
    .bind(folder.created_at)
    .bind(folder.modified_at)
    .execute(&mut *c)
    .await?;
    Ok(folder)
}
