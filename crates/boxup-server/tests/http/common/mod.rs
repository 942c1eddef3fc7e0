//! Test harness: a real `Server` on `127.0.0.1:0` in a temporary data
//! directory, with two users, a small fixed part size, and helpers that
//! speak the wire protocol exactly as the SDKs do.
//!
//! Every request sent through [`TestServer::send`] is checked never to
//! answer 5xx: no test here makes a server-side mistake, so a 5xx is a bug.
#![allow(dead_code, unreachable_pub)]

mod wire;

pub use wire::*;

use std::path::{Path, PathBuf};
use std::time::Duration;

use boxup_server::{Server, ServerOptions, ServiceConfig, UploadService};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};

use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ALICE: &str = "alice-token-0123456789";
pub const BOB: &str = "bob-token-9876543210";
/// The fixed part size of test servers (a multiple of 64).
pub const PART_SIZE: u64 = 64 * 1024;
/// The two path prefixes every route lives under (docs/protocol.md §1.2).
pub const API: &str = "/2.0";
pub const UPLOAD: &str = "/api/2.0";
pub const PREFIXES: [&str; 2] = [API, UPLOAD];

pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub data_dir: PathBuf,
    /// The temp dir holding `data_dir` (and nothing else).
    pub root: PathBuf,
    pub service: UploadService,
    pub client: Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _tmp: TempDir,
}

