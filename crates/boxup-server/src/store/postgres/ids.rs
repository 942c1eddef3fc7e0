//! The typed ids as PostgreSQL values: `bigint` for the numeric ids and
//! `text` for session ids, encoded and decoded exactly as the plain types,
//! so queries bind and read them directly.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::{Decode, Encode, Type};

use crate::store::{FileId, FolderId, SessionId, UserId, VersionId};

macro_rules! pg_transparent_id {
    ($inner:ty => $($name:ident),*) => {$(
        impl Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                <$inner as Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <$inner as Type<Postgres>>::compatible(ty)
            }
        }

        impl Encode<'_, Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <$inner as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $name {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                <$inner as Decode<'r, Postgres>>::decode(value).map($name)
            }
        }
    )*};
}

pg_transparent_id!(i64 => UserId, FolderId, FileId, VersionId);
pg_transparent_id!(String => SessionId);
