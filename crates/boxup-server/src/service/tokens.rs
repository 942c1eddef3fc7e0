//! Access tokens the operator issues (`boxup admin token …`): how they
//! are made, and how a request's bearer token becomes a user.
//!
//! A token is `bxp_` and 43 characters of URL-safe base64 (256 random
//! bits): the prefix lets secret scanners and people recognise one. It is
//! shown once, at creation; the store keeps its SHA-256 (see
//! `store/credentials.rs` for why SHA-256 and not a password hash) and a
//! public id (`tok_` and 12 hex digits) for lists and revocation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{UploadService, now};
use crate::error::ApiResult;
use crate::store::{CredentialStore, StoreResult, TokenRecord, UserRecord};

/// What every issued token starts with.
pub const TOKEN_PREFIX: &str = "bxp_";

/// The SHA-256 of a token's secret, as the store indexes it.
pub fn secret_sha256(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A token just made: its secret (to show once) and its record.
#[derive(Debug)]
pub struct IssuedToken {
    pub secret: String,
    pub record: TokenRecord,
}

/// Issues a token for `user`, valid for `lifetime_secs` (or forever).
pub async fn issue_token(
    store: &dyn CredentialStore,
    user: &UserRecord,
    label: &str,
    lifetime_secs: Option<i64>,
) -> StoreResult<IssuedToken> {
    let secret = format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    );
    let created_at = now();
    let record = TokenRecord {
        id: format!("tok_{}", hex::encode(rand::random::<[u8; 6]>())),
        user: user.id,
        label: label.to_owned(),
        created_at,
        expires_at: lifetime_secs.map(|s| created_at.saturating_add(s)),
    };
    store.insert_token(&secret_sha256(&secret), &record).await?;
    Ok(IssuedToken { secret, record })
}

impl UploadService {
    /// The user an issued token authenticates now: `None` for a token that
    /// is unknown, revoked or expired, or whose user is gone.
    pub async fn user_for_token(&self, secret: &str) -> ApiResult<Option<UserRecord>> {
        Ok(self
            .meta
            .find_token(&secret_sha256(secret))
            .await?
            .filter(|(token, _)| token.is_live(now()))
            .map(|(_, user)| user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_indexed_by_their_sha256() {
        assert_eq!(
            secret_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
