//! Graceful shutdown of [`Server::run`](super::Server::run).
//!
//! Why: a part PUT cut off mid-body costs its client a retry of the whole
//! part, and restarts (a deploy, an init system's SIGTERM) are routine.
//! So once the shutdown signal comes:
//! 1. the listening socket is closed at once, so new connections are
//!    refused rather than accepted and then dropped; idle keep-alive
//!    connections are closed too;
//! 2. requests in flight run to their end, each connection closing after
//!    its response;
//! 3. the part store settles ([`PartStore::settle`]): the temp files (on
//!    disk) or unfinished multipart uploads (on an object store) of puts
//!    whose client went away are removed;
//! 4. all of it within the grace period. Past it, whatever still runs is
//!    abandoned (it ends with the process), so that a stuck or very slow
//!    client cannot hold a restart hostage. An abandoned part is never
//!    listed: its row is written only once its bytes are durable, and its
//!    temp file is removed when the store next opens.
//!
//! The same path serves plain HTTP and TLS: axum-server's accept loop,
//! with rustls's acceptor when the server has a certificate. It drops the
//! listening socket as soon as the graceful shutdown starts, and abandons
//! TLS handshakes still under way (no request is in flight on those). It
//! serves HTTP/1.1 only, as boxup always has (axum-server would also speak
//! HTTP/2, which boxup has never been built or tested for).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use axum_server::{AddrListener, Address, Handle};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::http::PeerAddr;
use crate::store::PartStore;

/// Logged once the listening socket is closed: from then on, connections
/// are refused.
const STOPPED_ACCEPTING: &str = "stopped accepting connections";

/// Serves `app` on `listener` (over TLS with `tls`) until `signal`, then
/// shuts down as the module docs say, taking at most `grace` after the
/// signal.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<RustlsConfig>,
    parts: Arc<dyn PartStore>,
    grace: Duration,
    signal: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let handle = Handle::<ServeAddr>::new();
    let (stopping_tx, stopping_rx) = oneshot::channel();
    let on_signal = {
        let handle = handle.clone();
        async move {
            signal.await;
            tracing::info!("shutting down: waiting up to {grace:?} for requests in flight");
            handle.graceful_shutdown(None);
            let _ = stopping_tx.send(());
            std::future::pending::<Infallible>().await
        }
    };
    let drained = async {
        let server = axum_server::Server::from_listener(ClosingListener(Some(listener)))
            .handle(handle)
            .http1_only()
            .accept_error_handler(|peer, e| match peer {
                // The socket itself (out of descriptors, say): axum-server
                // backs off and accepts again.
                None => tracing::warn!("cannot accept a connection: {e}"),
                // A client that failed its TLS handshake: its own business.
                Some(ServeAddr(peer)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
            });
        // Handlers may ask who connected (the page's dev-token offer does).
        let app = app.into_make_service_with_connect_info::<PeerAddr>();
        let serving = async {
            match tls {
                None => server.serve(app).await,
                Some(config) => {
                    let server = server.acceptor(RustlsAcceptor::new(config));
                    server.serve(app).await
                }
            }
        };
        tokio::select! {
            result = serving => result?,
            never = on_signal => match never {},
        }
        parts.settle().await;
        io::Result::Ok(())
    };
    let expired = async {
        match stopping_rx.await {
            Ok(()) => tokio::time::sleep(grace).await,
            // Serving ended without a signal: only `drained` can finish.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = drained => {
            if result.is_ok() {
                tracing::info!("shutdown complete");
            }
            result
        }
        () = expired => {
            tracing::warn!(
                "shutdown grace of {grace:?} expired: abandoning the requests still in flight"
            );
            Ok(())
        }
    }
}

/// The address type of [`ClosingListener`], so that axum-server accepts
/// through it; the same socket address as any TCP server's.
#[derive(Debug, Clone, Copy)]
struct ServeAddr(SocketAddr);

impl axum::extract::connect_info::Connected<ServeAddr> for PeerAddr {
    fn connect_info(target: ServeAddr) -> Self {
        PeerAddr(target.0)
    }
}

impl Address for ServeAddr {
    type Stream = TcpStream;
    type Listener = ClosingListener;
}

/// The listening socket, which logs [`STOPPED_ACCEPTING`] once it is
/// closed (axum-server drops it when the graceful shutdown starts), so
/// that the moment is observable from outside.
struct ClosingListener(Option<TcpListener>);

impl ClosingListener {
    fn socket(&self) -> &TcpListener {
        self.0.as_ref().expect("the socket is open until dropped")
    }
}

impl AddrListener<TcpStream, ServeAddr> for ClosingListener {
    async fn bind_to(addr: ServeAddr) -> io::Result<Self> {
        Ok(ClosingListener(Some(TcpListener::bind(addr.0).await?)))
    }

    async fn accept_stream(&self) -> io::Result<(TcpStream, ServeAddr)> {
        let (stream, peer) = self.socket().accept().await?;
        Ok((stream, ServeAddr(peer)))
    }

    fn get_local_addr(&self) -> io::Result<ServeAddr> {
        self.socket().local_addr().map(ServeAddr)
    }
}

impl Drop for ClosingListener {
    fn drop(&mut self) {
        // Close first, then tell: whoever reads the line can rely on it.
        if let Some(socket) = self.0.take() {
            drop(socket);
            tracing::info!("{STOPPED_ACCEPTING}");
        }
    }
}
