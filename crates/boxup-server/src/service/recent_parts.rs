//! What the hash frontier needs of a part, taken while its bytes stream in,
//! so that the frontier never reads back what was just stored.
//!
//! Why: the frontier hashes parts in file order (see `frontier.rs`). Read
//! back from a local disk, a part usually comes from the page cache; read
//! back from an object store, it is a second download of every byte. So
//! while a part streams into the part store, a [`Tap`] takes what the
//! frontier will need:
//! - **the part is next in order** (it starts where the frontier stands):
//!   the tap continues the frontier's SHA-1 midstate over the bytes as
//!   they pass, and the frontier moves past the part as soon as its row
//!   is in, without touching the bytes again;
//! - **the part is ahead of the frontier** (parallel uploads, out of
//!   order): the tap keeps the bytes in memory, in [`RecentParts`], until
//!   the frontier reaches them;
//! - **memory is short**: [`RecentParts`] has a byte budget; a part that
//!   does not fit, or one evicted to make room (oldest first), is read back
//!   from the part store as before. Correctness never depends on this
//!   memory: another replica, or this one after a restart, reads back.
//!
//! Only verified bytes ever count: the tap sees the verifying stream's
//! output, and its findings are used only after the part's row commits.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use sha1::{Digest, Sha1};

use sha1::digest::common::hazmat::SerializableState;

use crate::store::{ByteStream, Frontier};

/// Bytes of parts held for the frontier, shared by all sessions of a
/// process, within a budget.
#[derive(Debug)]
pub(crate) struct RecentParts {
    budget: u64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Bytes reserved by taps in flight plus bytes held in `parts`.
    used: u64,
    /// Held parts by object key, with their size.
    parts: HashMap<String, (Vec<Bytes>, u64)>,
    /// Object keys in the order they were held, oldest first (may name
    /// keys already taken; those are skipped).
    order: VecDeque<String>,
}

impl RecentParts {
    pub(crate) fn new(budget: u64) -> Self {
        RecentParts {
            budget,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Room for `len` bytes, evicting the oldest held parts if needed;
    /// `None` if even an empty cache could not take them.
    fn reserve(self: &Arc<Self>, len: u64) -> Option<Reservation> {
        if len > self.budget {
            return None;
        }
        let mut state = self.lock();
        while state.used + len > self.budget {
            let key = state.order.pop_front()?;
            if let Some((_, size)) = state.parts.remove(&key) {
                state.used -= size;
            }
        }
        state.used += len;
        Some(Reservation {
            parts: Arc::clone(self),
            len,
        })
    }

    /// Holds `chunks` (exactly `reservation.len` bytes) under `key`.
    fn hold(&self, key: String, chunks: Vec<Bytes>, mut reservation: Reservation) {
        // The reserved bytes now belong to the held part.
        let len = std::mem::take(&mut reservation.len);
        drop(reservation);
        let mut state = self.lock();
        state.order.push_back(key.clone());
        if let Some((_, old)) = state.parts.insert(key, (chunks, len)) {
            state.used -= old;
        }
    }

    /// Takes the bytes held under `key`, if they are still here.
    pub(crate) fn take(&self, key: &str) -> Option<Vec<Bytes>> {
        let mut state = self.lock();
        let (chunks, len) = state.parts.remove(key)?;
        state.used -= len;
        if state.parts.is_empty() {
            state.order.clear();
        }
        Some(chunks)
    }

    /// Bytes reserved or held (for `/metrics`).
    pub(crate) fn used(&self) -> u64 {
        self.lock().used
    }
}

/// Budget set aside for one part's bytes; given back when dropped unless
/// the part is held.
#[derive(Debug)]
struct Reservation {
    parts: Arc<RecentParts>,
    len: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.parts.lock().used -= self.len;
    }
}

/// What a tap collects while the body passes.
enum Taking {
    /// The frontier's SHA-1, continued over the part.
    Hash(Box<Sha1>),
    /// A copy of the part's chunks (shared, not copied: `Bytes` clones).
    Keep(Vec<Bytes>, Reservation),
    Nothing,
}

/// Collects what the frontier needs from one part's body.
#[derive(Clone)]
pub(crate) struct Tap(Arc<Mutex<Taking>>);

impl Tap {
    /// A tap for a part at the frontier: `hasher` is the frontier's state.
    pub(crate) fn hashing(hasher: Sha1) -> Self {
        Tap(Arc::new(Mutex::new(Taking::Hash(Box::new(hasher)))))
    }

