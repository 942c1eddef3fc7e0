//! Sending one API request: the bearer token, the caller's extra headers,
//! a timeout (for a part, stretched to its size), retries with exponential
//! backoff and jitter (timed by `backon`, honouring `Retry-After` plus a
//! little jitter), and turning the answer into a model or an [`Error`].
//!
//! Every operation goes through [`BoxClient::send`], so the retry rule is
//! written once: what retries is decided by [`Error::is_retryable`]. Bodies
//! are `Bytes`, so a retry re-sends the same bytes without copying them.

use std::sync::Arc;
use std::time::Duration;

use backon::Retryable;
use boxup_protocol::BoxError;
use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::client::{BoxClient, RetryConfig};
use crate::error::{Error, Result};
use crate::progress::PartMeter;

/// How much of a part body is handed to the connection at a time; also
/// the granularity of progress reports.
const BODY_CHUNK: usize = 64 * 1024;

pub(crate) enum Payload {
    Empty,
    Json(Bytes),
    /// Raw part bytes, metered for progress when a meter is given.
    Part {
        data: Bytes,
        meter: Option<Arc<PartMeter>>,
    },
}

pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub extra: Option<&'a HeaderMap>,
    pub payload: Payload,
    /// A commit: 202 means "not ready yet, retry", not success.
    pub commit: bool,
}

impl<'a> Request<'a> {
    pub(crate) fn new(method: Method, url: Url, extra: Option<&'a HeaderMap>) -> Self {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            extra,
            payload: Payload::Empty,
            commit: false,
        }
    }

    pub(crate) fn json(mut self, body: &impl serde::Serialize) -> Self {
        let bytes = serde_json::to_vec(body).expect("request models always serialise");
        self.payload = Payload::Json(bytes.into());
        self
    }

    /// Adds a header whose value comes from the caller (checked here).
    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Result<Self> {
        let v = HeaderValue::from_str(value).map_err(|_| {
            Error::InvalidInput(format!("{name} header value {value:?} is not valid"))
        })?;
        self.headers.insert(name, v);
        Ok(self)
    }
}

/// A successful answer, body read.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
    pub request: String,
}

impl Reply {
    /// Parses the body as `model`; unknown fields are ignored, wrong types
    /// are an [`Error::Decode`] naming the request and the model.
    pub(crate) fn json<T: DeserializeOwned>(self, model: &'static str) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            request: self.request,
            status: self.status.as_u16(),
            model,
            source,
        })
    }
}

impl BoxClient {
    /// Sends `req`, retrying what [`Error::is_retryable`] allows.
    pub(crate) async fn send(&self, req: &Request<'_>) -> Result<Reply> {
        self.send_observed(req, |_| {}).await
    }

    /// [`send`](Self::send), showing `retrying` each failure that is about
    /// to be retried (a commit wants to know whether an earlier attempt may
    /// have taken effect).
    pub(crate) async fn send_observed(
        &self,
        req: &Request<'_>,
        mut retrying: impl FnMut(&Error),
    ) -> Result<Reply> {
        let last_token = std::sync::Mutex::new(String::new());
        let first = self.send_retrying(req, &last_token, &mut retrying).await;
        match first {
            Err(e) if e.status() == Some(401) => {
                let rejected =
                    std::mem::take(&mut *last_token.lock().unwrap_or_else(|p| p.into_inner()));
                if !self.inner.auth.refresh(&rejected).await? {
                    return Err(e);
                }
                tracing::info!("token refreshed after a 401; sending again");
                retrying(&e);
                self.send_retrying(req, &last_token, &mut retrying).await
            }
            other => other,
        }
    }

    /// One request with the retry policy applied; `last_token` records the
    /// token the final attempt carried.
    async fn send_retrying(
        &self,
        req: &Request<'_>,
        last_token: &std::sync::Mutex<String>,
        retrying: &mut impl FnMut(&Error),
    ) -> Result<Reply> {
        let retry = &self.inner.retry;
        (|| self.send_once(req, last_token))
            .retry(retry.backoff())
            .when(Error::is_retryable)
            .adjust(|e, delay| delay.map(|d| retry_delay(retry, e, d)))
            .notify(|e, delay| {
                tracing::warn!(error = %e, ?delay, "retrying");
                retrying(e);
            })
            .await
    }

