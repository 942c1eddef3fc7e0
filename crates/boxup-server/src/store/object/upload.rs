//! How a put reaches the object store: one PUT when the verified body fits
//! in memory, a multipart upload when it does not.
//!
//! Why: a Box part is 8 MiB. As a multipart upload it costs four requests
//! (create, two chunks of at least 5 MiB, complete), and the store does
//! the bookkeeping of each. As one PUT it costs one. But a PUT's bytes
//! would be stored even if the verifying stream failed at their end, so a
//! body is sent as one PUT only once it has been read whole and verified,
//! which means holding it in memory meanwhile. That memory is bounded:
//! puts share a process-wide budget of `BUFFER_BUDGET` bytes, and a body
//! past `SINGLE_PUT_MAX`, or one that finds the budget spent, streams the
//! rest as a multipart upload, completed only if the whole body passes,
//! aborted otherwise. Either way nothing unverified becomes visible.
//! (The chunks held are the request's own buffers, shared and not copied
//! with the hash frontier's copy of a part, see `service/recent_parts.rs`.)

use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::sync::OwnedSemaphorePermit;

use super::ObjectStorePartStore;
use crate::store::{ByteStream, StoreError, StoreResult};

/// The largest body sent as one PUT.
pub(super) const SINGLE_PUT_MAX: usize = 16 * 1024 * 1024;
/// Bytes that all puts of a process may hold in memory at once.
pub(super) const BUFFER_BUDGET: usize = 256 * 1024 * 1024;
/// Bytes per chunk of a multipart upload: S3's smallest part (but the last).
const CHUNK: usize = 5 * 1024 * 1024;
/// Chunks uploading at once per multipart put.
const CONCURRENCY: usize = 2;

impl ObjectStorePartStore {
    /// Stores `body` under `key`: visible only if the whole body arrived
    /// without error.
    pub(super) async fn upload(&self, key: &str, mut body: ByteStream) -> StoreResult<u64> {
        let path = self.path(key)?;
        let mut held = Vec::new();
        let mut held_len = 0usize;
        let mut permit: Option<OwnedSemaphorePermit> = None;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(StoreError::Body)?;
            let fits = held_len + chunk.len() <= SINGLE_PUT_MAX;
            if !(fits && self.hold(&mut permit, chunk.len())) {
                // Too big, or memory is short: the rest streams.
                held.push(chunk);
                let body = futures::stream::iter(held.into_iter().map(Ok)).chain(body);
                return self.multipart(key, &path, body.boxed()).await;
            }
            held_len += chunk.len();
            held.push(chunk);
        }
        // The whole body arrived and passed its checks: one PUT (an
        // empty one for an empty object, which S3 cannot complete from a
        // multipart upload of no parts).
        let payload: PutPayload = held.into_iter().collect();
        self.store
            .put(&path, payload)
            .await
            .map_err(|e| self.failed("storing", key, e))?;
        drop(permit);
        Ok(held_len as u64)
    }

    /// Takes `len` more bytes of the budget into `permit`; false if the
    /// budget does not have them.
    fn hold(&self, permit: &mut Option<OwnedSemaphorePermit>, len: usize) -> bool {
        let Ok(n) = u32::try_from(len) else {
            return false;
        };
        match self.buffers.clone().try_acquire_many_owned(n) {
            Ok(more) => {
                match permit {
                    Some(p) => p.merge(more),
                    None => *permit = Some(more),
                }
                true
            }
            Err(_) => false,
        }
    }

    /// One multipart upload of `body`, completed only if the whole body
    /// arrived without error, else aborted. Memory stays at `CHUNK` ×
    /// `CONCURRENCY`, whatever the object's size.
    async fn multipart(&self, key: &str, path: &Path, mut body: ByteStream) -> StoreResult<u64> {
        let upload = self
            .store
            .put_multipart(path)
            .await
            .map_err(|e| self.failed("starting the upload of", key, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        let mut len = 0u64;
        let outcome: StoreResult<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(StoreError::Body)?;
                writer
                    .wait_for_capacity(CONCURRENCY)
                    .await
                    .map_err(|e| self.failed("uploading", key, e))?;
                len += chunk.len() as u64;
                writer.put(chunk);
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => {
                writer
                    .finish()
                    .await
                    .map_err(|e| self.failed("completing the upload of", key, e))?;
                Ok(len)
            }
            Err(e) => {
                // Nothing becomes visible: the upload is never completed.
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(key, error = %abort, "aborting a multipart upload failed");
                }
                Err(e)
            }
        }
    }
}
