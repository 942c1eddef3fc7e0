//! What `boxup admin` does to a deployment: users, their quotas, and the
//! access tokens they sign in with. It works on the metadata store
//! directly (the same SQLite file or PostgreSQL database the servers use),
//! so it needs no running server and no API of its own to protect; a
//! change is seen by every replica on its next request.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::server::{ServerError, open_metadata};
use crate::service::oauth::new_client_secret;
use crate::service::tokens::{IssuedToken, issue_token};
use crate::store::{AppRecord, MetadataStore, StoreError, TokenRecord, UserId, UserRecord};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no user with login {0:?}")]
    NoSuchUser(String),
    #[error("no token with id {0:?}")]
    NoSuchToken(String),
    #[error("a login must not be empty")]
    EmptyLogin,
    #[error("no app with client id {0:?}")]
    NoSuchApp(String),
    #[error("the public key is not a PEM RSA or P-256 (EC) public key")]
    BadPublicKey,
    #[error(transparent)]
    Open(#[from] ServerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A user with what they may and do store.
#[derive(Debug, Clone)]
pub struct UserSpace {
    pub user: UserRecord,
    /// `None`: unlimited.
    pub quota: Option<u64>,
    pub used: u64,
}

/// An app just added, with its secret (to show once) and its user.
#[derive(Debug)]
pub struct NewApp {
    pub app: AppRecord,
    pub client_secret: String,
    pub user: UserRecord,
}

/// Logins by user id.
struct Logins(HashMap<UserId, String>);

impl Logins {
    /// The user's login, or their id if they are gone.
    fn login(&self, user: UserId) -> String {
        self.0
            .get(&user)
            .cloned()
            .unwrap_or_else(|| user.to_string())
    }
}

pub struct Admin {
    meta: Arc<dyn MetadataStore>,
}

impl Admin {
    /// Opens the metadata store of a deployment, as `boxup serve` would.
    pub async fn open(data_dir: &Path, database_url: Option<&str>) -> Result<Self, AdminError> {
        Ok(Admin {
            meta: open_metadata(data_dir, database_url).await?,
        })
    }

    /// Adds a user (or finds the existing one). With `quota` (`Some(None)`:
    /// unlimited) it sets their quota; without, a new user is unlimited and
    /// an existing one keeps theirs.
    pub async fn add_user(
        &self,
        login: &str,
        name: Option<&str>,
        quota: Option<Option<u64>>,
    ) -> Result<UserSpace, AdminError> {
        if login.trim().is_empty() {
            return Err(AdminError::EmptyLogin);
        }
        let user = self.meta.ensure_user(login, name.unwrap_or(login)).await?;
        if let Some(quota) = quota {
            self.meta.set_space_amount(user.id, quota).await?;
        }
        self.space(user).await
    }

    pub async fn users(&self) -> Result<Vec<UserSpace>, AdminError> {
        let mut out = Vec::new();
        for user in self.meta.list_users().await? {
            out.push(self.space(user).await?);
        }
        Ok(out)
    }

    /// Sets (or with `None` lifts) a user's quota.
    pub async fn set_quota(
        &self,
        login: &str,
        quota: Option<u64>,
    ) -> Result<UserSpace, AdminError> {
        let user = self.user(login).await?;
        self.meta.set_space_amount(user.id, quota).await?;
        self.space(user).await
    }

    /// Issues a token for a user; its secret is in the answer and nowhere else.
    pub async fn create_token(
        &self,
        login: &str,
        label: &str,
        lifetime_secs: Option<i64>,
    ) -> Result<IssuedToken, AdminError> {
        let user = self.user(login).await?;
        Ok(issue_token(self.meta.as_ref(), &user, label, lifetime_secs).await?)
    }

    /// Tokens with the login of their user, of one user or of all.
    pub async fn tokens(
        &self,
        login: Option<&str>,
    ) -> Result<Vec<(TokenRecord, String)>, AdminError> {
        let filter = match login {
            Some(login) => Some(self.user(login).await?.id),
            None => None,
        };
        let tokens = self.meta.list_tokens(filter).await?;
        let logins = self.logins().await?;
        Ok(tokens
            .into_iter()
            .map(|t| {
                let login = logins.login(t.user);
                (t, login)
            })
            .collect())
    }

    /// Revokes a token by its public id: the next request with it is 401.
    pub async fn revoke_token(&self, id: &str) -> Result<(), AdminError> {
        if self.meta.revoke_token(id).await? {
            Ok(())
        } else {
            Err(AdminError::NoSuchToken(id.to_owned()))
        }
    }

    /// Makes a token stop working at `expires_at` (unix seconds; `None`:
    /// never), whatever its expiry was: to cut a token short, or to give
    /// one a deadline instead of revoking it at once.
    pub async fn set_token_expiry(
        &self,
        id: &str,
        expires_at: Option<i64>,
    ) -> Result<(), AdminError> {
        if self.meta.set_token_expiry(id, expires_at).await? {
            Ok(())
        } else {
            Err(AdminError::NoSuchToken(id.to_owned()))
        }
    }

    /// Adds an OAuth app acting as `login`, with a public key (PEM) for the
    /// JWT grant if given. The answer holds the client secret, shown once.
    pub async fn add_app(
        &self,
        name: &str,
        login: &str,
        public_key_pem: Option<&str>,
    ) -> Result<NewApp, AdminError> {
        let user = self.user(login).await?;
        if let Some(pem) = public_key_pem {
            let pem = pem.as_bytes();
            if jsonwebtoken::DecodingKey::from_rsa_pem(pem).is_err()
                && jsonwebtoken::DecodingKey::from_ec_pem(pem).is_err()
            {
                return Err(AdminError::BadPublicKey);
            }
        }
        let (client_secret, secret_phc) = new_client_secret();
        let app = AppRecord {
            client_id: hex::encode(rand::random::<[u8; 16]>()),
            name: name.to_owned(),
            user: user.id,
            secret_phc,
            public_key: public_key_pem
                .map(|pem| (hex::encode(rand::random::<[u8; 4]>()), pem.to_owned())),
            created_at: crate::service::now(),
        };
        self.meta.insert_app(&app).await?;
        Ok(NewApp {
            app,
            client_secret,
            user,
        })
    }

    /// Apps with the login of their user.
    pub async fn apps(&self) -> Result<Vec<(AppRecord, String)>, AdminError> {
        let apps = self.meta.list_apps().await?;
        let logins = self.logins().await?;
        Ok(apps
            .into_iter()
            .map(|a| {
                let login = logins.login(a.user);
                (a, login)
            })
            .collect())
    }

    /// Removes an app; the tokens it obtained keep working until they expire.
    pub async fn remove_app(&self, client_id: &str) -> Result<(), AdminError> {
        if self.meta.delete_app(client_id).await? {
            Ok(())
        } else {
            Err(AdminError::NoSuchApp(client_id.to_owned()))
        }
    }

    /// Every user's login, read once for a whole list.
    async fn logins(&self) -> Result<Logins, AdminError> {
        let users = self.meta.list_users().await?;
        Ok(Logins(users.into_iter().map(|u| (u.id, u.login)).collect()))
    }

    async fn user(&self, login: &str) -> Result<UserRecord, AdminError> {
        self.meta
            .find_user(login)
            .await?
            .ok_or_else(|| AdminError::NoSuchUser(login.to_owned()))
    }

    async fn space(&self, user: UserRecord) -> Result<UserSpace, AdminError> {
        Ok(UserSpace {
            quota: self.meta.space_amount(user.id).await?,
            used: self.meta.space_used(user.id).await?,
            user,
        })
    }
}
