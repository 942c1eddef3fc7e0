//! `GET /metrics`: the Prometheus scrape (series in `crate::metrics`).
//!
//! Metrics tell who uploads how much and when, so they are not public:
//! - with a metrics token configured (`--metrics-token-file`), a scrape
//!   needs `Authorization: Bearer <metrics token>`, compared in constant
//!   time (as SHA-256 digests, so neither length nor content leaks);
//! - without one, only a connection from a loopback address may scrape,
//!   and not through a proxy (a request with forwarding headers came from
//!   somewhere else).
//!
//! Anything else is 404, Box's error object, as if the route did not exist.
//! The API's user tokens never open `/metrics`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::extract::connect_info::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, header as h};
use axum::response::{IntoResponse, Response};
use boxup_protocol::{BoxError, ErrorKind};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::extract::{forwarded, header};
use super::{AppState, PeerAddr};
use crate::error::{ApiError, ApiResult};

/// Who may scrape `/metrics`.
#[derive(Clone)]
pub enum MetricsAccess {
    /// Connections from a loopback address only.
    Loopback,
    /// Whoever presents the token with this SHA-256 digest.
    Token(Arc<[u8; 32]>),
}

impl MetricsAccess {
    pub fn token(token: &str) -> Self {
        MetricsAccess::Token(Arc::new(Sha256::digest(token.as_bytes()).into()))
    }
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsAccess::Loopback => f.write_str("Loopback"),
            MetricsAccess::Token(_) => f.write_str("Token(…)"),
        }
    }
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", tag = "Operations",
    responses((status = 200, description = "The series, in the OpenMetrics text format",
            content_type = "application/openmetrics-text", body = String),
        (status = 404, description = "Not the metrics token, or not a loopback peer: \
            as if the route did not exist", body = BoxError)),
    security(("metricsToken" = []), ()))]
pub(super) async fn scrape(
    State(s): State<AppState>,
    peer: Option<Extension<ConnectInfo<PeerAddr>>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let allowed = match &s.metrics_access {
        MetricsAccess::Token(digest) => bearer(&headers).is_some_and(|token| {
            let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            bool::from(presented.ct_eq(digest.as_ref()))
        }),
        MetricsAccess::Loopback => {
            let forwarded = forwarded(&headers);
            let local = peer.is_some_and(|Extension(ConnectInfo(PeerAddr(addr)))| {
                addr.ip().is_loopback() || addr.ip().to_canonical().is_loopback()
            });
            local && !forwarded
        }
    };
    if !allowed {
        return Err(ApiError::new(ErrorKind::NotFound, "No such endpoint"));
    }
    let mut response = s.service.scrape().await.into_response();
    let out = response.headers_mut();
    out.insert(
        h::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    out.insert(h::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The bearer token of `Authorization`, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    header(headers, "authorization")
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}
