//! Upload-session routes (docs/protocol.md §4.1–4.13), under both `/2.0` and
//! `/api/2.0`, and through the absolute `session_endpoints` URLs.

use crate::common::*;
use futures::StreamExt;
use reqwest::Method;
use serde_json::json;

fn is_upper_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

fn is_lower_hex_sha1(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[tokio::test]
async fn create_returns_every_field_and_endpoints_work_as_is() {
    let t = TestServer::start(|_| {}).await;
    for (n, prefix) in PREFIXES.iter().enumerate() {
        let size = 2 * PART_SIZE + 100;
        let before = chrono::Utc::now().timestamp();
        let name = format!("big-{n}.bin");
        let s = expect_json(t.create_session(ALICE, prefix, "0", &name, size).await, 201).await;
        let sid = id(&s);
        assert!(is_upper_hex(&sid, 32), "session id {sid}");
        assert_eq!(s["type"], "upload_session");
        assert_eq!(s["part_size"], PART_SIZE);
        assert_eq!(s["total_parts"], 3);
        assert_eq!(s["num_parts_processed"], 0);
        let expires = s["session_expires_at"]
            .as_str()
            .expect("session_expires_at");
        assert!(!expires.contains('.'), "no fractional seconds: {expires}");
        let at = chrono::DateTime::parse_from_rfc3339(expires)
            .expect("RFC 3339")
            .timestamp();
        let week = 7 * 24 * 3600;
        assert!(
            (before + week - 5..=before + week + 60).contains(&at),
            "expires {expires}"
        );
        for (key, suffix) in [
            ("upload_part", ""),
            ("status", ""),
            ("abort", ""),
            ("list_parts", "/parts"),
            ("commit", "/commit"),
            ("log_event", "/log"),
            ("plan", "/plan"),
        ] {
            let url = endpoint(&s, key);
            assert!(
                url.starts_with("http://127.0.0.1:"),
                "{key} is absolute: {url}"
            );
            assert!(
                url.ends_with(&format!("/files/upload_sessions/{sid}{suffix}")),
                "{key}: {url}"
            );
            assert!(url.contains("/2.0/"), "{key}: {url}");
        }

        // Every endpoint used exactly as returned.
        let data = data(size as usize, 10 + n as u64);
        let parts = t.upload_parts(ALICE, &s, &data).await;
        let status = expect_json(
            t.send(t.req_url(Method::GET, ALICE, &endpoint(&s, "status")))
                .await,
            200,
        )
        .await;
        assert_eq!(status["id"], sid.as_str());
        assert_eq!(status["num_parts_processed"], 3);
        let listed = expect_json(
            t.send(t.req_url(Method::GET, ALICE, &endpoint(&s, "list_parts")))
                .await,
            200,
        )
        .await;
        assert_eq!(listed["total_count"], 3);
        let log = t
            .req_url(Method::POST, ALICE, &endpoint(&s, "log_event"))
            .json(&json!({"event_type": "x"}));
        expect_empty(t.send(log).await, 204).await;
        let file = expect_json(
            t.commit(ALICE, &endpoint(&s, "commit"), &parts, &data)
                .await,
            201,
        )
        .await;
        let file = &file["entries"][0];
        assert_eq!(file["name"], name.as_str());
        expect_empty(
            t.send(t.req_url(Method::DELETE, ALICE, &endpoint(&s, "abort")))
                .await,
            204,
        )
        .await;
        assert_eq!(t.download(ALICE, &id(file)).await, data);
    }
}

#[tokio::test]
async fn every_session_route_works_by_id_under_both_prefixes() {
    let t = TestServer::start(|_| {}).await;
    for (n, prefix) in PREFIXES.iter().enumerate() {
        let data = data(3 * PART_SIZE as usize - 7, 20 + n as u64);
        let total = data.len() as u64;
        let resp = t
            .create_session(ALICE, prefix, "0", &format!("by-id-{n}"), total)
            .await;
        let sid = id(&expect_json(resp, 201).await);
        let path = TestServer::session_path(prefix, &sid);
        let mut parts = Vec::new();
        for (offset, chunk) in chunks(&data, PART_SIZE) {
            parts.push(
                t.put_part_ok(ALICE, &t.url(&path), offset, chunk, total)
                    .await,
            );
        }
        let s = expect_json(t.get(ALICE, &path).await, 200).await;
        assert_eq!(
            (s["id"].as_str(), &s["num_parts_processed"]),
            (Some(sid.as_str()), &json!(3))
        );
        let listed = expect_json(t.get(ALICE, &format!("{path}/parts")).await, 200).await;
        assert_eq!(listed["total_count"], 3);
        let log = t
            .send(
                t.req(Method::POST, ALICE, &format!("{path}/log"))
                    .body("{}"),
            )
            .await;
        expect_empty(log, 204).await;
        let files = expect_json(
            t.commit(ALICE, &t.url(&format!("{path}/commit")), &parts, &data)
                .await,
            201,
        )
        .await;
        expect_empty(t.delete(ALICE, &path).await, 204).await;
        assert_eq!(t.download(ALICE, &id(&files["entries"][0])).await, data);
    }
}

#[tokio::test]
async fn put_part_answers_200_with_lowercase_sha1_and_accepts_upper_case_digest() {
    let t = TestServer::start(|_| {}).await;
    let data = data(2 * PART_SIZE as usize + 10, 3);
    let total = data.len() as u64;
    let s = t.new_session(ALICE, "0", "parts.bin", total).await;
    let url = endpoint(&s, "upload_part");
    let p = t
        .put_part_ok(ALICE, &url, 0, &data[..PART_SIZE as usize], total)
        .await;
    assert!(
        is_upper_hex(p["part_id"].as_str().unwrap(), 8),
        "part_id {p}"
    );
    assert_eq!(p["offset"], 0);
    assert_eq!(p["size"], PART_SIZE);
    let sha1 = p["sha1"].as_str().unwrap();
    assert!(is_lower_hex_sha1(sha1), "{sha1}");
    assert_eq!(sha1, sha1_hex(&data[..PART_SIZE as usize]));

    // Legacy SDKs: `Digest: SHA=...`; RFC 3230 lists: pick the sha entry.
    let second = &data[PART_SIZE as usize..2 * PART_SIZE as usize];
    let upper = t
        .req_url(Method::PUT, ALICE, &url)
        .header("Digest", format!("SHA={}", sha1_b64(second)))
        .header("Content-Range", content_range(PART_SIZE, PART_SIZE, total))
        .body(second.to_vec());
    let p2 = expect_json(t.send(upper).await, 200).await;
    assert_eq!(p2["part"]["offset"], PART_SIZE);
    assert_eq!(p2["part"]["sha1"], sha1_hex(second));
    let last = &data[2 * PART_SIZE as usize..];
    let listed = t
        .req_url(Method::PUT, ALICE, &url)
        .header("digest", format!("md5=AAAA, sha={}", sha1_b64(last)))
        .header(
            "content-range",
            content_range(2 * PART_SIZE, last.len() as u64, total),
        )
        .body(last.to_vec());
    let p3 = expect_json(t.send(listed).await, 200).await;
    assert_eq!(p3["part"]["size"], 10);
}

#[tokio::test]
async fn chunked_part_without_content_length_is_accepted() {
    let t = TestServer::start(|_| {}).await;
    let data = data(PART_SIZE as usize + 5, 4);
    let total = data.len() as u64;
    let s = t.new_session(ALICE, "0", "chunked.bin", total).await;
    let mut parts = Vec::new();
    for (offset, chunk) in chunks(&data, PART_SIZE) {
        let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
            chunk.chunks(1000).map(|c| Ok(c.to_vec())).collect();
        let body = reqwest::Body::wrap_stream(futures::stream::iter(pieces).boxed());
        let rb = t
            .req_url(Method::PUT, ALICE, &endpoint(&s, "upload_part"))
            .header("digest", format!("sha={}", sha1_b64(chunk)))
            .header(
                "content-range",
                content_range(offset, chunk.len() as u64, total),
            )
            .body(body);
        let req = rb.build().unwrap();
        assert!(req.headers().get("content-length").is_none());
        let p = expect_json(t.send_built(req).await, 200).await;
        assert_eq!(p["part"]["offset"], offset);
        assert_eq!(p["part"]["size"], chunk.len());
        assert_eq!(p["part"]["sha1"], sha1_hex(chunk));
        parts.push(p["part"].clone());
    }
    let files = expect_json(
        t.commit(ALICE, &endpoint(&s, "commit"), &parts, &data)
            .await,
        201,
    )
    .await;
    assert_eq!(t.download(ALICE, &id(&files["entries"][0])).await, data);
}

#[tokio::test]
async fn identical_reupload_returns_200_with_the_same_part() {
    let t = TestServer::start(|_| {}).await;
    let data = data(PART_SIZE as usize * 2, 5);
    let total = data.len() as u64;
    let s = t.new_session(ALICE, "0", "retry.bin", total).await;
    let url = endpoint(&s, "upload_part");
    let first = t
        .put_part_ok(ALICE, &url, 0, &data[..PART_SIZE as usize], total)
        .await;
    let again = t
        .put_part_ok(ALICE, &url, 0, &data[..PART_SIZE as usize], total)
        .await;
    assert_eq!(first, again);
    let status = expect_json(
        t.send(t.req_url(Method::GET, ALICE, &endpoint(&s, "status")))
            .await,
        200,
    )
    .await;
    assert_eq!(
        status["num_parts_processed"], 1,
        "a retry is not a new part"
    );
    let listed = expect_json(
        t.send(t.req_url(Method::GET, ALICE, &endpoint(&s, "list_parts")))
            .await,
        200,
    )
    .await;
    assert_eq!(listed["total_count"], 1);
}

#[tokio::test]
async fn session_endpoints_follow_forwarded_headers_and_the_public_url() {
    let t = TestServer::start(|_| {}).await;
    let body = json!({"folder_id": "0", "file_size": 10, "file_name": "fwd"});
    let rb = t
        .req(
            Method::POST,
            ALICE,
            &format!("{UPLOAD}/files/upload_sessions"),
        )
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "files.example.com")
        .json(&body);
    let s = expect_json(t.send(rb).await, 201).await;
    let url = endpoint(&s, "upload_part");
    assert_eq!(
        url,
        format!(
            "https://files.example.com/api/2.0/files/upload_sessions/{}",
            id(&s)
        )
    );

    let public = TestServer::start(|o| o.public_url = Some("https://up.example.org/".into())).await;
    let s = public.new_session(ALICE, "0", "pub", 10).await;
    let commit = endpoint(&s, "commit");
    assert_eq!(
        commit,
        format!(
            "https://up.example.org/api/2.0/files/upload_sessions/{}/commit",
            id(&s)
        )
    );
    let pre = json!({"name": "p2", "size": 1, "parent": {"id": "0"}});
    let r = public
        .send(
            public
                .req(Method::OPTIONS, ALICE, &format!("{API}/files/content"))
                .json(&pre),
        )
        .await;
    let upload_url = expect_json(r, 200).await["upload_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        upload_url.starts_with("https://up.example.org/api/2.0/files/content"),
        "{upload_url}"
    );
}
