//! An in-process boxup server for a test, stopped when dropped.

use std::net::SocketAddr;
use std::time::Duration;

use boxup_client::{BaseUrls, BoxClient, File, RetryConfig};
use boxup_server::{Server, ServerOptions, ServiceConfig};
use tokio::sync::oneshot;

/// The bearer token every test server accepts (user `alice`).
pub const TEST_TOKEN: &str = "e2e-token";

/// Retries fast enough for tests: 8 attempts, 10–100 ms apart.
pub fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 8,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        jitter: true,
        max_retry_after: Duration::from_secs(5),
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// A server with `service` settings.
    pub async fn start(service: ServiceConfig) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut options = ServerOptions::new(dir.path());
        options.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        options.tokens = vec![(TEST_TOKEN.to_owned(), "alice".to_owned())];
        options.service = service;
        let server = Server::open(options).await.expect("the server opens");
        let addr = server.local_addr();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            shutdown: Some(tx),
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// Small parts for fast tests: 256 KiB parts, no minimum size.
    pub async fn start_small() -> Self {
        TestServer::start(ServiceConfig {
            min_chunked_size: 1,
            part_size: Some(PART),
            ..ServiceConfig::default()
        })
        .await
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client of this server with [`fast_retry`].
    pub fn client(&self) -> BoxClient {
        client_for(&self.origin())
    }

    /// `GET /2.0/files/{id}/content`, straight from the server.
    pub async fn download(&self, file_id: &str) -> Vec<u8> {
        let resp = self
            .http
            .get(format!("{}/2.0/files/{file_id}/content", self.origin()))
            .bearer_auth(TEST_TOKEN)
            .send()
            .await
            .expect("download request");
        assert!(
            resp.status().is_success(),
            "download answered {}",
            resp.status()
        );
        resp.bytes().await.expect("download body").to_vec()
    }

    /// `GET /2.0/files/{id}`, straight from the server.
    pub async fn get_file(&self, file_id: &str) -> File {
        let resp = self
            .http
            .get(format!("{}/2.0/files/{file_id}", self.origin()))
            .bearer_auth(TEST_TOKEN)
            .send()
            .await
            .expect("file request");
        assert!(
            resp.status().is_success(),
            "GET file answered {}",
            resp.status()
        );
        serde_json::from_slice(&resp.bytes().await.expect("body")).expect("a file object")
    }
}

/// The part size of [`TestServer::start_small`].
pub const PART: u64 = 256 * 1024;

/// A client aimed at `origin` (a server or a proxy) with fast retries.
pub fn client_for(origin: &str) -> BoxClient {
    BoxClient::builder()
        .token(TEST_TOKEN)
        .base_urls(BaseUrls::single_origin(origin))
        .retry(fast_retry())
        .build()
        .expect("a client")
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
