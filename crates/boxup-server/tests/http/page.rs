//! The page for people at `/` and `/web/…`: served from the embedded
//! bundle with its security headers, revalidated by ETag, never looked up
//! on disk; the development token offered only to the page on loopback;
//! and HEAD on a file's content pointing at boxup's own download link,
//! which the page follows to download.

use boxup_server::CONTENT_SECURITY_POLICY;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn the_page_and_its_files_carry_a_strict_policy_and_revalidate() {
    let s = TestServer::start(|_| {}).await;
    let page = s.send(s.client.get(s.url("/"))).await;
    assert_eq!(page.status(), 200);
    let h = page.headers().clone();
    assert_eq!(h[CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(h["content-security-policy"], CONTENT_SECURITY_POLICY);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let body = page.text().await.unwrap();
    assert!(body.contains("/web/app.js"), "{body}");

    let etag = h[ETAG].to_str().unwrap().to_owned();
    let again = s
        .send(s.client.get(s.url("/")).header(IF_NONE_MATCH, &etag))
        .await;
    assert_eq!(again.status(), 304);
    assert_eq!(
        again.headers()["content-security-policy"],
        CONTENT_SECURITY_POLICY
    );

    let script = s.send(s.client.get(s.url("/web/app.js"))).await;
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()[CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_ne!(script.headers()[ETAG].to_str().unwrap(), etag);
    let worker = s.send(s.client.get(s.url("/web/hash-worker.js"))).await;
    assert_eq!(
        worker.headers()["content-security-policy"],
        CONTENT_SECURITY_POLICY
    );
    s.stop().await;
}

#[tokio::test]
async fn only_files_of_the_bundle_are_served() {
    let s = TestServer::start(|_| {}).await;
    for path in [
        "/web/nope.js",
        "/web/..%2Fmetadata.sqlite3",
        "/web/%2e%2e%2fsigning-key",
        "/web/APP.JS",
        "/web/dev-token",
        "/index.html",
    ] {
        let resp = s.send(s.client.get(s.url(path))).await;
        let status = resp.status().as_u16();
        assert!(status == 404 || status == 405, "{path}: {status}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["type"], "error", "{path}: {v}");
    }
    // The API keeps its own answers under both prefixes.
    let me = s.get(ALICE, "/2.0/users/me").await;
    assert_eq!(me.status(), 200);
    s.stop().await;
}

/// `POST /web/dev-token` as the page in a browser on this machine sends it.
fn ask(s: &TestServer) -> reqwest::RequestBuilder {
    ask_from(s, &s.base)
}

fn ask_from(s: &TestServer, origin: &str) -> reqwest::RequestBuilder {
    s.client
        .post(s.url("/web/dev-token"))
        .header("origin", origin)
}

#[tokio::test]
async fn the_dev_token_is_offered_to_the_page_on_loopback_only() {
    let s = TestServer::start(|o| o.tokens.clear()).await;
    let resp = s.send(ask(&s)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let token = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = s.get(&token, "/2.0/users/me").await;
    assert_eq!(me.status(), 200);

    let port = s.base.rsplit(':').next().unwrap().to_owned();
    let refusals = [
        ("no origin", s.client.post(s.url("/web/dev-token"))),
        ("another site", ask_from(&s, "http://evil.example")),
        ("another port", ask_from(&s, "http://127.0.0.1:1")),
        (
            "two origins",
            ask(&s).header("origin", "http://evil.example"),
        ),
        (
            "forwarded",
            ask(&s).header("x-forwarded-for", "203.0.113.9"),
        ),
        (
            "forwarded (RFC 7239)",
            ask(&s).header("forwarded", "for=203.0.113.9"),
        ),
        (
            "public host name",
            ask_from(&s, &format!("http://files.example.com:{port}"))
                .header("host", format!("files.example.com:{port}")),
        ),
    ];
    for (why, rb) in refusals {
        let resp = s.send(rb).await;
        assert_eq!(resp.status(), 404, "{why}");
        expect_error(resp, 404, "not_found").await;
    }
    let get = s.send(s.client.get(s.url("/web/dev-token"))).await;
    assert_eq!(get.status(), 405);
    s.stop().await;
}

#[tokio::test]
async fn configured_tokens_mean_no_dev_token_to_offer() {
    let s = TestServer::start(|_| {}).await;
    expect_error(s.send(ask(&s)).await, 404, "not_found").await;
    s.stop().await;
}

#[tokio::test]
async fn head_on_content_leads_to_the_bytes_headers() {
    let s = TestServer::start(|_| {}).await;
    let data = data(1000, 7);
    let file = s.upload_file(ALICE, "0", "head.bin", &data).await;
    let path = format!("/2.0/files/{}/content", id(&file));
    let no_redirects = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let head = no_redirects
        .request(Method::HEAD, s.url(&path))
        .bearer_auth(ALICE)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 302);
    let link = head.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("{}/downloads/", s.base)),
        "{link}"
    );
    let followed = s.send(s.client.head(&link)).await;
    assert_eq!(followed.status(), 200);
    assert_eq!(followed.headers()["content-length"], "1000");
    assert_eq!(
        followed.headers()["digest"],
        format!("sha={}", sha1_b64(&data))
    );
    // Someone else's file stays unknown, by HEAD as by GET.
    let foreign = s.send(s.req(Method::HEAD, BOB, &path)).await;
    assert_eq!(foreign.status(), 404);
    s.stop().await;
}
