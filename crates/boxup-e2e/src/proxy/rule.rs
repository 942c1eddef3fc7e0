//! What a rule sees of a request ([`Seen`]), what it decides ([`Action`],
//! with [`Rewrite`] for made-up answers), and the log entry of each
//! request ([`Logged`]).

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::header::HeaderMap;

/// What the rule sees of a request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub content_range: Option<String>,
    /// 1-based count of requests with this method so far.
    pub nth: usize,
    /// 1-based count of requests with this method, path and range: the
    /// attempt number of one part upload.
    pub attempt: usize,
}

impl Seen {
    pub fn is_put(&self) -> bool {
        self.method == "PUT"
    }

    pub fn is_commit(&self) -> bool {
        self.method == "POST" && self.path.ends_with("/commit")
    }

    /// The first byte of a PUT's `Content-Range`.
    pub fn range_start(&self) -> Option<u64> {
        let r = self.content_range.as_deref()?.strip_prefix("bytes ")?;
        r.split('-').next()?.parse().ok()
    }
}

/// A rewrite of the server's answer: `(status, body)` in, `(status, JSON
/// body)` out. Equal only to itself (a clone of the same rewrite).
#[derive(Clone)]
pub struct Rewrite(pub(super) Arc<RewriteFn>);

type RewriteFn = dyn Fn(u16, &Bytes) -> (u16, String) + Send + Sync;

impl Rewrite {
    pub fn new(f: impl Fn(u16, &Bytes) -> (u16, String) + Send + Sync + 'static) -> Self {
        Rewrite(Arc::new(f))
    }
}

impl fmt::Debug for Rewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rewrite(..)")
    }
}

impl PartialEq for Rewrite {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Rewrite {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Forward,
    /// Answer without forwarding (the request body is read first).
    Respond {
        status: u16,
        retry_after: Option<String>,
        body: Option<String>,
    },
    /// Read at most one body frame, then close the connection unanswered.
    DropMidRequest,
    /// Forward, then answer this status instead of the server's answer.
    ForwardThenFail(u16),
    /// Forward, then close the connection unanswered.
    ForwardThenDrop,
    /// Forward, then answer what the rewrite makes of the server's answer
    /// (e.g. the Box-style error a real Box would have sent instead).
    ForwardThenRewrite(Rewrite),
}

impl Action {
    pub fn status(status: u16) -> Self {
        Action::Respond {
            status,
            retry_after: None,
            body: None,
        }
    }

    pub fn retry_after(status: u16, seconds: &str) -> Self {
        Action::Respond {
            status,
            retry_after: Some(seconds.to_owned()),
            body: None,
        }
    }
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub seen: Seen,
    pub headers: HeaderMap,
    pub action: Action,
    /// The server's status, when the request was forwarded.
    pub upstream_status: Option<u16>,
    /// The server's response body, when the request was forwarded.
    pub upstream_body: Option<Bytes>,
    pub at: Instant,
}
