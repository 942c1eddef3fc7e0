//! Part-store conformance suite: one `check_*` per clause of the
//! [`PartStore`] contract, each taking a fresh, empty store.
//!
//! Stamp it against a backend with
//! [`part_store_conformance!`](crate::part_store_conformance), giving it a
//! factory: an async fn (or a closure returning a future) that yields
//! `(store, guard)`, where `guard` keeps the store's resources (a temp dir,
//! say) alive until the test ends:
//!
//! ```text
//! async fn disk() -> (LocalDiskPartStore, tempfile::TempDir) { ... }
//! boxup_server::part_store_conformance!(disk);
//! ```

use std::error::Error;
use std::fmt;
use std::io;
use std::ops::Range;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use sha1::{Digest, Sha1};

use crate::store::{ByteStream, PartStore, StoreError, list_all_older_than};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// `len` pseudo-random bytes, the same for the same `seed`.
fn random_bytes(seed: u64, len: usize) -> Bytes {
    let mut data = vec![0u8; len];
    StdRng::seed_from_u64(seed).fill_bytes(&mut data);
    Bytes::from(data)
}

/// A body yielding `chunks` in order.
fn body_of(chunks: Vec<Bytes>) -> ByteStream {
    futures::stream::iter(chunks.into_iter().map(Ok)).boxed()
}

/// `data` cut into chunks of `chunk` bytes (the last one shorter).
fn chunked(data: &Bytes, chunk: usize) -> ByteStream {
    let chunks = (0..data.len())
        .step_by(chunk)
        .map(|at| data.slice(at..(at + chunk).min(data.len())))
        .collect();
    body_of(chunks)
}

/// Reads a whole stream, failing the test on a stream error.
async fn collect(mut stream: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("reading a stored object"));
    }
    out
}

async fn get_range(store: &dyn PartStore, key: &str, range: Range<u64>) -> Vec<u8> {
    let stream = store
        .get(key, range.clone())
        .await
        .unwrap_or_else(|e| panic!("get {key} {range:?}: {e}"));
    collect(stream).await
}

async fn get_all(store: &dyn PartStore, key: &str) -> Vec<u8> {
    get_range(store, key, 0..u64::MAX).await
}

async fn put_ok(store: &dyn PartStore, key: &str, body: ByteStream) -> u64 {
    store
        .put(key, body)
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e}"))
}

async fn assert_not_found(store: &dyn PartStore, key: &str) {
    match store.get(key, 0..u64::MAX).await {
        Err(StoreError::NotFound) => {}
        Err(e) => panic!("get {key}: expected NotFound, got {e}"),
        Ok(stream) => panic!(
            "get {key}: expected NotFound, got {} bytes",
            collect(stream).await.len()
        ),
    }
}

fn far_future() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

/// A put returns the object's length and the object reads back whole.
pub async fn check_put_get_round_trip(store: &dyn PartStore) {
    let data = random_bytes(1, 3 * MIB + 17);
    let body = body_of(vec![
        data.slice(..300 * KIB),
        data.slice(300 * KIB..300 * KIB + 1),
        data.slice(300 * KIB + 1..),
    ]);
    let len = put_ok(store, "roundtrip/obj-1", body).await;
    assert_eq!(len, data.len() as u64);
    assert!(
        get_all(store, "roundtrip/obj-1").await == data,
        "content differs"
    );
    let exact = get_range(store, "roundtrip/obj-1", 0..len).await;
    assert!(exact == data, "content of 0..len differs");
}

/// An object streamed in many small, irregular chunks reads back equal.
pub async fn check_put_many_small_chunks(store: &dyn PartStore) {
    let data = random_bytes(2, 20 * MIB);
    let mut rng = StdRng::seed_from_u64(3);
    let mut chunks = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let end = (at + rng.random_range(1000..=64 * KIB)).min(data.len());
        chunks.push(data.slice(at..end));
        at = end;
    }
    assert!(chunks.len() > 500, "the body should be many chunks");
    let len = put_ok(store, "small-chunks/obj", body_of(chunks)).await;
    assert_eq!(len, data.len() as u64);

    let mut stream = store
        .get("small-chunks/obj", 0..u64::MAX)
        .await
        .expect("get small-chunks/obj");
    let mut hasher = Sha1::new();
    let mut read = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("reading small-chunks/obj");
        read += chunk.len() as u64;
        hasher.update(&chunk);
    }
    assert_eq!(read, len);
    assert_eq!(
        hex::encode(hasher.finalize()),
        hex::encode(Sha1::digest(&data)),
        "SHA-1 of the stored object differs"
    );
}

