//! The object-store `PartStore`: part bytes in an S3-compatible store
//! (Garage, MinIO, AWS S3, …) through Apache Arrow's `object_store` crate,
//! which also speaks GCS and Azure should boxup grow those.
//!
//! Why it looks like this:
//! - **Nothing unverified becomes visible.** The body is the service's
//!   verifying stream, which fails its last read when the length or SHA-1
//!   is wrong. A part that fits in memory is sent as one PUT only once its
//!   last read succeeded; a bigger one goes up as a multipart upload that
//!   is completed only then, and aborted otherwise (`upload.rs`).
//! - **No conditional writes.** Garage ignores `If-None-Match` and
//!   `If-Match` (it overwrites and answers 200), so nothing here relies on
//!   them: the service makes a fresh key per attempt, and the metadata
//!   store decides which attempt wins.
//! - **Uploads in their own task.** A put dropped mid-body (its client hung
//!   up) must not leave an unfinished multipart upload holding bytes, so
//!   the upload runs in a task of its own that always ends by completing
//!   or aborting; `settle` waits for those tasks.
//! - **Unreachable is not broken.** Transport failures and 5xx answers
//!   that outlast the client's few quick retries become
//!   `StoreError::Unavailable` (503 with `Retry-After` to the client);
//!   the retries are kept short so that the 503 comes well within the
//!   SDKs' request timeout.
//! - **A prefix per deployment.** Keys live under the URL's path, so one
//!   bucket can hold several deployments (or test runs) side by side.

mod config;
mod upload;

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::signer::{Method, SignedUrlOptions, Signer};
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};

pub use config::S3Options;

use super::in_flight::InFlight;
use super::parts::is_valid_key;
use super::{ByteStream, KeyStream, PartStore, StoreError, StoreResult};

/// Part bytes in an object store, under a key prefix.
#[derive(Clone)]
pub struct ObjectStorePartStore {
    store: Arc<dyn ObjectStore>,
    /// `""` or `a/b/` (with its trailing slash).
    prefix: String,
    /// For messages: `s3://bucket/prefix`.
    url: String,
    /// Upload tasks still running.
    uploads: InFlight,
    /// Signs direct download URLs, when the store hands them out.
    signer: Option<Arc<dyn Signer>>,
    /// Bytes that puts may hold in memory (see `upload.rs`).
    buffers: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for ObjectStorePartStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStorePartStore")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl ObjectStorePartStore {
    /// A store over `store`, with every key under `prefix`.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str, url: String) -> Self {
        let prefix = prefix.trim_matches('/');
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        ObjectStorePartStore {
            store,
            prefix,
            url,
            uploads: InFlight::default(),
            signer: None,
            buffers: Arc::new(tokio::sync::Semaphore::new(upload::BUFFER_BUDGET)),
        }
    }

    /// Connects to the S3-compatible store `options` describe.
    pub fn s3(options: &S3Options) -> StoreResult<Self> {
        let (store, prefix) = options.build()?;
        let mut this = Self::new(store.clone(), &prefix, options.url.clone());
        if options.presigned_downloads {
            this.signer = Some(store);
        }
        Ok(this)
    }

    /// Limits the bytes that puts may hold in memory at once to `bytes`
    /// (0: every put streams as a multipart upload).
    pub fn with_buffer_budget(mut self, bytes: usize) -> Self {
        self.buffers = Arc::new(tokio::sync::Semaphore::new(bytes));
        self
    }

    /// Proves the store answers and the credentials are good, by asking
    /// for an object that need not exist: for a start that fails fast on
    /// a wrong endpoint, bucket or key rather than at the first upload.
    pub async fn check(&self) -> StoreResult<()> {
        let probe = Path::from(format!("{}.boxup-probe", self.prefix));
        match self.store.head(&probe).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StoreError::backend_context(
                format!("cannot reach {}", self.url),
                e,
            )),
        }
    }

    fn path(&self, key: &str) -> StoreResult<Path> {
        if !is_valid_key(key) {
            return Err(StoreError::backend(format!("invalid object key {key:?}")));
        }
        Ok(Path::from(format!("{}{key}", self.prefix)))
    }

    fn failed(&self, what: &str, key: &str, e: object_store::Error) -> StoreError {
        let context = format!("{what} {key} in {}", self.url);
        match e {
            object_store::Error::NotFound { .. } => StoreError::NotFound,
            // What a request that kept failing (refused, reset, timed
            // out, 5xx) becomes once the retries are spent.
            e @ object_store::Error::Generic { .. } => StoreError::unavailable_context(context, e),
            e => StoreError::backend_context(context, e),
        }
    }
}

