//! [`ClientBuilder`]: the settings of a [`BoxClient`] (URLs, auth,
//! timeouts, retries, user agent, HTTP client) and their checks at build
//! time.

use std::sync::Arc;
use std::time::Duration;

use super::{BaseUrls, BoxClient, Inner, RetryConfig, parse_urls};
use crate::auth::{StaticToken, TokenProvider};
use crate::error::{Error, Result};

/// Settings for a [`BoxClient`].
pub struct ClientBuilder {
    urls: BaseUrls,
    auth: Option<Arc<dyn TokenProvider>>,
    connect_timeout: Duration,
    request_timeout: Option<Duration>,
    part_timeout: Option<Duration>,
    retry: RetryConfig,
    user_agent: String,
    http: Option<reqwest::Client>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            urls: BaseUrls::default(),
            auth: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(60)),
            part_timeout: Some(Duration::from_secs(600)),
            retry: RetryConfig::default(),
            user_agent: format!("boxup-client/{}", env!("CARGO_PKG_VERSION")),
            http: None,
        }
    }
}

impl ClientBuilder {
    /// Authenticate with a fixed bearer token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.auth = Some(Arc::new(StaticToken::new(token)));
        self
    }

    /// Authenticate through a custom [`TokenProvider`].
    pub fn token_provider(mut self, provider: Arc<dyn TokenProvider>) -> Self {
        self.auth = Some(provider);
        self
    }

    /// Both roots at once (default: Box's hosts); see
    /// [`BaseUrls::single_origin`] for a boxup server.
    pub fn base_urls(mut self, urls: BaseUrls) -> Self {
        self.urls = urls;
        self
    }

    /// The metadata root only (without `/2.0`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.urls.base_url = url.into();
        self
    }

    /// The upload root only (without `/2.0`).
    pub fn upload_url(mut self, url: impl Into<String>) -> Self {
        self.urls.upload_url = url.into();
        self
    }

    /// TCP + TLS connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whole-request timeout of the JSON calls (default 60 s, `None` for
    /// none).
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Whole-request timeout of one part upload attempt (default 10 min,
    /// `None` for none). A part too large to go up at 32 KiB/s within it
    /// gets the time it needs at that rate instead. A timed-out attempt is
    /// retried.
    pub fn part_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.part_timeout = timeout;
        self
    }

    /// When failed requests are retried (default [`RetryConfig::default`]:
    /// 5 attempts).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent` header (default `boxup-client/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Use this `reqwest::Client` (and its pool) instead of building one;
    /// `connect_timeout` and `user_agent` are then the caller's business.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The client. Fails with [`Error::InvalidInput`] without a token or
    /// token provider, or with a base URL that is not an http(s) URL.
    pub fn build(self) -> Result<BoxClient> {
        let auth = self
            .auth
            .ok_or_else(|| Error::InvalidInput("a token or token provider is required".into()))?;
        let upload_url = parse_urls(&self.urls)?;
        if self.retry.max_attempts == 0 {
            return Err(Error::InvalidInput(
                "retry.max_attempts must be at least 1".into(),
            ));
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .user_agent(self.user_agent)
                .build()
                .map_err(|e| Error::InvalidInput(format!("cannot build the HTTP client: {e}")))?,
        };
        Ok(BoxClient {
            inner: Arc::new(Inner {
                http,
                upload_url,
                urls: self.urls,
                auth,
                retry: self.retry,
                request_timeout: self.request_timeout,
                part_timeout: self.part_timeout,
            }),
        })
    }
}
