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
//! 3. the disk store's writers settle
//!    ([`LocalDiskPartStore::wait_for_writers`]): the temp files of puts
//!    whose client went away are removed;
//! 4. all of it within the grace period. Past it, whatever still runs is
//!    abandoned (it ends with the process), so that a stuck or very slow
//!    client cannot hold a restart hostage. An abandoned part is never
//!    listed: its row is written only once its bytes are durable, and its
//!    temp file is removed when the store next opens.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::store::disk::LocalDiskPartStore;

/// Logged once the listening socket is closed: from then on, connections
/// are refused.
const STOPPED_ACCEPTING: &str = "stopped accepting connections";

/// Serves `app` on `listener` until `signal`, then shuts down as the module
/// docs say, taking at most `grace` after the signal.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    parts: LocalDiskPartStore,
    grace: Duration,
    signal: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (stopping_tx, stopping_rx) = oneshot::channel();
    let signal = async move {
        signal.await;
        tracing::info!("shutting down: waiting up to {grace:?} for requests in flight");
        let _ = stopping_tx.send(());
    };
    let drained = async {
        axum::serve(ClosingListener(Some(listener)), app)
            .with_graceful_shutdown(signal)
            .await?;
        parts.wait_for_writers().await;
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

/// The listening socket, which logs [`STOPPED_ACCEPTING`] once it is
/// closed (axum drops it when the shutdown signal comes), so that the
/// moment is observable from outside.
struct ClosingListener(Option<TcpListener>);

impl Listener for ClosingListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        let socket = self.0.as_mut().expect("the socket is open until dropped");
        Listener::accept(socket).await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        let socket = self.0.as_ref().expect("the socket is open until dropped");
        socket.local_addr()
    }
}

impl Drop for ClosingListener {
    fn drop(&mut self) {
        // Close first, then tell: whoever reads the line can rely on it.
        if self.0.take().is_some() {
            tracing::info!("{STOPPED_ACCEPTING}");
        }
    }
}
