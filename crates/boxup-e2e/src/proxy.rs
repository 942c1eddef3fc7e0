//! A fault-injecting reverse proxy in front of a real boxup server.
//!
//! Each request is shown to a rule, which picks an [`Action`]: forward it,
//! answer it with an error without forwarding (503, 429 + `Retry-After`,
//! 202 on commit, or any JSON), drop the connection mid-request, or
//! forward it and then lose the answer (a 500, or a dropped connection,
//! after the server stored the part), or forward it and answer something
//! made from the server's answer (what real Box would have said). Everything
//! is logged so tests can assert what the client actually sent, and tests
//! can wait for PUTs to arrive, to be in flight or to be dropped.
//!
//! The proxy sets `X-Forwarded-Host`, so the server's `session_endpoints`
//! point back at the proxy and by-URL calls go through it too.

mod handle;
mod rule;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use boxup_client::BoxClient;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Barrier, watch};
use tokio::task::JoinSet;

pub use rule::{Action, Logged, Rewrite, Seen};

use handle::handle;

type Rule = dyn Fn(&Seen) -> Action + Send + Sync;

struct State {
    upstream: SocketAddr,
    me: SocketAddr,
    rule: Box<Rule>,
    http: reqwest::Client,
    counts: Mutex<HashMap<String, usize>>,
    log: Mutex<Vec<Logged>>,
    /// PUTs whose connection is open and unanswered, from their arrival.
    puts_in_flight: watch::Sender<usize>,
    max_puts_in_flight: AtomicUsize,
    /// PUTs that have arrived, answered or not.
    put_arrivals: watch::Sender<usize>,
    stored_puts: watch::Sender<usize>,
    /// Bumped on every log entry.
    logged: watch::Sender<usize>,
    hold: Mutex<Option<(usize, Arc<Barrier>)>>,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<State>,
    accept: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(
        upstream: SocketAddr,
        rule: impl Fn(&Seen) -> Action + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let me = listener.local_addr().expect("proxy address");
        let state = Arc::new(State {
            upstream,
            me,
            rule: Box::new(rule),
            http: reqwest::Client::new(),
            counts: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            puts_in_flight: watch::channel(0).0,
            max_puts_in_flight: AtomicUsize::new(0),
            put_arrivals: watch::channel(0).0,
            stored_puts: watch::channel(0).0,
            logged: watch::channel(0).0,
            hold: Mutex::new(None),
        });
        let st = state.clone();
        let accept = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let st = st.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| handle(st.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
                while conns.try_join_next().is_some() {}
            }
        });
        FaultProxy {
            addr: me,
            state,
            accept,
        }
    }

    /// A proxy that forwards everything.
    pub async fn transparent(upstream: SocketAddr) -> Self {
        FaultProxy::start(upstream, |_| Action::Forward).await
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client aimed at the proxy, with fast retries.
    pub fn client(&self) -> BoxClient {
        crate::server::client_for(&self.origin())
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }

    /// The logged part uploads.
    pub fn puts(&self) -> Vec<Logged> {
        self.log().into_iter().filter(|l| l.seen.is_put()).collect()
    }

    /// The most PUTs that were in flight at once.
    pub fn max_puts_in_flight(&self) -> usize {
        self.state.max_puts_in_flight.load(Ordering::SeqCst)
    }

    /// PUTs that have reached the proxy so far (answered or not).
    pub fn put_arrivals(&self) -> usize {
        *self.state.put_arrivals.borrow()
    }

    /// Resolves once `n` PUTs have reached the proxy.
    pub fn puts_arrived(&self, n: usize) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.state.put_arrivals.subscribe();
        async move {
            let _ = rx.wait_for(|c| *c >= n).await;
        }
    }

    /// PUTs arrived and not yet answered, whose connection is still open.
    pub fn puts_in_flight(&self) -> usize {
        *self.state.puts_in_flight.borrow()
    }

    /// Resolves once the number of PUTs in flight satisfies `pred`, e.g.
    /// `|n| n == 0` once the client has dropped every held PUT.
    pub fn puts_in_flight_until(
        &self,
        pred: impl Fn(usize) -> bool + Send + Sync + 'static,
    ) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.state.puts_in_flight.subscribe();
        async move {
            let _ = rx.wait_for(|n| pred(*n)).await;
        }
    }

    /// Resolves with the first logged request that satisfies `pred` (at
    /// once if one already has).
    pub fn logged(
        &self,
        pred: impl Fn(&Logged) -> bool + Send + Sync + 'static,
    ) -> impl Future<Output = Logged> + Send + 'static {
        let state = self.state.clone();
        let mut rx = self.state.logged.subscribe();
        async move {
            loop {
                rx.borrow_and_update();
                if let Some(hit) = state.log.lock().unwrap().iter().find(|l| pred(l)) {
                    return hit.clone();
                }
                rx.changed().await.expect("the proxy outlives its waiters");
            }
        }
    }

    /// Resolves once the server has stored `n` parts sent through here.
    pub fn stored_puts(&self, n: usize) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.state.stored_puts.subscribe();
        async move {
            let _ = rx.wait_for(|c| *c >= n).await;
        }
    }

    /// The first `n` PUTs wait for each other before being forwarded: the
    /// upload stalls unless the client really has `n` in flight at once.
    pub fn hold_first_puts(&self, n: usize) {
        *self.state.hold.lock().unwrap() = Some((n, Arc::new(Barrier::new(n))));
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
