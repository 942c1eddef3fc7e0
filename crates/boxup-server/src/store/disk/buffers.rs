//! The memory and the threads a put's writes use: block-aligned buffers
//! recycled through a pool, and a bound on blocking writes in flight.
//!
//! Why aligned buffers: puts write with `O_DIRECT` where the filesystem
//! allows it (see `writer.rs`), which needs the buffer's address, its
//! length and the file offset to be multiples of the device's block size.
//! Why a pool: a fresh allocation of a large buffer is fresh memory from
//! the kernel, zeroed and faulted in page by page (and on a virtual
//! machine, often from the host too); recycled buffers are already there.
//! Why slots: see [`IoSlots`].

use std::sync::{Arc, Mutex};

/// Alignment of buffers and direct writes: 4 KiB covers the logical block
/// size of every common device (512 or 4096 bytes).
pub(super) const ALIGN: usize = 4096;

/// A fixed-capacity byte buffer whose contents start at an [`ALIGN`]ed
/// address. Safe code only: it over-allocates by `ALIGN` and starts at the
/// first aligned byte of the allocation, which never moves.
pub(super) struct AlignedBuf {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    fn new(capacity: usize) -> Self {
        let storage = vec![0u8; capacity + ALIGN];
        let start = storage.as_ptr().align_offset(ALIGN);
        assert!(start < ALIGN, "a u8 pointer can always be aligned");
        AlignedBuf {
            storage,
            start,
            len: 0,
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.storage.len() - ALIGN
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn is_full(&self) -> bool {
        self.len == self.capacity()
    }

    /// Appends as much of `data` as fits; returns how many bytes it took.
    pub(super) fn fill_from(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.capacity() - self.len);
        let at = self.start + self.len;
        self.storage[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// Idle buffers of one size, shared by all puts of a store.
#[derive(Debug)]
pub(super) struct BufferPool {
    size: usize,
    max_idle: usize,
    idle: Mutex<Vec<AlignedBuf>>,
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("len", &self.len)
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl BufferPool {
    /// Keeps at most `max_idle` idle buffers of `size` bytes; beyond that,
    /// returned buffers are freed (a burst's memory goes back).
    pub(super) fn new(size: usize, max_idle: usize) -> Self {
        BufferPool {
            size,
            max_idle,
            idle: Mutex::default(),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<AlignedBuf>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An empty buffer, recycled if one is idle.
    pub(super) fn take(&self) -> AlignedBuf {
        self.idle()
            .pop()
            .unwrap_or_else(|| AlignedBuf::new(self.size))
    }

    /// Gives a buffer back for reuse.
    pub(super) fn give(&self, mut buf: AlignedBuf) {
        buf.clear();
        let mut idle = self.idle();
        if idle.len() < self.max_idle && buf.capacity() == self.size {
            idle.push(buf);
        }
    }
}

/// A bound on the blocking disk operations of puts in flight at once.
///
/// Why: every put writes its buffers on the blocking pool. With hundreds of
/// puts in flight, hundreds of threads would be runnable at once: the
/// kernel spends its time switching between them and contending on the
/// filesystem's locks, and a metadata query (which also needs a blocking
/// thread) waits behind all of them, so small requests such as commits
/// queue behind bulk data. A put waiting for a slot waits on the async
/// side, holding no thread; its client's bytes wait in the socket.
#[derive(Debug)]
pub(super) struct IoSlots(Arc<tokio::sync::Semaphore>);

impl IoSlots {
    /// Two slots per core, at least four: enough to keep a disk busy while
    /// the other slots' buffers are filled.
    pub(super) fn for_this_machine() -> Self {
        IoSlots(Arc::new(tokio::sync::Semaphore::new(
            (2 * crate::cores()).max(4),
        )))
    }

    pub(super) async fn acquire(&self) -> tokio::sync::OwnedSemaphorePermit {
        Arc::clone(&self.0)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_aligned_fill_up_and_are_recycled() {
        let pool = BufferPool::new(3 * ALIGN, 1);
        let mut a = pool.take();
        assert_eq!(a.as_slice().as_ptr().align_offset(ALIGN), 0);
        assert_eq!(a.fill_from(&[7u8; 5000]), 5000);
        assert_eq!(a.fill_from(&[8u8; 10_000]), 3 * ALIGN - 5000);
        assert!(a.is_full());
        assert_eq!(a.as_slice()[4999], 7);
        assert_eq!(a.as_slice()[5000], 8);
        let address = a.as_slice().as_ptr() as usize;
        pool.give(a);
        let b = pool.take();
        assert!(b.is_empty(), "a recycled buffer starts empty");
        assert_eq!(b.as_slice().as_ptr() as usize, address, "recycled");
        // Only `max_idle` buffers are kept.
        let c = pool.take();
        pool.give(b);
        pool.give(c);
        assert_eq!(pool.idle().len(), 1);
    }
}
