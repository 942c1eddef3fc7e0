//! Graceful shutdown of the real `boxup serve` binary. On SIGTERM it
//! refuses new connections at once, lets a part PUT that is mid-body finish
//! (200, and the part is listed after a restart) and exits 0; a request
//! that outlasts `--shutdown-grace` does not keep it alive past the bound.
//!
//! The PUT is provably in flight: it is written by hand with
//! `Expect: 100-continue`, and the server answers `100 Continue` only once
//! its handler reads the body, that is, streams it into the disk store.
//! The shutdown's progress is read from the server's log, whose "stopped
//! accepting connections" comes after the socket is closed. Nothing waits
//! by sleeping; every wait is bounded.
#![cfg(unix)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use boxup_protocol::{ContentRange, Sha1Digest, UploadPart, UploadParts, UploadSession};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::cli_support::{clean, read_response};

const TOKEN: &str = "t";
const PART_SIZE: usize = 1 << 20;
/// Two parts; the tests upload the first.
const FILE_SIZE: usize = 2 * PART_SIZE;
const STOPPED_ACCEPTING: &str = "stopped accepting connections";

/// Bounds a step, so that a wedged server fails the test instead of hanging
/// it. Never used to wait for something to happen.
async fn within<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// The bytes of part 0, not all alike so that a misplaced byte shows.
fn part_bytes() -> Vec<u8> {
    (0..PART_SIZE).map(|i| (i % 251) as u8).collect()
}

/// One `boxup serve` process, with its stderr (the log) read line by line.
struct Serve {
    child: Child,
    addr: SocketAddr,
    log_rx: mpsc::UnboundedReceiver<String>,
    log: Vec<String>,
    http: reqwest::Client,
}

impl Serve {
    /// Starts the binary on `127.0.0.1:0` over `data_dir` and learns its
    /// port from its first line, "boxup serving on ADDR".
    async fn start(data_dir: &Path, extra: &[&str]) -> Serve {
        // Only the command line configures the server under test.
        let mut cmd = clean(Command::new(env!("CARGO_BIN_EXE_boxup")));
        cmd.args(["serve", "--bind", "127.0.0.1:0", "--token", "t=alice"])
            .args(["--min-chunked-size", "1", "--part-size", "1048576"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn boxup serve");
        let (log_tx, log_rx) = mpsc::unbounded_channel();
        let mut err = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err.next_line().await {
                let _ = log_tx.send(line);
            }
        });
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let first = within("server start", out.next_line()).await.unwrap();
        let addr = first
            .as_deref()
            .and_then(|l| l.strip_prefix("boxup serving on "))
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
        Serve {
            child,
            addr,
            log_rx,
            log: Vec::new(),
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/api/2.0/files/upload_sessions{path}", self.addr)
    }

    async fn create_session(&self) -> String {
        let body = serde_json::json!({"folder_id": "0", "file_size": FILE_SIZE, "file_name": "f"});
        let res = self.http.post(self.url("")).bearer_auth(TOKEN).json(&body);
        let res = within("create session", res.send()).await.unwrap();
        assert_eq!(res.status(), 201, "create session");
        let session: UploadSession = res.json().await.unwrap();
        assert_eq!(session.part_size, Some(PART_SIZE as u64));
        session.id
    }

    async fn list_parts(&self, session: &str) -> Vec<UploadPart> {
        let res = self
            .http
            .get(self.url(&format!("/{session}/parts")))
            .bearer_auth(TOKEN);
        let res = within("list parts", res.send()).await.unwrap();
        assert_eq!(res.status(), 200, "list parts");
        res.json::<UploadParts>().await.unwrap().entries
    }

    fn terminate(&self) {
        let pid = self.child.id().expect("the server is running");
        let pid = rustix::process::Pid::from_raw(pid as i32).expect("a valid pid");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    }

    /// Reads the log until a line contains `needle`.
    async fn wait_for_log(&mut self, needle: &str) {
        loop {
            match within(needle, self.log_rx.recv()).await {
                Some(line) => {
                    let found = line.contains(needle);
                    self.log.push(line);
                    if found {
                        return;
                    }
                }
                None => panic!("the log ended without {needle:?}:\n{}", self.log()),
            }
        }
    }

    /// Waits (up to `bound`) for the process to exit; the whole log is then
    /// in [`Serve::log`].
    async fn exit_within(&mut self, bound: Duration) -> ExitStatus {
        let status = tokio::time::timeout(bound, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("still running after {bound:?}:\n{}", self.log()))
            .expect("wait for the server");
        while let Some(line) = within("the rest of the log", self.log_rx.recv()).await {
            self.log.push(line);
        }
        status
    }

    fn log(&self) -> String {
        self.log.join("\n")
    }
}

/// A PUT of part 0 written by hand, so that its body can be held back.
struct HeldPut {
    stream: TcpStream,
    body: Vec<u8>,
    sent: usize,
}

impl HeldPut {
    /// Sends the request head with `Expect: 100-continue` and waits for the
    /// server's `100 Continue`: its handler is then reading the body.
    async fn start(addr: SocketAddr, session: &str, body: Vec<u8>) -> HeldPut {
        let range = ContentRange::for_part(0, body.len() as u64, FILE_SIZE as u64);
        let head = format!(
            "PUT /api/2.0/files/upload_sessions/{session} HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {TOKEN}\r\nContent-Type: application/octet-stream\r\n\
             Content-Range: {range}\r\nDigest: {}\r\nContent-Length: {}\r\n\
             Expect: 100-continue\r\n\r\n",
            Sha1Digest::of(&body).to_digest_header(),
            body.len()
        );
        let mut stream = within("connect", TcpStream::connect(addr)).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        let (status, _) = within("100 Continue", read_response(&mut stream)).await;
        assert_eq!(status, 100, "the server asks for the body");
        HeldPut {
            stream,
            body,
            sent: 0,
        }
    }

