//! `--cors-origin` over HTTP, against a real server: a browser's CORS
//! preflight is answered by the CORS layer (no token, no route), while
//! Box's own `OPTIONS /files/content` preflight check still reaches its
//! route from a browser page, and every answer to an allowed origin
//! carries the headers a page needs to read it.

#[path = "http/common/mod.rs"]
mod common;

use boxup_server::ServerOptions;
use boxup_server::server::{Server, ServerError};
use common::{ALICE, API, TestServer, expect_error_any, expect_json};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Response};
use serde_json::json;

const APP: &str = "http://app.example";
const EVIL: &str = "http://evil.example";

async fn with_cors() -> TestServer {
    TestServer::start(|o| o.cors_origins = vec![APP.into()]).await
}

/// A browser's preflight for a cross-origin `POST` with a token and JSON.
async fn browser_preflight(t: &TestServer, path: &str, origin: &str) -> Response {
    let rb = t
        .client
        .request(Method::OPTIONS, t.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        );
    t.send(rb).await
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .map(|v| v.to_str().expect("a text header"))
}

/// The comma-separated items of a header, lowercased, over all its lines.
fn items(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v: &HeaderValue| v.to_str().expect("a text header").split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn assert_no_cors(headers: &HeaderMap) {
    let cors: Vec<_> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "unexpected CORS headers {cors:?}");
}

/// The headers of an answer a page at `APP` may read.
fn assert_readable_by_app(headers: &HeaderMap) {
    assert_eq!(header(headers, "access-control-allow-origin"), Some(APP));
    assert!(items(headers, "vary").contains(&"origin".into()));
    let exposed = items(headers, "access-control-expose-headers");
    for name in [
        "etag",
        "location",
        "retry-after",
        "digest",
        "box-request-id",
    ] {
        assert!(exposed.contains(&name.into()), "{name} not in {exposed:?}");
    }
    assert!(headers.get("access-control-allow-credentials").is_none());
}

/// The body of Box's preflight check for a new file in the root.
fn preflight_check_body() -> serde_json::Value {
    json!({"name": "a.txt", "parent": {"id": "0"}, "size": 5})
}

#[tokio::test]
async fn browser_preflight_from_an_allowed_origin_is_answered_without_a_token() {
    let t = with_cors().await;
    for path in ["/2.0/files/upload_sessions", "/2.0/files/content"] {
        let resp = browser_preflight(&t, path, APP).await;
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let h = resp.headers();
        assert_eq!(header(h, "access-control-allow-origin"), Some(APP));
        let methods = items(h, "access-control-allow-methods");
        for m in ["get", "head", "post", "put", "delete", "options"] {
            assert!(methods.contains(&m.into()), "{m} not in {methods:?}");
        }
        let allowed = items(h, "access-control-allow-headers");
        for name in ["authorization", "content-type", "content-range", "digest"] {
            assert!(allowed.contains(&name.into()), "{name} not in {allowed:?}");
        }
        assert_eq!(header(h, "access-control-max-age"), Some("600"));
        assert!(items(h, "vary").contains(&"origin".into()));
        assert!(h.get("access-control-allow-credentials").is_none());
        assert!(h.get("box-request-id").is_some(), "every answer has an id");
        // Answered by the CORS layer, not by a route: no Box JSON.
        assert!(resp.text().await.unwrap().is_empty(), "{path}");
    }
    t.stop().await;
}

#[tokio::test]
async fn browser_preflight_from_another_origin_gets_no_cors_headers() {
    let t = with_cors().await;
    let resp = browser_preflight(&t, "/2.0/files/upload_sessions", EVIL).await;
    assert_no_cors(resp.headers());
    // Nor did it reach the routes (which would want a token).
    assert_ne!(resp.status(), 401);
    assert!(resp.text().await.unwrap().is_empty());
    t.stop().await;
}

