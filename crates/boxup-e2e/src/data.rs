//! Test data: deterministic bytes, their SHA-1, a source that breaks and
//! a source that tells how far it has been read.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::watch;

/// `len` pseudo-random bytes (xorshift), different for each `seed`.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn sha1_hex(data: &[u8]) -> String {
    let digest: [u8; 20] = Sha1::digest(data).into();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A source that yields `data[..at]`, then waits for `gate` (if any), then
/// fails: a process dying mid-upload, at a moment the test controls.
pub struct FailAt {
    data: Vec<u8>,
    pos: usize,
    at: usize,
    gate: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl FailAt {
    pub fn new(data: Vec<u8>, at: usize) -> Self {
        FailAt {
            data,
            pos: 0,
            at,
            gate: None,
        }
    }

    /// Wait for `gate` before failing.
    pub fn after(mut self, gate: impl Future<Output = ()> + Send + 'static) -> Self {
        self.gate = Some(Box::pin(gate));
        self
    }
}

impl AsyncRead for FailAt {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos >= self.at {
            if let Some(gate) = self.gate.as_mut() {
                if gate.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.gate = None;
            }
            return Poll::Ready(Err(io::Error::other("simulated crash")));
        }
        let end = self.at.min(self.pos + buf.remaining());
        let pos = self.pos;
        buf.put_slice(&self.data[pos..end]);
        self.pos = end;
        Poll::Ready(Ok(()))
    }
}

/// A source over `data` that publishes how many bytes have been read from
/// it so far: the client's read-ahead, observable from the test.
pub struct Counted {
    data: Vec<u8>,
    pos: usize,
    read: watch::Sender<u64>,
}

impl Counted {
    /// The source, and the receiver of its running byte count.
    pub fn new(data: Vec<u8>) -> (Self, watch::Receiver<u64>) {
        let (read, rx) = watch::channel(0);
        (Counted { data, pos: 0, read }, rx)
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let end = self.data.len().min(self.pos + buf.remaining());
        let pos = self.pos;
        buf.put_slice(&self.data[pos..end]);
        self.pos = end;
        self.read.send_replace(end as u64);
        Poll::Ready(Ok(()))
    }
}
