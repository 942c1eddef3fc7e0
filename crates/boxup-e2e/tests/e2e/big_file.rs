//! `upload_big_file` and `upload_big_file_version` end to end: part-grid
//! edge cases, the real default sizes, parallelism and its memory bound,
//! progress, the source size checks and a server's absurd part size.
//! Cancellation is in `big_file_cancel.rs`.

use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{PROMPTLY, QUIET, drive_until};
use boxup_client::{Error, UploadOptions};
use boxup_e2e::server::PART;
use boxup_e2e::{Action, Counted, FaultProxy, TestServer, pattern, sha1_hex};
use boxup_server::ServiceConfig;

async fn round_trip(server: &TestServer, len: usize, parallelism: usize, seed: u64) {
    let data = pattern(len, seed);
    let name = format!("big-{len}-{parallelism}.bin");
    let options = UploadOptions::new().with_parallelism(parallelism);
    let file = server
        .client()
        .chunked_uploads()
        .upload_big_file_with(&data[..], &name, len as u64, "0", &options)
        .await
        .unwrap();
    assert_eq!(file.name.as_deref(), Some(name.as_str()));
    assert_eq!(file.size, Some(len as u64));
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(file.parent.as_ref().map(|p| p.id.as_str()), Some("0"));
    assert_eq!(
        server.download(&file.id).await,
        data,
        "downloaded bytes differ"
    );
}

#[tokio::test]
async fn exact_multiple_of_the_part_size() {
    let server = TestServer::start_small().await;
    round_trip(&server, 4 * PART as usize, 1, 10).await;
    round_trip(&server, 8 * PART as usize, 4, 11).await;
}

#[tokio::test]
async fn one_byte_over_a_multiple() {
    let server = TestServer::start_small().await;
    round_trip(&server, 4 * PART as usize + 1, 8, 12).await;
    round_trip(&server, 1, 4, 13).await;
}

#[tokio::test]
async fn minimum_size_with_the_servers_default_rules() {
    // Default settings: 20,000,000-byte minimum and 8 MiB parts (3 parts).
    let server = TestServer::start(ServiceConfig::default()).await;
    round_trip(&server, 20_000_000, 4, 14).await;
    let err = server
        .client()
        .chunked_uploads()
        .upload_big_file(&pattern(100, 1)[..], "tiny.bin", 19_999_999, "0")
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("file_size_too_small"))
    );
}

#[tokio::test]
async fn new_version_of_an_existing_file() {
    let server = TestServer::start_small().await;
    let mgr = server.client().chunked_uploads();
    let v1 = pattern(3 * PART as usize, 20);
    let first = mgr
        .upload_big_file(&v1[..], "versioned.bin", v1.len() as u64, "0")
        .await
        .unwrap();
    let v2 = pattern(5 * PART as usize - 3, 21);
    let second = mgr
        .upload_big_file_version(
            &v2[..],
            &first.id,
            v2.len() as u64,
            None,
            &UploadOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.name, first.name);
    assert_eq!(second.size, Some(v2.len() as u64));
    assert_eq!(second.sha1.as_deref(), Some(sha1_hex(&v2).as_str()));
    assert_ne!(
        second.file_version.unwrap().id,
        first.file_version.unwrap().id
    );
    assert_eq!(server.download(&first.id).await, v2);

    // A stale If-Match is refused with 412.
    let stale = UploadOptions::new().with_commit_options(boxup_client::CommitOptions {
        if_match: first.etag.clone(),
        ..Default::default()
    });
    let err = mgr
        .upload_big_file_version(&v1[..], &first.id, v1.len() as u64, None, &stale)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(412), Some("precondition_failed"))
    );
}

