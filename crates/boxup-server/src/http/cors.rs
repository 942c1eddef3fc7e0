//! Cross-origin access for browser pages hosted elsewhere (`--cors-origin`).
//!
//! Why this is not just `tower_http::cors::CorsLayer` on the router: Box has
//! a real API route on `OPTIONS`, the preflight *check* of an upload
//! (`OPTIONS /files/content` and `/files/{id}/content` with a JSON body,
//! docs/protocol.md §5.7). `CorsLayer` answers every `OPTIONS` itself as a
//! browser CORS preflight, so it would swallow that route: a page on an
//! allowed origin would get an empty 200 instead of `upload_url` or a 409.
//!
//! So the two are told apart by what only a browser preflight carries: it
//! is `OPTIONS` with both `Origin` and `Access-Control-Request-Method`
//! (browsers always send both; Box's check has neither method header).
//! - A browser preflight goes to `CorsLayer`, which answers it without
//!   reaching any route (no token is needed: browsers send none). From an
//!   allowed origin the answer lists the methods, headers and max age; from
//!   any other origin it carries no `Access-Control-*` header at all, so the
//!   browser refuses to send the real request.
//! - Every other request (Box's `OPTIONS` check included) goes to the
//!   routes; from an allowed origin the answer carries
//!   `Access-Control-Allow-Origin` (that exact origin) and
//!   `Access-Control-Expose-Headers`, so the page can read it.
//!
//! Both paths ask one function, [`CorsOrigins::allows`]. Origins are exact:
//! no `*`. Requests carry bearer tokens, so a wildcard would let any page
//! a user visits spend the token it holds; and no
//! `Access-Control-Allow-Credentials`, because no cookie authenticates.
//! With no origin configured this module is not in the stack at all.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;

/// How long a browser may cache a preflight answer.
const MAX_AGE: Duration = Duration::from_secs(600);

const METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::OPTIONS,
];

/// The request headers a page may send: those the server reads, and those
/// Box's SDKs and UI Elements add (`As-User`, `BoxApi`, `X-Box-UA`, …),
/// which would otherwise fail the preflight of every request they make.
const REQUEST_HEADERS: [&str; 15] = [
    "authorization",
    "content-type",
    "content-range",
    "content-md5",
    "digest",
    "if-match",
    "if-none-match",
    "range",
    "as-user",
    "boxapi",
    "user-agent",
    "x-box-ua",
    "x-box-client-name",
    "x-box-client-version",
    "x-request-id",
];

/// The response headers a page may read beyond the always-readable ones:
/// those the server sets.
const EXPOSED_HEADERS: &str = "etag, location, retry-after, digest, content-range, \
     content-disposition, content-length, accept-ranges, www-authenticate, box-request-id";

/// The origins whose pages may call the API, validated and written as
/// browsers send them in `Origin`. Empty: no CORS at all.
#[derive(Clone, Debug, Default)]
pub struct CorsOrigins(Arc<[HeaderValue]>);

