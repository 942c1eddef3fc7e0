//! Helpers shared by the e2e test files: an upload through a fault proxy
//! checked against the server, and driving an upload until a state is
//! reached, with the time bounds the tests use.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use boxup_client::UploadOptions;
use boxup_e2e::server::PART;
use boxup_e2e::{FaultProxy, TestServer, pattern, sha1_hex};

/// A generous upper bound on anything that should happen "at once".
pub const PROMPTLY: Duration = Duration::from_secs(10);

/// How long a test watches for something that must not happen.
pub const QUIET: Duration = Duration::from_millis(300);

/// Polls `upload` until `until` resolves, failing if the upload ends first
/// or `until` takes longer than 30 s.
pub async fn drive_until<U: Future, F: Future>(upload: std::pin::Pin<&mut U>, until: F)
where
    U::Output: std::fmt::Debug,
{
    tokio::select! {
        done = upload => panic!("the upload ended early: {done:?}"),
        reached = tokio::time::timeout(Duration::from_secs(30), until) => {
            reached.expect("the awaited state never came");
        }
    }
}

/// Uploads `parts` parts (the last one short) through `proxy` and checks
/// the result against the server.
pub async fn upload_through(server: &TestServer, proxy: &FaultProxy, parts: usize, seed: u64) {
    let data = pattern(parts * PART as usize - 17, seed);
    let options = UploadOptions::new().with_parallelism(4);
    let file = tokio::time::timeout(
        Duration::from_secs(60),
        proxy.client().chunked_uploads().upload_big_file_with(
            &data[..],
            "faulty.bin",
            data.len() as u64,
            "0",
            &options,
        ),
    )
    .await
    .expect("the upload finished")
    .unwrap();
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(server.download(&file.id).await, data);
}
