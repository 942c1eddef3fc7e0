//! What `boxup admin` does to a deployment: users, their quotas, and the
//! access tokens they sign in with. It works on the metadata store
//! directly (the same SQLite file or PostgreSQL database the servers use),
//! so it needs no running server and no API of its own to protect; a
//! change is seen by every replica on its next request.

use std::path::Path;
use std::sync::Arc;

use crate::server::{ServerError, open_metadata};
use crate::service::tokens::{IssuedToken, issue_token};
use crate::store::{MetadataStore, StoreError, TokenRecord, UserRecord};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no user with login {0:?}")]
    NoSuchUser(String),
    #[error("no token with id {0:?}")]
    NoSuchToken(String),
    #[error("a login must not be empty")]
    EmptyLogin,
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

    /// Adds a user (or finds the existing one) and sets their quota.
    pub async fn add_user(
        &self,
        login: &str,
        name: Option<&str>,
        quota: Option<u64>,
    ) -> Result<UserSpace, AdminError> {
        if login.trim().is_empty() {
            return Err(AdminError::EmptyLogin);
        }
        let user = self.meta.ensure_user(login, name.unwrap_or(login)).await?;
        self.meta.set_space_amount(user.id, quota).await?;
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
        let mut out = Vec::new();
        for token in self.meta.list_tokens(filter).await? {
            let login = self
                .meta
                .get_user(token.user)
                .await?
                .map_or_else(|| token.user.to_string(), |u| u.login);
            out.push((token, login));
        }
        Ok(out)
    }

    /// Revokes a token by its public id: the next request with it is 401.
    pub async fn revoke_token(&self, id: &str) -> Result<(), AdminError> {
        if self.meta.revoke_token(id).await? {
            Ok(())
        } else {
            Err(AdminError::NoSuchToken(id.to_owned()))
        }
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