pub fn client() -> Client {
    Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

fn options(root: &Path, tweak: impl FnOnce(&mut ServerOptions)) -> ServerOptions {
    let mut o = ServerOptions::new(root.join("data"));
    o.bind = "127.0.0.1:0".parse().unwrap();
    o.tokens = vec![(ALICE.into(), "alice".into()), (BOB.into(), "bob".into())];
    o.service = ServiceConfig {
        min_chunked_size: 1,
        part_size: Some(PART_SIZE),
        ..ServiceConfig::default()
    };
    o.sweep_every = Duration::from_secs(24 * 3600);
    tweak(&mut o);
    o
}

impl TestServer {
    /// Opens a server and runs it with `Server::run` (which also runs the
    /// background sweeper: it sweeps once at start, then daily).
    pub async fn start(tweak: impl FnOnce(&mut ServerOptions)) -> TestServer {
        let tmp = tempfile::tempdir().expect("temp dir");
        let opts = options(tmp.path(), tweak);
        let data_dir = opts.data_dir.clone();
        let server = Server::open(opts).await.expect("server opens");
        let addr = server.local_addr();
        let service = server.service.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async { rx.await.unwrap_or(()) })
                .await
                .expect("server runs");
        });
        Self::finish(tmp, data_dir, addr, service, tx, task)
    }

    /// Like [`start`](Self::start), but serves the same router without the
    /// background sweeper, so a test fully controls `sweep_once`.
    pub async fn start_manual_sweep(tweak: impl FnOnce(&mut ServerOptions)) -> TestServer {
        let tmp = tempfile::tempdir().expect("temp dir");
        let opts = options(tmp.path(), tweak);
        let data_dir = opts.data_dir.clone();
        let server = Server::open(opts).await.expect("server opens");
        let service = server.service.clone();
        let app = boxup_server::router(server.state.clone());
        drop(server);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async { rx.await.unwrap_or(()) })
                .await
                .expect("server runs");
        });
        Self::finish(tmp, data_dir, addr, service, tx, task)
    }

    fn finish(
        tmp: TempDir,
        data_dir: PathBuf,
        addr: std::net::SocketAddr,
        service: UploadService,
        tx: oneshot::Sender<()>,
        task: JoinHandle<()>,
    ) -> TestServer {
        TestServer {
            base: format!("http://{addr}"),
            data_dir,
            root: tmp.path().to_path_buf(),
            service,
            client: client(),
            shutdown: Some(tx),
            task: Some(task),
            _tmp: tmp,
        }
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn req(&self, method: Method, token: &str, path: &str) -> RequestBuilder {
        self.req_url(method, token, &self.url(path))
    }

    pub fn req_url(&self, method: Method, token: &str, url: &str) -> RequestBuilder {
        self.client.request(method, url).bearer_auth(token)
    }

    /// Sends a request; panics on a transport error or any 5xx answer.
    pub async fn send(&self, rb: RequestBuilder) -> Response {
        no_5xx(rb.send().await.expect("request is answered")).await
    }

    /// Sends a built request (to inspect its headers first); no 5xx allowed.
    pub async fn send_built(&self, req: reqwest::Request) -> Response {
        no_5xx(self.client.execute(req).await.expect("request is answered")).await
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.send(self.req(Method::GET, token, path)).await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Response {
        self.send(self.req(Method::DELETE, token, path)).await
    }

    /// POSTs a JSON value as `application/json`.
    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> Response {
        self.send(self.req(Method::POST, token, path).json(body))
            .await
    }

    // ---- sessions ----

    pub fn session_path(prefix: &str, id: &str) -> String {
        format!("{prefix}/files/upload_sessions/{id}")
    }

    pub async fn create_session(
        &self,
        token: &str,
        prefix: &str,
        folder_id: &str,
        name: &str,
        size: u64,
    ) -> Response {
        let body = json!({"folder_id": folder_id, "file_size": size, "file_name": name});
        self.post_json(token, &format!("{prefix}/files/upload_sessions"), &body)
            .await
    }

    /// Creates a session for a new file and returns it (asserting 201).
    pub async fn new_session(&self, token: &str, folder_id: &str, name: &str, size: u64) -> Value {
        let resp = self
            .create_session(token, UPLOAD, folder_id, name, size)
            .await;
        expect_json(resp, 201).await
    }

    /// The PUT of one part as the gen SDKs send it (`digest: sha=`,
    /// Content-Range), unsent.
    pub fn part_request(
        &self,
        token: &str,
        url: &str,
        offset: u64,
        bytes: &[u8],
        total: u64,
    ) -> RequestBuilder {
        self.req_url(Method::PUT, token, url)
            .header("content-type", "application/octet-stream")
            .header("digest", format!("sha={}", sha1_b64(bytes)))
            .header(
                "content-range",
                content_range(offset, bytes.len() as u64, total),
            )
            .body(bytes.to_vec())
    }

    /// PUTs one part as the gen SDKs do.
    pub async fn put_part(
        &self,
        token: &str,
        url: &str,
        offset: u64,
        bytes: &[u8],
        total: u64,
    ) -> Response {
        self.send(self.part_request(token, url, offset, bytes, total))
            .await
    }

    /// Sends without the no-5xx check, for tests that expect a 5xx.
    pub async fn send_expecting_5xx(&self, rb: RequestBuilder) -> Response {
        self.client
            .execute(rb.build().expect("request"))
            .await
            .expect("response")
    }

    /// PUTs one part and returns its `part` object (asserting 200).
    pub async fn put_part_ok(
        &self,
        token: &str,
        url: &str,
        offset: u64,
        bytes: &[u8],
        total: u64,
    ) -> Value {
        let v = expect_json(self.put_part(token, url, offset, bytes, total).await, 200).await;
        v["part"].clone()
    }

    /// Uploads every part of `data` through `session_endpoints.upload_part`
    /// in order; returns the parts.
    pub async fn upload_parts(&self, token: &str, session: &Value, data: &[u8]) -> Vec<Value> {
        let url = endpoint(session, "upload_part");
        let part_size = session["part_size"].as_u64().unwrap();
        let mut parts = Vec::new();
        for (offset, chunk) in chunks(data, part_size) {
            parts.push(
                self.put_part_ok(token, &url, offset, chunk, data.len() as u64)
                    .await,
            );
        }
        parts
    }

    /// POSTs a commit with the whole-file digest of `data`.
    pub async fn commit(&self, token: &str, url: &str, parts: &[Value], data: &[u8]) -> Response {
        let rb = self
            .req_url(Method::POST, token, url)
            .header("digest", format!("sha={}", sha1_b64(data)))
            .json(&json!({ "parts": parts }));
        self.send(rb).await
    }

    /// Uploads and commits `data` through an existing session; returns the file.
    pub async fn finish_session(&self, token: &str, session: &Value, data: &[u8]) -> Value {
        let parts = self.upload_parts(token, session, data).await;
        let resp = self
            .commit(token, &endpoint(session, "commit"), &parts, data)
            .await;
        let files = expect_json(resp, 201).await;
        assert_eq!(files["total_count"], 1);
        files["entries"][0].clone()
    }

    /// A chunked upload across an outage of a backend: the first part
    /// lands; `cut` makes the backend unreachable; the next part, and a GET
    /// of each path in `also_unavailable`, answer 503 `unavailable` with
    /// `Retry-After`; after `restore` only the first part is listed, the
    /// same PUTs succeed and the commit's SHA-1 is right.
    pub async fn upload_across_an_outage(
        &self,
        cut: impl std::future::Future<Output = ()>,
        restore: impl std::future::Future<Output = ()>,
        also_unavailable: &[&str],
    ) {
        let data = data(2 * PART_SIZE as usize + 77, 12);
        let total = data.len() as u64;
        let session = self.new_session(ALICE, "0", "outage.bin", total).await;
        let url = endpoint(&session, "upload_part");
        let parts = chunks(&data, PART_SIZE);
        let (offset, bytes) = parts[0];
        let first = self.put_part_ok(ALICE, &url, offset, bytes, total).await;

        cut.await;
        let (offset, bytes) = parts[1];
        let put = self.part_request(ALICE, &url, offset, bytes, total);
        expect_unavailable(self.send_expecting_5xx(put).await).await;
        for path in also_unavailable {
            let get = self.req(Method::GET, ALICE, path);
            expect_unavailable(self.send_expecting_5xx(get).await).await;
        }

        restore.await;
        let listed = self
            .get(
                ALICE,
                &format!("{UPLOAD}/files/upload_sessions/{}/parts", id(&session)),
            )
            .await;
        let listed = expect_json(listed, 200).await;
        assert_eq!(listed["total_count"], 1, "only the first part: {listed}");
        let mut done = vec![first];
        for (offset, bytes) in parts.into_iter().skip(1) {
            done.push(self.put_part_ok(ALICE, &url, offset, bytes, total).await);
        }
        let resp = self
            .commit(ALICE, &endpoint(&session, "commit"), &done, &data)
            .await;
        let files = expect_json(resp, 201).await;
        assert_eq!(files["entries"][0]["sha1"], sha1_hex(&data));
        let id = files["entries"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(self.download(ALICE, &id).await, data);
    }

    /// A whole chunked upload of a new file; returns the file object.
    pub async fn session_upload(
        &self,
        token: &str,
        folder_id: &str,
        name: &str,
        data: &[u8],
    ) -> Value {
        let session = self
            .new_session(token, folder_id, name, data.len() as u64)
            .await;
        self.finish_session(token, &session, data).await
    }

    // ---- files and folders ----

    /// `POST {prefix}/files/content` with a hand-built multipart body.
    pub async fn simple_upload(
        &self,
        token: &str,
        prefix: &str,
        folder_id: &str,
        name: &str,
        data: &[u8],
    ) -> Response {
        let attrs = json!({"name": name, "parent": {"id": folder_id}});
        self.multipart_post(
            token,
            &self.url(&format!("{prefix}/files/content")),
            &attrs,
            data,
            None,
        )
        .await
    }

    /// A multipart POST to an absolute URL, optionally with `Content-MD5`.
    pub async fn multipart_post(
        &self,
        token: &str,
        url: &str,
        attrs: &Value,
        data: &[u8],
        content_md5: Option<&str>,
    ) -> Response {
        let (ct, body) = multipart(&attrs.to_string(), data, false);
        let mut rb = self
            .req_url(Method::POST, token, url)
            .header("content-type", ct)
            .body(body);
        if let Some(md5) = content_md5 {
            rb = rb.header("content-md5", md5);
        }
        self.send(rb).await
    }

    /// A simple upload into `folder_id`; returns the file (asserting 201).
    pub async fn upload_file(
        &self,
        token: &str,
        folder_id: &str,
        name: &str,
        data: &[u8],
    ) -> Value {
        let files = expect_json(
            self.simple_upload(token, UPLOAD, folder_id, name, data)
                .await,
            201,
        )
        .await;
        assert_eq!(files["total_count"], 1, "{files}");
        files["entries"][0].clone()
    }

    pub async fn create_folder(&self, token: &str, parent: &str, name: &str) -> Response {
        let body = json!({"name": name, "parent": {"id": parent}});
        self.post_json(token, &format!("{API}/folders"), &body)
            .await
    }

    pub async fn new_folder(&self, token: &str, parent: &str, name: &str) -> Value {
        expect_json(self.create_folder(token, parent, name).await, 201).await
    }

    /// Downloads a file whole (asserting 200).
    pub async fn download(&self, token: &str, file_id: &str) -> Vec<u8> {
        let resp = self
            .get(token, &format!("{API}/files/{file_id}/content"))
            .await;
        assert_eq!(resp.status().as_u16(), 200, "download of {file_id}");
        resp.bytes().await.expect("download body").to_vec()
    }

    /// `GET /folders/{id}/items` (asserting 200).
    pub async fn items(&self, token: &str, folder_id: &str) -> Value {
        expect_json(
            self.get(
                token,
                &format!("{API}/folders/{folder_id}/items?limit=1000"),
            )
            .await,
            200,
        )
        .await
    }

    /// All files under `data_dir`'s part store.
    pub fn object_files(&self) -> Vec<PathBuf> {
        walk(&self.data_dir.join("parts").join("objects"))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
