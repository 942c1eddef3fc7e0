//! [`CredentialStore`] on SQLite: tokens and quotas (schema version 3).

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::SqliteMetadataStore;
use crate::store::rows::{self, app_columns, token_columns, token_user_columns, user_columns};
use crate::store::{
    AppRecord, CredentialStore, StoreResult, TokenRecord, UserId, UserRecord, quota_column,
    quota_value,
};

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

    async fn find_token(
        &self,
        secret_sha256: &str,
    ) -> StoreResult<Option<(TokenRecord, UserRecord)>> {
        let hash = secret_sha256.to_owned();
        self.read(move |tx| {
            Ok(tx
                .query_row(
                    concat!(
                        "SELECT ",
                        token_user_columns!(),
                        " FROM access_tokens t JOIN users u ON u.id = t.user_id \
                         WHERE t.secret_sha256 = ?1"
                    ),
                    [hash],
                    |row| rows::token_and_user(row),
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

    async fn set_token_expiry(&self, id: &str, expires_at: Option<i64>) -> StoreResult<bool> {
        let id = id.to_owned();
        self.write(move |tx| {
            Ok(tx.execute(
                "UPDATE access_tokens SET expires_at = ?2 WHERE id = ?1",
                rusqlite::params![id, expires_at],
            )? == 1)
        })
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
        let bytes = quota_column(bytes)?;
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
            Ok(amount.flatten().map(quota_value))
        })
        .await
    }

    async fn insert_app(&self, app: &AppRecord) -> StoreResult<()> {
        let a = app.clone();
        self.write(move |tx| {
            let (kid, pem) = a.public_key.clone().unzip();
            tx.execute(
                "INSERT INTO apps (client_id, name, user_id, secret_phc, public_key_id, \
                 public_key_pem, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![
                    a.client_id,
                    a.name,
                    a.user,
                    a.secret_phc,
                    kid,
                    pem,
                    a.created_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn find_app(&self, client_id: &str) -> StoreResult<Option<AppRecord>> {
        let id = client_id.to_owned();
        self.read(move |tx| {
            Ok(tx
                .query_row(
                    concat!("SELECT ", app_columns!(), " FROM apps WHERE client_id = ?1"),
                    [id],
                    |row| rows::app(row),
                )
                .optional()?)
        })
        .await
    }

    async fn list_apps(&self) -> StoreResult<Vec<AppRecord>> {
        self.read(move |tx| {
            let mut stmt = tx.prepare(concat!(
                "SELECT ",
                app_columns!(),
                " FROM apps ORDER BY client_id"
            ))?;
            let apps = stmt
                .query_map([], |row| rows::app(row))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(apps)
        })
        .await
    }

    async fn delete_app(&self, client_id: &str) -> StoreResult<bool> {
        let id = client_id.to_owned();
        self.write(move |tx| Ok(tx.execute("DELETE FROM apps WHERE client_id = ?1", [id])? == 1))
            .await
    }

    async fn use_jwt_id(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let (id, jti) = (client_id.to_owned(), jti.to_owned());
        self.write(move |tx| {
            tx.execute("DELETE FROM jwt_ids WHERE expires_at < ?1", [now])?;
            let inserted = tx.execute(
                "INSERT INTO jwt_ids (client_id, jti, expires_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
                rusqlite::params![id, jti, expires_at],
            )?;
            Ok(inserted == 1)
        })
        .await
    }
}