#[async_trait]
impl PartStore for ObjectStorePartStore {
    async fn put(&self, key: &str, body: ByteStream) -> StoreResult<u64> {
        self.path(key)?;
        let this = self.clone();
        let key = key.to_owned();
        let token = self.uploads.start();
        tokio::spawn(async move {
            let _token = token;
            this.upload(&key, body).await
        })
        .await
        .map_err(|e| StoreError::backend_context("an upload task failed", e))?
    }

    async fn get(&self, key: &str, range: Range<u64>) -> StoreResult<ByteStream> {
        let path = self.path(key)?;
        let empty = || Ok(futures::stream::empty().boxed());
        if range.start >= range.end {
            // Nothing to read, but a missing object is still NotFound.
            self.store
                .head(&path)
                .await
                .map_err(|e| self.failed("reading", key, e))?;
            return empty();
        }
        // One request: S3 clamps a range that ends past the object.
        let options = GetOptions {
            range: Some(GetRange::Bounded(range.clone())),
            ..GetOptions::default()
        };
        match self.store.get_opts(&path, options).await {
            Ok(result) => Ok(result.into_stream().map_err(std::io::Error::other).boxed()),
            Err(e @ object_store::Error::NotFound { .. }) => Err(self.failed("reading", key, e)),
            Err(e) => {
                // A range starting at or past the end is refused (416);
                // the contract clamps it to nothing. Anything else stands.
                match self.store.head(&path).await {
                    Ok(meta) if meta.size <= range.start => empty(),
                    Ok(_) => Err(self.failed("reading", key, e)),
                    Err(head) => Err(self.failed("reading", key, head)),
                }
            }
        }
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        let path = self.path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed("deleting", key, e)),
        }
    }

    async fn list_older_than(&self, before: SystemTime) -> StoreResult<KeyStream> {
        let root = Path::from(self.prefix.trim_end_matches('/'));
        let root = (!self.prefix.is_empty()).then_some(&root);
        let this = self.clone();
        // S3 lists 1,000 keys a request; object_store asks for the next
        // page only as this stream is read.
        let keys = self.store.list(root).filter_map(move |meta| {
            let key = match meta {
                Err(e) => Some(Err(this.failed("listing", &this.prefix, e))),
                Ok(meta) => {
                    let modified: SystemTime = meta.last_modified.into();
                    let key = meta.location.as_ref().strip_prefix(&this.prefix);
                    key.filter(|key| modified < before && is_valid_key(key))
                        .map(|key| Ok(key.to_owned()))
                }
            };
            futures::future::ready(key)
        });
        Ok(keys.boxed())
    }

    async fn download_url(
        &self,
        key: &str,
        expires_in: Duration,
        disposition: &str,
    ) -> StoreResult<Option<String>> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let path = self.path(key)?;
        // The answer's headers are part of the signed request, so the
        // store names the file as boxup would.
        let options = SignedUrlOptions::new().with_query([
            ("response-content-disposition", disposition),
            ("response-content-type", "application/octet-stream"),
        ]);
        let url = signer
            .signed_url_opts(Method::GET, &path, expires_in, &options)
            .await
            .map_err(|e| self.failed("signing a download of", key, e))?;
        Ok(Some(url.to_string()))
    }

    async fn settle(&self) {
        self.uploads.wait_idle().await;
    }
}
