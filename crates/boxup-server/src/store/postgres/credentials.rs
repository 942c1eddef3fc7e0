//! [`CredentialStore`] on PostgreSQL: tokens and quotas (schema version 3).
//! Each call is one statement, so a pooled connection without an explicit
//! transaction is enough.

use async_trait::async_trait;

use super::PostgresMetadataStore;
use crate::store::rows::{self, app_columns, token_columns, token_user_columns, user_columns};
use crate::store::{
    AppRecord, CredentialStore, StoreResult, TokenRecord, UserId, UserRecord, quota_column,
    quota_value,
};

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

    async fn find_token(
        &self,
        secret_sha256: &str,
    ) -> StoreResult<Option<(TokenRecord, UserRecord)>> {
        self.single(secret_sha256, |c, hash| {
            Box::pin(async move {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    token_user_columns!(),
                    " FROM access_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.secret_sha256 = $1"
                ))
                .bind(hash)
                .fetch_optional(&mut *c)
                .await?;
                row.as_ref().map(rows::token_and_user).transpose()
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

    async fn set_token_expiry(&self, id: &str, expires_at: Option<i64>) -> StoreResult<bool> {
        self.single(&(id, expires_at), |c, (id, expires_at)| {
            Box::pin(async move {
                let done = sqlx::query("UPDATE access_tokens SET expires_at = $2 WHERE id = $1")
                    .bind(*id)
                    .bind(*expires_at)
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
        let bytes = quota_column(bytes)?;
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
                Ok(amount.flatten().map(quota_value))
            })
        })
        .await
    }

    async fn insert_app(&self, app: &AppRecord) -> StoreResult<()> {
        self.single(app, |c, a| {
            Box::pin(async move {
                let (kid, pem) = a.public_key.clone().unzip();
                sqlx::query(
                    "INSERT INTO apps (client_id, name, user_id, secret_phc, public_key_id, \
                     public_key_pem, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&a.client_id)
                .bind(&a.name)
                .bind(a.user)
                .bind(&a.secret_phc)
                .bind(kid)
                .bind(pem)
                .bind(a.created_at)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn find_app(&self, client_id: &str) -> StoreResult<Option<AppRecord>> {
        self.single(client_id, |c, id| {
            Box::pin(async move {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    app_columns!(),
                    " FROM apps WHERE client_id = $1"
                ))
                .bind(id)
                .fetch_optional(&mut *c)
                .await?;
                row.as_ref().map(rows::app).transpose()
            })
        })
        .await
    }

    async fn list_apps(&self) -> StoreResult<Vec<AppRecord>> {
        self.single(&(), |c, ()| {
            Box::pin(async move {
                let found = sqlx::query(concat!(
                    "SELECT ",
                    app_columns!(),
                    " FROM apps ORDER BY client_id"
                ))
                .fetch_all(&mut *c)
                .await?;
                found.iter().map(rows::app).collect()
            })
        })
        .await
    }

    async fn delete_app(&self, client_id: &str) -> StoreResult<bool> {
        self.single(client_id, |c, id| {
            Box::pin(async move {
                let done = sqlx::query("DELETE FROM apps WHERE client_id = $1")
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                Ok(done.rows_affected() == 1)
            })
        })
        .await
    }

    async fn use_jwt_id(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool> {
        self.single(
            &(client_id, jti, expires_at, now),
            |c, (id, jti, expires_at, now)| {
                Box::pin(async move {
                    sqlx::query("DELETE FROM jwt_ids WHERE expires_at < $1")
                        .bind(*now)
                        .execute(&mut *c)
                        .await?;
                    let done = sqlx::query(
                        "INSERT INTO jwt_ids (client_id, jti, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                    )
                    .bind(*id)
                    .bind(*jti)
                    .bind(*expires_at)
                    .execute(&mut *c)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            },
        )
        .await
    }
}
