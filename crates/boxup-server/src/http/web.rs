//! The page for people (crate `boxup-web`): `/` and `/web/<file>`, outside
//! the API's `/2.0` and `/api/2.0` prefixes so that no route can collide.
//!
//! Every answer carries a strict Content-Security-Policy: scripts and
//! styles only from this origin (no inline code at all), WebAssembly for
//! the SHA-1 worker, requests only to this origin, no framing, no plugins,
//! no forms, and Trusted Types, so that a DOM sink fed a string by mistake
//! throws instead of running it. Assets are revalidated by ETag rather
//! than cached blindly, so an upgraded server never serves a stale page.
//!
//! `POST /web/dev-token` hands the development token to the page, but only
//! to a browser on the server's own machine talking to it directly (see
//! [`dev_token`]); everywhere else the page asks for a token to be pasted.

use std::sync::OnceLock;

use axum::Extension;
use axum::extract::State;
use axum::extract::connect_info::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header as h};
use axum::response::{IntoResponse, Response};
use boxup_protocol::ErrorKind;
use boxup_web::Asset;
use sha1::{Digest, Sha1};

use super::AppState;
use super::extract::{Id, forwarded, header};
use crate::error::{ApiError, ApiResult};

/// The page's Content-Security-Policy. `'wasm-unsafe-eval'` lets the hash
/// worker compile its WebAssembly SHA-1 and nothing else: no `eval`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
    script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; \
    style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'; require-trusted-types-for 'script'; \
    trusted-types boxup-worker";

/// The peer of a connection, as the server accepted it.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// `GET /`.
pub(super) async fn index(headers: HeaderMap) -> Response {
    serve(boxup_web::INDEX, &headers)
}

/// `GET /web/{name}`: a file of the bundle, looked up by exact name.
pub(super) async fn asset(Id(name): Id, headers: HeaderMap) -> ApiResult<Response> {
    let asset = boxup_web::asset(&name).ok_or_else(ApiError::not_found)?;
    Ok(serve(asset, &headers))
}

fn serve(asset: &'static Asset, request: &HeaderMap) -> Response {
    let etag = etag(asset);
    let fresh = header(request, "if-none-match")
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = asset.bytes.into_response();
        r.headers_mut().insert(
            h::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        r
    };
    let out = response.headers_mut();
    out.insert(h::ETAG, HeaderValue::from_str(etag).expect("hex in quotes"));
    out.insert(h::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secure(out);
    response
}

/// The headers every answer of the page carries.
fn secure(out: &mut HeaderMap) {
    out.insert(
        h::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    out.insert(
        h::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(h::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    out.insert(h::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    out.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    out.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    out.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
}

/// A strong ETag per asset: the SHA-1 of its bytes, computed once.
fn etag(asset: &'static Asset) -> &'static str {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        boxup_web::ASSETS
            .iter()
            .map(|a| format!("\"{}\"", hex::encode(Sha1::digest(a.bytes))))
            .collect()
    });
    let i = boxup_web::ASSETS
        .iter()
        .position(|a| a.name == asset.name)
        .expect("assets come from the bundle");
    &tags[i]
}

/// `POST /web/dev-token`: `{"token": …}` when the server runs on its
/// generated development token and the request is, beyond doubt, the page
/// in a browser on this machine:
/// - the connection comes from a loopback address,
/// - the `Host` is a loopback name (a proxy on this machine forwarding
///   someone else's request would send its public name, or forwarding
///   headers, which refuse the offer too),
/// - the `Origin` is this server's own (a page of another site cannot ask).
///
/// Anything else is 404, as if the route did not exist.
pub(super) async fn dev_token(
    State(s): State<AppState>,
    peer: Option<Extension<ConnectInfo<PeerAddr>>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let refused = || ApiError::new(ErrorKind::NotFound, "No such endpoint");
    let token = s.dev_token.as_deref().ok_or_else(refused)?;
    let Some(Extension(ConnectInfo(PeerAddr(peer)))) = peer else {
        return Err(refused());
    };
    let host = header(&headers, "host").unwrap_or("");
    let forwarded = forwarded(&headers);
    let mut origins = headers.get_all(h::ORIGIN).iter();
    let own_origin = match (origins.next(), origins.next()) {
        (Some(origin), None) => origin.to_str().is_ok_and(|o| {
            o.strip_prefix("http://")
                .or_else(|| o.strip_prefix("https://"))
                == Some(host)
        }),
        _ => false,
    };
    if !peer.ip().is_loopback() || !is_loopback_host(host) || forwarded || !own_origin {
        return Err(refused());
    }
    let mut response = axum::Json(serde_json::json!({ "token": token })).into_response();
    let out = response.headers_mut();
    out.insert(h::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    secure(out);
    Ok(response)
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "127.9.9.9",
            "[::1]:80",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "example.com",
            "10.0.0.1:80",
            "localhost.example.com",
            "[::2]:80",
            "127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
