//! Drives the real `boxup serve` binary over HTTP: start it on a free
//! loopback port, SIGKILL it, and speak the upload-session API to it.
#![allow(unreachable_pub)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use boxup_protocol::{
    ContentRange, File, Files, Sha1Digest, UploadPart, UploadParts, UploadSession, UploadedPart,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const PART_SIZE: u64 = 1 << 20;
const TOKEN: &str = "t";

#[path = "../shared/mod.rs"]
mod shared;
pub use shared::{random_bytes, within};

/// The byte range of part `index` of `data`.
pub fn part_range(data: &[u8], index: u32) -> std::ops::Range<usize> {
    let start = index as usize * PART_SIZE as usize;
    start..(start + PART_SIZE as usize).min(data.len())
}

pub fn total_parts(data: &[u8]) -> u32 {
    (data.len() as u64).div_ceil(PART_SIZE) as u32
}

/// A temp dir holding a data directory (shared by the servers started on
/// it one after another) and their log.
pub struct Fixture {
    _dir: tempfile::TempDir,
    data_dir: PathBuf,
    log: PathBuf,
    /// `serve` flags choosing where part bytes go (none: the data dir).
    storage: Vec<String>,
}

impl Fixture {
    /// Part bytes on local disk, in the data directory.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("data");
        let log = dir.path().join("server.log");
        Fixture {
            _dir: dir,
            data_dir,
            log,
            storage: Vec::new(),
        }
    }

    /// Part bytes in the S3-compatible store `tests/garage/run.sh`
    /// describes (`BOXUP_TEST_S3_URL`, `BOXUP_TEST_S3_ENDPOINT`, `AWS_*`),
    /// under a prefix of this fixture's own.
    #[allow(dead_code)] // by crash_object_store.rs only
    pub fn on_object_store() -> Fixture {
        let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
        let url = var("BOXUP_TEST_S3_URL");
        let mut fixture = Fixture::new();
        // The temp dir's random name makes the prefix unique too.
        let name = fixture._dir.path().file_name().unwrap().to_string_lossy();
        let prefix: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
        fixture.storage = vec![
            "--storage".into(),
            format!("{}/crash-{prefix}", url.trim_end_matches('/')),
            "--s3-endpoint".into(),
            var("BOXUP_TEST_S3_ENDPOINT"),
            "--s3-region".into(),
            var("AWS_REGION"),
            "--s3-path-style".into(),
        ];
        fixture
    }

    pub async fn start(&self) -> Server {
        Server::start(&self.data_dir, &self.log, &self.storage).await
    }
}

impl Drop for Fixture {
    /// On failure, show what the servers logged before the directory goes.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("--- server log (last 60 lines) ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// One `boxup serve` process on a data directory it may share with the
/// processes before and after it. Derefs to its [`Api`].
pub struct Server {
    child: Child,
    log: PathBuf,
    api: Api,
}

/// The HTTP side of one server process: cheap to clone into tasks, and
/// still usable (failing) after the process is gone.
#[derive(Clone)]
pub struct Api {
    pub addr: SocketAddr,
    http: reqwest::Client,
}

impl std::ops::Deref for Server {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Server {
    /// Starts the binary on `127.0.0.1:0` and learns its port from the
    /// "boxup serving on ADDR" line. Its log is appended to `log`.
    pub async fn start(data_dir: &Path, log: &Path, storage: &[String]) -> Server {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("open server log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_boxup"));
        cmd.args(["serve", "--bind", "127.0.0.1:0", "--token", "t=alice"])
            .args(["--min-chunked-size", "1", "--part-size", "1048576"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(storage)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true);
        for var in [
            "BOXUP_PUBLIC_URL",
            "BOXUP_TOKENS_FILE",
            "BOXUP_MAX_FILE_SIZE",
            "BOXUP_SESSION_TTL",
            "BOXUP_STORAGE",
        ] {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().expect("spawn boxup serve");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let first = within("server start", lines.next_line())
            .await
            .expect("read stdout");
        let Some(addr) = first
            .as_deref()
            .and_then(|l| l.strip_prefix("boxup serving on "))
            .and_then(|a| a.trim().parse::<SocketAddr>().ok())
        else {
            panic!("unexpected first line {first:?}; log:\n{}", read_log(log));
        };
        assert_ne!(
            addr.port(),
            0,
            "the server must print the port it really bound"
        );
        // Keep the pipe drained for the rest of the process's life.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = reqwest::Client::builder().build().expect("http client");
        Server {
            child,
            log: log.to_path_buf(),
            api: Api { addr, http },
        }
    }

    /// SIGKILL, then reap: no shutdown hook of the server runs.
    pub async fn kill(mut self) {
        within("kill", self.child.kill())
            .await
            .expect("SIGKILL the server");
    }

    pub fn log(&self) -> String {
        read_log(&self.log)
    }

    pub fn api(&self) -> Api {
        self.api.clone()
    }
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("http://{}/api/2.0{path}", self.addr)
    }

