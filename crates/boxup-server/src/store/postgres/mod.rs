//! The scale-out metadata store: PostgreSQL, shared by N stateless `boxup
//! serve` replicas (which also share one object store).
//!
//! It mirrors [`SqliteMetadataStore`](super::sqlite::SqliteMetadataStore)
//! answer for answer (the same conformance suite runs against both): the
//! same random decimal ids in `ID_MIN..=ID_MAX`, `name_key` =
//! `str::to_lowercase`, the same defaults where the trait is silent. What
//! differs is how it stays correct when transactions come from many
//! processes at once. This doc records that reasoning.
//!
//! # Isolation: READ COMMITTED with explicit locks
//!
//! Not SERIALIZABLE, because:
//! - the races that matter are few and known (below), and each is closed by
//!   a lock on exactly the row or name it is about; nothing else contends;
//! - SERIALIZABLE would catch them too, but by aborting with 40001 after
//!   the fact. Its predicate locks on the name checks and on the part index
//!   coarsen under load, so unrelated uploads would abort each other, and
//!   the hot path (`insert_part`, once per part of every upload) would pay
//!   for retries;
//! - `SKIP LOCKED` for the sweepers only means something with row locks.
//!
//! Under READ COMMITTED each statement sees what committed before it began,
//! and PostgreSQL makes a transaction visible before it releases its locks.
//! So "take the lock; then check; then write", each a separate statement,
//! is sound: the check runs after any earlier lock holder committed.
//!
//! # The races and their locks
//!
//! - **Names** are unique per parent across folders *and* files,
//!   case-insensitively. No unique index spans two tables, and the root
//!   parent is no row to lock. So every transaction that puts a name into a
//!   parent (create folder, create file, a new version with a rename, a
//!   commit) first takes `pg_advisory_xact_lock` on a 64-bit hash of
//!   (schema, owner, parent), then checks both tables, then inserts. The
//!   per-table unique indexes on `name_key` are a backstop: a violation
//!   rolls back, the transaction runs again and its check, now under the
//!   lock, answers `NameInUse` with the winner. A hash collision only
//!   serialises two unrelated parents.
//! - **`insert_part`** locks the session row `FOR NO KEY UPDATE`, checks the
//!   state, inserts with `ON CONFLICT DO NOTHING` (the first row wins) and
//!   bumps `num_parts` in the same statement only if the row went in; a
//!   loser gets `Existing` with the stored row. `FOR NO KEY UPDATE` is the
//!   lock that UPDATE of `num_parts` takes anyway, so there is no upgrade;
//!   with `FOR SHARE`, two inserters would both hold the share lock and then
//!   deadlock upgrading it. Holding the session row
//!   orders part inserts against commit, expiry and deletion (which lock it
//!   `FOR UPDATE`), so a part never lands in a committed or expired session.
//! - **`advance_frontier`** is `UPDATE … WHERE frontier_offset = $from`: a
//!   waiting UPDATE re-evaluates its WHERE on the winner's row version, which
//!   makes it a compare-and-set.
//! - **`commit_session`** locks the session row `FOR UPDATE`; a second
//!   commit waits, then reads `committed` and fails with
//!   `SessionNotOpen(Committed)`. A new version (commit or `add_version`),
//!   like `delete_file`, locks the file row `FOR UPDATE` before reading its
//!   etag, so If-Match is checked against the etag it replaces. The lock is
//!   a statement of its own, followed by the read: a locking join that is
//!   re-evaluated after a concurrent new version would lose the row.
//! - **Sweepers**: `expire_sessions` takes its sessions `FOR UPDATE SKIP
//!   LOCKED`, `garbage` reads `FOR UPDATE SKIP LOCKED`: several replicas'
//!   sweepers never wait for each other or for an upload in flight, and
//!   never process a session twice; what one skips, a later sweep takes.
//!   The garbage claim lasts only as long as the statement (the contract
//!   hands keys out without a lease), so two sweepers may delete the same
//!   object; both deleting and forgetting are idempotent.
//! - **Lock order**: session row, then file row, then name lock, in every
//!   transaction, so there is no deadlock cycle. 40P01 is retried anyway.
//!
//! # Other choices
//!
//! - Ids are drawn at random and inserted without a pre-check (a round trip
//!   less than SQLite); a collision violates the primary key and the whole
//!   transaction is retried with new ids (see `conn`).
//! - Single statements run outside explicit transactions; multi-statement
//!   reads run in REPEATABLE READ, READ ONLY (one snapshot).
//! - A version's objects go in with one `UNNEST` insert: a large upload has
//!   thousands of parts, and a round trip each would dominate the commit.
//! - Every commit waits for its WAL flush (per the server's
//!   `synchronous_commit`), frontier updates included: SQLite relaxes
//!   those, but here that would take an explicit transaction, three more
//!   round trips, to save one flush.
//! - Text that is compared or sorted is `COLLATE "C"`, so orders and unique
//!   indexes match SQLite's and do not depend on the server's locale.
//! - [`PostgresOptions::schema`] sets `search_path` on every pooled
//!   connection (created if missing). Without it, tables go to the first
//!   schema of the server's search path (usually `public`): operators who
//!   share a database should set one.
//! - PostgreSQL text cannot hold NUL: a name containing one is refused with
//!   `StoreError::Backend` (SQLite stores it).
//! - Failures of the connection or of SQL become `StoreError::Backend`;
//!   semantic conflicts become the same variants as in SQLite.

