//! `upload_big_file` through a faulty network, part by part: 503s, 429
//! with `Retry-After`, dropped connections, responses lost after the server
//! stored the part, failing session creation and listing, and a part that
//! keeps failing. Each upload must still produce the file with the right
//! SHA-1, or fail once the retries run out. Also what real Box answers
//! where boxup is kinder: a re-sent part refused with 416 naming the stored
//! part. The commit side is in `faults_commit.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::upload_through;
use boxup_client::{UploadOptions, UploadedPart};
use boxup_e2e::server::PART;
use boxup_e2e::{Action, FaultProxy, Rewrite, TestServer, pattern, sha1_hex};

/// The distinct part offsets the proxy saw succeed at the server.
fn stored_offsets(proxy: &FaultProxy) -> Vec<u64> {
    let mut o: Vec<u64> = proxy
        .puts()
        .iter()
        .filter(|p| p.upstream_status == Some(200))
        .filter_map(|p| p.seen.range_start())
        .collect();
    o.sort();
    o.dedup();
    o
}

#[tokio::test]
async fn every_third_put_answered_503() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.is_put() && s.nth % 3 == 0 {
            Action::status(503)
        } else {
            Action::Forward
        }
    })
    .await;
    upload_through(&server, &proxy, 9, 90).await;
    let injected = proxy
        .puts()
        .iter()
        .filter(|p| p.action == Action::status(503))
        .count();
    assert!(injected >= 3, "only {injected} faults injected");
    assert_eq!(stored_offsets(&proxy).len(), 9);
}

#[tokio::test]
async fn a_429_retry_after_is_honoured() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.is_put() && s.range_start() == Some(PART) && s.attempt == 1 {
            Action::retry_after(429, "1")
        } else {
            Action::Forward
        }
    })
    .await;
    upload_through(&server, &proxy, 4, 91).await;
    let tries: Vec<_> = proxy
        .puts()
        .into_iter()
        .filter(|p| p.seen.range_start() == Some(PART))
        .collect();
    assert_eq!(tries.len(), 2);
    let waited = tries[1].at - tries[0].at;
    // The client's own backoff is 10–100 ms; only Retry-After explains a second.
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}"
    );
}

#[tokio::test]
async fn dropped_connections_mid_request() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.is_put() && s.attempt == 1 && s.nth % 2 == 1 {
            Action::DropMidRequest
        } else {
            Action::Forward
        }
    })
    .await;
    upload_through(&server, &proxy, 8, 92).await;
    assert!(
        proxy
            .puts()
            .iter()
            .any(|p| p.action == Action::DropMidRequest)
    );
}

#[tokio::test]
async fn response_lost_after_the_part_was_stored() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| match (s.is_put(), s.attempt, s.nth % 2) {
        (true, 1, 0) => Action::ForwardThenFail(500),
        (true, 1, 1) => Action::ForwardThenDrop,
        _ => Action::Forward,
    })
    .await;
    upload_through(&server, &proxy, 6, 93).await;
    // Every part was stored on its first attempt and re-sent once.
    let puts = proxy.puts();
    assert_eq!(puts.len(), 12);
    assert!(puts.iter().all(|p| p.upstream_status == Some(200)));
}

#[tokio::test]
async fn session_creation_and_listing_are_retried_too() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        let first = s.attempt == 1;
        match s.method.as_str() {
            "POST" if first && s.path.ends_with("/files/upload_sessions") => Action::status(500),
            "GET" if first => Action::retry_after(503, "0"),
            _ => Action::Forward,
        }
    })
    .await;
    upload_through(&server, &proxy, 2, 96).await;
}

#[tokio::test]
async fn a_part_that_keeps_failing_gives_up_after_the_attempt_limit() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.is_put() && s.range_start() == Some(0) {
            Action::status(503)
        } else {
            Action::Forward
        }
    })
    .await;
    let data = pattern(2 * PART as usize, 97);
    let err = proxy
        .client()
        .chunked_uploads()
        .upload_big_file(&data[..], "doomed.bin", data.len() as u64, "0")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.is_retryable());
    let tries = proxy
        .puts()
        .iter()
        .filter(|p| p.seen.range_start() == Some(0))
        .count();
    assert_eq!(tries, boxup_e2e::fast_retry().max_attempts as usize);
}

