//! What authenticates a request and what a user may store: access tokens
//! issued by the operator (`boxup admin token create`) and each user's
//! storage quota.
//!
//! Why tokens live here and how: every replica must see a token the moment
//! it is created and stop accepting it the moment it is revoked, so they
//! are rows in the shared metadata store, read on every request (one
//! primary-key lookup joined with the token's user; no cache, so that a revocation counts on the very
//! next request). A row holds the SHA-256 of the secret, never the secret:
//! the secrets are 256 random bits, so a fast hash cannot be reversed by
//! guessing, and a slow password hash would cost every request its
//! latency. A token also has a short public id, which lists and
//! revocation use, so that the secret is shown exactly once.

use async_trait::async_trait;

use super::{StoreError, StoreResult, UserId, UserRecord};

/// An access token, as the store keeps it (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The public id (e.g. `tok_4f0c1a2b`), unique.
    pub id: String,
    pub user: UserId,
    /// What the operator called it (may be empty).
    pub label: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None`: never expires.
    pub expires_at: Option<i64>,
}

impl TokenRecord {
    /// Whether the token still authenticates at `now` (unix seconds).
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }
}

/// An OAuth 2.0 client (`boxup admin app add`): it obtains access tokens
/// for its user with the client-credentials or the JWT grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRecord {
    pub client_id: String,
    pub name: String,
    /// The user its tokens act as (Box's service account).
    pub user: UserId,
    /// The client secret as an Argon2 PHC string, never the secret.
    pub secret_phc: String,
    /// The id (JWT `kid`) and PEM of the public key for the JWT grant.
    pub public_key: Option<(String, String)>,
    pub created_at: i64,
}

#[async_trait]
pub trait CredentialStore: Send + Sync + 'static {
    /// Records a token under the SHA-256 (lowercase hex) of its secret. The
    /// id and the hash are random and so new; a clash fails the insert.
    async fn insert_token(&self, secret_sha256: &str, token: &TokenRecord) -> StoreResult<()>;
    /// The token whose secret hashes to `secret_sha256`, expired or not,
    /// with its user, in one read (every authenticated request makes it).
    async fn find_token(
        &self,
        secret_sha256: &str,
    ) -> StoreResult<Option<(TokenRecord, UserRecord)>>;
    /// The tokens of one user, or of everyone, oldest first.
    async fn list_tokens(&self, user: Option<UserId>) -> StoreResult<Vec<TokenRecord>>;
    /// Deletes the token with this public id; false if there was none.
    async fn revoke_token(&self, id: &str) -> StoreResult<bool>;
    /// Sets when the token with this public id stops working (unix
    /// seconds; `None`: never); false if there is no such token.
    async fn set_token_expiry(&self, id: &str, expires_at: Option<i64>) -> StoreResult<bool>;
    /// Every user, by id.
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    /// The user with this login, if any.
    async fn find_user(&self, login: &str) -> StoreResult<Option<UserRecord>>;
    /// Sets (or, with `None`, lifts) a user's quota in bytes; false if the
    /// user does not exist.
    async fn set_space_amount(&self, user: UserId, bytes: Option<u64>) -> StoreResult<bool>;
    /// A user's quota in bytes; `None`: unlimited (or no such user).
    async fn space_amount(&self, user: UserId) -> StoreResult<Option<u64>>;
    /// Records an app; its client id must be new.
    async fn insert_app(&self, app: &AppRecord) -> StoreResult<()>;
    async fn find_app(&self, client_id: &str) -> StoreResult<Option<AppRecord>>;
    /// Every app, by client id.
    async fn list_apps(&self) -> StoreResult<Vec<AppRecord>>;
    /// Deletes an app; false if there was none.
    async fn delete_app(&self, client_id: &str) -> StoreResult<bool>;
    /// Records that `client_id` used the JWT id `jti` (an assertion valid
    /// until `expires_at`), and forgets ids that expired before `now`.
    /// False if the id was used already: an assertion works once.
    async fn use_jwt_id(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool>;
}

/// A quota as both schemas store it: `BIGINT`, `NULL` for unlimited.
pub(crate) fn quota_column(bytes: Option<u64>) -> StoreResult<Option<i64>> {
    bytes
        .map(i64::try_from)
        .transpose()
        .map_err(|_| StoreError::backend("a quota must fit in a signed 64-bit integer"))
}

/// A stored quota as bytes (the column's CHECK keeps it non-negative).
pub(crate) fn quota_value(stored: i64) -> u64 {
    u64::try_from(stored).unwrap_or(0)
}
