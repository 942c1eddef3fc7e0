//! Error catalogue (docs/protocol.md §6): commit, committed sessions, listing,
//! and a sweep of malformed requests that must never get a 5xx.

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// A 3-part session (the last part 100 bytes) and its data.
async fn session(t: &TestServer, name: &str) -> (Value, Vec<u8>) {
    let bytes = data(2 * PART_SIZE as usize + 100, name.len() as u64);
    (
        t.new_session(ALICE, "0", name, bytes.len() as u64).await,
        bytes,
    )
}

#[tokio::test]
async fn commit_errors_digest_mismatch_and_parts_mismatch() {
    let t = TestServer::start(|_| {}).await;
    let (s, bytes) = session(&t, "commit.bin").await;
    let total = bytes.len() as u64;
    let url = endpoint(&s, "upload_part");
    let commit_url = endpoint(&s, "commit");
    let pieces = chunks(&bytes, PART_SIZE);
    let mut parts = Vec::new();
    for (offset, chunk) in &pieces[..2] {
        parts.push(t.put_part_ok(ALICE, &url, *offset, chunk, total).await);
    }
    // Incomplete session.
    expect_error(
        t.commit(ALICE, &commit_url, &parts, &bytes).await,
        400,
        "parts_mismatch",
    )
    .await;
    parts.push(
        t.put_part_ok(ALICE, &url, pieces[2].0, pieces[2].1, total)
            .await,
    );
    // Parts that do not match what was uploaded.
    let mut wrong_id = parts.clone();
    wrong_id[1]["part_id"] = json!("00000000");
    let mut wrong_sha = parts.clone();
    wrong_sha[0]["sha1"] = json!(sha1_hex(b"nope"));
    let mut wrong_size = parts.clone();
    wrong_size[2]["size"] = json!(99);
    let mut duplicated = parts.clone();
    duplicated[2] = parts[1].clone();
    for claimed in [
        parts[..2].to_vec(),
        wrong_id,
        wrong_sha,
        wrong_size,
        duplicated,
    ] {
        expect_error(
            t.commit(ALICE, &commit_url, &claimed, &bytes).await,
            400,
            "parts_mismatch",
        )
        .await;
    }
    let no_parts = t
        .req_url(Method::POST, ALICE, &commit_url)
        .header("digest", format!("sha={}", sha1_b64(&bytes)))
        .json(&json!({}));
    expect_error_any(t.send(no_parts).await, 400).await;
    // A whole-file digest that is wrong.
    let e = expect_error(
        t.commit(ALICE, &commit_url, &parts, b"not the file").await,
        400,
        "digest_mismatch",
    )
    .await;
    assert!(
        e["message"].as_str().unwrap().contains(&sha1_b64(&bytes)),
        "{e}"
    );
    let no_digest = t
        .req_url(Method::POST, ALICE, &commit_url)
        .json(&json!({"parts": parts}));
    expect_error_any(t.send(no_digest).await, 400).await;
    assert_eq!(
        t.items(ALICE, "0").await["total_count"],
        0,
        "no failed commit made a file"
    );
    // The session is still usable: parts in reverse order and without sha1
    // (legacy Java) commit fine.
    let mini: Vec<Value> = parts
        .iter()
        .rev()
        .map(|p| json!({"part_id": p["part_id"], "offset": p["offset"], "size": p["size"]}))
        .collect();
    let files = expect_json(t.commit(ALICE, &commit_url, &mini, &bytes).await, 201).await;
    assert_eq!(t.download(ALICE, &id(&files["entries"][0])).await, bytes);
}

#[tokio::test]
async fn put_on_a_committed_session_is_409_or_404() {
    let t = TestServer::start(|_| {}).await;
    let (s, bytes) = session(&t, "done.bin").await;
    let file = t.finish_session(ALICE, &s, &bytes).await;
    let other = data(PART_SIZE as usize, 4242);
    let r = t
        .put_part(
            ALICE,
            &endpoint(&s, "upload_part"),
            0,
            &other,
            bytes.len() as u64,
        )
        .await;
    let code = r.status().as_u16();
    expect_error_any(r, code).await;
    assert!(
        code == 409 || code == 404,
        "protocol §2.2: PUT on a committed session is 409 or 404, got {code}"
    );
    assert_eq!(t.download(ALICE, &id(&file)).await, bytes);
}

