//! One id per request, everywhere that request shows up.
//!
//! Why: a user who reports a failure quotes the `request_id` of Box's error
//! object; an operator must find that request in the logs. So the id is
//! made once, when the request arrives (never taken from the client, which
//! could forge one to pollute the logs), and it is the `box-request-id`
//! header of every answer, the `request_id` of every error object, and a
//! field of the request's tracing span: the access-log line and any error
//! logged while the request runs carry it.
//!
//! The id lives in a task-local for the duration of the request, so an
//! error built anywhere below (a handler, an extractor, the panic catcher)
//! renders the same id without threading it through every signature.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::access::Access;
use crate::metrics::Metrics;

/// The response header that carries the id, as Box names it.
pub(crate) const HEADER: &str = "box-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, or a fresh one outside a request.
pub(crate) fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| new_request_id())
}

/// A random request id (16 hex digits), as Box puts in its error objects.
pub(crate) fn new_request_id() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

/// The path as logged: a download link's token is a credential (whoever
/// holds it may download), so it is never written to a log.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/downloads/") {
        "/downloads/…"
    } else {
        path
    }
}

/// Middleware: assigns the id, runs the request inside its span, tags the
/// answer, and has one line logged and the request counted once the
/// answer is sent (`access.rs`: route, method, status, user, bytes,
/// duration; path without the query string or a link token; never a
/// header, so never a bearer token).
pub(super) async fn tag(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let id = new_request_id();
    let path = loggable_path(request.uri().path()).to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %path,
    );
    let (request, access) = Access::begin(request, id.clone(), path, metrics);
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request))
        .instrument(span)
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    access.finish(response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn link_tokens_are_not_logged() {
        assert_eq!(super::loggable_path("/downloads/abcDEF"), "/downloads/…");
        assert_eq!(super::loggable_path("/2.0/files/1"), "/2.0/files/1");
    }
}
