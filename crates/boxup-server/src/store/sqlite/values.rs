//! Values crossing into and out of SQLite: the typed ids, bound and read
//! like the integers (and, for sessions, the text) they are, so queries
//! never unwrap them; and the columns of a result row, from which
//! `store::rows` builds every record.

use rusqlite::types::{FromSql, FromSqlResult, ToSqlOutput, Type, ValueRef};
use rusqlite::{Row, ToSql};

use crate::store::rows::Columns;
use crate::store::{FileId, FolderId, SessionId, UserId, VersionId};

macro_rules! sql_integer_id {
    ($($name:ident),*) => {$(
        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.0))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map($name)
            }
        }
    )*};
}

sql_integer_id!(UserId, FolderId, FileId, VersionId);

impl ToSql for SessionId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.as_str()))
    }
}

impl FromSql for SessionId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        String::column_result(value).map(SessionId)
    }
}

impl Columns for Row<'_> {
    type Error = rusqlite::Error;

    fn i64(&self, idx: usize) -> rusqlite::Result<i64> {
        self.get(idx)
    }

    fn opt_i64(&self, idx: usize) -> rusqlite::Result<Option<i64>> {
        self.get(idx)
    }

    fn text(&self, idx: usize) -> rusqlite::Result<String> {
        self.get(idx)
    }

    fn opt_text(&self, idx: usize) -> rusqlite::Result<Option<String>> {
        self.get(idx)
    }

    fn bytes(&self, idx: usize) -> rusqlite::Result<Vec<u8>> {
        self.get(idx)
    }

    fn invalid(&self, idx: usize, why: String) -> rusqlite::Error {
        rusqlite::Error::FromSqlConversionFailure(idx, Type::Integer, why.into())
    }
}