/// Ranges read the right bytes; a range past the end is clamped; an empty
/// range, or one starting at or past the end, yields no bytes.
pub async fn check_range_reads(store: &dyn PartStore) {
    let data = random_bytes(4, MIB + 123);
    let n = data.len() as u64;
    put_ok(store, "ranges/obj", chunked(&data, 64 * KIB)).await;
    let slice = |r: Range<u64>| data[r.start as usize..r.end as usize].to_vec();

    for range in [
        0..10,
        0..1,
        100..5000,
        1000..700_000, // spans several read chunks
        n / 2..n / 2 + 1,
        n - 10..n,
        0..n,
    ] {
        let got = get_range(store, "ranges/obj", range.clone()).await;
        assert!(got == slice(range.clone()), "range {range:?} differs");
    }
    let clamped = get_range(store, "ranges/obj", n - 10..n + 100).await;
    assert!(
        clamped == slice(n - 10..n),
        "range past the end is not clamped"
    );
    for empty in [5..5, 0..0, n..n, n..n + 10, n + 10..n + 20] {
        let got = get_range(store, "ranges/obj", empty.clone()).await;
        assert!(
            got.is_empty(),
            "range {empty:?} yielded {} bytes",
            got.len()
        );
    }
}

/// A get of a key never stored is `NotFound`.
pub async fn check_get_missing_is_not_found(store: &dyn PartStore) {
    assert_not_found(store, "missing/never-stored").await;
    put_ok(
        store,
        "missing/sibling",
        body_of(vec![Bytes::from_static(b"x")]),
    )
    .await;
    assert_not_found(store, "missing/never-stored").await;
    assert_not_found(store, "missing/sibling/child").await;
    assert_not_found(store, "missing").await;
}

/// Delete removes the object, is idempotent, and spares other keys.
pub async fn check_delete_is_idempotent(store: &dyn PartStore) {
    let data = random_bytes(5, 1000);
    put_ok(store, "delete/a/obj", chunked(&data, 100)).await;
    put_ok(store, "delete/a/other", chunked(&data, 100)).await;
    store.delete("delete/a/obj").await.expect("delete");
    assert_not_found(store, "delete/a/obj").await;
    store.delete("delete/a/obj").await.expect("delete again");
    store
        .delete("delete/never/stored")
        .await
        .expect("delete of a key never stored");
    assert!(
        get_all(store, "delete/a/other").await == data,
        "sibling lost"
    );
    // The key can be stored again after a delete.
    put_ok(store, "delete/a/obj", chunked(&data, 100)).await;
    assert!(get_all(store, "delete/a/obj").await == data);
}

/// The error a failing body yields in [`check_failing_body`].
#[derive(Debug)]
pub struct InjectedFailure(pub u64);

impl fmt::Display for InjectedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "injected failure #{}", self.0)
    }
}

impl Error for InjectedFailure {}

/// A body that fails (after some data, or at once) fails the put with
/// `StoreError::Body` carrying the very error it yielded, and nothing is
/// readable under the key afterwards.
pub async fn check_failing_body(store: &dyn PartStore) {
    let data = random_bytes(6, 3 * MIB);
    for (key, ok_chunks, marker) in [("fail/late", 48, 41), ("fail/first", 0, 42)] {
        let mut items: Vec<io::Result<Bytes>> = (0..ok_chunks)
            .map(|i| Ok(data.slice(i * 64 * KIB..(i + 1) * 64 * KIB)))
            .collect();
        items.push(Err(io::Error::new(
            io::ErrorKind::InvalidData,
            InjectedFailure(marker),
        )));
        items.push(Ok(data.slice(..64 * KIB)));
        let body = futures::stream::iter(items).boxed();
        match store.put(key, body).await {
            Err(StoreError::Body(e)) => {
                assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{key}: kind changed");
                let inner = e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<InjectedFailure>());
                assert!(
                    matches!(inner, Some(InjectedFailure(m)) if *m == marker),
                    "{key}: not the body's own error: {e:?}"
                );
            }
            Err(e) => panic!("{key}: expected StoreError::Body, got {e}"),
            Ok(len) => panic!("{key}: expected StoreError::Body, got Ok({len})"),
        }
        assert_not_found(store, key).await;
        let listed = list_all_older_than(store, far_future())
            .await
            .expect("list");
        assert!(!listed.iter().any(|k| k == key), "{key} listed");
    }
}

/// Putting an existing key replaces the object (a shorter one too).
pub async fn check_put_replaces_existing(store: &dyn PartStore) {
    let first = random_bytes(7, 2 * MIB);
    let second = random_bytes(8, 100);
    put_ok(store, "replace/obj", chunked(&first, 64 * KIB)).await;
    let len = put_ok(store, "replace/obj", chunked(&second, 7)).await;
    assert_eq!(len, 100);
    assert!(
        get_all(store, "replace/obj").await == second,
        "not replaced"
    );
}

