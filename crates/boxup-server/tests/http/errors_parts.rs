//! Error catalogue (docs/protocol.md §6): part uploads (digest, range grid,
//! body length, overlaps).

use crate::common::*;
use futures::StreamExt;
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

fn put(
    t: &TestServer,
    s: &Value,
    range: &str,
    digest: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    t.req_url(Method::PUT, ALICE, &endpoint(s, "upload_part"))
        .header("content-range", range)
        .header("digest", digest)
        .body(body)
}

async fn listed(t: &TestServer, s: &Value) -> Value {
    expect_json(
        t.send(t.req_url(Method::GET, ALICE, &endpoint(s, "list_parts")))
            .await,
        200,
    )
    .await
}

#[tokio::test]
async fn wrong_or_missing_part_digest_is_400_bad_digest_and_nothing_is_stored() {
    let t = TestServer::start(|_| {}).await;
    let (s, bytes) = session(&t, "digest.bin").await;
    let total = bytes.len() as u64;
    let first = &bytes[..PART_SIZE as usize];
    let range = content_range(0, PART_SIZE, total);
    let wrong = format!("sha={}", sha1_b64(b"something else"));
    expect_error(
        t.send(put(&t, &s, &range, &wrong, first.to_vec())).await,
        400,
        "bad_digest",
    )
    .await;
    for bad in ["sha=AAAA", "md5=1B2M2Y8AsgTpgAmY7PhCfg==", "sha=!!!", ""] {
        expect_error(
            t.send(put(&t, &s, &range, bad, first.to_vec())).await,
            400,
            "bad_digest",
        )
        .await;
    }
    let no_digest = t
        .req_url(Method::PUT, ALICE, &endpoint(&s, "upload_part"))
        .header("content-range", &range)
        .body(first.to_vec());
    expect_error(t.send(no_digest).await, 400, "bad_digest").await;
    let l = listed(&t, &s).await;
    assert_eq!(l["total_count"], 0, "a rejected part is not listed: {l}");
    assert_eq!(l["entries"], json!([]));
    let status = expect_json(
        t.send(t.req_url(Method::GET, ALICE, &endpoint(&s, "status")))
            .await,
        200,
    )
    .await;
    assert_eq!(status["num_parts_processed"], 0);
    // The range is still free for the right bytes.
    let p = t
        .put_part_ok(ALICE, &endpoint(&s, "upload_part"), 0, first, total)
        .await;
    assert_eq!(p["sha1"], sha1_hex(first));
}

