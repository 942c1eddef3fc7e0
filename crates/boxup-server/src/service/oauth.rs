//! `POST /oauth2/token` and `POST /oauth2/revoke` as Box has them, for the
//! apps an operator adds (`boxup admin app add`): the SDKs' `BoxCCGAuth`
//! (client credentials grant) and `BoxJWTAuth` (JWT bearer grant) obtain
//! short-lived access tokens here, and get new ones when a request answers
//! 401, without any change.
//!
//! - An app acts as one user (Box's service account). The subject a grant
//!   names must be that user (`box_subject_type=user` and its id) or the
//!   enterprise (`enterprise` and any id: a deployment is one enterprise).
//! - Client secrets are kept as Argon2 hashes (a password hash: unlike
//!   access tokens, a secret is checked once per grant, so its cost is
//!   affordable, and it protects the secret if the database leaks).
//! - A JWT assertion is checked with `jsonwebtoken` against the app's
//!   registered public key (RS256 or ES256, chosen by the key, never by the
//!   assertion's header): issuer = client id, audience = Box's token URL
//!   (which the SDKs always send) or this server's, expiry in the future
//!   and at most 60 s ahead, and its `jti` never seen before.
//! - Tokens issued are ordinary issued tokens (`service/tokens.rs`) with an
//!   expiry, so revocation and expiry work as for the operator's tokens.
//! - Failures use OAuth's error shape (`{"error", "error_description"}`),
//!   as Box's token endpoint does, which is what the SDKs parse there.

use std::collections::HashMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::grant_budget::NotChecked;
use super::tokens::{issue_token, secret_sha256};
use super::{UploadService, now};
use crate::store::{AppRecord, StoreError, UserRecord};

/// The audience every SDK puts in its JWT assertions.
pub const BOX_TOKEN_URL: &str = "https://api.box.com/oauth2/token";
/// How far ahead an assertion may expire.
const MAX_ASSERTION_LIFETIME: i64 = 60;

pub const CLIENT_CREDENTIALS: &str = "client_credentials";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// An OAuth error: 400 with `{"error", "error_description"}` (RFC 6749 §5.2).
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("The client credentials are invalid")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(String),
    #[error("The grant type is not supported")]
    UnsupportedGrantType,
    /// Over the app's budget (`grant_budget.rs`): the seconds to wait.
    #[error("Too many token requests for this client; retry in {0} s")]
    RateLimited(u64),
    /// The server failed to check the secret.
    #[error("checking the client secret failed: {0}")]
    Internal(String),
    #[error("the store failed")]
    Store(#[from] StoreError),
}

impl OAuthError {
    /// The status and `error` code; `None` for a server failure (answered
    /// as any other, with Box's error object).
    pub fn status_and_code(&self) -> Option<(u16, &'static str)> {
        Some(match self {
            OAuthError::InvalidRequest(_) => (400, "invalid_request"),
            OAuthError::InvalidClient => (400, "invalid_client"),
            OAuthError::InvalidGrant(_) => (400, "invalid_grant"),
            OAuthError::UnsupportedGrantType => (400, "unsupported_grant_type"),
            // Not one of RFC 6749's codes (it has none for this); Box's
            // name for the condition.
            OAuthError::RateLimited(_) => (429, "rate_limit_exceeded"),
            OAuthError::Store(_) | OAuthError::Internal(_) => return None,
        })
    }
}

/// `POST /oauth2/token`'s answer (Box's `AccessToken`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessToken {
    /// The bearer token for the API.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: String,
    /// Always empty: a token is not restricted to some files.
    #[schema(value_type = Vec<Object>)]
    pub restricted_to: Vec<serde_json::Value>,
    /// Always `urn:ietf:params:oauth:token-type:access_token`.
    pub issued_token_type: String,
}

type Form = HashMap<String, String>;

fn field<'a>(form: &'a Form, name: &str) -> Result<&'a str, OAuthError> {
    form.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::InvalidRequest(format!("{name} is required")))
}

/// A new client secret (32 URL-safe characters) and its Argon2 hash.
pub fn new_client_secret() -> (String, String) {
    let secret = hex::encode(rand::random::<[u8; 16]>());
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes make a salt");
    let phc = Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("Argon2 hashes any input with default parameters")
        .to_string();
    (secret, phc)
}

/// Whether `secret` is the app's; slow by design (`grant_budget.rs` says
/// where it runs).
pub(super) fn secret_matches(app: &AppRecord, secret: &str) -> bool {
    PasswordHash::new(&app.secret_phc).is_ok_and(|phc| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &phc)
            .is_ok()
    })
}

#[derive(Deserialize)]
struct Assertion {
    sub: String,
    box_sub_type: String,
    jti: String,
    exp: i64,
}

