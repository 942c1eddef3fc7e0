//! The embedded default metadata store: one SQLite file.
//!
//! Design:
//! - one writing connection behind a `std::sync::Mutex` (SQLite serialises
//!   writers anyway; a single writer never hits `SQLITE_BUSY` on a
//!   read-to-write upgrade) and two read-only connections per core for read
//!   transactions, which in WAL mode never wait for the writer (`conn.rs`);
//!   every operation run in `tokio::task::spawn_blocking`;
//! - every trait method is one transaction: `BEGIN IMMEDIATE` for writes,
//!   `BEGIN DEFERRED` for reads; uniqueness is enforced inside it;
//! - `journal_mode=WAL`, `synchronous=FULL` (an acknowledged part survives
//!   power loss), except for hash-frontier updates, which are recomputable
//!   and commit at `synchronous=NORMAL`; `foreign_keys=ON`, `busy_timeout` (another process on the
//!   same file waits instead of failing);
//! - the schema is versioned by `PRAGMA user_version` (see [`schema`]);
//! - ids of users, folders, files and versions are random decimal numbers
//!   in `[ID_MIN, ID_MAX]`, so they do not leak how many items exist;
//! - names are compared through `name_key` (`str::to_lowercase`), unique per
//!   (owner, parent) in each of `folders` and `files`, and checked across
//!   both tables in the same transaction;
//! - timestamps are the caller's `now`; the store never reads the clock.
//!
//! The store makes no protocol decision: row values, preconditions and
//! what a commit produces come from the service as decisions (see
//! `store::writes`), written verbatim. Where the trait is silent, listing an
//! unknown folder or the parts of an unknown session gives `(0, [])`.

mod conn;
mod credentials;
mod files;
mod housekeeping;
mod items;
mod schema;
mod sessions;
#[cfg(test)]
mod tests;
mod tree;
mod values;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Transaction};

use super::rows::{self, user_columns};
use super::*;

/// How long a statement waits for another process holding the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`MetadataStore`] in one SQLite file. Cloning is cheap and shares the
/// connection; the file is closed when the last clone is dropped.
#[derive(Clone)]
pub struct SqliteMetadataStore {
    /// The one writing connection.
    conn: Arc<Mutex<Connection>>,
    /// Read-only connections for read transactions (see `conn.rs`).
    readers: Arc<conn::Readers>,
    /// Told of every failed transaction.
    failures: crate::store::FailureHook,
}

impl std::fmt::Debug for SqliteMetadataStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteMetadataStore")
            .finish_non_exhaustive()
    }
}

/// An error inside a transaction: a semantic store error (returned as is)
/// or an SQLite failure (reported as `StoreError::Backend`). Both convert
/// with `?`.
#[derive(Debug)]
enum DbError {
    Store(StoreError),
    Sql(rusqlite::Error),
}

type DbResult<T> = Result<T, DbError>;