#[tokio::test]
async fn a_503_whose_body_says_400_is_still_retried() {
    // The HTTP status decides, not the status field of the JSON body.
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.is_put() && s.attempt == 1 {
            Action::Respond {
                status: 503,
                retry_after: None,
                body: Some(
                    r#"{"type":"error","status":400,"code":"bad_request","message":"m"}"#.into(),
                ),
            }
        } else {
            Action::Forward
        }
    })
    .await;
    upload_through(&server, &proxy, 3, 98).await;
    assert_eq!(proxy.puts().len(), 6, "each part failed once, then went up");
}

/// The Box-style 416 for a re-sent part: the server's answer (boxup's 200
/// with the stored part) made into `range_overlaps_existing_part` naming
/// that part, with its sha1 replaced by `sha1` when given.
fn box_style_416(sha1: Option<&'static str>) -> Rewrite {
    Rewrite::new(move |status, body| {
        assert_eq!(status, 200, "the server stored the part");
        let mut stored: UploadedPart = serde_json::from_slice(body).unwrap();
        if let Some(other) = sha1 {
            stored.part.sha1 = Some(other.into());
        }
        let error = serde_json::json!({
            "type": "error", "status": 416, "code": "range_overlaps_existing_part",
            "message": "Part overlaps with previously uploaded part",
            "context_info": { "conflicting_part": stored.part },
            "request_id": "box-style",
        });
        (416, error.to_string())
    })
}

#[tokio::test]
async fn a_resent_part_answered_416_naming_the_identical_part_counts_as_stored() {
    let server = TestServer::start_small().await;
    // Every part: stored, answer lost; the re-send gets what real Box says.
    let rewrite = box_style_416(None);
    let proxy = FaultProxy::start(server.addr, move |s| match (s.is_put(), s.attempt) {
        (true, 1) => Action::ForwardThenDrop,
        (true, _) => Action::ForwardThenRewrite(rewrite.clone()),
        _ => Action::Forward,
    })
    .await;
    let data = pattern(5 * PART as usize - 3, 99);
    let progress = Arc::new(Mutex::new(0));
    let sink = progress.clone();
    let options = UploadOptions::new().on_progress(move |p| *sink.lock().unwrap() = p.bytes_done);
    let file = proxy
        .client()
        .chunked_uploads()
        .upload_big_file_with(&data[..], "box416.bin", data.len() as u64, "0", &options)
        .await
        .unwrap();
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(server.download(&file.id).await, data);
    assert_eq!(*progress.lock().unwrap(), data.len() as u64);
    // Each of the 5 parts: one lost answer, then one 416; nothing more.
    let puts = proxy.puts();
    assert_eq!(puts.len(), 10);
    let refused = puts
        .iter()
        .filter(|p| matches!(p.action, Action::ForwardThenRewrite(_)))
        .count();
    assert_eq!(refused, 5);
}

#[tokio::test]
async fn a_416_naming_a_different_part_is_an_error() {
    let server = TestServer::start_small().await;
    let rewrite = box_style_416(Some("0000000000000000000000000000000000000000"));
    let proxy = FaultProxy::start(server.addr, move |s| match (s.is_put(), s.attempt) {
        (true, 1) => Action::ForwardThenDrop,
        (true, _) => Action::ForwardThenRewrite(rewrite.clone()),
        _ => Action::Forward,
    })
    .await;
    let data = pattern(2 * PART as usize, 100);
    let err = proxy
        .client()
        .chunked_uploads()
        .upload_big_file(&data[..], "other416.bin", data.len() as u64, "0")
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(416), Some("range_overlaps_existing_part"))
    );
    assert!(!proxy.log().iter().any(|l| l.seen.is_commit()));
}
