//! Where the bearer token comes from.
//!
//! Every request asks a [`TokenProvider`] for a token just before it is
//! sent, so a provider that refreshes OAuth tokens can be dropped in later
//! without touching the request code. Only a static token (a Box developer
//! token, or a boxup server token) ships today.

use std::fmt;

use futures::future::BoxFuture;

use crate::error::Result;

/// A source of bearer tokens. Called once per request attempt, from any
/// task; implementations should cache.
pub trait TokenProvider: Send + Sync + 'static {
    /// The token to put in `Authorization: Bearer …`.
    fn token(&self) -> BoxFuture<'_, Result<String>>;
}

/// A fixed token. Its `Debug` output hides the value.
#[derive(Clone)]
pub struct StaticToken(String);

impl StaticToken {
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
