//! The connection: one `rusqlite::Connection` behind a mutex, each
//! transaction run on the blocking pool, and the per-connection pragmas.
//! Why one connection: SQLite serialises writers anyway, and a single
//! connection never meets `SQLITE_BUSY` on a read-to-write upgrade.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::{BUSY_TIMEOUT, DbError, DbResult, SqliteMetadataStore, schema};
use crate::store::{StoreError, StoreResult};

impl SqliteMetadataStore {
    /// Opens (creating if needed) the database at `path`, sets the pragmas
    /// and migrates the schema to the current version.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut conn = Connection::open(path).map_err(StoreError::backend)?;
        configure(&conn).map_err(StoreError::backend)?;
        schema::migrate(&mut conn).map_err(DbError::into_store)?;
        Ok(SqliteMetadataStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` in one transaction on the blocking pool; commits on `Ok`,
    /// rolls back on `Err` (or on a panic, when the transaction is dropped).
    pub(super) async fn with_conn<T, F>(
        &self,
        behavior: TransactionBehavior,
        f: F,
    ) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        self.with_conn_sync(behavior, Durability::Full, f).await
    }

    pub(super) async fn with_conn_sync<T, F>(
        &self,
        behavior: TransactionBehavior,
        durability: Durability,
        f: F,
    ) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let task = tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let relaxed = durability == Durability::Relaxed;
            if relaxed {
                guard.pragma_update(None, "synchronous", "NORMAL")?;
            }
            let result = (|| {
                let tx = guard.transaction_with_behavior(behavior)?;
                let out = f(&tx)?;
                tx.commit()?;
                Ok(out)
            })();
            if relaxed {
                guard.pragma_update(None, "synchronous", "FULL")?;
            }
            result
        });
        match task.await {
            Ok(result) => result.map_err(DbError::into_store),
            Err(e) => Err(StoreError::backend(format!("store task failed: {e}"))),
        }
    }

    /// A write transaction (`BEGIN IMMEDIATE`).
    pub(super) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        self.with_conn(TransactionBehavior::Immediate, f).await
    }

    /// A write transaction whose commit does not wait for an fsync: it
    /// becomes durable with the next fully synced commit or checkpoint
    /// (WAL frames are written in order), and a power loss can only roll
    /// it back, never corrupt the file. For state that can be recomputed.
    pub(super) async fn write_relaxed<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        self.with_conn_sync(TransactionBehavior::Immediate, Durability::Relaxed, f)
            .await
    }

    /// A read transaction (`BEGIN DEFERRED`): one consistent snapshot.
    pub(super) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        self.with_conn(TransactionBehavior::Deferred, f).await
    }
}

/// Whether a write's commit waits for its fsync.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Durability {
    Full,
    Relaxed,
}

pub(super) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode is {mode}, expected wal"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}
