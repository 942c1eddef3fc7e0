//! The part-store conformance suite against a real S3-compatible server
//! (Garage in CI), plus what only an object store can get wrong.
//!
//! The server is named by the environment `tests/garage/run.sh` sets up:
//! `BOXUP_TEST_S3_URL` (`s3://BUCKET/PREFIX`), `BOXUP_TEST_S3_ENDPOINT`
//! and the `AWS_*` credentials. Like the PostgreSQL tests, these have a
//! harness of their own (libtest-mimic): without a server each test is
//! reported *ignored* with one line saying why, never passed; with
//! `BOXUP_REQUIRE_S3=1` a missing server fails them.

#[path = "../http/common/mod.rs"]
mod common;
#[path = "../support/forwarder.rs"]
mod forwarder;
#[path = "../gated/mod.rs"]
mod gated;
mod server;

use std::future::Future;
use std::process::ExitCode;

use boxup_server::store::conformance::parts;
use boxup_server::store::object::{ObjectStorePartStore, S3Options};
use boxup_server::store::{PartStore, StoreError, list_all_older_than};
use bytes::Bytes;
use futures::StreamExt;
use libtest_mimic::Trial;

/// The server's options, or why there is none.
fn options() -> Result<S3Options, String> {
    let url = std::env::var("BOXUP_TEST_S3_URL").map_err(|_| {
        "no S3-compatible server: BOXUP_TEST_S3_URL is not set \
         (run these tests through tests/garage/run.sh)"
            .to_owned()
    })?;
    Ok(S3Options {
        url,
        endpoint: std::env::var("BOXUP_TEST_S3_ENDPOINT").ok(),
        region: std::env::var("AWS_REGION").ok(),
        path_style: true,
        access_key_id: None,
        secret_access_key: None,
        presigned_downloads: true,
    })
}

/// A fresh, empty store: the run's prefix plus one of the test's own.
fn store(test: &str) -> ObjectStorePartStore {
    let mut options = options().expect("probed before any test runs");
    options.url = format!("{}/{test}", options.url.trim_end_matches('/'));
    ObjectStorePartStore::s3(&options).expect("the object store")
}

fn trial<F>(name: &str, test: impl FnOnce() -> F + Send + 'static) -> Trial
where
    F: Future<Output = ()>,
{
    gated::trial(name, 2, test)
}

/// A body whose last read fails, as the service's verifying stream does
/// when the SHA-1 is wrong: nothing may become visible under the key, even
/// though every byte reached the server.
async fn a_bad_part_leaves_no_object() {
    let store = store("bad-part");
    let chunks: Vec<std::io::Result<Bytes>> = vec![
        Ok(Bytes::from(vec![7u8; 6 * 1024 * 1024])),
        Ok(Bytes::from(vec![8u8; 1024])),
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "digest mismatch",
        )),
    ];
    let put = store
        .put("s/bad/000001-X", futures::stream::iter(chunks).boxed())
        .await;
    assert!(matches!(put, Err(StoreError::Body(_))), "{put:?}");
    let got = store.get("s/bad/000001-X", 0..10).await;
    assert!(
        matches!(got, Err(StoreError::NotFound)),
        "visible after a failed put"
    );
    let listed = list_all_older_than(
        &store,
        std::time::SystemTime::now() + std::time::Duration::from_secs(3600),
    )
    .await
    .unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

/// Bodies past the one-PUT size, or any body when the memory budget is
/// spent, go up as multipart uploads: they round-trip, and a failing one
/// leaves nothing, exactly like the bodies sent as one PUT.
async fn multipart_puts_round_trip_and_a_failed_one_leaves_nothing() {
    let big = store("multipart-big");
    let no_memory = store("multipart-no-memory").with_buffer_budget(0);
    let data: Vec<u8> = (0..17 * 1024 * 1024 + 5).map(|i| (i % 251) as u8).collect();
    for (store, len) in [(&big, data.len()), (&no_memory, 1024 * 1024 + 3)] {
        let body = futures::stream::iter(
            data[..len]
                .chunks(256 * 1024)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        );
        assert_eq!(
            store.put("s/mp/000000-A", body.boxed()).await.unwrap(),
            len as u64
        );
        let mut got = Vec::new();
        let mut stream = store.get("s/mp/000000-A", 0..u64::MAX).await.unwrap();
        while let Some(chunk) = stream.next().await {
            got.extend_from_slice(&chunk.unwrap());
        }
        assert!(got == data[..len], "{len} bytes differ");

        let failing = futures::stream::iter(vec![
            Ok(Bytes::copy_from_slice(&data[..len])),
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "bad digest",
            )),
        ]);
        let put = store.put("s/mp/000001-B", failing.boxed()).await;
        assert!(matches!(put, Err(StoreError::Body(_))), "{put:?}");
        let got = store.get("s/mp/000001-B", 0..1).await;
        assert!(
            matches!(got, Err(StoreError::NotFound)),
            "visible after a failed put"
        );
    }
}

fn all_trials() -> Vec<Trial> {
    let mut trials: Vec<Trial> = parts::checks()
        .into_iter()
        .map(|(name, check)| {
            trial(&format!("conformance::{name}"), move || async move {
                let store = store(name);
                check(&store).await;
            })
        })
        .collect();
    trials.push(trial(
        "a_bad_part_leaves_no_object",
        a_bad_part_leaves_no_object,
    ));
    trials.push(trial(
        "multipart_puts_round_trip_and_a_failed_one_leaves_nothing",
        multipart_puts_round_trip_and_a_failed_one_leaves_nothing,
    ));
    trials.push(trial(
        "server::uploads_and_downloads_go_through_the_object_store",
        server::uploads_and_downloads_go_through_the_object_store,
    ));
    trials.push(trial(
        "server::every_object_is_reclaimed",
        server::every_object_is_reclaimed,
    ));
    trials.push(trial(
        "server::an_unreachable_store_is_503_and_the_upload_completes_when_back",
        server::an_unreachable_store_is_503_and_the_upload_completes_when_back,
    ));
    trials
}

fn main() -> ExitCode {
    gated::run(all_trials(), options().map(drop), "BOXUP_REQUIRE_S3")
}
