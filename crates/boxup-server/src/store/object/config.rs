//! Where the object store is and how to sign in: `--storage
//! s3://BUCKET/PREFIX` plus endpoint, region, addressing style and
//! credentials, each from a flag or the standard `AWS_*` variables.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{BackoffConfig, ClientOptions, RetryConfig};

use crate::store::{StoreError, StoreResult};

/// An S3-compatible store, as `boxup serve` is told about it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Options {
    /// `s3://BUCKET[/PREFIX]`.
    pub url: String,
    /// e.g. `http://127.0.0.1:3900` (Garage, MinIO); AWS's when `None`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Path-style requests (`endpoint/bucket/key`), which Garage and
    /// MinIO want, instead of virtual-hosted ones (`bucket.endpoint/key`).
    pub path_style: bool,
    /// Otherwise from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Hand clients presigned URLs of the store for downloads of files
    /// that are one object, instead of streaming them through boxup. Only
    /// where clients can reach the endpoint.
    pub presigned_downloads: bool,
}

impl std::fmt::Debug for S3Options {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .field("access_key_id", &self.access_key_id)
            .field("presigned_downloads", &self.presigned_downloads)
            .finish_non_exhaustive()
    }
}

impl S3Options {
    /// The store and the key prefix (`""` for none).
    pub(super) fn build(&self) -> StoreResult<(Arc<AmazonS3>, String)> {
        let rest = self.url.strip_prefix("s3://").ok_or_else(|| {
            StoreError::backend(format!("{} is not an s3://BUCKET/PREFIX URL", self.url))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StoreError::backend(format!("{} names no bucket", self.url)));
        }
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(retries())
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(30)),
            );
        if let Some(endpoint) = &self.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &self.region {
            builder = builder.with_region(region);
        }
        if self.path_style {
            builder = builder.with_virtual_hosted_style_request(false);
        }
        if let Some(id) = &self.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &self.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|e| {
            StoreError::backend_context(format!("cannot use the object store {}", self.url), e)
        })?;
        Ok((Arc::new(store), prefix.trim_matches('/').to_owned()))
    }
}

/// Retries of one request to the object store: a few quick ones (about
/// 1.5 s in all), enough to ride out a dropped connection, but short, so
/// that a store that is really down turns into a 503 for the client (whose
/// own retry honours `Retry-After`) long before the SDKs' 60 s timeout.
fn retries() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
        },
        max_retries: 4,
        retry_timeout: Duration::from_secs(20),
    }
}
