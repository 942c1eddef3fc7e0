//! The connections: one writer behind a mutex, a few read-only readers,
//! each transaction run on the blocking pool, and the per-connection
//! pragmas.
//!
//! Why one writer: SQLite serialises writers anyway, and a single writing
//! connection never meets `SQLITE_BUSY` on a read-to-write upgrade. Why
//! separate readers: in WAL mode readers neither wait for the writer nor
//! block it, and with one connection for everything, a read queued behind
//! every write in flight. Measured with 256 concurrent sessions: nearly
//! all of the metadata latency was time spent waiting for that one mutex,
//! often held by a thread the busy CPU had preempted, not time in SQLite.
//! A read transaction starts after every write that returned before it was
//! asked for, so a caller reads its own writes.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::{BUSY_TIMEOUT, DbError, DbResult, SqliteMetadataStore, schema};
use crate::store::{StoreError, StoreResult};

impl SqliteMetadataStore {
    /// Opens (creating if needed) the database at `path`, sets the pragmas
    /// and migrates the schema to the current version.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut conn = Connection::open(path).map_err(StoreError::backend)?;
        configure(&conn).map_err(StoreError::backend)?;
        schema::migrate(&mut conn).map_err(DbError::into_store)?;
        let readers = (0..READERS_PER_CORE * crate::cores())
            .map(|_| open_reader(path).map(Mutex::new))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(StoreError::backend)?;
        Ok(SqliteMetadataStore {
            conn: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Readers {
                conns: readers,
                next: AtomicUsize::new(0),
            }),
            failures: Default::default(),
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
        let readers = Arc::clone(&self.readers);
        let task = tokio::task::spawn_blocking(move || {
            let mut guard = match behavior {
                TransactionBehavior::Deferred => readers.lock(),
                _ => conn.lock().unwrap_or_else(PoisonError::into_inner),
            };
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
        let result = match task.await {
            Ok(result) => result.map_err(DbError::into_store),
            Err(e) => Err(StoreError::backend(format!("store task failed: {e}"))),
        };
        let op = match behavior {
            TransactionBehavior::Deferred => "read",
            _ => "write",
        };
        self.failures.report(op, result)
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

/// Read-only connections per core.
const READERS_PER_CORE: usize = 2;

/// The read-only connections, each behind its own mutex.
pub(super) struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    /// A free reader if there is one (starting from a rotating position),
    /// else waits for the next one in turn.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        let n = self.conns.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(guard) = self.conns[(start + i) % n].try_lock() {
                return guard;
            }
        }
        self.conns[start % n]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A read-only connection to the database the writer has migrated.
fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
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
