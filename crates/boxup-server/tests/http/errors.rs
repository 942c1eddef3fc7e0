//! Error catalogue (docs/protocol.md §6), part one: authentication, routing,
//! request parsing, session ids and expiry.
//! Every answer is checked for the full error-object shape.

use crate::common::*;
use reqwest::Method;
use serde_json::json;

const SESSIONS: &str = "/api/2.0/files/upload_sessions";

#[tokio::test]
async fn missing_or_invalid_token_is_401_with_www_authenticate() {
    let t = TestServer::start(|_| {}).await;
    let sid = "F971964745A5CD0C001BBE4E58196BFD";
    let routes = [
        (Method::GET, "/2.0/folders/0".to_owned()),
        (Method::GET, "/2.0/files/1".to_owned()),
        (Method::POST, SESSIONS.to_owned()),
        (Method::PUT, format!("{SESSIONS}/{sid}")),
        (Method::GET, format!("{SESSIONS}/{sid}/parts")),
        (Method::POST, "/api/2.0/files/content".to_owned()),
        (Method::OPTIONS, "/2.0/files/content".to_owned()),
    ];
    for (method, path) in routes {
        let auths: [Option<&str>; 5] = [
            None,
            Some("Bearer wrong"),
            Some("Bearer"),
            Some("Basic YWxpY2U6eA=="),
            Some(ALICE),
        ];
        for auth in auths {
            let mut rb = t.client.request(method.clone(), t.url(&path));
            if let Some(a) = auth {
                rb = rb.header("authorization", a);
            }
            let r = t.send(rb.body("{}")).await;
            let www = r
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            expect_error(r, 401, "unauthorized").await;
            let www =
                www.unwrap_or_else(|| panic!("{method} {path} with {auth:?}: no WWW-Authenticate"));
            assert!(
                www.starts_with("Bearer") && www.contains("invalid_token"),
                "{www}"
            );
        }
    }
}