    async fn send_once(
        &self,
        req: &Request<'_>,
        last_token: &std::sync::Mutex<String>,
    ) -> Result<Reply> {
        let label = format!("{} {}", req.method, req.url);
        let token = self.inner.auth.token().await?;
        token.clone_into(&mut last_token.lock().unwrap_or_else(|p| p.into_inner()));
        let mut headers = req.headers.clone();
        let mut builder = self.inner.http.request(req.method.clone(), req.url.clone());
        let timeout = match &req.payload {
            Payload::Empty => self.inner.request_timeout,
            Payload::Json(body) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                builder = builder.body(body.clone());
                self.inner.request_timeout
            }
            Payload::Part { data, meter } => {
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                headers.insert(CONTENT_LENGTH, HeaderValue::from(data.len() as u64));
                builder = builder.body(part_body(data.clone(), meter.clone()));
                part_attempt_timeout(self.inner.part_timeout, data.len() as u64)
            }
        };
        if let Some(extra) = req.extra {
            for name in extra.keys() {
                headers.remove(name);
            }
            for (name, value) in extra {
                headers.append(name, value.clone());
            }
        }
        builder = builder.bearer_auth(token).headers(headers);
        if let Some(t) = timeout {
            builder = builder.timeout(t);
        }
        tracing::debug!(request = %label, "sending");
        let http = |source| Error::Http {
            request: label.clone(),
            source,
        };
        let resp = builder.send().await.map_err(http)?;
        let status = resp.status();
        let retry_after = parse_retry_after(resp.headers());
        let body = resp.bytes().await.map_err(http)?;
        if req.commit && status == StatusCode::ACCEPTED {
            return Err(Error::CommitPending {
                request: label,
                retry_after,
            });
        }
        if status.is_success() {
            return Ok(Reply {
                status,
                body,
                request: label,
            });
        }
        Err(api_error(label, status, retry_after, &body))
    }
}

/// A part body handed over in `BODY_CHUNK` slices (no copies), each slice
/// counted by the meter as the connection takes it.
fn part_body(data: Bytes, meter: Option<Arc<PartMeter>>) -> reqwest::Body {
    let Some(meter) = meter else {
        return reqwest::Body::from(data);
    };
    let len = data.len();
    let mut sent = 0u64;
    let slices = (0..len)
        .step_by(BODY_CHUNK)
        .map(move |i| data.slice(i..(i + BODY_CHUNK).min(len)));
    let stream = futures::stream::iter(slices).map(move |slice| {
        sent += slice.len() as u64;
        meter.record(sent);
        Ok::<_, std::convert::Infallible>(slice)
    });
    reqwest::Body::wrap_stream(stream)
}

/// The slowest rate a part upload attempt may run at before it times out:
/// a large part gets proportionally longer than `part_timeout`.
const MIN_PART_RATE: u64 = 32 * 1024;

/// The timeout of one attempt at a `len`-byte part body: `part_timeout`,
/// or the time the body takes at [`MIN_PART_RATE`] if that is longer.
fn part_attempt_timeout(part_timeout: Option<Duration>, len: u64) -> Option<Duration> {
    let at_min_rate = Duration::from_secs(len.div_ceil(MIN_PART_RATE));
    part_timeout.map(|t| t.max(at_min_rate))
}

/// The wait before the next attempt: the backoff's `computed` delay, or the
/// server's `Retry-After` (capped at `max_retry_after`) plus, unless jitter
/// is off, a random extra of up to a tenth of it (at least `min_delay`), so
/// that clients told the same `Retry-After` do not all come back at once.
fn retry_delay(retry: &RetryConfig, e: &Error, computed: Duration) -> Duration {
    let Some(ra) = e.retry_after() else {
        return computed;
    };
    let ra = ra.min(retry.max_retry_after);
    if !retry.jitter {
        return ra;
    }
    let spread = (ra / 10).max(retry.min_delay);
    ra.saturating_add(spread.mul_f64(random_unit()))
}

/// A random number in `[0, 1)`, from the standard library's per-process
/// random hasher keys (no extra dependency; not for cryptography).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After` in (possibly fractional) seconds. HTTP dates are ignored.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Box's error object from the body, or one synthesised from the status
/// when the body is not one (an empty 401, a proxy's HTML error page).
pub(crate) fn api_error(
    request: String,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Error {
    let parsed = serde_json::from_slice::<BoxError>(body)
        .ok()
        .filter(|e| !e.code.is_empty() || !e.message.is_empty());
    let mut error = parsed.unwrap_or_else(|| {
        let reason = status.canonical_reason().unwrap_or("error");
        let code = reason.to_ascii_lowercase().replace([' ', '-'], "_");
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let message = if text.is_empty() {
            reason.to_owned()
        } else {
            text.chars().take(200).collect()
        };
        let mut e = BoxError::new(status.as_u16(), code, message);
        e.help_url = None;
        e
    });
    // The HTTP status decides retries; a body may claim anything.
    error.status = status.as_u16();
    Error::Api {
        request,
        error: Box::new(error),
        retry_after,
    }
}

#[cfg(test)]
mod tests;
