//! Housekeeping: expiring sessions, deleting garbage objects, and removing
//! orphaned objects (bytes whose row never committed, e.g. after a crash
//! between a durable put and its metadata transaction).
//!
//! `sweep_once` is one deterministic pass, so tests drive it directly;
//! `run_sweeper` repeats it on an interval in the background.
//!
//! Why it looks like this:
//! - **One sweeper across replicas.** Each step is idempotent, so two
//!   sweepers would be correct, but they would race for the same garbage
//!   and list the whole object store twice. A replica sweeps only while it
//!   holds the `sweeper` lease in the metadata store, renewed every tick;
//!   if it dies, another takes over once the lease runs out.
//! - **Orphans by the page.** The store's listing is read page by page,
//!   and each page of keys is checked against the metadata in one query,
//!   never one lookup per key, so a scan of millions of objects costs
//!   thousands of queries and a page of memory.

use std::time::{Duration, SystemTime};

use futures::TryStreamExt;

use super::{UploadService, now};
use crate::error::Chain;
use crate::store::StoreResult;

/// How long an unreferenced object may exist before it counts as orphaned:
/// far longer than the gap between a part's put and its row insert.
pub(super) const ORPHAN_GRACE: Duration = Duration::from_secs(3600);

/// Keys of the orphan scan checked against the metadata at once.
const ORPHAN_PAGE: usize = 1000;

/// The lease that makes one replica at a time the sweeper.
pub(super) const SWEEPER_LEASE: &str = "sweeper";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub sessions_changed: u64,
    pub garbage_deleted: u64,
    pub orphans_deleted: u64,
}

/// How often the orphan scan runs: it lists every object, so it runs far
/// less often than expiry and garbage collection.
pub(super) const ORPHAN_SCAN_EVERY: Duration = Duration::from_secs(3600);

impl UploadService {
    /// One full pass at time `now` (Unix seconds): expiry, garbage, and
    /// the orphan scan for objects last written before `orphans_before`.
    pub async fn sweep_once(
        &self,
        now: i64,
        orphans_before: SystemTime,
    ) -> StoreResult<SweepReport> {
        let mut report = self.expire_and_collect(now).await?;
        report.orphans_deleted = self.sweep_orphans(orphans_before).await?;
        Ok(report)
    }

    /// Expires sessions past their TTL and deletes queued garbage objects.
    pub async fn expire_and_collect(&self, now: i64) -> StoreResult<SweepReport> {
        let mut report = SweepReport {
            sessions_changed: self
                .meta
                .expire_sessions(now, now - self.config.session_ttl_secs)
                .await?,
            ..SweepReport::default()
        };
        self.metrics.swept("sessions", report.sessions_changed);
        loop {
            let keys = self.meta.garbage(500).await?;
            let mut deleted = Vec::with_capacity(keys.len());
            for key in keys {
                // One undeletable object must not stop the collection.
                match self.parts.delete(&key).await {
                    Ok(()) => deleted.push(key),
                    Err(e) => {
                        tracing::warn!(key, error = %Chain(&e), "cannot delete a garbage object")
                    }
                }
            }
            if deleted.is_empty() {
                break;
            }
            self.meta.forget_garbage(&deleted).await?;
            report.garbage_deleted += deleted.len() as u64;
            self.metrics.swept("garbage", deleted.len() as u64);
        }
        Ok(report)
    }

    /// Deletes objects written before `before` that no row knows: bytes
    /// whose part row never committed (a crash between put and insert).
    pub async fn sweep_orphans(&self, before: SystemTime) -> StoreResult<u64> {
        let mut deleted = 0;
        let mut pages = self
            .parts
            .list_older_than(before)
            .await?
            .try_chunks(ORPHAN_PAGE);
        while let Some(page) = pages.try_next().await.map_err(|e| e.1)? {
            for key in self.meta.unknown_objects(&page).await? {
                match self.parts.delete(&key).await {
                    Ok(()) => {
                        deleted += 1;
                        self.metrics.swept("orphans", 1);
                    }
                    Err(e) => {
                        tracing::warn!(key, error = %Chain(&e), "cannot delete an orphan object")
                    }
                }
            }
        }
        Ok(deleted)
    }

