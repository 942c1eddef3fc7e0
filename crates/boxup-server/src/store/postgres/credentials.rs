//! [`CredentialStore`] on PostgreSQL: tokens and quotas (schema version 3).
//! Each call is one statement, so a pooled connection without an explicit
//! transaction is enough.

use async_trait::async_trait;

use super::PostgresMetadataStore;
use crate::store::rows::{self, token_columns, user_columns};
use crate::store::{CredentialStore, StoreError, StoreResult, TokenRecord, UserId, UserRecord};

#[async_trait]
impl CredentialStore for PostgresMetadataStore {
    async fn insert_token(&self, secret_sha256: &str, token: &TokenRecord) -> StoreResult<()> {
        self.single(&(secret_sha256, token), |c, (hash, t)| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO access_tokens \
                     (secret_sha256, id, user_id, label, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(*hash)
                .bind(&t.id)
                .bind(t.user)
                .bind(&t.label)
                .bind(t.created_at)
                .bind(t.expires_at)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn find_token(&self, secret_sha256: &str) -> StoreResult<Option<TokenRecord>> {
        self.single(secret_sha256, |c, hash| {
            Box::pin(async move {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    token_columns!(),
                    " FROM access_tokens WHERE secret_sha256 = $1"
                ))
                .bind(hash)
                .fetch_optional(&mut *c)
                .await?;
                row.as_ref().map(rows::token).transpose()
            })
        })
        .await
    }

    async fn list_tokens(&self, user: Option<UserId>) -> StoreResult<Vec<TokenRecord>> {
        self.single(&user, |c, user| {
            Box::pin(async move {
                let found = sqlx::query(concat!(
                    "SELECT ",
                    token_columns!(),
                    " FROM access_tokens WHERE $1::BIGINT IS NULL OR user_id = $1 \
                     ORDER BY created_at, id"
                ))
                .bind(*user)
                .fetch_all(&mut *c)
                .await?;
                found.iter().map(rows::token).collect()
            })
        })
        .await
    }

    async fn revoke_token(&self, id: &str) -> StoreResult<bool> {
        self.single(id, |c, id| {
            Box::pin(async move {
                let done = sqlx::query("DELETE FROM access_tokens WHERE id = $1")
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                Ok(done.rows_affected() == 1)
            })
        })
        .await
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        self.single(&(), |c, ()| {
            Box::pin(async move {
                let found = sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users ORDER BY id"
                ))
                .fetch_all(&mut *c)
                .await?;
                found.iter().map(rows::user).collect()
            })
        })
        .await
    }

    async fn find_user(&self, login: &str) -> StoreResult<Option<UserRecord>> {
        self.single(login, |c, login| {
            Box::pin(async move {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users WHERE login = $1"
                ))
                .bind(login)
                .fetch_optional(&mut *c)
                .await?;
                row.as_ref().map(rows::user).transpose()
            })
        })
        .await
    }

    async fn set_space_amount(&self, user: UserId, bytes: Option<u64>) -> StoreResult<bool> {
        let bytes = bytes.map(i64::try_from).transpose().map_err(|_| {
            StoreError::backend("a quota must fit in a signed 64-bit integer".to_owned())
        })?;
        self.single(&(user, bytes), |c, (user, bytes)| {
            Box::pin(async move {
                let done = sqlx::query("UPDATE users SET space_amount = $2 WHERE id = $1")
                    .bind(*user)
                    .bind(*bytes)
                    .execute(&mut *c)
                    .await?;
                Ok(done.rows_affected() == 1)
            })
        })
        .await
    }

    async fn space_amount(&self, user: UserId) -> StoreResult<Option<u64>> {
        self.single(&user, |c, user| {
            Box::pin(async move {
                let amount: Option<Option<i64>> =
                    sqlx::query_scalar("SELECT space_amount FROM users WHERE id = $1")
                        .bind(*user)
                        .fetch_optional(&mut *c)
                        .await?;
                Ok(amount.flatten().map(|v| v.max(0) as u64))
            })
        })
        .await
    }
}