    pub async fn create_session(&self, size: usize, name: &str) -> UploadSession {
        let body = serde_json::json!({"folder_id": "0", "file_size": size, "file_name": name});
        let res = self
            .http
            .post(self.url("/files/upload_sessions"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .expect("create session");
        assert_eq!(
            res.status(),
            201,
            "create session: {}",
            res.text().await.unwrap_or_default()
        );
        let session: UploadSession = res.json().await.expect("session json");
        assert_eq!(session.part_size, Some(PART_SIZE));
        session
    }

    /// The PUT of part `index` of `data` (whose SHA-1 is that of the whole
    /// part) with the given body, unsent.
    pub fn put_request(
        &self,
        session: &str,
        data: &[u8],
        index: u32,
        body: reqwest::Body,
    ) -> reqwest::RequestBuilder {
        let r = part_range(data, index);
        let range = ContentRange::for_part(r.start as u64, r.len() as u64, data.len() as u64);
        self.http
            .put(self.url(&format!("/files/upload_sessions/{session}")))
            .bearer_auth(TOKEN)
            .header("content-type", "application/octet-stream")
            .header("content-range", range.to_string())
            .header("digest", Sha1Digest::of(&data[r]).to_digest_header())
            .body(body)
    }

    /// Uploads part `index` whole; panics unless the answer is 200 with the
    /// right offset, size and sha1.
    pub async fn put_part(&self, session: &str, data: &[u8], index: u32) -> UploadPart {
        self.try_put_part(session, data, index)
            .await
            .unwrap_or_else(|e| panic!("PUT part {index}: {e:?}"))
    }

    /// As [`Api::put_part`], but a transport error (no answer at all) is
    /// returned instead of panicking; any answer but a correct 200 panics.
    pub async fn try_put_part(
        &self,
        session: &str,
        data: &[u8],
        index: u32,
    ) -> Result<UploadPart, reqwest::Error> {
        let body = reqwest::Body::from(data[part_range(data, index)].to_vec());
        let res = self.put_request(session, data, index, body).send().await?;
        let status = res.status();
        assert_eq!(
            status,
            200,
            "PUT part {index}: {}",
            res.text().await.unwrap_or_default()
        );
        let part = res.json::<UploadedPart>().await?.part;
        assert_part_matches(&part, data, index);
        Ok(part)
    }

    /// Every listed part (one page of up to 1000 is enough here).
    pub async fn list_parts(&self, session: &str) -> Vec<UploadPart> {
        let res = self
            .http
            .get(self.url(&format!(
                "/files/upload_sessions/{session}/parts?limit=1000"
            )))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("list parts");
        assert_eq!(res.status(), 200, "list parts");
        let parts: UploadParts = res.json().await.expect("parts json");
        assert_eq!(
            parts.total_count,
            parts.entries.len() as u64,
            "one page holds all parts"
        );
        parts.entries
    }

    pub async fn session_status(&self, session: &str) -> UploadSession {
        let res = self
            .http
            .get(self.url(&format!("/files/upload_sessions/{session}")))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("session status");
        assert_eq!(res.status(), 200, "session status");
        res.json().await.expect("session json")
    }

    /// Commits with `parts` and the whole-file digest of `data`; expects 201.
    pub async fn commit(&self, session: &str, parts: &[UploadPart], data: &[u8]) -> File {
        let res = self
            .http
            .post(self.url(&format!("/files/upload_sessions/{session}/commit")))
            .bearer_auth(TOKEN)
            .header("digest", Sha1Digest::of(data).to_digest_header())
            .json(&serde_json::json!({ "parts": parts }))
            .send()
            .await
            .expect("commit");
        let status = res.status();
        assert_eq!(
            status,
            201,
            "commit: {}",
            res.text().await.unwrap_or_default()
        );
        let mut files: Files = res.json().await.expect("files json");
        assert_eq!(files.total_count, 1);
        let file = files.entries.pop().expect("one file");
        assert_eq!(file.size, Some(data.len() as u64));
        assert_eq!(
            file.sha1.as_deref(),
            Some(Sha1Digest::of(data).to_hex().as_str())
        );
        file
    }

    pub async fn download(&self, file_id: &str) -> Vec<u8> {
        let res = self
            .http
            .get(format!("http://{}/2.0/files/{file_id}/content", self.addr))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("download");
        assert_eq!(res.status(), 200, "download");
        res.bytes().await.expect("download body").to_vec()
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("<no log: {e}>"))
}

/// A part as the server describes it must be exactly part `index` of `data`.
pub fn assert_part_matches(part: &UploadPart, data: &[u8], index: u32) {
    let r = part_range(data, index);
    assert_eq!(part.offset, r.start as u64, "offset of part {index}");
    assert_eq!(part.size, r.len() as u64, "size of part {index}");
    let want = Sha1Digest::of(&data[r]).to_hex();
    assert_eq!(
        part.sha1.as_deref(),
        Some(want.as_str()),
        "sha1 of part {index}"
    );
}

/// Compares a download with the original without dumping megabytes.
pub fn assert_same_bytes(got: &[u8], want: &[u8]) {
    assert_eq!(got.len(), want.len(), "downloaded length");
    if let Some(at) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!(
            "downloaded bytes differ from byte {at} (part {})",
            at as u64 / PART_SIZE
        );
    }
    assert_eq!(Sha1Digest::of(got), Sha1Digest::of(want));
}
