//! Byte-level progress of an upload.
//!
//! Each part counts the bytes its request body has handed to the
//! connection. A retried part only adds bytes beyond the furthest point an
//! earlier attempt reached, so the reported total never goes backwards and
//! ends exactly at the file size. Parts a resume finds already on the
//! server count as done at once.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes sent (or found already on the server), non-decreasing.
    pub bytes_done: u64,
    /// The file size.
    pub total_bytes: u64,
}

/// A progress callback. It runs on the upload's tasks, possibly on several
/// threads, one call at a time: keep it cheap.
#[derive(Clone)]
pub struct ProgressFn(pub(crate) Arc<dyn Fn(Progress) + Send + Sync>);

impl ProgressFn {
    /// Wraps a closure.
    pub fn new(f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        ProgressFn(Arc::new(f))
    }
}

impl fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressFn(..)")
    }
}

/// The running total of one upload.
pub(crate) struct Tracker {
    done: Mutex<u64>,
    total: u64,
    callback: Option<ProgressFn>,
}

impl Tracker {
    pub(crate) fn new(total: u64, callback: Option<ProgressFn>) -> Arc<Self> {
        Arc::new(Tracker {
            done: Mutex::new(0),
            total,
            callback,
        })
    }

    /// Adds `delta` bytes and reports the new total. The lock makes the
    /// reports arrive in order.
    pub(crate) fn add(&self, delta: u64) {
        if delta == 0 {
            return;
        }
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        *done = (*done + delta).min(self.total);
        if let Some(cb) = &self.callback {
            (cb.0)(Progress {
                bytes_done: *done,
                total_bytes: self.total,
            });
        }
    }
}

/// One part's contribution: the furthest byte any attempt has sent.
pub(crate) struct PartMeter {
    high_water: AtomicU64,
    tracker: Arc<Tracker>,
}

impl PartMeter {
    pub(crate) fn new(tracker: Arc<Tracker>) -> Arc<Self> {
        Arc::new(PartMeter {
            high_water: AtomicU64::new(0),
            tracker,
        })
    }

    /// The current attempt has sent `sent` bytes of the part.
    pub(crate) fn record(&self, sent: u64) {
        let before = self.high_water.fetch_max(sent, Ordering::Relaxed);
        if sent > before {
            self.tracker.add(sent - before);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_do_not_double_count() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let tracker = Tracker::new(
            100,
            Some(ProgressFn::new(move |p| {
                s.lock().unwrap().push(p.bytes_done)
            })),
        );
        let a = PartMeter::new(tracker.clone());
        a.record(30);
        a.record(60);
        // The retry starts over: nothing new until it passes 60.
        a.record(20);
        a.record(60);
        a.record(70);
        let b = PartMeter::new(tracker.clone());
        b.record(30);
        assert_eq!(*seen.lock().unwrap(), vec![30, 60, 70, 100]);
    }
}