#[tokio::test]
async fn parts_really_go_in_parallel_and_no_more_than_asked() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    // The first 4 PUTs are held until all 4 have arrived: a client with
    // fewer in flight would stall here (and hit the timeout).
    proxy.hold_first_puts(4);
    let data = pattern(12 * PART as usize, 30);
    let options = UploadOptions::new().with_parallelism(4);
    let upload = proxy.client().chunked_uploads();
    let file = tokio::time::timeout(
        Duration::from_secs(30),
        upload.upload_big_file_with(&data[..], "parallel.bin", data.len() as u64, "0", &options),
    )
    .await
    .expect("4 parts were never in flight at once")
    .unwrap();
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(proxy.max_puts_in_flight(), 4);
    assert_eq!(proxy.puts().len(), 12);
}

#[tokio::test]
async fn parts_carry_content_length_and_the_sdk_headers() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let data = pattern(2 * PART as usize + 5, 31);
    proxy
        .client()
        .chunked_uploads()
        .upload_big_file(&data[..], "headers.bin", data.len() as u64, "0")
        .await
        .unwrap();
    let puts = proxy.puts();
    assert_eq!(puts.len(), 3);
    for put in &puts {
        let h = &put.headers;
        let range = h["content-range"].to_str().unwrap();
        let len: u64 = h["content-length"].to_str().unwrap().parse().unwrap();
        let first: u64 = put.seen.range_start().unwrap();
        let expected_len = (data.len() as u64 - first).min(PART);
        assert_eq!(len, expected_len, "{range}");
        assert!(h.get("transfer-encoding").is_none());
        assert!(h["digest"].to_str().unwrap().starts_with("sha="));
        assert_eq!(h["content-type"], "application/octet-stream");
        assert_eq!(
            h["authorization"],
            format!("Bearer {}", boxup_e2e::TEST_TOKEN)
        );
    }
    let log = proxy.log();
    let kinds: Vec<String> = log.iter().map(|l| l.seen.method.clone()).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("POST"));
    assert_eq!(
        &kinds[kinds.len() - 2..],
        ["GET", "POST"],
        "list parts, then commit"
    );
    let commit = log.last().unwrap();
    assert!(commit.seen.is_commit());
    let expected = boxup_client::Sha1Digest::of(&data).to_digest_header();
    assert_eq!(commit.headers["digest"].to_str().unwrap(), expected);
}

#[tokio::test]
async fn progress_is_per_byte_monotonic_and_complete() {
    let server = TestServer::start_small().await;
    let data = pattern(6 * PART as usize + 123, 40);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let options = UploadOptions::new()
        .with_parallelism(3)
        .on_progress(move |p| sink.lock().unwrap().push((p.bytes_done, p.total_bytes)));
    server
        .client()
        .chunked_uploads()
        .upload_big_file_with(&data[..], "progress.bin", data.len() as u64, "0", &options)
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "progress went backwards"
    );
    assert!(seen.iter().all(|(_, total)| *total == data.len() as u64));
    assert_eq!(seen.last().unwrap().0, data.len() as u64);
    // Finer than one report per part (64 KiB slices of 256 KiB parts).
    assert!(seen.len() >= 4 * 6, "only {} reports", seen.len());
}

#[tokio::test]
async fn a_source_shorter_or_longer_than_declared_is_refused() {
    let server = TestServer::start_small().await;
    let mgr = server.client().chunked_uploads();
    let data = pattern(2 * PART as usize, 50);
    let short = mgr
        .upload_big_file(
            &data[..PART as usize + 7],
            "short.bin",
            data.len() as u64,
            "0",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(short, Error::SourceTooShort { expected, actual } if expected == data.len() as u64 && actual == PART + 7),
        "{short:?}"
    );
    let long = mgr
        .upload_big_file(&data[..], "long.bin", data.len() as u64 - 1, "0")
        .await
        .unwrap_err();
    assert!(matches!(long, Error::SourceTooLong { .. }), "{long:?}");
}

