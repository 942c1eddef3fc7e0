//! The error type inside transactions and the conversions between Rust
//! values and columns.
//!
//! Why: sizes and counts are `u64`/`u32` in the records but BIGINT in the
//! schema (PostgreSQL has no unsigned types), so every crossing is checked
//! and an out-of-range value becomes `StoreError::Backend`, never a wrap or
//! a panic; and semantic errors must travel through `?` alongside SQL
//! errors without being mistaken for them by the retry policy.

use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::store::StoreError;
use crate::store::rows::Columns;

/// An error inside a transaction: a semantic store error (returned as is)
/// or an SQL failure (reported as `StoreError::Backend`, after the retry
/// policy of `conn` had its say). Both convert with `?`.
#[derive(Debug)]
pub(crate) enum DbError {
    Store(StoreError),
    Sql(sqlx::Error),
}

pub(super) type DbResult<T> = Result<T, DbError>;

impl DbError {
    pub(super) fn into_store(self) -> StoreError {
        match self {
            DbError::Store(e) => e,
            DbError::Sql(e) if is_unavailable(&e) => StoreError::Unavailable(Box::new(e)),
            DbError::Sql(e) => StoreError::backend(e),
        }
    }
}

/// Whether `e` says the database is out of reach rather than that the
/// statement failed: the pool could not connect in time, the connection
/// broke, or the server is shutting down, starting up or full of clients.
/// Such a failure becomes 503 with `Retry-After`; the client's retry is
/// safe, because every write the service makes can be repeated.
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        // Class 08: connection exception; 57P01–57P03: admin shutdown,
        // crash shutdown, cannot connect now; 53300: too many connections.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        DbError::Sql(e)
    }
}

impl From<StoreError> for DbError {
    fn from(e: StoreError) -> Self {
        DbError::Store(e)
    }
}

/// A u64 as a BIGINT; values above `i64::MAX` are refused.
pub(super) fn to_db(v: u64) -> DbResult<i64> {
    i64::try_from(v).map_err(|_| DbError::Store(StoreError::backend(format!("{v} is too large"))))
}

/// A page bound as a BIGINT (saturating: a huge limit means all).
pub(super) fn page_bound(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// `name` as a quoted SQL identifier (for DDL, which takes no parameters).
pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The columns of a result row, from which `store::rows` builds every
/// record.
impl Columns for PgRow {
    type Error = DbError;

    fn i64(&self, idx: usize) -> DbResult<i64> {
        Ok(self.try_get(idx)?)
    }

    fn opt_i64(&self, idx: usize) -> DbResult<Option<i64>> {
        Ok(self.try_get(idx)?)
    }

    fn text(&self, idx: usize) -> DbResult<String> {
        Ok(self.try_get(idx)?)
    }

    fn opt_text(&self, idx: usize) -> DbResult<Option<String>> {
        Ok(self.try_get(idx)?)
    }

    fn bytes(&self, idx: usize) -> DbResult<Vec<u8>> {
        Ok(self.try_get(idx)?)
    }

    fn invalid(&self, idx: usize, why: String) -> DbError {
        DbError::Store(StoreError::backend(format!("column {idx}: {why}")))
    }
}
