//! The part-store conformance suite against `LocalDiskPartStore`, plus
//! checks of what is specific to the disk layout.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use boxup_server::store::disk::LocalDiskPartStore;
use boxup_server::store::{ByteStream, PartStore, StoreError, list_all_older_than};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tempfile::TempDir;

async fn disk_store() -> (LocalDiskPartStore, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalDiskPartStore::open(dir.path()).expect("open store");
    (store, dir)
}

boxup_server::part_store_conformance!(disk_store);

fn body_of(chunks: Vec<Bytes>) -> ByteStream {
    futures::stream::iter(chunks.into_iter().map(Ok)).boxed()
}

async fn read_all(store: &LocalDiskPartStore, key: &str) -> Vec<u8> {
    let mut stream = store.get(key, 0..u64::MAX).await.expect("get");
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("read"));
    }
    out
}

/// Every file (not directory) under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn invalid_keys_are_rejected_and_nothing_is_written() {
    let outer = tempfile::tempdir().expect("temp dir");
    let root = outer.path().join("store");
    let store = LocalDiskPartStore::open(&root).expect("open");
    let absolute = format!("/boxup-part-store-test-{}", std::process::id());
    let bad = [
        "../x",
        "../../escape",
        "a/../../../escape",
        "a//b",
        "/abs",
        absolute.as_str(),
        "a/./b",
        ".",
        "..",
        "",
        "a/",
        "a b",
        "a\\b",
        "nul\0byte",
    ];
    for key in bad {
        let body = body_of(vec![Bytes::from_static(b"must not be written")]);
        assert!(
            matches!(store.put(key, body).await, Err(StoreError::Backend(_))),
            "put {key:?} not rejected"
        );
        assert!(
            matches!(store.get(key, 0..10).await, Err(StoreError::Backend(_))),
            "get {key:?} not rejected"
        );
        assert!(
            matches!(store.delete(key).await, Err(StoreError::Backend(_))),
            "delete {key:?} not rejected"
        );
    }
    assert_eq!(names_in(outer.path()), ["store"]);
    assert_eq!(names_in(&root), ["objects", "tmp"]);
    assert!(files_under(&root).is_empty(), "{:?}", files_under(&root));
    assert!(!Path::new(&absolute).exists());

    // A valid key lands exactly at objects/<key>.
    let body = body_of(vec![Bytes::from_static(b"hello")]);
    assert_eq!(store.put("ab/cd.ef/0-1_2", body).await.expect("put"), 5);
    assert_eq!(files_under(&root), [root.join("objects/ab/cd.ef/0-1_2")]);
    assert_eq!(
        std::fs::read(root.join("objects/ab/cd.ef/0-1_2")).unwrap(),
        b"hello"
    );
}

#[tokio::test]
async fn open_removes_leftover_temp_files_and_keeps_objects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalDiskPartStore::open(dir.path()).expect("open");
    let body = body_of(vec![Bytes::from_static(b"kept")]);
    store.put("keep/me", body).await.expect("put");
    drop(store);

    let tmp = dir.path().join("tmp");
    std::fs::write(tmp.join("0123456789abcdef-0.tmp"), b"partial").unwrap();
    std::fs::create_dir_all(tmp.join("stray/dir")).unwrap();
    std::fs::write(tmp.join("stray/dir/file"), b"partial").unwrap();
    assert_eq!(names_in(&tmp).len(), 2);

    let store = LocalDiskPartStore::open(dir.path()).expect("reopen");
    assert!(names_in(&tmp).is_empty(), "leftovers: {:?}", names_in(&tmp));
    assert_eq!(read_all(&store, "keep/me").await, b"kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_put_leaves_no_temp_file() {
    let (store, dir) = disk_store().await;
    let tmp = dir.path().join("tmp");
    // A body that only ends when the test says so: it never does.
    let (mut tx, rx) = futures::channel::mpsc::channel::<io::Result<Bytes>>(0);
    let put = tokio::spawn({
        let store = store.clone();
        async move { store.put("dropped/obj", rx.boxed()).await }
    });
    // Each send completes only once the put pulled the one before, and the
    // put pulls only as fast as its writer drains its bounded queue. After
    // 32 MiB, the writer has necessarily created its temp file and written
    // most of this to it.
    for _ in 0..32 {
        tx.send(Ok(Bytes::from(vec![7u8; 1 << 20])))
            .await
            .expect("put is pulling");
    }
    assert_eq!(names_in(&tmp).len(), 1, "the put's temp file exists");
    // Mid-put: nothing is visible under the key.
    assert!(matches!(
        store.get("dropped/obj", 0..1).await,
        Err(StoreError::NotFound)
    ));
    let listed = list_all_older_than(&store, SystemTime::now() + Duration::from_secs(3600))
        .await
        .expect("list");
    assert!(listed.is_empty(), "in-flight object listed: {listed:?}");

    // The client disconnects: the put's future is dropped mid-body.
    put.abort();
    assert!(put.await.expect_err("aborted").is_cancelled());
    drop(tx);
    store.wait_for_writers().await;
    assert!(names_in(&tmp).is_empty(), "left: {:?}", names_in(&tmp));
    assert!(matches!(
        store.get("dropped/obj", 0..1).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn failed_puts_leave_no_temp_file() {
    let (store, dir) = disk_store().await;
    let tmp = dir.path().join("tmp");

    // The body fails after 5 MiB: the temp file is gone when put returns.
    let mut items: Vec<io::Result<Bytes>> = (0..5)
        .map(|_| Ok(Bytes::from(vec![1u8; 1 << 20])))
        .collect();
    items.push(Err(io::Error::other("boom")));
    let result = store
        .put("failed/body", futures::stream::iter(items).boxed())
        .await;
    assert!(matches!(result, Err(StoreError::Body(e)) if e.to_string() == "boom"));
    assert!(names_in(&tmp).is_empty(), "left: {:?}", names_in(&tmp));

    // The writer fails (the key's parent is an object, not a directory):
    // a backend error, and the temp file is gone too.
    let body = body_of(vec![Bytes::from_static(b"file")]);
    store.put("failed/file", body).await.expect("put");
    let body = body_of(vec![Bytes::from(vec![2u8; 3 << 20])]);
    let result = store.put("failed/file/child", body).await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    assert!(names_in(&tmp).is_empty(), "left: {:?}", names_in(&tmp));
    assert_eq!(read_all(&store, "failed/file").await, b"file");
}

#[tokio::test]
async fn delete_prunes_empty_directories_but_not_objects_dir() {
    let (store, dir) = disk_store().await;
    let objects = dir.path().join("objects");
    let put = |key: &'static str| {
        let store = store.clone();
        async move {
            let body = body_of(vec![Bytes::from_static(b"x")]);
            store.put(key, body).await.expect("put");
        }
    };
    put("p/q/r/one").await;
    put("p/two").await;
    store.delete("p/q/r/one").await.expect("delete");
    assert_eq!(names_in(&objects.join("p")), ["two"]);
    store.delete("p/two").await.expect("delete");
    assert!(names_in(&objects).is_empty(), "{:?}", names_in(&objects));
    assert!(objects.is_dir());
    put("top").await;
    store.delete("top").await.expect("delete");
    assert!(objects.is_dir());
    // Deleting a directory's name is deleting a missing object.
    put("d/e").await;
    store.delete("d").await.expect("delete of a directory name");
    assert_eq!(read_all(&store, "d/e").await, b"x");
}
