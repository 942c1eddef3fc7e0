//! Lingering close: drain what a handler left unread of a request body.
//!
//! Why: a handler may answer before reading the body (a 416 for a bad
//! range, a 200 for an identical part retry). If the server then closes
//! the connection with unread bytes in flight, the client sees a broken
//! pipe or a reset instead of the answer, and its next request on that
//! connection fails. So this middleware wraps every body; when the handler
//! drops it unfinished, the wrapper hands the rest back, and the middleware
//! reads and discards it (bounded in bytes and time) before responding.
//! Past the bound it answers with `Connection: close` instead.
//!
//! A 401 is drained too: an SDK whose token expired mid-upload must read
//! the 401 to refresh its token and retry; a broken pipe would instead
//! look like a network failure. Discarding bytes costs the server no more
//! than any reverse proxy's lingering close, and the time bound holds.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;

/// The most bytes drained after an early answer: a little over the
/// largest part size.
pub(super) const DRAIN_LIMIT: u64 = 160 * 1024 * 1024;
/// How long draining may take.
pub(super) const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

type Slot = Arc<Mutex<Option<Body>>>;

/// A body that, if dropped before its end, puts itself back in `slot`.
struct ReturnOnDrop {
    inner: Option<Body>,
    slot: Slot,
    ended: bool,
}

impl http_body::Body for ReturnOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map(http_body::Body::size_hint)
            .unwrap_or_default()
    }
}

impl Drop for ReturnOnDrop {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take()
            && !self.ended
            && !http_body::Body::is_end_stream(&inner)
        {
            *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(inner);
        }
    }
}

/// Reads and discards up to `DRAIN_LIMIT` bytes; true if the body ended.
async fn drain(mut body: Body) -> bool {
    let mut seen = 0u64;
    let read = async {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                seen += data.len() as u64;
                if seen > DRAIN_LIMIT {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIMEOUT, read)
        .await
        .unwrap_or(false)
}

pub(super) async fn drain_unread_body(request: Request, next: Next) -> Response {
    let slot: Slot = Arc::default();
    let request = request.map(|body| {
        Body::new(ReturnOnDrop {
            inner: Some(body),
            slot: Arc::clone(&slot),
            ended: false,
        })
    });
    let mut response = next.run(request).await;
    let unread = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(body) = unread
        && !drain(body).await
    {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