/// `list_older_than` lists stored keys (exactly as given) with a cutoff in
/// the future, not with one in the past, and not once deleted.
pub async fn check_list_older_than(store: &dyn PartStore) {
    let start = SystemTime::now();
    let data = random_bytes(9, 10 * KIB);
    let keys = ["list/a", "list/nested/deeper/b", "list-c"];
    for key in keys {
        put_ok(store, key, chunked(&data, KIB)).await;
    }
    let future = list_all_older_than(store, far_future())
        .await
        .expect("list");
    for key in keys {
        assert!(future.iter().any(|k| k == key), "{key} not in {future:?}");
    }
    let past = list_all_older_than(store, start - Duration::from_secs(3600))
        .await
        .expect("list");
    for key in keys {
        assert!(!past.iter().any(|k| k == key), "{key} in {past:?}");
    }
    store.delete("list/a").await.expect("delete");
    let after = list_all_older_than(store, far_future())
        .await
        .expect("list");
    assert!(!after.iter().any(|k| k == "list/a"), "deleted key listed");
    assert!(after.iter().any(|k| k == "list/nested/deeper/b"));
}

/// 16 puts of distinct keys at once (four to a directory, so parents are
/// created concurrently) all read back correctly.
pub async fn check_concurrent_puts(store: &dyn PartStore) {
    let objects: Vec<(String, Bytes)> = (0..16u64)
        .map(|i| {
            let key = format!("concurrent/{}/obj-{i:02}", i % 4);
            (
                key,
                random_bytes(100 + i, (i as usize + 1) * 256 * KIB + i as usize),
            )
        })
        .collect();
    let puts = objects
        .iter()
        .map(|(key, data)| store.put(key, chunked(data, 48 * KIB)));
    let results = futures::future::join_all(puts).await;
    for ((key, data), result) in objects.iter().zip(results) {
        let len = result.unwrap_or_else(|e| panic!("put {key}: {e}"));
        assert_eq!(len, data.len() as u64, "{key}");
    }
    for (key, data) in &objects {
        assert!(get_all(store, key).await == *data, "{key} differs");
    }
}

/// An empty object (no chunks, or only empty ones) round-trips as an
/// existing object of 0 bytes.
pub async fn check_empty_object(store: &dyn PartStore) {
    assert_eq!(put_ok(store, "empty/none", body_of(vec![])).await, 0);
    let empties = vec![Bytes::new(), Bytes::new()];
    assert_eq!(put_ok(store, "empty/blank", body_of(empties)).await, 0);
    for key in ["empty/none", "empty/blank"] {
        assert!(get_all(store, key).await.is_empty(), "{key}");
        assert!(get_range(store, key, 0..10).await.is_empty(), "{key}");
        let listed = list_all_older_than(store, far_future())
            .await
            .expect("list");
        assert!(listed.iter().any(|k| k == key), "{key} not listed");
    }
}

/// One check of the suite, as a function a harness can call.
pub type Check = for<'a> fn(&'a dyn PartStore) -> futures::future::BoxFuture<'a, ()>;

/// Every check of the suite with its name, for a harness that builds its
/// own tests (the object-store one, which marks them ignored without a
/// server).
pub fn checks() -> Vec<(&'static str, Check)> {
    crate::__part_store_checks!(part_store_conformance { @list })
}

/// Stamps one `#[tokio::test]` per `check_*` of
/// [`store::conformance::parts`](crate::store::conformance::parts), each on a
/// fresh store from `$factory`: an async fn (or closure returning a future)
/// yielding `(store, guard)`; `guard` lives until the test ends.
#[macro_export]
macro_rules! part_store_conformance {
    ($factory:expr) => {
        $crate::__part_store_checks!(part_store_conformance { @stamp $factory; });
    };
    (@stamp $factory:expr; $($check:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (store, _guard) = ($factory)().await;
                $crate::store::conformance::parts::$check(&store).await;
            }
        )+
    };
    (@list $($check:ident),* $(,)?) => {
        vec![$((
            stringify!($check),
            (|store| ::std::boxed::Box::pin($crate::store::conformance::parts::$check(store)))
                as $crate::store::conformance::parts::Check,
        )),*]
    };
}

/// The suite's checks, named once: calls `$crate::$then! { ARGS check, … }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __part_store_checks {
    ($then:ident { $($args:tt)* }) => {
        $crate::$then! { $($args)*
            check_put_get_round_trip,
            check_put_many_small_chunks,
            check_range_reads,
            check_get_missing_is_not_found,
            check_delete_is_idempotent,
            check_failing_body,
            check_put_replaces_existing,
            check_list_older_than,
            check_concurrent_puts,
            check_empty_object,
        }
    };
}