mod conn;
mod credentials;
mod edits;
mod files;
mod housekeeping;
mod ids;
mod items;
mod schema;
mod sessions;
mod tree;
mod values;

use async_trait::async_trait;
use sqlx::PgPool;

use super::*;
pub use schema::SCHEMA_VERSION;
use values::{DbError, DbResult, page_bound, quote_ident, to_db};

/// Settings of [`PostgresMetadataStore::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// The PostgreSQL schema that holds the tables; every pooled connection
    /// sets `search_path` to it, and it is created if missing. `None` uses
    /// the server's default search path.
    pub schema: Option<String>,
    /// Size of this process's connection pool. Mind the server's
    /// `max_connections` across all replicas.
    pub max_connections: u32,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            schema: None,
            max_connections: 10,
        }
    }
}

/// A [`MetadataStore`] in PostgreSQL. Cloning is cheap and shares the pool.
#[derive(Clone)]
pub struct PostgresMetadataStore {
    pool: PgPool,
    schema: Option<String>,
    /// Told of every failed transaction or statement.
    failures: crate::store::FailureHook,
}

impl std::fmt::Debug for PostgresMetadataStore {
    // Not derived: the pool's options hold the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresMetadataStore")
            .field("schema", &self.schema)
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PostgresMetadataStore {
    /// Closes the pool: waits for checked-out connections to come back and
    /// closes them all. Later calls on any clone fail with `Backend`.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl MetadataStore for PostgresMetadataStore {
    fn on_failure(&self, f: crate::store::FailureFn) {
        self.failures.set(f);
    }

    async fn ensure_user(&self, login: &str, name: &str) -> StoreResult<UserRecord> {
        self.write(&(login, name), |c, (login, name)| {
            Box::pin(items::ensure_user(c, login, name))
        })
        .await
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        self.single(&id, |c, &id| Box::pin(items::get_user(c, id)))
            .await
    }

    async fn get_folder(&self, owner: UserId, id: FolderId) -> StoreResult<Option<FolderRecord>> {
        self.single(&(owner, id), |c, &(owner, id)| {
            Box::pin(items::get_folder(c, owner, id))
        })
        .await
    }

    async fn create_folder(&self, new: NewFolder) -> StoreResult<FolderRecord> {
        self.write(&new, |c, new| Box::pin(items::create_folder(c, new)))
            .await
    }

    async fn find_by_name(
        &self,
        owner: UserId,
        parent: FolderId,
        name: &str,
    ) -> StoreResult<Option<ItemRef>> {
        let args = (owner, parent, name_key(name));
        self.single(&args, |c, (owner, parent, key)| {
            Box::pin(items::find_item(c, *owner, *parent, key))
        })
        .await
    }

    async fn list_items(
        &self,
        owner: UserId,
        parent: FolderId,
        page: ItemsPage,
    ) -> StoreResult<ItemsChunk> {
        let args = (owner, parent, page);
        self.read(&args, |c, (owner, parent, page)| {
            Box::pin(items::list_items(c, *owner, *parent, page))
        })
        .await
    }

    async fn update_folder(
        &self,
        owner: UserId,
        id: FolderId,
        decide: FolderMoveDecision,
    ) -> StoreResult<FolderRecord> {
        self.write(&(owner, id, decide), |c, (owner, id, decide)| {
            Box::pin(tree::update_folder(c, *owner, *id, decide))
        })
        .await
    }

    async fn delete_folder(
        &self,
        owner: UserId,
        id: FolderId,
        recursive: bool,
        decide: FolderDeleteDecision,
    ) -> StoreResult<()> {
        let args = (owner, id, recursive, decide);
        self.write(&args, |c, (owner, id, recursive, decide)| {
            Box::pin(tree::delete_folder(c, *owner, *id, *recursive, decide))
        })
        .await
    }

    async fn copy_folder(&self, copy: FolderCopy) -> StoreResult<FolderRecord> {
        self.write(&copy, |c, copy| Box::pin(tree::copy_folder(c, copy)))
            .await
    }

    async fn space_used(&self, owner: UserId) -> StoreResult<u64> {
        self.single(&owner, |c, &owner| Box::pin(tree::space_used(c, owner)))
            .await
    }

    async fn get_file(&self, owner: UserId, id: FileId) -> StoreResult<Option<FileRecord>> {
        self.single(&(owner, id), |c, &(owner, id)| {
            Box::pin(files::get_file(c, owner, id))
        })
        .await
    }

    async fn get_version(
        &self,
        owner: UserId,
        file_id: FileId,
        version_id: VersionId,
    ) -> StoreResult<Option<VersionRecord>> {
        let args = (owner, file_id, version_id);
        self.single(&args, |c, &(owner, file_id, version_id)| {
            Box::pin(files::get_version(c, owner, file_id, version_id))
        })
        .await
    }

    async fn version_objects(&self, version_id: VersionId) -> StoreResult<Vec<ObjectRef>> {
        self.single(&version_id, |c, &id| {
            Box::pin(files::version_objects(c, id))
        })
        .await
    }

    async fn write_file(&self, change: FileChange) -> StoreResult<FileRecord> {
        self.write(&change, |c, change| {
            Box::pin(files::write_file(
                c,
                change.owner_id,
                &change.write,
                &change.content,
            ))
        })
        .await
    }

    async fn update_file(
        &self,
        owner: UserId,
        id: FileId,
        decide: FileMoveDecision,
    ) -> StoreResult<FileRecord> {
        self.write(&(owner, id, decide), |c, (owner, id, decide)| {
            Box::pin(edits::update_file(c, *owner, *id, decide))
        })
        .await
    }

    async fn copy_file(&self, copy: FileCopy) -> StoreResult<FileRecord> {
        self.write(&copy, |c, copy| Box::pin(edits::copy_one_file(c, copy)))
            .await
    }

    async fn delete_file(
        &self,
        owner: UserId,
        id: FileId,
        decide: &DeleteDecision,
    ) -> StoreResult<()> {
        self.write(&(owner, id, decide), |c, &(owner, id, decide)| {
            Box::pin(files::delete_file(c, owner, id, decide))
        })
        .await
    }

    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()> {
        self.single(session, |c, s| Box::pin(sessions::create_session(c, s)))
            .await
    }

    async fn get_session(&self, id: &SessionId) -> StoreResult<Option<SessionRecord>> {
        self.single(id, |c, id| Box::pin(sessions::get_session(c, id)))
            .await
    }

    async fn insert_part(&self, part: &PartRecord) -> StoreResult<PartInsert> {
        self.write(part, |c, part| Box::pin(sessions::insert_part(c, part)))
            .await
    }

    async fn get_part(
        &self,
        session_id: &SessionId,
        index: u32,
    ) -> StoreResult<Option<PartRecord>> {
        self.single(&(session_id, index), |c, &(id, index)| {
            Box::pin(sessions::get_part(c, id, index))
        })
        .await
    }

    async fn list_parts(
        &self,
        session_id: &SessionId,
        offset: u64,
        limit: u64,
    ) -> StoreResult<(u64, Vec<PartRecord>)> {
        let args = (session_id, offset, limit);
        self.read(&args, |c, &(id, offset, limit)| {
            Box::pin(sessions::list_parts(c, id, offset, limit))
        })
        .await
    }

    async fn advance_frontier(
        &self,
        session_id: &SessionId,
        from: u64,
        to: &Frontier,
    ) -> StoreResult<bool> {
        self.single(&(session_id, from, to), |c, &(id, from, to)| {
            Box::pin(sessions::advance_frontier(c, id, from, to))
        })
        .await
    }

    async fn insert_hashed_part(
        &self,
        part: &PartRecord,
        to: &Frontier,
    ) -> StoreResult<PartInsert> {
        self.write(&(part, to), |c, &(part, to)| {
            Box::pin(sessions::insert_hashed_part(c, part, to))
        })
        .await
    }

    async fn frontier_step(
        &self,
        session_id: &SessionId,
    ) -> StoreResult<Option<(SessionRecord, Option<PartRecord>)>> {
        self.single(session_id, |c, id| Box::pin(sessions::frontier_step(c, id)))
            .await
    }

    async fn commit_session(&self, commit: CommitSession) -> StoreResult<FileRecord> {
        self.write(&commit, |c, commit| {
            Box::pin(sessions::commit_session(c, commit))
        })
        .await
    }

    async fn delete_session(&self, id: &SessionId) -> StoreResult<()> {
        self.write(id, |c, id| Box::pin(sessions::delete_session(c, id)))
            .await
    }

    async fn expire_sessions(&self, now: i64, forget_before: i64) -> StoreResult<u64> {
        self.write(&(now, forget_before), |c, &(now, forget_before)| {
            Box::pin(housekeeping::expire_sessions(c, now, forget_before))
        })
        .await
    }

    async fn garbage(&self, limit: u64) -> StoreResult<Vec<String>> {
        self.single(&limit, |c, &limit| {
            Box::pin(housekeeping::garbage(c, limit))
        })
        .await
    }

    async fn forget_garbage(&self, keys: &[String]) -> StoreResult<()> {
        self.write(keys, |c, keys| {
            Box::pin(housekeeping::forget_garbage(c, keys))
        })
        .await
    }

    async fn unknown_objects(&self, keys: &[String]) -> StoreResult<Vec<String>> {
        self.single(keys, |c, keys| {
            Box::pin(housekeeping::unknown_objects(c, keys))
        })
        .await
    }

    async fn try_lease(&self, name: &str, holder: &str, now: i64, ttl: i64) -> StoreResult<bool> {
        self.single(&(name, holder), |c, (name, holder)| {
            Box::pin(housekeeping::try_lease(c, name, holder, now, ttl))
        })
        .await
    }

    async fn count_open_sessions(&self, now: i64) -> StoreResult<u64> {
        self.single(&now, |c, &now| {
            Box::pin(housekeeping::count_open_sessions(c, now))
        })
        .await
    }
}
