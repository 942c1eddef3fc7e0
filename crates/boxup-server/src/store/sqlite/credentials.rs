//! [`CredentialStore`] on SQLite: tokens and quotas (schema version 3).

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::SqliteMetadataStore;
use crate::store::rows::{self, token_columns, user_columns};
use crate::store::{CredentialStore, StoreError, StoreResult, TokenRecord, UserId, UserRecord};

#[async_trait]
impl CredentialStore for SqliteMetadataStore {
    async fn insert_token(&self, secret_sha256: &str, token: &TokenRecord) -> StoreResult<()> {
        let (hash, t) = (secret_sha256.to_owned(), token.clone());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO access_tokens (secret_sha256, id, user_id, label, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![hash, t.id, t.user, t.label, t.created_at, t.expires_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn find_token(&self, secret_sha256: &str) -> StoreResult<Option<TokenRecord>> {
        let hash = secret_sha256.to_owned();
        self.read(move |tx| {
            Ok(tx
                .query_row(
                    concat!(
                        "SELECT ",
                        token_columns!(),
                        " FROM access_tokens WHERE secret_sha256 = ?1"
                    ),
                    [hash],
                    |row| rows::token(row),
                )
                .optional()?)
        })
        .await
    }

    async fn list_tokens(&self, user: Option<UserId>) -> StoreResult<Vec<TokenRecord>> {
        self.read(move |tx| {
            let mut stmt = tx.prepare(concat!(
                "SELECT ",
                token_columns!(),
                " FROM access_tokens WHERE ?1 IS NULL OR user_id = ?1 ORDER BY created_at, id"
            ))?;
            let tokens = stmt
                .query_map([user], |row| rows::token(row))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(tokens)
        })
        .await
    }

    async fn revoke_token(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.write(move |tx| Ok(tx.execute("DELETE FROM access_tokens WHERE id = ?1", [id])? == 1))
            .await
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        self.read(move |tx| {
            let mut stmt = tx.prepare(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users ORDER BY id"
            ))?;
            let users = stmt
                .query_map([], |row| rows::user(row))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(users)
        })
        .await
    }

    async fn find_user(&self, login: &str) -> StoreResult<Option<UserRecord>> {
        let login = login.to_owned();
        self.read(move |tx| {
            Ok(tx
                .query_row(
                    concat!("SELECT ", user_columns!(), " FROM users WHERE login = ?1"),
                    [login],
                    |row| rows::user(row),
                )
                .optional()?)
        })
        .await
    }

    async fn set_space_amount(&self, user: UserId, bytes: Option<u64>) -> StoreResult<bool> {
        let bytes = bytes.map(i64::try_from).transpose().map_err(|_| {
            StoreError::backend("a quota must fit in a signed 64-bit integer".to_owned())
        })?;
        self.write(move |tx| {
            Ok(tx.execute(
                "UPDATE users SET space_amount = ?2 WHERE id = ?1",
                rusqlite::params![user, bytes],
            )? == 1)
        })
        .await
    }

    async fn space_amount(&self, user: UserId) -> StoreResult<Option<u64>> {
        self.read(move |tx| {
            let amount: Option<Option<i64>> = tx
                .query_row(
                    "SELECT space_amount FROM users WHERE id = ?1",
                    [user],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(amount.flatten().map(|v| v.max(0) as u64))
        })
        .await
    }
}