    /// A tap for a part ahead of the frontier: keeps its `len` bytes if
    /// the budget allows, else takes nothing.
    pub(crate) fn keeping(parts: &Arc<RecentParts>, len: u64) -> Self {
        let taking = match parts.reserve(len) {
            Some(reservation) => Taking::Keep(Vec::new(), reservation),
            None => Taking::Nothing,
        };
        Tap(Arc::new(Mutex::new(taking)))
    }

    fn lock(&self) -> MutexGuard<'_, Taking> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wraps `body` so that every chunk passing through is tapped.
    pub(crate) fn wrap(&self, body: ByteStream) -> ByteStream {
        Box::pin(TapStream {
            inner: body,
            tap: self.clone(),
        })
    }

    /// For a hashing tap whose part ends at `end`: the frontier after the
    /// part, to record with the part's row.
    pub(crate) fn frontier_after(&self, end: u64) -> Option<Frontier> {
        match &*self.lock() {
            Taking::Hash(hasher) => Some(Frontier {
                offset: end,
                state: hasher.serialize().to_vec(),
            }),
            _ => None,
        }
    }

    /// Once the part's row is in: holds the kept bytes under `key` in
    /// `parts` (a hashing tap has handed its hash over already).
    pub(crate) fn finish(self, parts: &RecentParts, key: &str) {
        let taking = std::mem::replace(&mut *self.lock(), Taking::Nothing);
        if let Taking::Keep(chunks, reservation) = taking {
            parts.hold(key.to_owned(), chunks, reservation);
        }
    }
}

struct TapStream {
    inner: ByteStream,
    tap: Tap,
}

impl Stream for TapStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &item {
            match &mut *self.tap.lock() {
                Taking::Hash(hasher) => hasher.update(chunk),
                Taking::Keep(chunks, _) => chunks.push(chunk.clone()),
                Taking::Nothing => {}
            }
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    fn body(chunks: &[&'static [u8]]) -> ByteStream {
        let items: Vec<io::Result<Bytes>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        Box::pin(futures::stream::iter(items))
    }

    #[tokio::test]
    async fn a_hashing_tap_continues_the_midstate() {
        let mut before = Sha1::new();
        before.update(b"first part ");
        let tap = Tap::hashing(before);
        let passed: Vec<Bytes> = tap
            .wrap(body(&[b"second", b" part"]))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(passed.concat(), b"second part");
        let after = tap
            .frontier_after(22)
            .expect("a hashing tap knows the frontier after it");
        assert_eq!(after.offset, 22);
        let restored = super::super::frontier::restore(&after).unwrap();
        assert_eq!(
            restored.finalize().as_slice(),
            Sha1::digest(b"first part second part").as_slice()
        );
        let parts = Arc::new(RecentParts::new(100));
        tap.finish(&parts, "k");
        assert_eq!(parts.used(), 0, "a hashing tap holds nothing");
    }

    #[tokio::test]
    async fn kept_parts_stay_within_the_budget_oldest_out_first() {
        let parts = Arc::new(RecentParts::new(10));
        for (key, bytes) in [("a", b"aaaa"), ("b", b"bbbb")] {
            let tap = Tap::keeping(&parts, 4);
            let _: Vec<Bytes> = tap.wrap(body(&[bytes])).try_collect().await.unwrap();
            tap.finish(&parts, key);
        }
        assert_eq!(parts.used(), 8);
        // A third part needs room: the oldest ("a") goes.
        let tap = Tap::keeping(&parts, 4);
        assert_eq!(parts.used(), 12 - 4);
        let _: Vec<Bytes> = tap.wrap(body(&[b"cc", b"cc"])).try_collect().await.unwrap();
        tap.finish(&parts, "c");
        assert_eq!(parts.take("a"), None);
        assert_eq!(parts.take("b").unwrap().concat(), b"bbbb");
        assert_eq!(parts.take("c").unwrap().concat(), b"cccc");
        assert_eq!(parts.used(), 0);
        // Too big for the whole budget: nothing is kept, nothing evicted.
        let tap = Tap::keeping(&parts, 11);
        tap.finish(&parts, "d");
        assert_eq!(parts.take("d"), None);
    }

    #[tokio::test]
    async fn an_abandoned_tap_gives_its_reservation_back() {
        let parts = Arc::new(RecentParts::new(10));
        let tap = Tap::keeping(&parts, 6);
        assert_eq!(parts.used(), 6);
        let _ = tap.wrap(body(&[b"abc"])).try_collect::<Vec<Bytes>>().await;
        drop(tap);
        assert_eq!(parts.used(), 0);
    }
}