    async fn send(&mut self, len: usize) {
        let chunk = &self.body[self.sent..self.sent + len];
        within("send body", self.stream.write_all(chunk))
            .await
            .unwrap();
        self.sent += len;
    }

    /// Sends the rest of the body and reads the answer.
    async fn finish(mut self) -> (u16, Vec<u8>) {
        self.send(self.body.len() - self.sent).await;
        within("the answer", read_response(&mut self.stream)).await
    }
}

#[tokio::test]
async fn sigterm_lets_a_part_upload_in_flight_finish_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = part_bytes();
    // A grace far longer than the exit bound below: the server must exit
    // as soon as the request is done, not when the grace runs out (the
    // session's idle keep-alive connection must not hold it either).
    let mut server = Serve::start(dir.path(), &["--shutdown-grace", "300s"]).await;
    let session = server.create_session().await;
    let mut put = HeldPut::start(server.addr, &session, data.clone()).await;
    put.send(PART_SIZE / 2).await;

    server.terminate();
    server.wait_for_log(STOPPED_ACCEPTING).await;
    let refused = TcpStream::connect(server.addr).await;
    assert!(
        matches!(&refused, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
        "a new connection during the shutdown: {refused:?}"
    );

    let (status, body) = put.finish().await;
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 200, "the PUT in flight: {body}");
    let part = serde_json::from_str::<serde_json::Value>(&body).unwrap()["part"].clone();
    let part: UploadPart = serde_json::from_value(part).unwrap();
    assert_eq!((part.offset, part.size), (0, PART_SIZE as u64));
    let sha1 = Sha1Digest::of(&data).to_hex();
    assert_eq!(part.sha1.as_deref(), Some(sha1.as_str()));

    let status = server.exit_within(Duration::from_secs(60)).await;
    assert_eq!(
        status.code(),
        Some(0),
        "exit status; log:\n{}",
        server.log()
    );
    assert!(
        server.log().contains("shutdown complete"),
        "{}",
        server.log()
    );

    let restarted = Serve::start(dir.path(), &[]).await;
    assert_eq!(restarted.list_parts(&session).await, vec![part]);
}

#[tokio::test]
async fn a_request_outlasting_the_grace_does_not_keep_the_server_alive() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Serve::start(dir.path(), &["--shutdown-grace", "1s"]).await;
    let session = server.create_session().await;
    let mut put = HeldPut::start(server.addr, &session, part_bytes()).await;
    put.send(PART_SIZE / 2).await;

    let signalled = Instant::now();
    server.terminate();
    // Well under the 30 s default, so the flag must have been applied.
    let status = server.exit_within(Duration::from_secs(20)).await;
    let took = signalled.elapsed();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status; log:\n{}",
        server.log()
    );
    assert!(
        took >= Duration::from_secs(1),
        "exited after {took:?}, before the grace, with a request in flight"
    );
    assert!(
        server.log().contains("grace of 1s expired"),
        "{}",
        server.log()
    );

    // The held PUT never got an answer, and its half part is not stored.
    let mut rest = Vec::new();
    let _ = within("the held connection", put.stream.read_to_end(&mut rest)).await;
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    let restarted = Serve::start(dir.path(), &[]).await;
    assert_eq!(restarted.list_parts(&session).await, vec![]);
}
