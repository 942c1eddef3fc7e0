//! The HTTP boundary: axum routes (all in [`routes`]), extractors that turn
//! every malformed input into Box's error object, and thin handlers.

mod access;
mod cors;
mod downloads;
mod drain;
mod extract;
mod files;
mod folders;
mod metrics;
mod multipart;
mod oauth;
mod openapi;
pub(crate) mod request_id;
mod routes;
mod sessions;
mod web;

use std::collections::HashMap;
use std::sync::Arc;

pub use crate::rate_limit::{RateLimit, UserRateLimiter};
pub use cors::CorsOrigins;
pub use metrics::MetricsAccess;
pub use routes::{route_paths, router};
pub use web::{CONTENT_SECURITY_POLICY, PeerAddr};

use crate::service::UploadService;
use crate::store::UserRecord;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub service: UploadService,
    /// Bearer token → user.
    pub tokens: Arc<HashMap<String, UserRecord>>,
    /// The origin clients use to reach this server (e.g.
    /// `https://files.example.com`); derived from each request when unset.
    pub public_url: Option<String>,
    /// The generated development token, when no tokens are configured: the
    /// page offers it to a browser on this machine (`web.rs`).
    pub dev_token: Option<Arc<str>>,
    /// The origins of pages hosted elsewhere that may call the API from a
    /// browser; empty (the default): no CORS headers at all.
    pub cors_origins: CorsOrigins,
    /// Each user's request budget (`--rate-limit`); `None`: unlimited.
    pub rate_limiter: Option<Arc<UserRateLimiter>>,
    /// Who may scrape `/metrics`.
    pub metrics_access: MetricsAccess,
}
