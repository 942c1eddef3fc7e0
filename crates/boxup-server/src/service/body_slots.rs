//! A bound on the upload bodies being processed at once.
//!
//! Why: every chunk of a part's body is hashed twice (its own digest and
//! the frontier's) in the task that reads it. With 512 PUTs streaming at
//! once, 512 tasks were runnable, each hashing a chunk per turn, and a
//! small request (a commit, a listing) waited behind a whole round of them
//! at every one of its awaits: commit p95 was about 120 ms with 256
//! sessions of 32 MiB on two cores. Here a body takes a slot only from the
//! moment a chunk has *arrived* until the chunk has been processed (the
//! next poll), so a slow client that is not sending holds no slot; bodies
//! without a slot wait on a fair queue, not in the runtime's run queue,
//! and their bytes wait in the socket. The CPU does the same work in the
//! same time; only the number of runnable tasks drops.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures::Stream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::store::ByteStream;

/// Slots per core: enough to keep every core hashing while some holders
/// wait on the disk.
const SLOTS_PER_CORE: usize = 2;

#[derive(Debug, Clone)]
pub(crate) struct BodySlots(Arc<Semaphore>);

impl BodySlots {
    pub(crate) fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        BodySlots(Arc::new(Semaphore::new(SLOTS_PER_CORE * cores)))
    }

    /// `body`, whose chunks are each processed under a slot.
    pub(crate) fn gate(&self, body: ByteStream) -> ByteStream {
        Box::pin(Gated {
            inner: body,
            slots: Arc::clone(&self.0),
            ready: None,
            waiting: None,
            held: None,
        })
    }
}

type Acquire =
    Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, tokio::sync::AcquireError>> + Send>>;

struct Gated {
    inner: ByteStream,
    slots: Arc<Semaphore>,
    /// A chunk that arrived and waits for a slot.
    ready: Option<Bytes>,
    waiting: Option<Acquire>,
    /// The slot of the chunk last handed out, held until the next poll
    /// (by then the consumer has processed it).
    held: Option<OwnedSemaphorePermit>,
}

impl Stream for Gated {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        this.held = None;
        if this.ready.is_none() {
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => this.ready = Some(chunk),
                other => return Poll::Ready(other),
            }
        }
        let waiting = this
            .waiting
            .get_or_insert_with(|| Box::pin(Arc::clone(&this.slots).acquire_owned()));
        let permit = ready!(waiting.as_mut().poll(cx));
        this.waiting = None;
        // The semaphore is never closed; without a permit, go on unbounded.
        this.held = permit.ok();
        Poll::Ready(this.ready.take().map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn body(n: usize) -> ByteStream {
        let chunks: Vec<io::Result<Bytes>> =
            (0..n).map(|i| Ok(Bytes::from(vec![i as u8; 3]))).collect();
        futures::stream::iter(chunks).boxed()
    }

    #[tokio::test]
    async fn chunks_pass_in_order_and_a_slot_is_held_only_between_polls() {
        let slots = BodySlots(Arc::new(Semaphore::new(1)));
        let mut a = slots.gate(body(3));
        let mut b = slots.gate(body(2));
        let first = a.next().await.unwrap().unwrap();
        assert_eq!(first.as_ref(), [0, 0, 0]);
        assert_eq!(slots.0.available_permits(), 0, "a's chunk holds the slot");
        // b's chunk has arrived but must wait for a's slot.
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(b.as_mut().poll_next(&mut cx).is_pending());
        // Polling a again releases its slot; b, queued first, gets it.
        assert!(a.as_mut().poll_next(&mut cx).is_pending());
        let got = b.next().await.unwrap().unwrap();
        assert_eq!(got.as_ref(), [0, 0, 0]);
        drop(b);
        let rest: Vec<Bytes> = a.map(|c| c.unwrap()).collect().await;
        assert_eq!(
            rest,
            vec![Bytes::from(vec![1u8; 3]), Bytes::from(vec![2u8; 3])]
        );
        assert_eq!(slots.0.available_permits(), 1, "every slot came back");
    }
}
