//! The access log and the request series: one log line and one count per
//! request, once its answer has been sent.
//!
//! Why at the end of the response body, not when the handler returns: a
//! download streams for minutes after its headers, and the line must say
//! how many bytes went out and how long it all took. The line is written
//! when the body's last frame is handed to the connection, or when the
//! body is dropped unfinished (the client went away); an empty body is
//! logged at once. So by the time a client has read a whole answer, its
//! request is counted.
//!
//! The route is the template axum matched (`/2.0/files/{id}`), never the
//! raw path, and the user is the authenticated user's id: both are learnt
//! inside the router, and reach this outermost layer through [`Facts`], a
//! slot carried in the request's extensions. Nothing here reads a header,
//! so no token is ever logged; a download link's path is redacted.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::metrics::Metrics;
use crate::store::UserRecord;

/// The route label of a request that matched no route (unknown paths,
/// answered preflights): one series for all of them.
pub(crate) const UNMATCHED: &str = "unmatched";

/// What the layers inside the router learn about a request.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    route: OnceLock<String>,
    user_id: OnceLock<i64>,
}

/// Notes the authenticated user of the request (from the `Caller`
/// extractor), if the request carries a [`Facts`] slot.
pub(crate) fn note_user(extensions: &axum::http::Extensions, user: &UserRecord) {
    if let Some(facts) = extensions.get::<Arc<Facts>>() {
        let _ = facts.user_id.set(user.id.0);
    }
}

/// Middleware inside the router: notes the route template matched.
pub(super) async fn note_route(request: Request, next: Next) -> Response {
    if let (Some(facts), Some(path)) = (
        request.extensions().get::<Arc<Facts>>(),
        request.extensions().get::<MatchedPath>(),
    ) {
        let _ = facts.route.set(path.as_str().to_owned());
    }
    next.run(request).await
}

/// One request being served, until its line is written.
pub(super) struct Access {
    id: String,
    method: String,
    path: String,
    started: Instant,
    facts: Arc<Facts>,
    received: Arc<AtomicU64>,
    metrics: Metrics,
}

impl Access {
    /// Starts timing `request`, counts its body's bytes as they are read,
    /// and gives it the [`Facts`] slot.
    pub(super) fn begin(
        mut request: Request,
        id: String,
        path: String,
        metrics: Metrics,
    ) -> (Request, Access) {
        let facts = Arc::new(Facts::default());
        let received = Arc::new(AtomicU64::new(0));
        request.extensions_mut().insert(Arc::clone(&facts));
        let access = Access {
            id,
            method: request.method().as_str().to_owned(),
            path,
            started: Instant::now(),
            facts,
            received: Arc::clone(&received),
            metrics,
        };
        let request = request.map(|body| {
            Body::new(Counted {
                inner: body,
                counter: received,
            })
        });
        (request, access)
    }

    /// Wraps the answer's body so that the line is written when it ends.
    pub(super) fn finish(self, response: Response) -> Response {
        let status = response.status().as_u16();
        let (parts, body) = response.into_parts();
        // A streamed body (a download) knows its length only from its
        // header.
        let declared = parts
            .headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let mut logged = Logged {
            length: http_body::Body::size_hint(&body).exact().or(declared),
            inner: body,
            sent: 0,
            pending: Some((self, status)),
        };
        if http_body::Body::is_end_stream(&logged.inner) {
            logged.done(true);
        }
        Response::from_parts(parts, Body::new(logged))
    }

    fn write(self, status: u16, sent: u64, complete: bool) {
        let route = self.facts.route.get().map_or(UNMATCHED, String::as_str);
        let received = self.received.load(Ordering::Relaxed);
        self.metrics
            .request(route, &self.method, status, received, sent);
        tracing::info!(
            request_id = %self.id,
            method = %self.method,
            route = %route,
            path = %self.path,
            status,
            user_id = self.facts.user_id.get().copied(),
            request_bytes = received,
            response_bytes = sent,
            // Milliseconds to the microsecond.
            duration_ms = self.started.elapsed().as_micros() as f64 / 1000.0,
            complete,
            "served"
        );
    }
}

/// A request body that adds the bytes read to a counter.
struct Counted {
    inner: Body,
    counter: Arc<AtomicU64>,
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.counter.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that writes its request's line when it ends or drops.
struct Logged {
    inner: Body,
    /// The body's length, when known up front: the connection may stop
    /// polling once it has sent that much, before the body says it ended.
    length: Option<u64>,
    sent: u64,
    pending: Option<(Access, u16)>,
}

impl Logged {
    fn done(&mut self, complete: bool) {
        if let Some((access, status)) = self.pending.take() {
            access.write(status, self.sent, complete);
        }
    }
}

impl http_body::Body for Logged {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.sent += data.len() as u64;
                }
                if self.inner.is_end_stream() || Some(self.sent) == self.length {
                    self.done(true);
                }
            }
            Poll::Ready(None) => self.done(true),
            Poll::Ready(Some(Err(_))) => self.done(false),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        // Dropped before its end was seen: the client went away, or the
        // connection failed, mid-answer.
        self.done(false);
    }
}