impl CorsOrigins {
    /// Validates each origin: `http` or `https`, a host, an optional port,
    /// nothing else. The scheme and host are lowercased and a default port
    /// dropped, as in a browser's `Origin`, so that matching is exact.
    pub fn parse<S: AsRef<str>>(origins: &[S]) -> Result<Self, String> {
        let parsed = origins
            .iter()
            .map(|o| parse_origin(o.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CorsOrigins(parsed.into()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a page at `origin` (a request's `Origin`) may call the API:
    /// the one decision behind both preflights and other requests.
    pub fn allows(&self, origin: &HeaderValue) -> bool {
        self.0.iter().any(|o| o == origin)
    }
}

/// One origin, normalized; or why it is not one.
fn parse_origin(text: &str) -> Result<HeaderValue, String> {
    let refuse = |why: &str| format!("CORS origin '{text}' {why}");
    if text == "*" {
        return Err(refuse(
            "is not allowed: name each origin exactly (requests carry bearer tokens)",
        ));
    }
    let uri: Uri = text
        .parse()
        .map_err(|_| refuse("is not scheme://host[:port]"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(refuse("is not scheme://host[:port]"));
    };
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(refuse("must be http:// or https://")),
    };
    // Anything after the authority (a path, even `/`, or a query) is not
    // part of an origin, and a browser never sends one.
    if text.len() != scheme.len() + 3 + authority.as_str().len() {
        return Err(refuse(&format!(
            "has a path or query: an origin is scheme://host[:port], e.g. '{scheme}://{authority}'"
        )));
    }
    if authority.as_str().contains('@') {
        return Err(refuse("must not carry a user name"));
    }
    let host = authority.host().to_ascii_lowercase();
    if host.is_empty() {
        return Err(refuse("has no host"));
    }
    let port = match &authority.as_str()[authority.host().len()..] {
        "" => None,
        rest => Some(
            rest.strip_prefix(':')
                .and_then(|p| p.parse::<u16>().ok())
                .ok_or_else(|| refuse("has an invalid port"))?,
        ),
    };
    let origin = match port {
        Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    };
    HeaderValue::try_from(origin).map_err(|_| refuse("is not a valid header value"))
}

/// Wraps `app` in the CORS middleware, or returns it as it is when no
/// origin is allowed.
pub(super) fn wrap(app: Router, origins: CorsOrigins) -> Router {
    if origins.is_empty() {
        return app;
    }
    let preflight = preflight_layer(origins.clone());
    let cors = Cors { origins, preflight };
    app.layer(middleware::from_fn_with_state(cors, handle))
}

#[derive(Clone)]
struct Cors {
    origins: CorsOrigins,
    /// Answers browser preflights.
    preflight: CorsLayer,
}

fn preflight_layer(origins: CorsOrigins) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origins.allows(origin)
        }))
        .allow_methods(METHODS)
        .allow_headers(REQUEST_HEADERS.map(HeaderName::from_static))
        .max_age(MAX_AGE)
}

/// A browser's CORS preflight, as opposed to Box's `OPTIONS` preflight
/// check (which carries neither header of a browser's).
fn is_browser_preflight(request: &Request) -> bool {
    let h = request.headers();
    request.method() == Method::OPTIONS
        && h.contains_key(header::ORIGIN)
        && h.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

async fn handle(State(cors): State<Cors>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin.as_ref().is_some_and(|o| cors.origins.allows(o));
    if is_browser_preflight(&request) {
        // `CorsLayer` answers an `OPTIONS` itself: the handler it wraps is
        // never reached.
        let mut response = Handler::call(unreachable.layer(cors.preflight), request, ()).await;
        if !allowed {
            // For the operator whose page is refused: which origin to allow.
            if let Some(origin) = &origin {
                tracing::info!(?origin, "CORS preflight from an origin not allowed");
            }
            strip_cors_headers(response.headers_mut());
        }
        return response;
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // The answer depends on `Origin` whenever CORS is on: caches must not
    // hand one origin's answer to another.
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    if let (true, Some(origin)) = (allowed, origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
    response
}

/// `CorsLayer` lists the methods and headers even to an origin it refuses;
/// a refused origin learns nothing about the API.
fn strip_cors_headers(headers: &mut HeaderMap) {
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in names {
        headers.remove(name);
    }
}

/// Behind `CorsLayer`, which answers every `OPTIONS` it is given.
async fn unreachable() -> ApiError {
    ApiError::internal("a CORS preflight reached past the CORS layer")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<String, String> {
        parse_origin(text).map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn origins_are_normalized_as_browsers_send_them() {
        assert_eq!(one("http://app.example").unwrap(), "http://app.example");
        assert_eq!(one("HTTPS://App.Example").unwrap(), "https://app.example");
        assert_eq!(
            one("https://app.example:443").unwrap(),
            "https://app.example"
        );
        assert_eq!(one("http://app.example:80").unwrap(), "http://app.example");
        assert_eq!(
            one("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(one("http://[::1]:3000").unwrap(), "http://[::1]:3000");
    }

    #[test]
    fn anything_but_an_origin_is_refused() {
        for bad in [
            "*",
            "null",
            "",
            "app.example",
            "ftp://x",
            "http://x/",
            "http://x/path",
            "http://x?q=1",
            "http://user@x",
            "http://x:99999",
            "http://x:",
            "http://",
        ] {
            let err = one(bad).expect_err(bad);
            assert!(err.contains(&format!("'{bad}'")), "{err}");
        }
    }

    #[test]
    fn matching_is_exact() {
        let origins =
            CorsOrigins::parse(&["https://App.example", "http://b.example:8080"]).unwrap();
        let allows = |o: &'static str| origins.allows(&HeaderValue::from_static(o));
        assert!(allows("https://app.example"));
        assert!(allows("http://b.example:8080"));
        assert!(!allows("http://app.example"));
        assert!(!allows("https://app.example.evil"));
        assert!(!allows("http://b.example"));
        assert!(!allows("null"));
        assert!(CorsOrigins::parse::<&str>(&[]).unwrap().is_empty());
    }
}
