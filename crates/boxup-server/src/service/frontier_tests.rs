//! The hash frontier does not read back what it just stored: parts that
//! arrive in order are hashed as they stream in, parts that arrive ahead
//! are hashed from memory, and only past the memory budget does the
//! frontier read a part back from the part store.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use async_trait::async_trait;
use boxup_protocol::Sha1Digest;
use bytes::Bytes;

use super::{Caller, Origin, PartHeaders, ServiceConfig, UploadService};
use crate::store::disk::LocalDiskPartStore;
use crate::store::sqlite::SqliteMetadataStore;
use crate::store::{ByteStream, KeyStream, PartStore, SessionId, SessionRecord, StoreResult};

const PART: u64 = 64 * 1024;

/// A real disk store that counts the reads made of it.
struct CountingReads {
    inner: LocalDiskPartStore,
    gets: AtomicUsize,
}

#[async_trait]
impl PartStore for CountingReads {
    async fn put(&self, key: &str, body: ByteStream) -> StoreResult<u64> {
        self.inner.put(key, body).await
    }
    async fn get(&self, key: &str, range: Range<u64>) -> StoreResult<ByteStream> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key, range).await
    }
    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.inner.delete(key).await
    }
    async fn list_older_than(&self, before: SystemTime) -> StoreResult<KeyStream> {
        self.inner.list_older_than(before).await
    }
}

struct Fixture {
    service: UploadService,
    parts: Arc<CountingReads>,
    caller: Caller,
    _dir: tempfile::TempDir,
}

async fn fixture(recent_parts_budget: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let meta = SqliteMetadataStore::open(&dir.path().join("m.sqlite3")).unwrap();
    let parts = Arc::new(CountingReads {
        inner: LocalDiskPartStore::open(&dir.path().join("parts")).unwrap(),
        gets: AtomicUsize::new(0),
    });
    let config = ServiceConfig {
        min_chunked_size: 1,
        part_size: Some(PART),
        recent_parts_budget,
        ..ServiceConfig::default()
    };
    let service = UploadService::new(Arc::new(meta), parts.clone(), config);
    let user = service.ensure_user("frontier").await.unwrap();
    Fixture {
        service,
        parts,
        caller: Caller { user },
        _dir: dir,
    }
}

fn data(len: u64) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// The session after its last part was answered: the requests moved the
/// frontier to the end of the file, leaving the commit nothing to hash.
async fn frontier_at_the_end(f: &Fixture, id: &SessionId) -> SessionRecord {
    let session = f.service.meta.get_session(id).await.unwrap().unwrap();
    assert_eq!(
        session.frontier.offset, session.file_size,
        "the frontier stopped short once every part was answered"
    );
    session
}

/// Uploads the parts of `data` in `order` and returns the session id.
async fn upload(f: &Fixture, data: &[u8], order: &[usize]) -> SessionId {
    let origin = Origin {
        base: "http://boxup.test".into(),
    };
    let body = format!(
        r#"{{"folder_id":"0","file_size":{},"file_name":"f.bin"}}"#,
        data.len()
    );
    let session = f
        .service
        .create_session(&f.caller, body.as_bytes(), &origin)
        .await
        .unwrap();
    let chunks: Vec<&[u8]> = data.chunks(PART as usize).collect();
    for &index in order {
        let chunk = chunks[index];
        let first = index as u64 * PART;
        let range = format!(
            "bytes {first}-{}/{}",
            first + chunk.len() as u64 - 1,
            data.len()
        );
        let digest = format!("sha={}", Sha1Digest::of(chunk).to_base64());
        let headers = PartHeaders {
            content_range: Some(&range),
            digest: Some(&digest),
            content_length: Some(chunk.len() as u64),
        };
        let body: ByteStream = Box::pin(futures::stream::iter([Ok(Bytes::copy_from_slice(chunk))]));
        f.service
            .upload_part(&f.caller, &session.id, headers, body)
            .await
            .unwrap();
    }
    SessionId(session.id)
}

#[tokio::test]
async fn parts_in_order_and_ahead_are_never_read_back() {
    let f = fixture(ServiceConfig::default().recent_parts_budget).await;
    let data = data(5 * PART + 100);
    // 0 and 1 in order (hashed in-stream), 3, 5 and 4 ahead (held), then
    // 2, which lets the frontier run to the end from memory.
    let id = upload(&f, &data, &[0, 1, 3, 5, 4, 2]).await;
    let session = frontier_at_the_end(&f, &id).await;
    let whole = f.service.whole_file_sha1(&session).await.unwrap();
    assert_eq!(whole, Some(Sha1Digest::of(&data)));
    assert_eq!(
        f.parts.gets.load(Ordering::SeqCst),
        0,
        "a part was read back"
    );
}

#[tokio::test]
async fn without_memory_parts_ahead_are_read_back_and_the_hash_is_right() {
    let f = fixture(0).await;
    let data = data(4 * PART);
    let id = upload(&f, &data, &[3, 2, 1, 0]).await;
    let session = frontier_at_the_end(&f, &id).await;
    let whole = f.service.whole_file_sha1(&session).await.unwrap();
    assert_eq!(whole, Some(Sha1Digest::of(&data)));
    // Part 0 was hashed as it streamed in; 1, 2 and 3 had to be read.
    assert_eq!(f.parts.gets.load(Ordering::SeqCst), 3);
}
