//! A forwarding proxy that stops the first whole-file download after
//! `cut` bytes: either the connection stays open and silent ([`Then::Hang`],
//! a network that died, so a test can kill the downloading CLI at a known
//! point) or it breaks off ([`Then::Close`], a connection reset). Later
//! downloads pass untouched. Content requests and their `Range` headers
//! are logged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::StreamExt;
use tokio::sync::watch;

/// What the first download does after `cut` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    Hang,
    Close,
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    cut: u64,
    then: Then,
    stalled_once: Arc<AtomicBool>,
    served: watch::Sender<u64>,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
    http: reqwest::Client,
}

pub struct StallProxy {
    pub origin: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl StallProxy {
    pub async fn start(upstream: &str, cut: u64, then: Then) -> StallProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let origin = format!("http://{}", listener.local_addr().expect("address"));
        let shared = Shared {
            upstream: upstream.to_owned(),
            cut,
            then,
            stalled_once: Arc::default(),
            served: watch::channel(0).0,
            ranges: Arc::default(),
            http: reqwest::Client::new(),
        };
        let app = Router::new().fallback(forward).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StallProxy {
            origin,
            shared,
            task,
        }
    }

    /// The `Range` header of each content request, in order.
    pub fn ranges(&self) -> Vec<Option<String>> {
        self.shared.ranges.lock().unwrap().clone()
    }

    /// Resolves once the stalled download has sent all `cut` bytes.
    pub async fn stalled(&self) {
        let cut = self.shared.cut;
        let mut rx = self.shared.served.subscribe();
        let _ = rx.wait_for(|n| *n >= cut).await;
    }
}

impl Drop for StallProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(s): State<Shared>, req: Request) -> Result<Response, StatusCode> {
    let (parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let range = parts
        .headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content = parts.method == "GET" && parts.uri.path().ends_with("/content");
    if content {
        s.ranges.lock().unwrap().push(range.clone());
    }
    let mut headers = HeaderMap::new();
    for (k, v) in &parts.headers {
        if k != "host" && k != "content-length" {
            headers.insert(k.clone(), v.clone());
        }
    }
    let upstream = s
        .http
        .request(parts.method.clone(), format!("{}{path}", s.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    let mut out = Response::builder().status(upstream.status());
    for (k, v) in upstream.headers() {
        if k != "transfer-encoding" && k != "connection" {
            out = out.header(k, v);
        }
    }
    let stall = content && range.is_none() && !s.stalled_once.swap(true, Ordering::SeqCst);
    let stream = upstream.bytes_stream();
    let body = if stall {
        let served = s.served.clone();
        let head = stream.scan(s.cut, move |left, chunk| {
            let item = match chunk {
                _ if *left == 0 => None,
                Err(e) => Some(Err(std::io::Error::other(e))),
                Ok(mut chunk) => {
                    let keep = (*left).min(chunk.len() as u64);
                    chunk.truncate(keep as usize);
                    *left -= keep;
                    served.send_modify(|n| *n += keep);
                    Some(Ok::<Bytes, std::io::Error>(chunk))
                }
            };
            futures::future::ready(item)
        });
        let tail = match s.then {
            Then::Hang => futures::stream::pending().boxed(),
            Then::Close => futures::stream::once(async {
                Err(std::io::Error::other("the proxy cut the connection"))
            })
            .boxed(),
        };
        Body::from_stream(head.chain(tail))
    } else {
        Body::from_stream(stream)
    };
    out.body(body)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
}
