//! `BoxClient`: base URLs, auth, timeouts, retry policy and the one HTTP
//! connection pool, behind an `Arc` so that clones are cheap and share it.
//!
//! The base URLs follow the official generated SDKs' `BaseUrls`: they stop
//! before `/2.0` (`https://api.box.com`, `https://upload.box.com/api`), and
//! each operation appends `/2.0/...`. Pointing the client at a boxup server
//! is `base_url = http://HOST:PORT`, `upload_url = http://HOST:PORT/api`.

mod builder;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::auth::TokenProvider;
use crate::chunked::ChunkedUploadsManager;
use crate::error::{Error, Result};

pub use builder::ClientBuilder;

/// Box's API host (metadata calls).
pub const DEFAULT_BASE_URL: &str = "https://api.box.com";
/// Box's upload host; every upload-session call goes here.
pub const DEFAULT_UPLOAD_URL: &str = "https://upload.box.com/api";

/// The two roots every request URL is built from, without `/2.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrls {
    /// Root of the metadata calls (files, folders, downloads), e.g.
    /// `https://api.box.com`.
    pub base_url: String,
    /// Root of the upload calls (sessions, parts, commits, simple
    /// uploads), e.g. `https://upload.box.com/api`.
    pub upload_url: String,
}

impl Default for BaseUrls {
    fn default() -> Self {
        BaseUrls {
            base_url: DEFAULT_BASE_URL.to_owned(),
            upload_url: DEFAULT_UPLOAD_URL.to_owned(),
        }
    }
}

impl BaseUrls {
    /// Both roots on one origin, the way a boxup server serves them:
    /// `origin` for the API and `origin/api` for uploads.
    pub fn single_origin(origin: &str) -> Self {
        let origin = origin.trim_end_matches('/');
        BaseUrls {
            base_url: origin.to_owned(),
            upload_url: format!("{origin}/api"),
        }
    }
}

/// When and how often a failed request is tried again.
///
/// Retries cover 5xx, 429, 202 on commit and transport errors (see
/// [`Error::is_retryable`]). Delays grow exponentially from `min_delay` up
/// to `max_delay`, with random jitter. A server's `Retry-After` replaces
/// the computed delay (capped at `max_retry_after`); with `jitter` on, a
/// random extra of up to a tenth of it (at least `min_delay`) is added,
/// so that clients sent the same `Retry-After` do not return in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryConfig {
    /// Attempts in total, the first included (the official SDKs use 5).
    pub max_attempts: u32,
    /// The delay before the first retry (default 1 s); later ones double.
    pub min_delay: Duration,
    /// The longest computed delay (default 30 s).
    pub max_delay: Duration,
    /// Randomise delays, so that many clients failing together do not
    /// retry in step (default on).
    pub jitter: bool,
    /// The longest `Retry-After` honoured as sent.
    pub max_retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 5,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            jitter: true,
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryConfig {
    /// One attempt, no retries.
    pub fn none() -> Self {
        RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        }
    }

    pub(crate) fn backoff(&self) -> backon::ExponentialBuilder {
        let b = backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay.max(self.min_delay))
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        if self.jitter { b.with_jitter() } else { b }
    }
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) upload_url: Url,
    pub(crate) urls: BaseUrls,
    pub(crate) auth: Arc<dyn TokenProvider>,
    pub(crate) retry: RetryConfig,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) part_timeout: Option<Duration>,
}

/// A Box API client. Clone it freely: clones share the connection pool,
/// the token provider and the settings.
///
/// ```no_run
/// # async fn example() -> Result<(), boxup_client::Error> {
/// use boxup_client::{BaseUrls, BoxClient};
/// // The real Box:
/// let box_com = BoxClient::new("DEVELOPER_TOKEN")?;
/// // A boxup server:
/// let local = BoxClient::builder()
///     .token("TOKEN")
///     .base_urls(BaseUrls::single_origin("http://127.0.0.1:8080"))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BoxClient {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for BoxClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxClient")
            .field("base_urls", &self.inner.urls)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl BoxClient {
    /// A client for the real Box with a static (developer) token and every
    /// default.
    pub fn new(token: impl Into<String>) -> Result<Self> {
        BoxClient::builder().token(token).build()
    }

    /// A builder, for other hosts (a boxup server), a custom token
    /// provider, timeouts or retries.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The chunked-upload operations.
    pub fn chunked_uploads(&self) -> ChunkedUploadsManager {
        ChunkedUploadsManager::new(self.clone())
    }

    /// The roots this client's request URLs are built from.
    pub fn base_urls(&self) -> &BaseUrls {
        &self.inner.urls
    }

    /// The same client (pool, auth, settings) aimed at other hosts, as the
    /// SDKs' `with_custom_base_urls`.
    pub fn with_base_urls(&self, urls: BaseUrls) -> Result<Self> {
        let upload_url = parse_urls(&urls)?;
        let i = &self.inner;
        Ok(BoxClient {
            inner: Arc::new(Inner {
                http: i.http.clone(),
                upload_url,
                urls,
                auth: i.auth.clone(),
                retry: i.retry.clone(),
                request_timeout: i.request_timeout,
                part_timeout: i.part_timeout,
            }),
        })
    }

    /// `{upload_url}/2.0/{segments...}`, each segment percent-encoded.
    pub(crate) fn upload_endpoint(&self, segments: &[&str]) -> Url {
        endpoint(&self.inner.upload_url, segments)
    }
}

fn endpoint(root: &Url, segments: &[&str]) -> Url {
    let mut url = root.clone();
    url.path_segments_mut()
        .expect("base URLs are checked to be hierarchical at build time")
        .pop_if_empty()
        .push("2.0")
        .extend(segments);
    url
}

/// Checks both roots; returns the parsed upload root (the only one the
/// upload-session operations use).
fn parse_urls(urls: &BaseUrls) -> Result<Url> {
    let parse = |what: &str, s: &str| {
        let url = Url::parse(s).map_err(|e| Error::InvalidInput(format!("{what} {s:?}: {e}")))?;
        if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
            return Err(Error::InvalidInput(format!(
                "{what} {s:?} is not an http(s) URL"
            )));
        }
        Ok(url)
    };
    parse("base_url", &urls.base_url)?;
    parse("upload_url", &urls.upload_url)
}

#[cfg(test)]
mod tests;