#[tokio::test]
async fn read_ahead_stays_within_parallelism_plus_one_parts() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    // Three PUTs must meet before any is forwarded, but at parallelism 2
    // only two are ever in flight: the upload stalls with both held.
    proxy.hold_first_puts(3);
    let data = pattern(20 * PART as usize, 32);
    let (source, mut read) = Counted::new(data.clone());
    let options = UploadOptions::new().with_parallelism(2);
    let mgr = proxy.client().chunked_uploads();
    let mut upload =
        pin!(mgr.upload_big_file_with(source, "bounded.bin", data.len() as u64, "0", &options));
    let bound = 3 * PART;
    let mut reached = read.clone();
    drive_until(upload.as_mut(), async {
        proxy.puts_in_flight_until(|n| n == 2).await;
        reached.wait_for(|r| *r >= bound).await.unwrap();
    })
    .await;
    // Stalled: a client reading ahead without bound would now read on.
    let read_more = tokio::time::timeout(QUIET, async {
        tokio::select! {
            done = upload.as_mut() => panic!("the stalled upload ended: {done:?}"),
            _ = read.wait_for(|r| *r > bound) => {}
        }
    })
    .await;
    assert!(
        read_more.is_err(),
        "read {} bytes while stalled; the bound is {bound}",
        *read.borrow()
    );
    assert_eq!(*read.borrow(), bound);
    assert_eq!(proxy.put_arrivals(), 2);
}

#[tokio::test]
async fn an_absurd_parallelism_is_clamped_not_a_panic() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let data = pattern(3 * PART as usize + 1, 33);
    let options = UploadOptions::new().with_parallelism(usize::MAX);
    let file = proxy
        .client()
        .chunked_uploads()
        .upload_big_file_with(&data[..], "clamped.bin", data.len() as u64, "0", &options)
        .await
        .unwrap();
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert!(proxy.max_puts_in_flight() <= 4);
}

#[tokio::test]
async fn a_tiny_part_size_from_the_server_is_a_protocol_error() {
    let server = TestServer::start_small().await;
    // The "server" offers 1-byte parts for a 1 EiB file: 2^60 parts.
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.method == "POST" && s.path.ends_with("/files/upload_sessions") {
            Action::Respond {
                status: 201,
                retry_after: None,
                body: Some(
                    r#"{"id":"X","type":"upload_session","part_size":1,"num_parts_processed":0}"#
                        .into(),
                ),
            }
        } else {
            Action::Forward
        }
    })
    .await;
    let mgr = proxy.client().chunked_uploads();
    // Spawned, so that a panic or an abort would show as such.
    let upload = tokio::spawn(async move {
        mgr.upload_big_file(&b"abc"[..], "huge.bin", 1 << 60, "0")
            .await
    });
    let err = tokio::time::timeout(PROMPTLY, upload)
        .await
        .expect("the client gave up at once")
        .expect("the client did not panic")
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("part size of 1 bytes")),
        "{err:?}"
    );
    assert!(proxy.puts().is_empty());
}

#[tokio::test]
async fn a_source_that_never_closes_after_its_declared_size_does_not_hang() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start_small().await;
    let data = pattern(3 * PART as usize + 9, 34);
    // A pipe holding exactly the declared bytes, whose writer stays open
    // (a socket whose peer neither sends more nor closes).
    let (mut writer, mut reader) = tokio::io::duplex(data.len() + 1);
    writer.write_all(&data).await.unwrap();
    let file = tokio::time::timeout(
        Duration::from_secs(30),
        server.client().chunked_uploads().upload_big_file(
            &mut reader,
            "open-pipe.bin",
            data.len() as u64,
            "0",
        ),
    )
    .await
    .expect("the upload hung waiting for the end of the source")
    .unwrap();
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    // The end probe ate nothing: what is written next is read whole.
    writer.write_all(b"next").await.unwrap();
    let mut next = [0u8; 4];
    tokio::io::AsyncReadExt::read_exact(&mut reader, &mut next)
        .await
        .unwrap();
    assert_eq!(&next, b"next");
}
