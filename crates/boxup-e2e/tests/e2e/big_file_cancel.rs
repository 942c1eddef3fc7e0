//! `upload_big_file` cancelled at every stage: by a token cancelled before
//! the call, while parts are in flight or held, while a commit waits after
//! 202, and by dropping the future. The session stays open for a resume.

use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{PROMPTLY, QUIET, drive_until};
use boxup_client::{BaseUrls, BoxClient, CancellationToken, Error, RetryConfig, UploadOptions};
use boxup_e2e::server::PART;
use boxup_e2e::{Action, FaultProxy, TestServer, pattern};

#[tokio::test]
async fn cancelling_stops_the_upload_and_keeps_the_session() {
    let server = TestServer::start_small().await;
    let mgr = server.client().chunked_uploads();
    let data = pattern(16 * PART as usize, 60);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let session_id = Arc::new(Mutex::new(None));
    let keep = session_id.clone();
    let options = UploadOptions::new()
        .with_parallelism(2)
        .with_cancellation(cancel)
        .on_session(move |s| *keep.lock().unwrap() = Some(s.id.clone()))
        .on_progress(move |p| {
            if p.bytes_done >= PART {
                trigger.cancel();
            }
        });
    let err = mgr
        .upload_big_file_with(&data[..], "cancelled.bin", data.len() as u64, "0", &options)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    let id = session_id.lock().unwrap().clone().expect("on_session ran");
    let session = mgr.get_file_upload_session_by_id(&id, None).await.unwrap();
    assert!(
        session.num_parts_processed.unwrap() < 16,
        "the upload ran to the end"
    );
}

#[tokio::test]
async fn a_token_cancelled_before_the_call_sends_nothing() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let cancel = CancellationToken::new();
    cancel.cancel();
    let data = pattern(2 * PART as usize, 61);
    let options = UploadOptions::new().with_cancellation(cancel);
    let mgr = proxy.client().chunked_uploads();
    let err = mgr
        .upload_big_file_with(&data[..], "never.bin", data.len() as u64, "0", &options)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    let err = mgr
        .upload_big_file_version(&data[..], "123", data.len() as u64, None, &options)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    let err = mgr
        .resume_upload(
            boxup_client::SessionRef::parse("ABC"),
            &data[..],
            data.len() as u64,
            &options,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    let sent: Vec<String> = proxy.log().iter().map(|l| l.seen.path.clone()).collect();
    assert!(sent.is_empty(), "sent {sent:?}");
}

/// Starts an upload of 8 parts at parallelism 2 through a proxy that
/// holds every PUT, and drives it until both PUTs are held. Returns the
/// parts of the scene.
async fn two_puts_held() -> (TestServer, FaultProxy, Vec<u8>) {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    // Three must meet; two ever come: both stay held until dropped.
    proxy.hold_first_puts(3);
    (server, proxy, pattern(8 * PART as usize, 62))
}

#[tokio::test]
async fn after_cancelled_no_part_is_in_flight_and_none_is_sent() {
    let (server, proxy, data) = two_puts_held().await;
    let cancel = CancellationToken::new();
    let session = Arc::new(Mutex::new(None));
    let keep = session.clone();
    let options = UploadOptions::new()
        .with_parallelism(2)
        .with_cancellation(cancel.clone())
        .on_session(move |s| *keep.lock().unwrap() = Some(s.id.clone()));
    let mgr = proxy.client().chunked_uploads();
    let mut upload =
        pin!(mgr.upload_big_file_with(&data[..], "held.bin", data.len() as u64, "0", &options));
    drive_until(upload.as_mut(), proxy.puts_in_flight_until(|n| n == 2)).await;

    cancel.cancel();
    let err = tokio::time::timeout(PROMPTLY, upload)
        .await
        .expect("cancel returns promptly")
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    assert_eq!(proxy.put_arrivals(), 2);
    // The held PUTs were dropped by the client, not left running...
    tokio::time::timeout(PROMPTLY, proxy.puts_in_flight_until(|n| n == 0))
        .await
        .expect("the client still holds its PUTs open");
    // ...and nothing is sent after the call returned.
    assert!(
        tokio::time::timeout(QUIET, proxy.puts_arrived(3))
            .await
            .is_err(),
        "a PUT arrived after Cancelled"
    );
    let id = session.lock().unwrap().clone().expect("on_session ran");
    let parts = server
        .client()
        .chunked_uploads()
        .get_file_upload_session_parts(&id, None, None, None)
        .await
        .unwrap();
    assert_eq!(parts.total_count, 0, "the session stays open and empty");
}

#[tokio::test]
async fn dropping_the_future_drops_the_parts_in_flight() {
    let (_server, proxy, data) = two_puts_held().await;
    let options = UploadOptions::new().with_parallelism(2);
    let mgr = proxy.client().chunked_uploads();
    {
        let mut upload = pin!(mgr.upload_big_file_with(
            &data[..],
            "dropped.bin",
            data.len() as u64,
            "0",
            &options
        ));
        drive_until(upload.as_mut(), proxy.puts_in_flight_until(|n| n == 2)).await;
        // The future goes out of scope here.
    }
    tokio::time::timeout(PROMPTLY, proxy.puts_in_flight_until(|n| n == 0))
        .await
        .expect("the part requests outlived the dropped future");
    assert!(
        tokio::time::timeout(QUIET, proxy.puts_arrived(3))
            .await
            .is_err(),
        "a PUT arrived after the future was dropped"
    );
    assert_eq!(proxy.put_arrivals(), 2);
}

#[tokio::test]
async fn cancelling_while_a_commit_waits_after_202_returns_promptly() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.is_commit() {
            Action::retry_after(202, "30")
        } else {
            Action::Forward
        }
    })
    .await;
    // A client that would honour the 30 s Retry-After.
    let client = BoxClient::builder()
        .token(boxup_e2e::TEST_TOKEN)
        .base_urls(BaseUrls::single_origin(&proxy.origin()))
        .retry(RetryConfig {
            max_retry_after: Duration::from_secs(60),
            ..boxup_e2e::fast_retry()
        })
        .build()
        .unwrap();
    let data = pattern(3 * PART as usize, 63);
    let cancel = CancellationToken::new();
    let options = UploadOptions::new().with_cancellation(cancel.clone());
    let mgr = client.chunked_uploads();
    let mut upload =
        pin!(mgr.upload_big_file_with(&data[..], "pending.bin", data.len() as u64, "0", &options));
    drive_until(upload.as_mut(), proxy.logged(|l| l.seen.is_commit())).await;

    cancel.cancel();
    let err = tokio::time::timeout(PROMPTLY, upload)
        .await
        .expect("cancel during the 202 wait returns promptly")
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    let commits = proxy.log().iter().filter(|l| l.seen.is_commit()).count();
    assert_eq!(commits, 1, "the commit was retried after cancel");
}
