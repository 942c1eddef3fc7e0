//! A count of background writes still running, to wait for them
//! deterministically.
//!
//! Why: a part store may keep working after the caller of `put` is gone
//! (a client hung up mid-body, so the request's future was dropped). The
//! disk store's blocking writer then removes its temp file; the object
//! store's upload task aborts its multipart upload. A graceful shutdown,
//! and tests, must be able to wait for that clean-up to finish instead of
//! sleeping and hoping.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// The writes in flight of one store. Cheap to clone (shared state).
#[derive(Debug, Default, Clone)]
pub(crate) struct InFlight(Arc<Counter>);

#[derive(Debug, Default)]
struct Counter {
    running: AtomicUsize,
    idle: Notify,
}

/// Held by a background write for its whole life; dropping it (even
/// unpolled, when the runtime shuts down) ends the write's count.
#[derive(Debug)]
pub(crate) struct InFlightToken(Arc<Counter>);

impl InFlight {
    /// Counts a write from now until its token drops.
    pub(crate) fn start(&self) -> InFlightToken {
        self.0.running.fetch_add(1, Ordering::SeqCst);
        InFlightToken(Arc::clone(&self.0))
    }

    /// Waits until no write is in flight.
    pub(crate) async fn wait_idle(&self) {
        loop {
            let mut idle = pin!(self.0.idle.notified());
            // Register before checking, so a wake-up in between is not lost.
            idle.as_mut().enable();
            if self.0.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

impl Drop for InFlightToken {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}
