//! The pool, per-connection setup, and the transaction runners.
//!
//! Why it looks like this:
//! - Every pooled connection sets its own `search_path` in `after_connect`
//!   (a parameterised `set_config(.., quote_ident($1), ..)`, so a schema
//!   name is never spliced into SQL), because the pool reconnects at any
//!   time and a connection without it would silently use another schema.
//! - `connect` migrates on one connection of its own before the pool
//!   exists: an unreachable server or a refused schema fails the start at
//!   once and leaves nothing open (the pool itself would keep retrying a
//!   refused connect until its acquire timeout).
//! - Writes begin with an explicit `ISOLATION LEVEL READ COMMITTED`: the
//!   locking protocol of this backend (see the module doc of `postgres`)
//!   relies on each statement seeing what committed before it started, and
//!   an operator's `default_transaction_isolation` must not change that.
//! - The pool keeps sqlx's `test_before_acquire`: a ping per checkout buys
//!   transparent recovery from connections dropped by a failover or an
//!   idle timeout. I/O errors are never retried here: a commit whose
//!   acknowledgement was lost may have happened, and most writes are not
//!   idempotent.
//! - Multi-statement reads run in `REPEATABLE READ, READ ONLY`: one snapshot
//!   (a count and its page agree), and a read-only transaction at that
//!   level never fails with a serialization error.
//! - A write is retried (up to `MAX_ATTEMPTS`) only on errors that a fresh
//!   attempt resolves: deadlocks and serialization failures, and unique
//!   violations of the random-id keys (a new random id) and of the name
//!   indexes (the retry's name check, under the name lock, then sees the
//!   winner and answers `NameInUse`, exactly as if the race had been lost
//!   at the check). Anything else is returned at once.

use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use super::{DbError, DbResult, PostgresMetadataStore, PostgresOptions, schema};
use crate::store::{StoreError, StoreResult};

/// How long a caller waits for a pooled connection before failing (with
/// 503 and `Retry-After`, when the database is out of reach): well within
/// the SDKs' 60 s request timeout.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts of one write transaction, the first included.
const MAX_ATTEMPTS: u32 = 5;

/// SQLSTATEs after which the whole transaction is simply run again.
const SERIALIZATION_FAILURE: &str = "40001";
const DEADLOCK_DETECTED: &str = "40P01";
const UNIQUE_VIOLATION: &str = "23505";

/// Unique constraints whose violation a retry resolves: random-id keys
/// (the retry draws a new id) and the per-parent name indexes (the retry
/// answers `NameInUse`). Client-chosen keys (session ids) are not here.
const RETRYABLE_CONSTRAINTS: &[&str] = &[
    "users_pkey",
    "users_login_key",
    "folders_pkey",
    "files_pkey",
    "file_versions_pkey",
    "folders_by_name",
    "files_by_name",
];