#[tokio::test]
async fn unknown_route_is_404_json() {
    let t = TestServer::start(|_| {}).await;
    for path in [
        "/2.0/nope",
        "/api/2.0/files/1/nope",
        "/nope",
        "/3.0/files/1",
        "/2.0/files/upload_sessions/X/parts/1",
        // `/` is the page; `/web/<file>` its files.
        "/web",
        "/web/",
        "/web/a/b",
    ] {
        expect_error(t.get(ALICE, path).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn wrong_method_is_405_json() {
    let t = TestServer::start(|_| {}).await;
    let sid = "F971964745A5CD0C001BBE4E58196BFD";
    let cases = [
        (Method::PATCH, format!("{SESSIONS}/{sid}")),
        (Method::GET, format!("{SESSIONS}/{sid}/commit")),
        (Method::DELETE, format!("{SESSIONS}/{sid}/parts")),
        (Method::GET, SESSIONS.to_owned()),
        (Method::PATCH, "/2.0/folders/0".to_owned()),
        (Method::POST, "/2.0/files/1".to_owned()),
        (Method::GET, "/2.0/files/content".to_owned()),
    ];
    for (method, path) in cases {
        let r = t.send(t.req(method.clone(), ALICE, &path)).await;
        expect_error(r, 405, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn malformed_json_is_400_invalid_json() {
    let t = TestServer::start(|_| {}).await;
    let file = t.upload_file(ALICE, "0", "f.txt", b"x").await;
    let s = t.new_session(ALICE, "0", "s.bin", 10).await;
    let sid = id(&s);
    let targets = [
        (Method::POST, SESSIONS.to_owned()),
        (
            Method::POST,
            format!("/2.0/files/{}/upload_sessions", id(&file)),
        ),
        (Method::POST, format!("{SESSIONS}/{sid}/commit")),
        (Method::POST, "/2.0/folders".to_owned()),
        (Method::OPTIONS, "/2.0/files/content".to_owned()),
    ];
    for (method, path) in targets {
        for body in ["{", "{\"folder_id\": }", "[1, 2]", "not json", "\"str\""] {
            let rb = t
                .req(method.clone(), ALICE, &path)
                .header("content-type", "application/json")
                .header("digest", format!("sha={}", sha1_b64(b"")));
            let e = expect_error(t.send(rb.body(body)).await, 400, "invalid_json").await;
            assert!(e["message"].as_str().unwrap().contains("JSON"), "{e}");
        }
    }
    // Multipart attributes that are not JSON.
    let (ct, body) = multipart("{oops", b"data", false);
    let r = t
        .send(
            t.req(Method::POST, ALICE, "/api/2.0/files/content")
                .header("content-type", ct)
                .body(body),
        )
        .await;
    expect_error(r, 400, "invalid_json").await;
}

#[tokio::test]
async fn malformed_session_id_is_400_and_unknown_is_404() {
    let t = TestServer::start(|_| {}).await;
    let malformed = [
        "xyz",
        "F971964745A5CD0C001BBE4E58196BF",
        "F971964745A5CD0C001BBE4E58196BFD0",
        "G971964745A5CD0C001BBE4E58196BFD",
        "..%2F..%2Fetc%2Fpasswd",
    ];
    for sid in malformed {
        for (method, path) in session_routes(sid) {
            let r = t.send(t.req(method.clone(), ALICE, &path).body("{}")).await;
            let e = expect_error_any(r, 400).await;
            assert_eq!(
                e["code"], "invalid_upload_session_id",
                "{method} {path}: {e}"
            );
        }
    }
    for (method, path) in session_routes("0123456789ABCDEF0123456789ABCDEF") {
        let r = t.send(t.req(method, ALICE, &path).body("{}")).await;
        expect_error(r, 404, "not_found").await;
    }
}

fn session_routes(sid: &str) -> Vec<(Method, String)> {
    let s = format!("{SESSIONS}/{sid}");
    vec![
        (Method::GET, s.clone()),
        (Method::PUT, s.clone()),
        (Method::DELETE, s.clone()),
        (Method::GET, format!("{s}/parts")),
        (Method::POST, format!("{s}/commit")),
        (Method::POST, format!("{s}/log")),
        (Method::POST, format!("{s}/plan")),
    ]
}

#[tokio::test]
async fn expired_session_is_410_on_every_route() {
    let t = TestServer::start_manual_sweep(|o| o.service.session_ttl_secs = 0).await;
    let bytes = data(PART_SIZE as usize, 1);
    let s = t
        .new_session(ALICE, "0", "expired.bin", bytes.len() as u64)
        .await;
    let path = TestServer::session_path(UPLOAD, &id(&s));
    expect_error(t.get(ALICE, &path).await, 410, "session_expired").await;
    let r = t
        .put_part(ALICE, &t.url(&path), 0, &bytes, bytes.len() as u64)
        .await;
    expect_error(r, 410, "session_expired").await;
    expect_error(
        t.get(ALICE, &format!("{path}/parts")).await,
        410,
        "session_expired",
    )
    .await;
    let r = t
        .commit(ALICE, &t.url(&format!("{path}/commit")), &[], &bytes)
        .await;
    expect_error(r, 410, "session_expired").await;
    expect_error(
        t.post_json(ALICE, &format!("{path}/log"), &json!({})).await,
        410,
        "session_expired",
    )
    .await;
    expect_error(
        t.post_json(ALICE, &format!("{path}/plan"), &json!({"parts": []}))
            .await,
        410,
        "session_expired",
    )
    .await;
    expect_error(t.delete(ALICE, &path).await, 410, "session_expired").await;
    assert_eq!(t.items(ALICE, "0").await["total_count"], 0);
}

/// A 401 sent before a large body is read still reaches the client: the
/// server drains the body instead of closing on unread bytes (which the
/// client would see as a broken pipe, not as an expired token), and the
/// connection stays usable.
#[tokio::test]
async fn a_401_before_a_large_body_reaches_the_client() {
    let t = TestServer::start(|_| {}).await;
    let body = data(32 << 20, 7);
    for path in ["/api/2.0/files/content", "/2.0/folders"] {
        for _ in 0..3 {
            let rb = t
                .client
                .post(t.url(path))
                .header("authorization", "Bearer wrong")
                .body(body.clone());
            let r = t.send(rb).await;
            assert_eq!(
                r.headers().get("connection"),
                None,
                "{path}: the connection stays open once the body is drained"
            );
            expect_error(r, 401, "unauthorized").await;
        }
    }
}

/// The `box-request-id` header of `r`.
fn request_id(r: &reqwest::Response) -> String {
    r.headers()
        .get("box-request-id")
        .expect("every answer carries box-request-id")
        .to_str()
        .expect("an ASCII id")
        .to_owned()
}

#[tokio::test]
async fn every_answer_carries_its_own_request_id_and_errors_repeat_it() {
    let t = TestServer::start(|_| {}).await;
    let ok = t.get(ALICE, "/2.0/folders/0").await;
    assert_eq!(ok.status(), 200);
    let ok_id = request_id(&ok);
    assert_eq!(ok_id.len(), 16, "{ok_id}");
    let again = request_id(&t.get(ALICE, "/2.0/folders/0").await);
    assert_ne!(ok_id, again, "each request gets its own id");
    for (token, path) in [(ALICE, "/2.0/files/1"), ("wrong", "/2.0/folders/0")] {
        let err = t.get(token, path).await;
        assert!(err.status().is_client_error(), "{path}: {}", err.status());
        let header = request_id(&err);
        let body: serde_json::Value = err.json().await.unwrap();
        assert_eq!(body["request_id"], header.as_str(), "{body}");
        assert_ne!(header, ok_id);
    }
    // A client cannot choose the id that reaches the logs.
    let forged = t
        .send(
            t.req(Method::GET, ALICE, "/2.0/folders/0")
                .header("box-request-id", "forged"),
        )
        .await;
    assert_ne!(request_id(&forged), "forged");
}
