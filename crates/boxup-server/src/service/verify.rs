//! A body stream that enforces an exact length and a SHA-1 while it flows.
//!
//! Verification happens inside the stream, so a part store sees a bad body
//! as a failing stream and stores nothing: a rejected part never becomes
//! durable or visible. The error carries a [`BodyError`] that the service
//! recognises on the way back (`StoreError::Body`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use boxup_protocol::{ErrorKind, Sha1Digest};
use bytes::Bytes;
use futures::Stream;
use sha1::{Digest, Sha1};

use crate::error::ApiError;
use crate::store::{ByteStream, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum BodyError {
    #[error("the body is longer than the {expected} bytes announced")]
    TooLong { expected: u64 },
    #[error("the body has {got} bytes but {expected} were announced")]
    TooShort { expected: u64, got: u64 },
    #[error("the body's SHA-1 is {actual} but the digest says {expected}")]
    DigestMismatch {
        expected: Sha1Digest,
        actual: Sha1Digest,
    },
}

/// What a verified body must be.
pub(super) enum Expect {
    /// Exactly this many bytes.
    Exact(u64),
    /// At most this many bytes (simple uploads, whose size is not announced).
    AtMost(u64),
}

pub(super) struct VerifyingStream {
    inner: ByteStream,
    expect: Expect,
    sha1: Option<Sha1Digest>,
    hasher: Sha1,
    seen: u64,
    done: bool,
    /// Filled at the end of a successful stream: the length and SHA-1.
    result: std::sync::Arc<std::sync::OnceLock<(u64, Sha1Digest)>>,
}

impl VerifyingStream {
    /// Wraps `inner`; the returned cell holds `(len, sha1)` once the stream
    /// has ended successfully.
    pub(super) fn new(
        inner: ByteStream,
        expect: Expect,
        sha1: Option<Sha1Digest>,
    ) -> (Self, std::sync::Arc<std::sync::OnceLock<(u64, Sha1Digest)>>) {
        let result = std::sync::Arc::default();
        let stream = VerifyingStream {
            inner,
            expect,
            sha1,
            hasher: Sha1::new(),
            seen: 0,
            done: false,
            result: std::sync::Arc::clone(&result),
        };
        (stream, result)
    }

    fn fail(&mut self, e: BodyError) -> Poll<Option<io::Result<Bytes>>> {
        self.done = true;
        Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::InvalidData, e))))
    }

    fn finish(&mut self) -> Poll<Option<io::Result<Bytes>>> {
        if let Expect::Exact(expected) = self.expect
            && self.seen != expected
        {
            let got = self.seen;
            return self.fail(BodyError::TooShort { expected, got });
        }
        let actual = Sha1Digest(std::mem::take(&mut self.hasher).finalize().into());
        if let Some(expected) = self.sha1
            && expected != actual
        {
            return self.fail(BodyError::DigestMismatch { expected, actual });
        }
        let _ = self.result.set((self.seen, actual));
        self.done = true;
        Poll::Ready(None)
    }
}

impl Stream for VerifyingStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Some(Ok(chunk))) => {
                self.seen += chunk.len() as u64;
                let limit = match self.expect {
                    Expect::Exact(n) | Expect::AtMost(n) => n,
                };
                if self.seen > limit {
                    return self.fail(BodyError::TooLong { expected: limit });
                }
                self.hasher.update(&chunk);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) => self.finish(),
        }
    }
}

/// Maps a failed put back to the API: our own verification failures become
/// the matching 400s, everything else goes through the one conversion.
pub(super) fn body_error_to_api(e: StoreError, too_long: impl FnOnce(u64) -> ApiError) -> ApiError {
    let StoreError::Body(io) = e else {
        return e.into();
    };
    match io
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<BodyError>())
    {
        Some(BodyError::DigestMismatch { .. }) => ApiError::new(
            ErrorKind::BadDigest,
            "The digest of the body does not match the Digest header",
        ),
        Some(BodyError::TooLong { expected }) => too_long(*expected),
        Some(b @ BodyError::TooShort { .. }) => {
            ApiError::new(ErrorKind::RequestSizeMismatch, b.to_string())
        }
        None => StoreError::Body(io).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{StreamExt, TryStreamExt, stream};

    fn chunks(parts: &[&'static [u8]]) -> ByteStream {
        let owned: Vec<io::Result<Bytes>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        stream::iter(owned).boxed()
    }

    async fn run(s: VerifyingStream) -> Result<Vec<u8>, BodyError> {
        let out: Result<Vec<Bytes>, io::Error> = s.try_collect().await;
        match out {
            Ok(v) => Ok(v.concat()),
            Err(e) => Err(e
                .get_ref()
                .unwrap()
                .downcast_ref::<BodyError>()
                .unwrap()
                .clone()),
        }
    }

    #[tokio::test]
    async fn passes_exact_body_and_records_digest() {
        let abc = Sha1Digest::of(b"abc");
        let (s, cell) = VerifyingStream::new(chunks(&[b"a", b"bc"]), Expect::Exact(3), Some(abc));
        assert_eq!(run(s).await.unwrap(), b"abc");
        assert_eq!(cell.get(), Some(&(3, abc)));
    }

    #[tokio::test]
    async fn rejects_length_and_digest() {
        let abc = Sha1Digest::of(b"abc");
        let (s, cell) = VerifyingStream::new(chunks(&[b"ab"]), Expect::Exact(3), Some(abc));
        assert_eq!(
            run(s).await,
            Err(BodyError::TooShort {
                expected: 3,
                got: 2
            })
        );
        assert!(cell.get().is_none());
        let (s, _) = VerifyingStream::new(chunks(&[b"ab", b"cd"]), Expect::Exact(3), None);
        assert_eq!(run(s).await, Err(BodyError::TooLong { expected: 3 }));
        let (s, _) = VerifyingStream::new(chunks(&[b"abd"]), Expect::Exact(3), Some(abc));
        assert!(matches!(
            run(s).await,
            Err(BodyError::DigestMismatch { .. })
        ));
        let (s, _) = VerifyingStream::new(chunks(&[b"abcd"]), Expect::AtMost(3), None);
        assert_eq!(run(s).await, Err(BodyError::TooLong { expected: 3 }));
    }
}