impl DbError {
    fn into_store(self) -> StoreError {
        match self {
            DbError::Store(e) => e,
            DbError::Sql(e) => StoreError::backend(e),
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sql(e)
    }
}

impl From<StoreError> for DbError {
    fn from(e: StoreError) -> Self {
        DbError::Store(e)
    }
}

/// A u64 as an SQLite integer; values above `i64::MAX` are refused.
fn to_db(v: u64) -> DbResult<i64> {
    i64::try_from(v).map_err(|_| DbError::Store(StoreError::backend(format!("{v} is too large"))))
}

/// A page bound as an SQLite integer (saturating: a huge limit means all).
fn page_bound(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A fresh random id not yet used in `table` (retried on collision; the
/// check and the later insert are in the same write transaction).
fn new_id(tx: &Transaction<'_>, table: &str) -> DbResult<i64> {
    let sql = format!("SELECT 1 FROM {table} WHERE id = ?1");
    let mut stmt = tx.prepare_cached(&sql)?;
    loop {
        let id = rand::random_range(ID_MIN..=ID_MAX);
        if !stmt.exists([id])? {
            return Ok(id);
        }
    }
}

#[async_trait]
impl MetadataStore for SqliteMetadataStore {
    fn on_failure(&self, f: crate::store::FailureFn) {
        self.failures.set(f);
    }

    async fn ensure_user(&self, login: &str, name: &str) -> StoreResult<UserRecord> {
        let (login, name) = (login.to_owned(), name.to_owned());
        self.write(move |tx| {
            let existing = tx
                .query_row(
                    concat!("SELECT ", user_columns!(), " FROM users WHERE login = ?1"),
                    [&login],
                    |row| rows::user(row),
                )
                .optional()?;
            if let Some(user) = existing {
                return Ok(user);
            }
            let id = UserId(new_id(tx, "users")?);
            tx.execute(
                "INSERT INTO users (id, login, name) VALUES (?1, ?2, ?3)",
                rusqlite::params![id, login, name],
            )?;
            Ok(UserRecord { id, login, name })
        })
        .await
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        self.read(move |tx| {
            Ok(tx
                .query_row(
                    concat!("SELECT ", user_columns!(), " FROM users WHERE id = ?1"),
                    [id],
                    |row| rows::user(row),
                )
                .optional()?)
        })
        .await
    }

    async fn get_folder(&self, owner: UserId, id: FolderId) -> StoreResult<Option<FolderRecord>> {
        self.read(move |tx| items::get_folder(tx, owner, id)).await
    }

    async fn create_folder(&self, new: NewFolder) -> StoreResult<FolderRecord> {
        self.write(move |tx| items::create_folder(tx, &new)).await
    }

    async fn find_by_name(
        &self,
        owner: UserId,
        parent: FolderId,
        name: &str,
    ) -> StoreResult<Option<ItemRef>> {
        let key = name_key(name);
        self.read(move |tx| items::find_item(tx, owner, parent, &key))
            .await
    }

    async fn list_items(
        &self,
        owner: UserId,
        parent: FolderId,
        page: ItemsPage,
    ) -> StoreResult<ItemsChunk> {
        self.read(move |tx| items::list_items(tx, owner, parent, &page))
            .await
    }

    async fn update_folder(
        &self,
        owner: UserId,
        id: FolderId,
        decide: FolderMoveDecision,
    ) -> StoreResult<FolderRecord> {
        self.write(move |tx| tree::update_folder(tx, owner, id, &decide))
            .await
    }

    async fn delete_folder(
        &self,
        owner: UserId,
        id: FolderId,
        recursive: bool,
        decide: FolderDeleteDecision,
    ) -> StoreResult<()> {
        self.write(move |tx| tree::delete_folder(tx, owner, id, recursive, &decide))
            .await
    }

    async fn copy_folder(&self, copy: FolderCopy) -> StoreResult<FolderRecord> {
        self.write(move |tx| tree::copy_folder(tx, &copy)).await
    }

    async fn space_used(&self, owner: UserId) -> StoreResult<u64> {
        self.read(move |tx| tree::space_used(tx, owner)).await
    }

    async fn get_file(&self, owner: UserId, id: FileId) -> StoreResult<Option<FileRecord>> {
        self.read(move |tx| files::get_file(tx, owner, id)).await
    }

    async fn get_version(
        &self,
        owner: UserId,
        file_id: FileId,
        version_id: VersionId,
    ) -> StoreResult<Option<VersionRecord>> {
        self.read(move |tx| files::get_version(tx, owner, file_id, version_id))
            .await
    }

    async fn version_objects(&self, version_id: VersionId) -> StoreResult<Vec<ObjectRef>> {
        self.read(move |tx| files::version_objects(tx, version_id))
            .await
    }

    async fn write_file(&self, change: FileChange) -> StoreResult<FileRecord> {
        self.write(move |tx| files::write_file(tx, change.owner_id, &change.write, &change.content))
            .await
    }

    async fn update_file(
        &self,
        owner: UserId,
        id: FileId,
        decide: FileMoveDecision,
    ) -> StoreResult<FileRecord> {
        self.write(move |tx| files::update_file(tx, owner, id, &decide))
            .await
    }

    async fn copy_file(&self, copy: FileCopy) -> StoreResult<FileRecord> {
        self.write(move |tx| files::copy_one_file(tx, &copy)).await
    }

    async fn delete_file(
        &self,
        owner: UserId,
        id: FileId,
        decide: &DeleteDecision,
    ) -> StoreResult<()> {
        let decide = decide.clone();
        self.write(move |tx| files::delete_file(tx, owner, id, &decide))
            .await
    }

    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()> {
        let session = session.clone();
        self.write(move |tx| sessions::create_session(tx, &session))
            .await
    }

    async fn get_session(&self, id: &SessionId) -> StoreResult<Option<SessionRecord>> {
        let id = id.clone();
        self.read(move |tx| sessions::get_session(tx, &id)).await
    }

    async fn insert_part(&self, part: &PartRecord) -> StoreResult<PartInsert> {
        let part = part.clone();
        self.write(move |tx| sessions::insert_part(tx, &part)).await
    }

    async fn get_part(
        &self,
        session_id: &SessionId,
        index: u32,
    ) -> StoreResult<Option<PartRecord>> {
        let id = session_id.clone();
        self.read(move |tx| sessions::get_part(tx, &id, index))
            .await
    }

    async fn list_parts(
        &self,
        session_id: &SessionId,
        offset: u64,
        limit: u64,
    ) -> StoreResult<(u64, Vec<PartRecord>)> {
        let id = session_id.clone();
        self.read(move |tx| sessions::list_parts(tx, &id, offset, limit))
            .await
    }

    async fn advance_frontier(
        &self,
        session_id: &SessionId,
        from: u64,
        to: &Frontier,
    ) -> StoreResult<bool> {
        // Relaxed: a frontier lost to a power cut is only a midstate
        // behind the truth; the next commit re-hashes from it.
        let (id, to) = (session_id.clone(), to.clone());
        self.write_relaxed(move |tx| sessions::advance_frontier(tx, &id, from, &to))
            .await
    }

    async fn insert_hashed_part(
        &self,
        part: &PartRecord,
        to: &Frontier,
    ) -> StoreResult<PartInsert> {
        let (part, to) = (part.clone(), to.clone());
        self.write(move |tx| {
            let inserted = sessions::insert_part(tx, &part)?;
            if inserted == PartInsert::Inserted {
                sessions::advance_frontier(tx, &part.session_id, part.offset, &to)?;
            }
            Ok(inserted)
        })
        .await
    }

    async fn frontier_step(
        &self,
        session_id: &SessionId,
    ) -> StoreResult<Option<(SessionRecord, Option<PartRecord>)>> {
        let id = session_id.clone();
        self.read(move |tx| {
            let Some(session) = sessions::get_session(tx, &id)? else {
                return Ok(None);
            };
            let part = match frontier_index(&session) {
                Some(index) => sessions::get_part(tx, &id, index)?,
                None => None,
            };
            Ok(Some((session, part)))
        })
        .await
    }

    async fn commit_session(&self, commit: CommitSession) -> StoreResult<FileRecord> {
        self.write(move |tx| sessions::commit_session(tx, &commit))
            .await
    }

    async fn delete_session(&self, id: &SessionId) -> StoreResult<()> {
        let id = id.clone();
        self.write(move |tx| sessions::delete_session(tx, &id))
            .await
    }

    async fn expire_sessions(&self, now: i64, forget_before: i64) -> StoreResult<u64> {
        self.write(move |tx| housekeeping::expire_sessions(tx, now, forget_before))
            .await
    }

    async fn garbage(&self, limit: u64) -> StoreResult<Vec<String>> {
        self.read(move |tx| housekeeping::garbage(tx, limit)).await
    }

    async fn forget_garbage(&self, keys: &[String]) -> StoreResult<()> {
        let keys = keys.to_vec();
        self.write(move |tx| housekeeping::forget_garbage(tx, &keys))
            .await
    }

    async fn unknown_objects(&self, keys: &[String]) -> StoreResult<Vec<String>> {
        let keys = keys.to_vec();
        self.read(move |tx| housekeeping::unknown_objects(tx, &keys))
            .await
    }

    async fn try_lease(&self, name: &str, holder: &str, now: i64, ttl: i64) -> StoreResult<bool> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.write(move |tx| housekeeping::try_lease(tx, &name, &holder, now, ttl))
            .await
    }

    async fn count_open_sessions(&self, now: i64) -> StoreResult<u64> {
        self.read(move |tx| housekeeping::count_open_sessions(tx, now))
            .await
    }
}
