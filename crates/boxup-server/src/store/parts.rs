//! The part-bytes trait: immutable objects under opaque keys.

use std::io;
use std::ops::Range;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use super::StoreResult;

/// A stream of body bytes.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// A stream of object keys, fetched page by page as it is read.
pub type KeyStream = BoxStream<'static, StoreResult<String>>;

/// Immutable byte objects. Keys are made by the service from `[0-9A-Za-z/_.-]`
/// only and never contain `..` (every store checks them with
/// [`is_valid_key`]).
#[async_trait]
pub trait PartStore: Send + Sync + 'static {
    /// Stores `body` under `key` and returns its length.
    ///
    /// Contract: atomic and durable. After `Ok` the whole object is readable
    /// and survives a crash; after `Err` nothing is readable under `key`.
    /// If `body` yields an error, the put fails with `StoreError::Body`
    /// carrying that same error (so the caller can recognise its own
    /// verification failures). Memory use is bounded by a small buffer, not
    /// by the object's size. Putting an existing key replaces it.
    async fn put(&self, key: &str, body: ByteStream) -> StoreResult<u64>;

    /// Streams `range` of the object (clamped to its end). `NotFound` if
    /// the object does not exist.
    async fn get(&self, key: &str, range: Range<u64>) -> StoreResult<ByteStream>;

    /// Deletes the object. Idempotent: deleting a missing key is `Ok`.
    async fn delete(&self, key: &str) -> StoreResult<()>;

    /// Keys of stored objects last modified before `before`, for the
    /// orphan sweep. Objects still being written are never listed. A
    /// store that lists in pages fetches the next page only as the stream
    /// is read, so the sweep's memory does not grow with the store.
    async fn list_older_than(&self, before: SystemTime) -> StoreResult<KeyStream>;

    /// Waits until the work that puts left behind has finished, including
    /// the clean-up after puts whose caller dropped them mid-body (so that
    /// nothing of theirs is left half-written). For graceful shutdown and
    /// tests.
    async fn settle(&self) {}

    /// A URL that serves the whole object for `expires_in` to whoever
    /// holds it, with `disposition` as its `Content-Disposition`, if this
    /// store can hand one out (an object store's presigned URL); `None`
    /// when downloads must stream through boxup.
    async fn download_url(
        &self,
        _key: &str,
        _expires_in: Duration,
        _disposition: &str,
    ) -> StoreResult<Option<String>> {
        Ok(None)
    }
}

/// Every key `store` lists as older than `before`, collected (for tests
/// and small stores).
pub async fn list_all_older_than(
    store: &dyn PartStore,
    before: SystemTime,
) -> StoreResult<Vec<String>> {
    use futures::TryStreamExt;
    store.list_older_than(before).await?.try_collect().await
}

/// The keys a part store accepts: non-empty, only `[0-9A-Za-z/_.-]`, and
/// `/`-separated segments that are neither empty (so no leading, trailing
/// or doubled `/`) nor `.` or `..`. Names are data and never reach a key,
/// but a store checks anyway, so that no key can escape its root.
pub(crate) fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'.' | b'-'))
        && key
            .split('/')
            .all(|segment| !matches!(segment, "" | "." | ".."))
}

#[cfg(test)]
mod tests {
    use super::is_valid_key;

    #[test]
    fn key_validation() {
        for key in ["a", "ab/cd/0123.part", "A-b_c.d", ".hidden", "a..b/c"] {
            assert!(is_valid_key(key), "{key:?} should be valid");
        }
        for key in [
            "", "/abs", "a/", "a//b", ".", "..", "../x", "a/./b", "a/../b", "a b", "a\\b", "é",
        ] {
            assert!(!is_valid_key(key), "{key:?} should be invalid");
        }
    }
}
