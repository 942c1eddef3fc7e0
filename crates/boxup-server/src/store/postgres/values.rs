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

use crate::store::{ObjectRef, StoreError};

/// An error inside a transaction: a semantic store error (returned as is)
/// or an SQL failure (reported as `StoreError::Backend`, after the retry
/// policy of `conn` had its say). Both convert with `?`.
#[derive(Debug)]
pub(super) enum DbError {
    Store(StoreError),
    Sql(sqlx::Error),
}

pub(super) type DbResult<T> = Result<T, DbError>;

impl DbError {
    pub(super) fn into_store(self) -> StoreError {
        match self {
            DbError::Store(e) => e,
            DbError::Sql(e) => StoreError::backend(format!("PostgreSQL: {e}")),
        }
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

/// Reads a non-negative BIGINT column as u64.
pub(super) fn col_u64(row: &PgRow, idx: usize) -> DbResult<u64> {
    let v: i64 = row.try_get(idx)?;
    u64::try_from(v).map_err(|_| out_of_range(idx, v))
}

/// Reads a BIGINT column holding a u32 (indexes and part counts).
pub(super) fn col_u32(row: &PgRow, idx: usize) -> DbResult<u32> {
    let v: i64 = row.try_get(idx)?;
    u32::try_from(v).map_err(|_| out_of_range(idx, v))
}

pub(super) fn out_of_range(idx: usize, v: i64) -> DbError {
    DbError::Store(StoreError::backend(format!(
        "column {idx} holds {v}, out of range"
    )))
}

/// `name` as a quoted SQL identifier (for DDL, which takes no parameters).
pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// An `ObjectRef` from a row selecting `object_key, byte_offset, size`.
pub(super) fn object_from_row(row: &PgRow) -> DbResult<ObjectRef> {
    Ok(ObjectRef {
        key: row.try_get(0)?,
        offset: col_u64(row, 1)?,
        size: col_u64(row, 2)?,
    })
}