    /// Runs expiry and garbage collection every `every`, and the orphan
    /// scan every `ORPHAN_SCAN_EVERY`, while this process holds the
    /// sweeper lease, until the task is dropped.
    pub async fn run_sweeper(self, every: Duration) {
        let mut interval = tokio::time::interval(every);
        let mut sweeper = self.sweeper(every);
        loop {
            interval.tick().await;
            sweeper.tick(now()).await;
        }
    }

    /// The background sweeper of this process, ticking every `every`.
    pub fn sweeper(&self, every: Duration) -> Sweeper {
        Sweeper {
            service: self.clone(),
            holder: format!("{}-{}", std::process::id(), super::random_hex_upper(8)),
            // Long enough to outlive a slow sweep, short enough that a
            // dead holder's replacement starts within a few ticks.
            lease_secs: (3 * every.as_secs()).max(30) as i64,
            last_scan: None,
        }
    }
}

/// One process's sweeper: it sweeps only while it holds the lease.
pub struct Sweeper {
    service: UploadService,
    holder: String,
    lease_secs: i64,
    last_scan: Option<tokio::time::Instant>,
}

impl Sweeper {
    /// One tick at `now`: takes or renews the lease, then expires and
    /// collects garbage (and scans for orphans when one is due). `None` if
    /// another process holds the lease, or it could not be taken.
    pub async fn tick(&mut self, now: i64) -> Option<SweepReport> {
        let service = &self.service;
        match service
            .meta
            .try_lease(SWEEPER_LEASE, &self.holder, now, self.lease_secs)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                // Another replica sweeps; should it stop, scan at once.
                self.last_scan = None;
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "cannot take the sweeper lease");
                return None;
            }
        }
        let mut report = match service.expire_and_collect(now).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "sweep failed");
                SweepReport::default()
            }
        };
        if self
            .last_scan
            .is_none_or(|t| t.elapsed() >= ORPHAN_SCAN_EVERY)
        {
            self.last_scan = Some(tokio::time::Instant::now());
            match service
                .sweep_orphans(SystemTime::now() - ORPHAN_GRACE)
                .await
            {
                Ok(n) => report.orphans_deleted = n,
                Err(e) => tracing::warn!(error = %Chain(&e), "orphan sweep failed"),
            }
        }
        if report != SweepReport::default() {
            tracing::info!(?report, "sweep");
        }
        Some(report)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::service::ServiceConfig;
    use crate::store::disk::LocalDiskPartStore;
    use crate::store::sqlite::SqliteMetadataStore;

    #[tokio::test]
    async fn one_replica_sweeps_at_a_time_and_another_takes_over() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Arc::new(SqliteMetadataStore::open(&dir.path().join("m.db")).unwrap());
        let parts = Arc::new(LocalDiskPartStore::open(&dir.path().join("parts")).unwrap());
        let replica = || UploadService::new(meta.clone(), parts.clone(), ServiceConfig::default());
        let every = Duration::from_secs(60);
        let (mut a, mut b) = (replica().sweeper(every), replica().sweeper(every));
        let t = 1_000_000;
        assert!(a.tick(t).await.is_some());
        assert!(b.tick(t + 1).await.is_none(), "two sweepers at once");
        assert!(a.tick(t + 60).await.is_some(), "the holder renews");
        // a stops ticking (it died): once its lease (3 ticks) runs out, b
        // takes over, and a, should it come back, stands aside.
        assert!(b.tick(t + 60 + 179).await.is_none());
        assert!(b.tick(t + 60 + 180).await.is_some());
        assert!(a.tick(t + 60 + 181).await.is_none());
    }
}
