//! Where the bearer token comes from.
//!
//! Every request asks a [`TokenProvider`] for a token just before it is
//! sent, so a provider that refreshes OAuth tokens drops in without
//! touching the request code. When the server answers 401, the client asks
//! the provider once to [`refresh`](TokenProvider::refresh) and, if it got
//! a new token, sends the request again: the official SDKs do the same, so
//! a token that expires during a long upload does not fail it. Only a
//! static token (a Box developer token, or a boxup server token) ships
//! here; it never refreshes.

use std::fmt;

use futures::future::BoxFuture;

use crate::error::Result;

/// A source of bearer tokens. Called once per request attempt, from any
/// task; implementations should cache.
pub trait TokenProvider: Send + Sync + 'static {
    /// The token to put in `Authorization: Bearer …`.
    fn token(&self) -> BoxFuture<'_, Result<String>>;

    /// The server rejected `rejected` with a 401: obtain a new token if
    /// possible. `Ok(true)` means [`token`](Self::token) now returns a
    /// different one and the request is worth repeating; `Ok(false)` (the
    /// default) means the 401 stands. Several requests in flight may report
    /// the same rejected token at once: refresh once, and answer `true` to
    /// the others when the current token already differs from `rejected`.
    fn refresh<'a>(&'a self, rejected: &'a str) -> BoxFuture<'a, Result<bool>> {
        let _ = rejected;
        Box::pin(std::future::ready(Ok(false)))
    }
}

/// A fixed token. Its `Debug` output hides the value.
#[derive(Clone)]
pub struct StaticToken(String);

impl StaticToken {
    /// Wraps `token`, sent as `Authorization: Bearer <token>`.
    pub fn new(token: impl Into<String>) -> Self {
        StaticToken(token.into())
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(..)")
    }
}

impl TokenProvider for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<String>> {
        Box::pin(std::future::ready(Ok(self.0.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_token_hands_out_its_value_and_hides_it() {
        let t = StaticToken::new("secret");
        assert_eq!(t.token().await.unwrap(), "secret");
        assert!(!format!("{t:?}").contains("secret"));
    }
}
