//! A part store that counts its own failures (`boxup_store_errors_total`
//! with `store="parts"`), whatever backend sits behind it. Why a wrapper:
//! the service sees a failed put or read only as an error to convert, and
//! the backends should not each learn about metrics.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::Metrics;
use crate::store::{ByteStream, KeyStream, PartStore, StoreResult};

pub struct CountedPartStore {
    inner: Arc<dyn PartStore>,
    metrics: Metrics,
}

impl CountedPartStore {
    pub fn new(inner: Arc<dyn PartStore>, metrics: Metrics) -> Self {
        CountedPartStore { inner, metrics }
    }

    fn count<T>(&self, op: &'static str, result: StoreResult<T>) -> StoreResult<T> {
        if let Err(e) = &result {
            self.metrics.store_error("parts", op, e);
        }
        result
    }
}

#[async_trait]
impl PartStore for CountedPartStore {
    async fn put(&self, key: &str, body: ByteStream) -> StoreResult<u64> {
        let result = self.inner.put(key, body).await;
        self.count("put", result)
    }

    async fn get(&self, key: &str, range: Range<u64>) -> StoreResult<ByteStream> {
        let result = self.inner.get(key, range).await;
        self.count("get", result)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        let result = self.inner.delete(key).await;
        self.count("delete", result)
    }

    async fn list_older_than(&self, before: SystemTime) -> StoreResult<KeyStream> {
        let result = self.inner.list_older_than(before).await;
        self.count("list", result)
    }

    async fn settle(&self) {
        self.inner.settle().await
    }

    async fn download_url(
        &self,
        key: &str,
        expires_in: Duration,
        disposition: &str,
    ) -> StoreResult<Option<String>> {
        let result = self.inner.download_url(key, expires_in, disposition).await;
        self.count("download_url", result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    /// Fails every put as a backend failure, and finds nothing.
    struct Broken;

    #[async_trait]
    impl PartStore for Broken {
        async fn put(&self, _: &str, _: ByteStream) -> StoreResult<u64> {
            Err(StoreError::backend("disk on fire"))
        }
        async fn get(&self, _: &str, _: Range<u64>) -> StoreResult<ByteStream> {
            Err(StoreError::NotFound)
        }
        async fn delete(&self, _: &str) -> StoreResult<()> {
            Err(StoreError::Unavailable("gone".into()))
        }
        async fn list_older_than(&self, _: SystemTime) -> StoreResult<KeyStream> {
            Err(StoreError::StorageFull("full".into()))
        }
    }

    #[tokio::test]
    async fn store_failures_are_counted_but_not_missing_objects() {
        let metrics = Metrics::new();
        let store = CountedPartStore::new(Arc::new(Broken), metrics.clone());
        let body: ByteStream = Box::pin(futures::stream::empty());
        assert!(store.put("k", body).await.is_err());
        assert!(store.get("k", 0..1).await.is_err());
        assert!(store.delete("k").await.is_err());
        assert!(store.delete("k").await.is_err());
        assert!(store.list_older_than(SystemTime::now()).await.is_err());
        let text = metrics.encode(None, 0);
        for line in [
            r#"boxup_store_errors_total{store="parts",op="put",kind="backend"} 1"#,
            r#"boxup_store_errors_total{store="parts",op="delete",kind="unavailable"} 2"#,
            r#"boxup_store_errors_total{store="parts",op="list",kind="storage_full"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
        assert!(!text.contains(r#"op="get""#), "{text}");
    }
}
