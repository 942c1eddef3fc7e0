//! The server's Prometheus metrics, served at `/metrics` (docs/operations.md
//! lists every series).
//!
//! Why a registry per server rather than the `metrics` facade's global
//! recorder: a process may run several servers (every integration test
//! does), and each must count only its own requests. So [`Metrics`] owns a
//! `prometheus-client` registry, is cloned into the HTTP layer and the
//! service, and is encoded when scraped.
//!
//! The service layer calls plain methods ([`Metrics::part_stored`],
//! [`Metrics::committed`], …) and never sees HTTP; the HTTP layer records
//! requests by route *template* (`/2.0/files/{id}`), never by raw path, so
//! ids cannot explode the number of series.

mod part_store;

pub use part_store::CountedPartStore;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::store::StoreError;

/// The `Content-Type` of a scrape (the text encoder writes OpenMetrics).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FrontierLabels {
    /// `in_stream`: the part extended the hash frontier as it arrived;
    /// `ahead`: it arrived ahead of the frontier and waits for it.
    frontier: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    store: &'static str,
    op: &'static str,
    kind: &'static str,
}

/// Latency buckets from 1 ms to ~33 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Every series of one server; cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_bytes: Family<RouteLabels, Counter>,
    response_bytes: Family<RouteLabels, Counter>,
    parts: Family<FrontierLabels, Counter>,
    part_bytes: Counter,
    part_seconds: Histogram,
    commit_seconds: Histogram,
    sessions_open: Gauge,
    frontier_held_bytes: Gauge<u64, AtomicU64>,
    frontier_readbacks: Counter,
    swept: Family<KindLabels, Counter>,
    store_errors: Family<StoreLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("boxup");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route template, method and status",
            requests.clone(),
        );
        let request_bytes = Family::<RouteLabels, Counter>::default();
        registry.register_with_unit(
            "http_request_body",
            "Request body bytes received, by route template",
            Unit::Bytes,
            request_bytes.clone(),
        );
        let response_bytes = Family::<RouteLabels, Counter>::default();
        registry.register_with_unit(
            "http_response_body",
            "Response body bytes sent, by route template",
            Unit::Bytes,
            response_bytes.clone(),
        );
        let parts = Family::<FrontierLabels, Counter>::default();
        registry.register(
            "parts_stored",
            "Parts stored, by whether they extended the hash frontier as they arrived \
             (in_stream) or arrived ahead of it (ahead)",
            parts.clone(),
        );
        let part_bytes = Counter::default();
        registry.register_with_unit(
            "parts_stored",
            "Bytes of parts stored",
            Unit::Bytes,
            part_bytes.clone(),
        );
        let part_seconds = latency_histogram();
        registry.register_with_unit(
            "part_upload_duration",
            "Time to receive, verify and store one part, from its request's start",
            Unit::Seconds,
            part_seconds.clone(),
        );
        let commit_seconds = latency_histogram();
        registry.register_with_unit(
            "commit_duration",
            "Time of a successful commit, from its request's start",
            Unit::Seconds,
            commit_seconds.clone(),
        );
        let sessions_open = Gauge::default();
        registry.register(
            "sessions_open",
            "Upload sessions open and not expired (counted in the metadata store when scraped)",
            sessions_open.clone(),
        );
        let frontier_held_bytes = Gauge::<u64, AtomicU64>::default();
        registry.register_with_unit(
            "frontier_pending",
            "Bytes of parts that arrived ahead of their session's hash frontier and \
             are held in memory until it reaches them (read when scraped)",
            Unit::Bytes,
            frontier_held_bytes.clone(),
        );
        let frontier_readbacks = Counter::default();
        registry.register(
            "frontier_readbacks",
            "Parts the hash frontier had to read back from the part store \
             (they were not held in memory)",
            frontier_readbacks.clone(),
        );
        let swept = Family::<KindLabels, Counter>::default();
        registry.register(
            "sweeper_items",
            "Items the sweeper handled, by kind: sessions (expired or forgotten), \
             garbage (objects deleted) and orphans (objects deleted)",
            swept.clone(),
        );
        let store_errors = Family::<StoreLabels, Counter>::default();
        registry.register(
            "store_errors",
            "Store failures (storage full, unavailable, backend errors), by store, \
             operation and kind",
            store_errors.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                requests,
                request_bytes,
                response_bytes,
                parts,
                part_bytes,
                part_seconds,
                commit_seconds,
                sessions_open,
                frontier_held_bytes,
                frontier_readbacks,
                swept,
                store_errors,
            }),
        }
    }

    /// One answered request: `route` is a template or a fixed label
    /// (never a raw path).
    pub fn request(&self, route: &str, method: &str, status: u16, received: u64, sent: u64) {
        let m = &self.inner;
        m.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        let route = RouteLabels {
            route: route.to_owned(),
        };
        m.request_bytes.get_or_create(&route).inc_by(received);
        m.response_bytes.get_or_create(&route).inc_by(sent);
    }

    /// A part stored: `in_stream` when it extended the hash frontier as
    /// it arrived.
    pub fn part_stored(&self, elapsed: Duration, bytes: u64, in_stream: bool) {
        let m = &self.inner;
        let frontier = if in_stream { "in_stream" } else { "ahead" };
        m.parts.get_or_create(&FrontierLabels { frontier }).inc();
        m.part_bytes.inc_by(bytes);
        m.part_seconds.observe(elapsed.as_secs_f64());
    }

    /// A session committed (not a replayed commit).
    pub fn committed(&self, elapsed: Duration) {
        self.inner.commit_seconds.observe(elapsed.as_secs_f64());
    }

    /// The frontier read a part back from the part store.
    pub fn frontier_readback(&self) {
        self.inner.frontier_readbacks.inc();
    }

    /// The sweeper handled `n` items of `kind`.
    pub fn swept(&self, kind: &'static str, n: u64) {
        self.inner
            .swept
            .get_or_create(&KindLabels { kind })
            .inc_by(n);
    }

    /// Counts `error` if it is a failure of the store itself (not a
    /// missing object or a client's failed body).
    pub fn store_error(&self, store: &'static str, op: &'static str, error: &StoreError) {
        let kind = match error {
            StoreError::StorageFull(_) => "storage_full",
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Backend(_) => "backend",
            _ => return,
        };
        self.inner
            .store_errors
            .get_or_create(&StoreLabels { store, op, kind })
            .inc();
    }

    /// The text of a scrape, with the gauges read at scrape time set.
    pub fn encode(&self, sessions_open: Option<u64>, frontier_held_bytes: u64) -> String {
        let m = &self.inner;
        if let Some(n) = sessions_open {
            m.sessions_open.set(n.try_into().unwrap_or(i64::MAX));
        }
        m.frontier_held_bytes.set(frontier_held_bytes);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