impl PostgresMetadataStore {
    /// Connects a pool to the database at `url` (a `postgres://` URL, TLS
    /// per its `sslmode`), creates `options.schema` if given and missing,
    /// and migrates it to the current version. Fails (never panics) if the
    /// server is unreachable, the URL is invalid, or the database holds a
    /// newer schema than this build knows.
    pub async fn connect(url: &str, options: PostgresOptions) -> StoreResult<Self> {
        if options.max_connections == 0 {
            return Err(StoreError::backend(
                "PostgreSQL pool: max_connections must be at least 1",
            ));
        }
        if let Some(name) = &options.schema {
            check_schema_name(name)?;
        }
        let mut connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::backend_context("invalid PostgreSQL URL", e))?;
        if connect.get_application_name().is_none() {
            connect = connect.application_name("boxup");
        }
        // Migrate on a connection of its own, opened once: an unreachable
        // server fails here at once, where the pool would keep retrying
        // until its acquire timeout.
        let mut conn = PgConnection::connect_with(&connect).await.map_err(|e| {
            StoreError::backend_context(
                format!("cannot connect to PostgreSQL at {}", server_name(&connect)),
                e,
            )
        })?;
        let schema = options.schema.as_deref();
        let migrated = match configure(&mut conn, schema).await {
            Ok(()) => schema::migrate(&mut conn, schema).await,
            Err(e) => Err(StoreError::backend_context(
                "cannot set up a PostgreSQL session",
                e,
            )),
        };
        // Closing also ends a failed migration's transaction and its lock.
        if let Err(e) = conn.close().await {
            tracing::debug!(error = %e, "closing the migration connection failed");
        }
        migrated?;
        let schema = options.schema.clone();
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _meta| {
                let schema = schema.clone();
                Box::pin(async move { configure(conn, schema.as_deref()).await })
            })
            .connect_lazy_with(connect);
        Ok(PostgresMetadataStore {
            pool,
            schema: options.schema,
            failures: Default::default(),
        })
    }

    /// Runs `f(conn, args)` in one READ COMMITTED transaction, committing
    /// on `Ok` and rolling back on `Err` (or when the future is dropped:
    /// sqlx rolls the transaction back before the connection is reused).
    /// Retried as described in the module doc, so `f` may run more than
    /// once. (`args` goes through `f` rather than being captured so that
    /// the future `f` returns may borrow both it and the connection.)
    pub(super) async fn write<A, T, F>(&self, args: &A, f: F) -> StoreResult<T>
    where
        A: Sync + ?Sized,
        F: for<'c> Fn(&'c mut PgConnection, &'c A) -> BoxFuture<'c, DbResult<T>> + Send + Sync,
    {
        let mut attempt = 1;
        loop {
            let begin = "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE";
            match self.transaction(begin, args, &f).await {
                Ok(out) => return Ok(out),
                Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                    tracing::debug!(attempt, error = ?e, "retrying a PostgreSQL transaction");
                    attempt += 1;
                }
                Err(e) => return self.failures.report("write", Err(e.into_store())),
            }
        }
    }

    /// Runs `f(conn, args)` in one REPEATABLE READ, READ ONLY transaction.
    pub(super) async fn read<A, T, F>(&self, args: &A, f: F) -> StoreResult<T>
    where
        A: Sync + ?Sized,
        F: for<'c> Fn(&'c mut PgConnection, &'c A) -> BoxFuture<'c, DbResult<T>> + Send + Sync,
    {
        let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
        let result = self.transaction(begin, args, &f).await;
        self.failures
            .report("read", result.map_err(DbError::into_store))
    }

    /// One attempt: `begin`, `f`, then commit, or roll back on `Err`. The
    /// rollback is awaited here, not left to the drop of the transaction
    /// (which sqlx only sends when the connection is next used), so the
    /// locks it held are gone before the caller moves on.
    async fn transaction<A, T, F>(&self, begin: &'static str, args: &A, f: &F) -> DbResult<T>
    where
        A: Sync + ?Sized,
        F: for<'c> Fn(&'c mut PgConnection, &'c A) -> BoxFuture<'c, DbResult<T>> + Send + Sync,
    {
        let mut tx = self.pool.begin_with(begin).await?;
        match f(&mut tx, args).await {
            Ok(out) => {
                tx.commit().await?;
                Ok(out)
            }
            Err(e) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "PostgreSQL rollback failed");
                }
                Err(e)
            }
        }
    }

    /// Runs `f(conn, args)` on a pooled connection outside an explicit
    /// transaction: for a single statement, which is atomic and sees one
    /// snapshot anyway, at one round trip instead of three.
    pub(super) async fn single<A, T, F>(&self, args: &A, f: F) -> StoreResult<T>
    where
        A: Sync + ?Sized,
        F: for<'c> Fn(&'c mut PgConnection, &'c A) -> BoxFuture<'c, DbResult<T>> + Send + Sync,
    {
        let result = async {
            let mut conn = self.pool.acquire().await?;
            f(&mut conn, args).await
        }
        .await;
        self.failures
            .report("statement", result.map_err(DbError::into_store))
    }
}

/// Where `options` connect, for messages: `user@host:port/database`,
/// never the password.
fn server_name(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    )
}

/// Per-connection setup: the schema, when one is configured.
async fn configure(conn: &mut PgConnection, schema: Option<&str>) -> Result<(), sqlx::Error> {
    if let Some(name) = schema {
        sqlx::query("SELECT set_config('search_path', quote_ident($1), false)")
            .bind(name)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// A schema name PostgreSQL accepts as an identifier: non-empty, at most
/// 63 bytes (longer names are silently truncated by the server, which
/// would make two configured names meet), no NUL.
fn check_schema_name(name: &str) -> StoreResult<()> {
    if name.is_empty() || name.len() > 63 || name.contains('\0') {
        return Err(StoreError::backend(format!(
            "invalid PostgreSQL schema name {name:?} (1 to 63 bytes, no NUL)"
        )));
    }
    Ok(())
}

/// Whether running the whole transaction again may succeed.
fn is_retryable(e: &DbError) -> bool {
    let DbError::Sql(sqlx::Error::Database(db)) = e else {
        return false;
    };
    match db.code().as_deref() {
        Some(SERIALIZATION_FAILURE | DEADLOCK_DETECTED) => true,
        Some(UNIQUE_VIOLATION) => db
            .constraint()
            .is_some_and(|c| RETRYABLE_CONSTRAINTS.contains(&c)),
        _ => false,
    }
}
