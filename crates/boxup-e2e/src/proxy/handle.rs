//! Serving one request: counting it, asking the rule, then forwarding,
//! answering, dropping or rewriting as the [`Action`] says, logging it and
//! tracking the PUTs in flight.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, HOST, HeaderMap, TRANSFER_ENCODING};
use hyper::{Request, Response, StatusCode};

use super::{Action, Logged, Seen, State};

#[derive(Debug)]
pub(super) struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

struct InFlight<'a>(&'a State);

impl<'a> InFlight<'a> {
    fn enter(state: &'a State) -> Self {
        state.put_arrivals.send_modify(|c| *c += 1);
        state.puts_in_flight.send_modify(|n| {
            *n += 1;
            state.max_puts_in_flight.fetch_max(*n, Ordering::SeqCst);
        });
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.puts_in_flight.send_modify(|n| *n -= 1);
    }
}

pub(super) async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let at = Instant::now();
    let (parts, mut body) = req.into_parts();
    let method = parts.method.to_string();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let content_range = parts
        .headers
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let seen = {
        let mut counts = state.counts.lock().unwrap();
        let mut bump = |key: String| {
            let c = counts.entry(key).or_insert(0);
            *c += 1;
            *c
        };
        let nth = bump(method.clone());
        let attempt = bump(format!("{method} {path} {content_range:?}"));
        Seen {
            method,
            path,
            content_range,
            nth,
            attempt,
        }
    };
    let action = (state.rule)(&seen);
    let _in_flight = seen.is_put().then(|| InFlight::enter(&state));
    let record = |upstream: Option<(u16, Bytes)>| {
        let (upstream_status, upstream_body) = upstream.unzip();
        state.log.lock().unwrap().push(Logged {
            seen: seen.clone(),
            headers: parts.headers.clone(),
            action: action.clone(),
            upstream_status,
            upstream_body,
            at,
        });
        state.logged.send_modify(|c| *c += 1);
    };

    if action == Action::DropMidRequest {
        let _ = body.frame().await;
        record(None);
        return Err(Dropped);
    }
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            record(None);
            return Err(Dropped);
        }
    };
    if let Action::Respond {
        status,
        retry_after,
        body,
    } = &action
    {
        record(None);
        let mut resp = Response::builder().status(*status);
        if let Some(ra) = retry_after {
            resp = resp.header("retry-after", ra);
        }
        let body = match body {
            Some(b) => b.clone(),
            None if *status == 202 => String::new(),
            None => error_json(*status),
        };
        return Ok(resp
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("a valid response"));
    }

    if seen.is_put() {
        let hold = state.hold.lock().unwrap().clone();
        if let Some((n, barrier)) = hold
            && seen.nth <= n
        {
            barrier.wait().await;
        }
    }
    let (status, headers, payload) = match forward(&state, &seen, &parts.headers, bytes).await {
        Ok(r) => r,
        Err(e) => {
            record(None);
            return Err(e);
        }
    };
    record(Some((status.as_u16(), payload.clone())));
    if seen.is_put() && status.is_success() {
        state.stored_puts.send_modify(|c| *c += 1);
    }
    match action {
        Action::ForwardThenFail(s) => Ok(Response::builder()
            .status(s)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(error_json(s))))
            .expect("a valid response")),
        Action::ForwardThenDrop => Err(Dropped),
        Action::ForwardThenRewrite(rewrite) => {
            let (status, body) = (rewrite.0)(status.as_u16(), &payload);
            Ok(Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .expect("a valid response"))
        }
        _ => {
            let mut resp = Response::builder().status(status);
            for (k, v) in &headers {
                if k != TRANSFER_ENCODING && k != CONNECTION && k != CONTENT_LENGTH {
                    resp = resp.header(k, v);
                }
            }
            Ok(resp.body(Full::new(payload)).expect("a valid response"))
        }
    }
}

async fn forward(
    state: &State,
    seen: &Seen,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, HeaderMap, Bytes), Dropped> {
    let method = reqwest::Method::from_bytes(seen.method.as_bytes()).map_err(|_| Dropped)?;
    let url = format!("http://{}{}", state.upstream, seen.path);
    let mut rb = state.http.request(method, url);
    for (k, v) in headers {
        if k != HOST && k != CONTENT_LENGTH && k != TRANSFER_ENCODING && k != CONNECTION {
            rb = rb.header(k, v);
        }
    }
    let resp = rb
        .header("x-forwarded-host", state.me.to_string())
        .body(body)
        .send()
        .await
        .map_err(|_| Dropped)?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let payload = resp.bytes().await.map_err(|_| Dropped)?;
    Ok((status, headers, payload))
}

fn error_json(status: u16) -> String {
    serde_json::json!({
        "type": "error",
        "status": status,
        "code": format!("injected_{status}"),
        "message": "injected by the fault proxy",
        "request_id": "proxy",
    })
    .to_string()
}
