//! `boxup-client` downloads against the real server: whole and ranged
//! content, resuming after a partial download (only the rest is fetched),
//! SHA-1 verification, retries, progress and cancellation.

use std::sync::{Arc, Mutex};

use boxup_client::{BoxClient, CancellationToken, DownloadOptions, Error};
use boxup_e2e::{Action, FaultProxy, TestServer, pattern, sha1_hex};

const SIZE: usize = 3 * 1024 * 1024 + 123;

/// A server holding one file of `SIZE` bytes; returns its id and bytes.
async fn with_file(seed: u64) -> (TestServer, String, Vec<u8>) {
    let server = TestServer::start_small().await;
    let data = pattern(SIZE, seed);
    let file = server
        .client()
        .chunked_uploads()
        .upload_big_file(&data[..], "d.bin", SIZE as u64, "0")
        .await
        .unwrap();
    (server, file.id, data)
}

async fn read_all(client: &BoxClient, id: &str, offset: u64) -> (u64, u64, Vec<u8>) {
    let mut content = client
        .downloads()
        .download_file(id, offset, None)
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = content.chunk().await.unwrap() {
        out.extend_from_slice(&chunk);
    }
    (content.offset, content.total_size, out)
}

#[tokio::test]
async fn whole_and_ranged_content_streams() {
    let (server, id, data) = with_file(1).await;
    let client = server.client();
    let (offset, total, bytes) = read_all(&client, &id, 0).await;
    assert_eq!((offset, total), (0, SIZE as u64));
    assert_eq!(bytes, data);
    let (offset, total, bytes) = read_all(&client, &id, 1_000_001).await;
    assert_eq!((offset, total), (1_000_001, SIZE as u64));
    assert_eq!(bytes[..], data[1_000_001..]);
    let err = client
        .downloads()
        .download_file(&id, SIZE as u64 + 5, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(416));
    let err = client
        .downloads()
        .download_file("424242", 0, None)
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(404), Some("not_found")));
    assert!(err.request_id().is_some());
}

#[tokio::test]
async fn a_partial_download_is_continued_and_verified() {
    let (server, id, data) = with_file(2).await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let client = proxy.client();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let options =
        DownloadOptions::default().on_progress(move |p| s.lock().unwrap().push(p.bytes_done));
    let have = 2_000_000;
    let mut out = data[..have].to_vec();
    let done = client
        .downloads()
        .download_file_to(&id, &data[..have], &mut out, &options)
        .await
        .unwrap();
    assert_eq!(out, data);
    assert_eq!(
        (done.bytes_resumed, done.bytes_downloaded),
        (have as u64, (SIZE - have) as u64)
    );
    assert_eq!(done.sha1.to_hex(), sha1_hex(&data));
    let ranges: Vec<_> = proxy
        .log()
        .into_iter()
        .filter(|l| l.seen.path.ends_with("/content"))
        .map(|l| {
            l.headers
                .get("range")
                .map(|v| v.to_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(ranges, vec![Some(format!("bytes={have}-"))]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&(have as u64)));
    assert_eq!(seen.last(), Some(&(SIZE as u64)));

    // Everything already there: nothing is fetched, the hash is checked.
    let before = proxy.log().len();
    let mut sink = Vec::new();
    let all = client
        .downloads()
        .download_file_to(&id, &data[..], &mut sink, &DownloadOptions::default())
        .await
        .unwrap();
    assert_eq!((all.bytes_resumed, all.bytes_downloaded), (SIZE as u64, 0));
    let fetched = proxy.log()[before..]
        .iter()
        .filter(|l| l.seen.path.ends_with("/content"))
        .count();
    assert_eq!(fetched, 0);
}

#[tokio::test]
async fn a_wrong_prefix_fails_verification_and_a_long_one_is_refused() {
    let (server, id, data) = with_file(3).await;
    let client = server.client();
    let mut prefix = data[..1000].to_vec();
    prefix[10] ^= 1;
    let mut out = Vec::new();
    let err = client
        .downloads()
        .download_file_to(&id, &prefix[..], &mut out, &DownloadOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("sha1")),
        "{err}"
    );
    let long = pattern(SIZE + 1, 3);
    let err = client
        .downloads()
        .download_file_to(&id, &long[..], &mut out, &DownloadOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
}

#[tokio::test]
async fn failed_content_requests_are_retried() {
    let (server, id, data) = with_file(4).await;
    let proxy = FaultProxy::start(server.addr, |seen| {
        let content = seen.method == "GET" && seen.path.ends_with("/content");
        match (content, seen.attempt) {
            (true, 1) => Action::status(503),
            (true, 2) => Action::ForwardThenDrop,
            _ => Action::Forward,
        }
    })
    .await;
    let mut out = Vec::new();
    let done = proxy
        .client()
        .downloads()
        .download_file_to(
            &id,
            tokio::io::empty(),
            &mut out,
            &DownloadOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(out, data);
    assert_eq!(done.bytes_downloaded, SIZE as u64);
    let tries = proxy
        .log()
        .iter()
        .filter(|l| l.seen.path.ends_with("/content"))
        .count();
    assert_eq!(tries, 3);
}

#[tokio::test]
async fn a_cancelled_download_stops_with_cancelled() {
    let (server, id, _) = with_file(5).await;
    let cancel = CancellationToken::new();
    cancel.cancel();
    let options = DownloadOptions {
        cancel: Some(cancel),
        ..DownloadOptions::default()
    };
    let mut out = Vec::new();
    let err = server
        .client()
        .downloads()
        .download_file_to(&id, tokio::io::empty(), &mut out, &options)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err}");
}