impl UploadService {
    /// `POST /oauth2/token`: an access token for a client credentials or
    /// JWT bearer grant. `own_token_url` is this server's token URL, also
    /// accepted as a JWT audience.
    pub async fn oauth_token(
        &self,
        form: &Form,
        own_token_url: &str,
    ) -> Result<AccessToken, OAuthError> {
        let grant = field(form, "grant_type")?;
        if grant != CLIENT_CREDENTIALS && grant != JWT_BEARER {
            return Err(OAuthError::UnsupportedGrantType);
        }
        let app = self.authenticate_client(form).await?;
        let (subject_type, subject_id) = if grant == CLIENT_CREDENTIALS {
            let kind = field(form, "box_subject_type")?;
            (kind.to_owned(), field(form, "box_subject_id")?.to_owned())
        } else {
            let claims = self
                .check_assertion(&app, field(form, "assertion")?, own_token_url)
                .await?;
            (claims.box_sub_type, claims.sub)
        };
        let user = self.subject(&app, &subject_type, &subject_id).await?;
        let ttl = self.config.oauth_token_ttl_secs;
        let label = format!("oauth:{}", app.client_id);
        let token = issue_token(self.meta.as_ref(), &user, &label, Some(ttl)).await?;
        Ok(AccessToken {
            access_token: token.secret,
            expires_in: ttl,
            token_type: "bearer".to_owned(),
            restricted_to: Vec::new(),
            issued_token_type: "urn:ietf:params:oauth:token-type:access_token".to_owned(),
        })
    }

    /// `POST /oauth2/revoke`: forgets `token` if this client's credentials
    /// are right. An unknown token is not an error (RFC 7009).
    pub async fn oauth_revoke(&self, form: &Form) -> Result<(), OAuthError> {
        let app = self.authenticate_client(form).await?;
        let secret = field(form, "token")?;
        if let Some((token, _)) = self.meta.find_token(&secret_sha256(secret)).await?
            && token.label == format!("oauth:{}", app.client_id)
        {
            self.meta.revoke_token(&token.id).await?;
        }
        Ok(())
    }

    async fn authenticate_client(&self, form: &Form) -> Result<AppRecord, OAuthError> {
        let client_id = field(form, "client_id")?;
        let secret = field(form, "client_secret")?;
        let app = self
            .meta
            .find_app(client_id)
            .await?
            .ok_or(OAuthError::InvalidClient)?;
        match self.grants.check_secret(&app, secret).await {
            Ok(true) => Ok(app),
            Ok(false) => Err(OAuthError::InvalidClient),
            Err(NotChecked::OverBudget(secs)) => Err(OAuthError::RateLimited(secs)),
            Err(NotChecked::Failed(why)) => Err(OAuthError::Internal(why)),
        }
    }

    async fn check_assertion(
        &self,
        app: &AppRecord,
        assertion: &str,
        own_token_url: &str,
    ) -> Result<Assertion, OAuthError> {
        let invalid = |why: &str| OAuthError::InvalidGrant(format!("Invalid JWT assertion: {why}"));
        let Some((kid, pem)) = &app.public_key else {
            return Err(invalid("the app has no public key"));
        };
        let header = jsonwebtoken::decode_header(assertion).map_err(|_| invalid("malformed"))?;
        if header.kid.as_deref() != Some(kid.as_str()) {
            return Err(invalid("unknown key id"));
        }
        let (key, alg) = if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
            (key, Algorithm::RS256)
        } else if let Ok(key) = DecodingKey::from_ec_pem(pem.as_bytes()) {
            (key, Algorithm::ES256)
        } else {
            return Err(invalid("the app's public key is not an RSA or P-256 key"));
        };
        let mut validation = Validation::new(alg);
        validation.set_audience(&[BOX_TOKEN_URL, own_token_url]);
        validation.set_issuer(&[app.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub", "jti"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Assertion>(assertion, &key, &validation)
            .map_err(|e| invalid(&e.to_string()))?
            .claims;
        let now = now();
        if claims.exp > now + MAX_ASSERTION_LIFETIME {
            return Err(invalid("exp is more than 60 seconds ahead"));
        }
        if !self
            .meta
            .use_jwt_id(&app.client_id, &claims.jti, claims.exp, now)
            .await?
        {
            return Err(invalid("jti was used already"));
        }
        Ok(claims)
    }

    /// The user a grant's subject names: the app's own user, by its id or
    /// as "the enterprise".
    async fn subject(
        &self,
        app: &AppRecord,
        kind: &str,
        id: &str,
    ) -> Result<UserRecord, OAuthError> {
        let ok = match kind {
            "enterprise" => true,
            "user" => id == app.user.to_string(),
            _ => false,
        };
        if !ok {
            return Err(OAuthError::InvalidGrant(
                "The subject is not this app's user or enterprise".into(),
            ));
        }
        self.meta
            .get_user(app.user)
            .await?
            .ok_or_else(|| OAuthError::InvalidGrant("The app's user no longer exists".into()))
    }
}
