//! A bound on the upload bodies being processed at once.
//!
//! Why: every chunk of a part's body is hashed twice (its own digest and
//! the frontier's) in the task that reads it. With 512 PUTs streaming at
//! once, 512 tasks were runnable, each hashing a chunk per turn, and a
//! small request (a commit, a listing) waited behind a whole round of them
//! at every one of its awaits: commit p95 was about 120 ms with 256
//! sessions of 32 MiB on two cores. Here a body takes a slot only from the
//! moment a chunk has *arrived* until the layers above have hashed it: the
//! gate sits under the hashing streams and takes the slot, and a wrapper
//! over them gives it back as their poll returns. A client that is not
//! sending holds no slot, nor does a part store waiting on its disk or its
//! object store. Bodies without a slot wait on a fair queue, not in the
//! runtime's run queue, and their bytes wait in the socket. The CPU does
//! the same work in the same time; only the number of runnable tasks drops.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures::Stream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::store::ByteStream;

/// Slots per core. Two kept both cores of the benchmark machine busy (four
/// measured the same); holders only ever hash, never wait on I/O.
const SLOTS_PER_CORE: usize = 2;

#[derive(Debug, Clone)]
pub(crate) struct BodySlots(Arc<Semaphore>);

impl BodySlots {
    pub(crate) fn for_this_machine() -> Self {
        BodySlots(Arc::new(Semaphore::new(SLOTS_PER_CORE * crate::cores())))
    }

    /// `body`, each of whose chunks comes out under a slot, and the slot's
    /// holder, which [`Held::release_after`] puts over the layers that
    /// process the chunks.
    pub(crate) fn gate(&self, body: ByteStream) -> (ByteStream, Held) {
        let held = Held(Arc::default());
        let gated = Gated {
            inner: body,
            slots: Arc::clone(&self.0),
            ready: None,
            waiting: None,
            held: held.clone(),
        };
        (Box::pin(gated), held)
    }
}

/// The slot of the chunk on its way up, if any.
#[derive(Clone, Default)]
pub(crate) struct Held(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl Held {
    fn set(&self, permit: Option<OwnedSemaphorePermit>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = permit;
    }

    /// `outer` (the stream whose poll hashes the gated chunks), giving the
    /// slot back each time its poll returns a result.
    pub(crate) fn release_after(self, outer: ByteStream) -> ByteStream {
        Box::pin(Releasing {
            inner: outer,
            held: self,
        })
    }
}

struct Releasing {
    inner: ByteStream,
    held: Held,
}

impl Stream for Releasing {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = self.inner.as_mut().poll_next(cx);
        if item.is_ready() {
            self.held.set(None);
        }
        item
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
    /// Where the slot of the chunk handed out goes.
    held: Held,
}

impl Stream for Gated {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        // Given back already when the layers above are wrapped; here in
        // case they are not.
        this.held.set(None);
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
        this.held.set(permit.ok());
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

    /// A gated body, released by an outer layer that does nothing else.
    fn gated(slots: &BodySlots, n: usize) -> ByteStream {
        let (inner, held) = slots.gate(body(n));
        held.release_after(inner)
    }

    #[tokio::test]
    async fn a_slot_is_taken_by_an_arrived_chunk_and_given_back_as_it_goes_up() {
        let slots = BodySlots(Arc::new(Semaphore::new(1)));
        let (mut inner, held) = slots.gate(body(3));
        let first = inner.next().await.unwrap().unwrap();
        assert_eq!(first.as_ref(), [0, 0, 0]);
        assert_eq!(
            slots.0.available_permits(),
            0,
            "the chunk on its way up holds the slot"
        );
        // Another body's chunk has arrived but must wait for that slot.
        let mut other = gated(&slots, 2);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(other.as_mut().poll_next(&mut cx).is_pending());
        // The layer above is done with the chunk: the slot goes to the
        // waiting body, which is served first.
        held.set(None);
        let got = other.next().await.unwrap().unwrap();
        assert_eq!(got.as_ref(), [0, 0, 0]);
        assert_eq!(
            slots.0.available_permits(),
            1,
            "released as the chunk went up"
        );
        let rest: Vec<Bytes> = held
            .release_after(inner)
            .map(|c| c.unwrap())
            .collect()
            .await;
        assert_eq!(
            rest,
            vec![Bytes::from(vec![1u8; 3]), Bytes::from(vec![2u8; 3])]
        );
        drop(other);
        assert_eq!(slots.0.available_permits(), 1, "every slot came back");
    }
}
