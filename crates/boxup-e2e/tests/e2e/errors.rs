//! How the server's refusals surface: Box's error object with its code,
//! status and context, and which failures are retryable.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use boxup_client::{
    BaseUrls, BoxClient, CommitOptions, ContentRange, Error, RetryConfig, Sha1Digest, TokenProvider,
};
use boxup_e2e::server::PART;
use boxup_e2e::{Action, FaultProxy, TestServer, pattern};
use futures::future::BoxFuture;

fn part_of(data: &[u8], index: u64) -> (Vec<u8>, String, String) {
    let start = (index * PART) as usize;
    let end = (start + PART as usize).min(data.len());
    let chunk = data[start..end].to_vec();
    let digest = Sha1Digest::of(&chunk).to_digest_header();
    let range =
        ContentRange::for_part(start as u64, chunk.len() as u64, data.len() as u64).to_string();
    (chunk, digest, range)
}

#[tokio::test]
async fn an_overlapping_part_is_a_416_range_overlaps_existing_part() {
    let server = TestServer::start_small().await;
    let mgr = server.client().chunked_uploads();
    let data = pattern(2 * PART as usize, 80);
    let session = mgr
        .create_file_upload_session("0", data.len() as u64, "overlap.bin", None)
        .await
        .unwrap();
    let (chunk, digest, range) = part_of(&data, 0);
    let first = mgr
        .upload_file_part(&session.id, chunk.clone(), &digest, &range, None)
        .await
        .unwrap();

    // The same bytes again: boxup answers with the stored part (idempotent).
    let again = mgr
        .upload_file_part(&session.id, chunk, &digest, &range, None)
        .await
        .unwrap();
    assert_eq!(again.part, first.part);

    // Other bytes on the same range: 416 with the conflicting part.
    let other = pattern(PART as usize, 81);
    let err = mgr
        .upload_file_part(
            &session.id,
            other.clone(),
            &Sha1Digest::of(&other).to_digest_header(),
            &range,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(416));
    assert_eq!(err.code(), Some("range_overlaps_existing_part"));
    assert!(!err.is_retryable());
    assert!(err.request_id().is_some_and(|r| !r.is_empty()));
    let conflicting = &err.context_info().unwrap()["conflicting_part"];
    assert_eq!(conflicting["part_id"], first.part.part_id.as_str());
    assert!(
        err.to_string().contains("range_overlaps_existing_part"),
        "{err}"
    );
    assert!(matches!(err, Error::Api { .. }));
}

#[tokio::test]
async fn protocol_refusals_keep_their_codes() {
    let server = TestServer::start_small().await;
    let mgr = server.client().chunked_uploads();
    let data = pattern(2 * PART as usize, 82);
    let session = mgr
        .create_file_upload_session("0", data.len() as u64, "codes.bin", None)
        .await
        .unwrap();
    let (chunk, digest, range) = part_of(&data, 0);

    let wrong_digest = Sha1Digest::of(b"other").to_digest_header();
    let err = mgr
        .upload_file_part(&session.id, chunk.clone(), &wrong_digest, &range, None)
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(400), Some("bad_digest")));

    let misaligned = ContentRange::for_part(1, PART, data.len() as u64).to_string();
    let err = mgr
        .upload_file_part(&session.id, chunk.clone(), &digest, &misaligned, None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(416), Some("requested_range_not_satisfiable"))
    );

    let p0 = mgr
        .upload_file_part(&session.id, chunk, &digest, &range, None)
        .await
        .unwrap()
        .part;
    let (chunk1, digest1, range1) = part_of(&data, 1);
    let p1 = mgr
        .upload_file_part(&session.id, chunk1, &digest1, &range1, None)
        .await
        .unwrap()
        .part;
    let parts = [p0.clone(), p1];
    let bad = Sha1Digest::of(b"not the file").to_digest_header();
    let err = mgr
        .create_file_upload_session_commit(&session.id, &parts, &bad, &CommitOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("digest_mismatch"))
    );
    let err = mgr
        .create_file_upload_session_commit(
            &session.id,
            &[p0],
            &Sha1Digest::of(&data).to_digest_header(),
            &CommitOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("parts_mismatch"))
    );

    let err = mgr
        .get_file_upload_session_by_id("0123456789ABCDEF0123456789ABCDEF", None)
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(404), Some("not_found")));
}

#[tokio::test]
async fn a_name_conflict_is_a_409_with_the_conflicting_file() {
    let server = TestServer::start_small().await;
    let mgr = server.client().chunked_uploads();
    let data = pattern(PART as usize, 83);
    let file = mgr
        .upload_big_file(&data[..], "taken.bin", data.len() as u64, "0")
        .await
        .unwrap();
    let err = mgr
        .upload_big_file(&data[..], "taken.bin", data.len() as u64, "0")
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), Some("item_name_in_use"))
    );
    assert_eq!(
        err.context_info().unwrap()["conflicts"]["id"],
        file.id.as_str()
    );
}

#[tokio::test]
async fn a_bad_token_is_a_final_401() {
    let server = TestServer::start_small().await;
    let client = BoxClient::builder()
        .token("wrong")
        .base_urls(BaseUrls::single_origin(&server.origin()))
        .build()
        .unwrap();
    let err = client
        .chunked_uploads()
        .create_file_upload_session("0", 10, "a.bin", None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn responses_of_the_wrong_shape_are_decode_errors_unknown_fields_are_fine() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |seen| {
        if seen.method != "GET" {
            return Action::Forward;
        }
        let body = if seen.path.ends_with("WRONG") {
            r#"{"id": 12, "type": "upload_session"}"#
        } else {
            r#"{"id": "AB", "type": "upload_session", "part_size": 8388608, "brand_new_field": {"x": [1]}}"#
        };
        Action::Respond { status: 200, retry_after: None, body: Some(body.into()) }
    })
    .await;
    let mgr = proxy.client().chunked_uploads();
    let err = mgr
        .get_file_upload_session_by_id("WRONG", None)
        .await
        .unwrap_err();
    match &err {
        Error::Decode { model, status, .. } => {
            assert_eq!((*model, *status), ("UploadSession", 200))
        }
        e => panic!("expected a decode error, got {e:?}"),
    }
    assert!(err.to_string().contains("invalid type"), "{err}");
    let ok = mgr
        .get_file_upload_session_by_id("FINE", None)
        .await
        .unwrap();
    assert_eq!((ok.id.as_str(), ok.part_size), ("AB", Some(8_388_608)));
}

/// Counts its calls: the client asks for a token once per attempt.
struct CountingToken(Arc<AtomicUsize>);

impl TokenProvider for CountingToken {
    fn token(&self) -> BoxFuture<'_, boxup_client::Result<String>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::ready(Ok("t".to_owned())))
    }
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_transport_error_and_is_retried() {
    // Bind and drop a listener: nothing listens on that port now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let attempts = Arc::new(AtomicUsize::new(0));
    let client = BoxClient::builder()
        .token_provider(Arc::new(CountingToken(attempts.clone())))
        .base_urls(BaseUrls::single_origin(&format!("http://127.0.0.1:{port}")))
        .retry(RetryConfig {
            max_attempts: 3,
            min_delay: std::time::Duration::from_millis(1),
            ..RetryConfig::default()
        })
        .build()
        .unwrap();
    let err = client
        .chunked_uploads()
        .get_file_upload_session_by_id("X", None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "every attempt was made");
}