#[tokio::test]
async fn ranges_off_the_part_grid_are_416() {
    let t = TestServer::start(|_| {}).await;
    let (s, bytes) = session(&t, "grid.bin").await;
    let total = bytes.len() as u64;
    let p = PART_SIZE;
    let cases = [
        (1, p),       // misaligned start
        (p / 2, p),   // misaligned start
        (0, 100),     // a short part that is not the last
        (p, p - 1),   // a short part that is not the last
        (2 * p, 99),  // the last part must reach the end
        (0, p + 1),   // longer than the part size
        (p, p + 100), // two parts in one
    ];
    for (offset, len) in cases {
        let body = &bytes[offset as usize..(offset + len) as usize];
        let r = t
            .put_part(ALICE, &endpoint(&s, "upload_part"), offset, body, total)
            .await;
        let e = expect_error(r, 416, "requested_range_not_satisfiable").await;
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    // A total different from the session's file size.
    let first = &bytes[..p as usize];
    let r = t
        .put_part(ALICE, &endpoint(&s, "upload_part"), 0, first, total + 1)
        .await;
    expect_error(r, 416, "requested_range_not_satisfiable").await;
    // Malformed or missing Content-Range: 400 or 416 (docs/protocol.md §4.5).
    let digest = format!("sha={}", sha1_b64(first));
    for bad in [
        "bytes 0-/10",
        "0-65535",
        "bytes 65535-0/200000",
        "bytes a-b/c",
        "bytes 0-99999999999999999999999/1",
    ] {
        let status = t.send(put(&t, &s, bad, &digest, first.to_vec())).await;
        let code = status.status().as_u16();
        assert!(code == 400 || code == 416, "{bad}: {code}");
        expect_error_any(status, code).await;
    }
    // The empty last chunk old SDKs sent, `bytes N-(N-1)/N`: 416 (docs/protocol.md §4.5).
    let empty = format!("bytes {total}-{}/{total}", total - 1);
    let r = t.send(put(&t, &s, &empty, &digest, Vec::new())).await;
    expect_error(r, 416, "requested_range_not_satisfiable").await;
    let no_range = t
        .req_url(Method::PUT, ALICE, &endpoint(&s, "upload_part"))
        .header("digest", &digest)
        .body(first.to_vec());
    let r = t.send(no_range).await;
    let code = r.status().as_u16();
    assert!(code == 400 || code == 416, "{code}");
    expect_error_any(r, code).await;
    assert_eq!(listed(&t, &s).await["total_count"], 0);
}

#[tokio::test]
async fn body_length_different_from_the_range_is_400_request_size_mismatch() {
    let t = TestServer::start(|_| {}).await;
    let (s, bytes) = session(&t, "length.bin").await;
    let total = bytes.len() as u64;
    let first = &bytes[..PART_SIZE as usize];
    let range = content_range(0, PART_SIZE, total);
    // Content-Length shorter and longer than the range.
    for body in [
        &bytes[..PART_SIZE as usize - 1],
        &bytes[..PART_SIZE as usize + 1],
    ] {
        let r = t
            .send(put(
                &t,
                &s,
                &range,
                &format!("sha={}", sha1_b64(body)),
                body.to_vec(),
            ))
            .await;
        expect_error(r, 400, "request_size_mismatch").await;
    }
    // Chunked bodies (no Content-Length) that are too short or too long.
    for body in [
        &bytes[..PART_SIZE as usize - 10],
        &bytes[..PART_SIZE as usize + 10],
    ] {
        let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
            body.chunks(4096).map(|c| Ok(c.to_vec())).collect();
        let stream = reqwest::Body::wrap_stream(futures::stream::iter(pieces).boxed());
        let req = put(&t, &s, &range, &format!("sha={}", sha1_b64(first)), stream)
            .build()
            .unwrap();
        assert!(req.headers().get("content-length").is_none());
        expect_error(t.send_built(req).await, 400, "request_size_mismatch").await;
    }
    assert_eq!(
        listed(&t, &s).await["total_count"],
        0,
        "no partial part is stored"
    );
    t.put_part_ok(ALICE, &endpoint(&s, "upload_part"), 0, first, total)
        .await;
}

#[tokio::test]
async fn overlap_with_different_bytes_is_416_with_the_conflicting_part() {
    let t = TestServer::start(|_| {}).await;
    let (s, bytes) = session(&t, "overlap.bin").await;
    let total = bytes.len() as u64;
    let url = endpoint(&s, "upload_part");
    let stored = t
        .put_part_ok(
            ALICE,
            &url,
            PART_SIZE,
            &bytes[PART_SIZE as usize..2 * PART_SIZE as usize],
            total,
        )
        .await;
    let other = data(PART_SIZE as usize, 999);
    let e = expect_error(
        t.put_part(ALICE, &url, PART_SIZE, &other, total).await,
        416,
        "range_overlaps_existing_part",
    )
    .await;
    let c = &e["context_info"]["conflicting_part"];
    assert_eq!(c["part_id"], stored["part_id"], "{e}");
    assert_eq!(c["offset"], PART_SIZE);
    assert_eq!(c["size"], PART_SIZE);
    assert_eq!(c["sha1"], stored["sha1"]);
    let l = listed(&t, &s).await;
    assert_eq!(l["total_count"], 1);
    assert_eq!(l["entries"][0], stored, "the stored part is unchanged");
}