#[tokio::test]
async fn box_preflight_check_from_an_allowed_origin_reaches_its_route() {
    let t = with_cors().await;
    for path in ["/2.0/files/content", "/api/2.0/files/content/"] {
        let rb = t
            .req(Method::OPTIONS, ALICE, path)
            .header("origin", APP)
            .json(&preflight_check_body());
        let resp = t.send(rb).await;
        assert_readable_by_app(resp.headers());
        let v = expect_json(resp, 200).await;
        let url = v["upload_url"].as_str().expect("upload_url");
        assert!(url.contains("/files/content?upload_session_id="), "{url}");
    }

    // The check of a new version, on `/files/{id}/content`.
    let file = t.upload_file(ALICE, "0", "v.txt", b"hello").await;
    let id = common::id(&file);
    let rb = t
        .req(Method::OPTIONS, ALICE, &format!("{API}/files/{id}/content"))
        .header("origin", APP)
        .json(&json!({"size": 7}));
    let resp = t.send(rb).await;
    assert_readable_by_app(resp.headers());
    expect_json(resp, 200).await;

    // Without a token: the route's 401, in Box's error object.
    let rb = t
        .client
        .request(Method::OPTIONS, t.url("/2.0/files/content"))
        .header("origin", APP)
        .json(&preflight_check_body());
    let resp = t.send(rb).await;
    assert_readable_by_app(resp.headers());
    expect_error_any(resp, 401).await;

    // A taken name: the route's 409, which the page can read too.
    let rb = t
        .req(Method::OPTIONS, ALICE, "/2.0/files/content")
        .header("origin", APP)
        .json(&json!({"name": "v.txt", "parent": {"id": "0"}, "size": 5}));
    let resp = t.send(rb).await;
    assert_readable_by_app(resp.headers());
    expect_error_any(resp, 409).await;
    t.stop().await;
}

#[tokio::test]
async fn requests_from_an_allowed_origin_are_readable_and_others_are_not() {
    let t = with_cors().await;
    let resp = t
        .send(
            t.req(Method::GET, ALICE, "/2.0/users/me")
                .header("origin", APP),
        )
        .await;
    assert_readable_by_app(resp.headers());
    expect_json(resp, 200).await;

    // Served (a non-browser client may send any Origin), but a browser
    // page at another origin cannot read it.
    let resp = t
        .send(
            t.req(Method::GET, ALICE, "/2.0/users/me")
                .header("origin", EVIL),
        )
        .await;
    assert_no_cors(resp.headers());
    assert!(items(resp.headers(), "vary").contains(&"origin".into()));
    expect_json(resp, 200).await;

    // No Origin (not a browser): no CORS headers either.
    let resp = t.get(ALICE, "/2.0/users/me").await;
    assert_no_cors(resp.headers());
    expect_json(resp, 200).await;

    // Errors are readable too: the page must see Box's error object.
    let resp = t
        .send(
            t.req(Method::GET, ALICE, "/2.0/files/999999")
                .header("origin", APP),
        )
        .await;
    assert_readable_by_app(resp.headers());
    expect_error_any(resp, 404).await;
    t.stop().await;
}

#[tokio::test]
async fn without_cors_origins_an_options_with_origin_is_the_route() {
    let t = TestServer::start(|_| ()).await;
    // Shaped like a browser preflight, but no origin is allowed: the
    // server behaves as it always did, so this is Box's preflight check.
    let rb = t
        .client
        .request(Method::OPTIONS, t.url("/2.0/files/content"))
        .header("origin", APP)
        .header("access-control-request-method", "POST")
        .json(&preflight_check_body());
    let resp = t.send(rb).await;
    assert_no_cors(resp.headers());
    assert!(resp.headers().get("vary").is_none());
    expect_error_any(resp, 401).await;

    let resp = t
        .send(
            t.req(Method::GET, ALICE, "/2.0/users/me")
                .header("origin", APP),
        )
        .await;
    assert_no_cors(resp.headers());
    expect_json(resp, 200).await;
    t.stop().await;
}

#[tokio::test]
async fn a_bad_cors_origin_fails_at_start_up() {
    for bad in ["*", "ftp://x", "http://x/path", "http://x/", "app.example"] {
        let tmp = tempfile::tempdir().unwrap();
        let data_dir = tmp.path().join("data");
        let mut o = ServerOptions::new(&data_dir);
        o.bind = "127.0.0.1:0".parse().unwrap();
        o.cors_origins = vec![APP.into(), bad.into()];
        let err = match Server::open(o).await {
            Ok(_) => panic!("{bad} accepted"),
            Err(e) => e,
        };
        assert!(matches!(err, ServerError::Config(_)), "{bad}: {err:?}");
        let message = err.to_string();
        assert!(message.contains(&format!("'{bad}'")), "{message}");
        assert!(message.contains("CORS origin"), "{message}");
        // Refused before the data directory is touched.
        assert!(!data_dir.exists(), "{bad}");
    }
}
