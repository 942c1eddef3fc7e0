//! A TCP forwarder whose far side can be cut and restored, to make a real
//! backend (PostgreSQL, an object store) unreachable in the middle of a
//! test and bring it back on the same address.
//!
//! It forwards bytes, nothing more (no protocol is parsed). Cutting it
//! closes the listening socket (new connections are refused) and every
//! forwarded connection (requests in flight fail), as a crashed or
//! partitioned backend would.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};

pub struct Forwarder {
    addr: SocketAddr,
    target: String,
    running: Mutex<Option<JoinHandle<()>>>,
}

impl Forwarder {
    /// Forwards a free loopback port to `target` (`host:port`).
    pub async fn start(target: &str) -> Forwarder {
        let listener = listen("127.0.0.1:0".parse().unwrap());
        let addr = listener.local_addr().unwrap();
        let running = Some(tokio::spawn(serve(listener, target.to_owned())));
        Forwarder {
            addr,
            target: target.to_owned(),
            running: Mutex::new(running),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` + the forwarder's address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Refuses new connections and drops the forwarded ones; returns once
    /// all of that is done.
    pub async fn cut(&self) {
        if let Some(task) = self.running.lock().await.take() {
            task.abort();
            // The listener and the connections (in the task's JoinSet)
            // are gone once the task has ended.
            let _ = task.await;
        }
    }

    /// Listens again on the same address.
    pub async fn restore(&self) {
        let mut running = self.running.lock().await;
        if running.is_none() {
            let listener = listen(self.addr);
            *running = Some(tokio::spawn(serve(listener, self.target.clone())));
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        if let Some(task) = self.running.get_mut().take() {
            task.abort();
        }
    }
}

fn listen(addr: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    // The port of a cut forwarder is taken again at once.
    socket.set_reuseaddr(true).unwrap();
    socket.bind(addr).unwrap();
    socket.listen(128).unwrap()
}

async fn serve(listener: TcpListener, target: String) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        let target = target.clone();
        connections.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(&target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
    }
}