#[tokio::test]
async fn list_parts_offset_over_10000_is_400() {
    let t = TestServer::start(|_| {}).await;
    let (s, _) = session(&t, "list.bin").await;
    let url = endpoint(&s, "list_parts");
    let ok = expect_json(
        t.send(t.req_url(Method::GET, ALICE, &format!("{url}?offset=10000")))
            .await,
        200,
    )
    .await;
    assert_eq!(ok["entries"], json!([]));
    for q in [
        "offset=10001",
        "offset=99999999999999999999999",
        "offset=-1",
        "offset=abc",
        "limit=abc",
        "limit=-5",
    ] {
        let r = t
            .send(t.req_url(Method::GET, ALICE, &format!("{url}?{q}")))
            .await;
        let e = expect_error_any(r, 400).await;
        let code = e["code"].as_str().unwrap();
        assert!(
            ["invalid_offset", "invalid_limit", "bad_request"].contains(&code),
            "{q}: {e}"
        );
    }
    // An unknown session outranks a bad page.
    let unknown = url.replace(
        s["id"].as_str().unwrap(),
        "F971964745A5CD0C001BBE4E58196BFD",
    );
    let r = t
        .send(t.req_url(Method::GET, ALICE, &format!("{unknown}?offset=10001")))
        .await;
    expect_error(r, 404, "not_found").await;
    let clamped = expect_json(
        t.send(t.req_url(Method::GET, ALICE, &format!("{url}?limit=5000")))
            .await,
        200,
    )
    .await;
    assert_eq!(
        clamped["limit"], 1000,
        "limit is clamped to 1000 and echoed"
    );
}

#[tokio::test]
async fn no_client_mistake_produces_a_5xx() {
    let t = TestServer::start(|_| {}).await;
    let (s, _) = session(&t, "fuzz.bin").await;
    let sid = id(&s);
    let file = t.upload_file(ALICE, "0", "fuzz.txt", b"data").await;
    let fid = id(&file);
    let big = "9".repeat(40);
    let paths = [
        format!("/2.0/files/{big}"),
        format!("/2.0/files/{big}/content"),
        "/2.0/files/-1".to_owned(),
        "/2.0/files/%00".to_owned(),
        "/2.0/folders/-1/items".to_owned(),
        format!("/2.0/folders/{big}"),
        format!("/2.0/folders/0/items?offset={big}"),
        format!("/2.0/files/{fid}/content?version=abc"),
        format!("/2.0/files/{fid}/content?version={big}"),
        "/2.0/files/upload_sessions/%FF%FE".to_owned(),
        format!("/api/2.0/files/upload_sessions/{sid}/parts?offset=1&offset=2&limit=%"),
    ];
    for path in &paths {
        let r = t.get(ALICE, path).await;
        let code = r.status().as_u16();
        assert!((400..500).contains(&code), "{path}: {code}");
        expect_error_any(r, code).await;
    }
    for range in [
        format!("bytes={big}-"),
        "bytes=a-b".into(),
        "bytes=0-1,3-4".into(),
        "bytes=--1".into(),
        "chars=0-1".into(),
    ] {
        let r = t
            .send(
                t.req(Method::GET, ALICE, &format!("/2.0/files/{fid}/content"))
                    .header("range", range),
            )
            .await;
        assert!(r.status().as_u16() < 500);
    }
    let bodies: [(Method, String, &str, &str); 6] = [
        (
            Method::POST,
            "/api/2.0/files/content".into(),
            "multipart/form-data",
            "garbage",
        ),
        (
            Method::POST,
            "/api/2.0/files/content".into(),
            "multipart/form-data; boundary=x",
            "--x\r\nbroken",
        ),
        (
            Method::POST,
            "/api/2.0/files/content".into(),
            "text/plain",
            "hello",
        ),
        (
            Method::POST,
            format!("/api/2.0/files/{fid}/content"),
            "multipart/form-data; boundary=x",
            "--x--\r\n",
        ),
        (
            Method::POST,
            "/api/2.0/files/upload_sessions".into(),
            "application/json",
            "{\"folder_id\":\"0\",\"file_size\":1e400,\"file_name\":\"x\"}",
        ),
        (
            Method::POST,
            format!("/api/2.0/files/upload_sessions/{sid}/commit"),
            "application/json",
            "{\"parts\":[{\"part_id\":5}]}",
        ),
    ];
    for (method, path, ct, body) in bodies {
        let r = t
            .send(
                t.req(method, ALICE, &path)
                    .header("content-type", ct)
                    .header("digest", "sha=x")
                    .body(body),
            )
            .await;
        let code = r.status().as_u16();
        assert!((400..500).contains(&code), "{path} {body:?}: {code}");
        expect_error_any(r, code).await;
    }
    let huge = t
        .req_url(Method::PUT, ALICE, &endpoint(&s, "upload_part"))
        .header(
            "content-range",
            format!("bytes 0-{}/{}", u64::MAX - 1, u64::MAX),
        )
        .header("digest", "sha=2jmj7l5rSw0yVb/vlWAYkK/YBwk=")
        .body("x");
    let r = t.send(huge).await;
    let code = r.status().as_u16();
    expect_error_any(r, code).await;
}
