//! Drives the real binaries for the CLI tests: `boxup serve` on a free
//! loopback port (its data directory in a temp dir), and the `boxup` CLI
//! as a subprocess with piped, non-terminal output, its own temp state
//! directory and none of the caller's `BOX_*` / `BOXUP_*` environment.
//!
//! Every wait is bounded by [`within`]; nothing waits by sleeping.

#![allow(dead_code, unreachable_pub)]

pub mod blocked;
pub mod stall;
pub mod tls;

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

use sha1::{Digest, Sha1};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, Command};

pub const TOKEN: &str = "t";
pub const MIB: usize = 1 << 20;

#[path = "../../shared/mod.rs"]
mod shared;
pub use shared::{random_bytes, within};

pub fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One `boxup serve` with 1 MiB parts and no session minimum, killed on
/// drop. With `token` it accepts that token (user alice); without, it
/// generates a dev token in its data directory.
pub struct Server {
    _child: Child,
    pub origin: String,
    pub addr: std::net::SocketAddr,
    pub data_dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start(token: Option<&str>) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("data");
        let mut cmd = clean(Command::new(env!("CARGO_BIN_EXE_boxup")));
        cmd.args(["serve", "--bind", "127.0.0.1:0"])
            .args(["--min-chunked-size", "1", "--part-size", "1048576"])
            .arg("--data-dir")
            .arg(&data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if let Some(t) = token {
            cmd.args(["--token", &format!("{t}=alice")]);
        }
        let mut child = cmd.spawn().expect("spawn boxup serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = within("server start", lines.next_line())
            .await
            .expect("read stdout")
            .expect("a first line");
        let addr: std::net::SocketAddr = first
            .strip_prefix("boxup serving on ")
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server {
            _child: child,
            origin: format!("http://{addr}"),
            addr,
            data_dir,
            _dir: dir,
        }
    }
}

/// The CLI's environment without the caller's settings.
pub fn clean(mut cmd: Command) -> Command {
    for (key, _) in std::env::vars() {
        if key.starts_with("BOX_") || key.starts_with("BOXUP_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// How tests run the CLI: against `origin` with `token`, a temp state
/// directory and a temp working directory for files.
pub struct Cli {
    pub api_url: String,
    /// `--upload-url` [default: `API_URL/api`].
    pub upload_url: Option<String>,
    pub token: String,
    pub state_dir: PathBuf,
    pub work: PathBuf,
    _dir: tempfile::TempDir,
}

/// A finished CLI run.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Panics with both outputs unless the run exited 0.
    pub fn ok(self) -> Run {
        assert!(self.status.success(), "the CLI failed: {self:#?}");
        self
    }

    /// Each stdout line parsed as one JSON object.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        let mut lines = self.json_lines();
        assert_eq!(lines.len(), 1, "one JSON object expected: {self:#?}");
        lines.remove(0)
    }
}

impl Cli {
    pub fn new(origin: &str) -> Cli {
        let dir = tempfile::tempdir().expect("temp dir");
        let state_dir = dir.path().join("state");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).expect("work dir");
        Cli {
            api_url: origin.to_owned(),
            upload_url: None,
            token: TOKEN.to_owned(),
            state_dir,
            work,
            _dir: dir,
        }
    }

    /// A file of `len` pseudo-random bytes in the work directory.
    pub fn file(&self, name: &str, len: usize, seed: u64) -> (PathBuf, Vec<u8>) {
        let data = random_bytes(len, seed);
        let path = self.work.join(name);
        std::fs::write(&path, &data).expect("write test file");
        (path, data)
    }

    /// `boxup ARGS... --api-url --upload-url --token --state-dir`, run in
    /// the work directory with piped (non-terminal) output.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = clean(Command::new(env!("CARGO_BIN_EXE_boxup")));
        cmd.current_dir(&self.work).args(args);
        let local_only = args.starts_with(&["session", "list"]);
        if !local_only {
            let upload = self
                .upload_url
                .clone()
                .unwrap_or_else(|| format!("{}/api", self.api_url));
            cmd.args(["--api-url", &self.api_url])
                .args(["--upload-url", &upload])
                .args(["--token", &self.token]);
        }
        let with_state = matches!(args.first(), Some(&"upload" | &"download" | &"session"));
        if with_state {
            cmd.arg("--state-dir").arg(&self.state_dir);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        let out = within(&format!("boxup {args:?}"), self.command(args).output())
            .await
            .expect("run the CLI");
        Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Uploads `path` and returns its JSON result.
    pub async fn upload(&self, path: &Path, extra: &[&str]) -> serde_json::Value {
        let mut args = vec!["upload", path.to_str().expect("utf-8 path"), "--json"];
        args.extend_from_slice(extra);
        self.run(&args).await.ok().json()
    }
}

/// A running CLI whose stderr is read line by line.
pub struct Watched {
    pub child: Child,
    pub stderr: Lines<BufReader<ChildStderr>>,
    pub seen: Vec<String>,
}

impl Watched {
    pub fn spawn(mut cmd: Command) -> Watched {
        let mut child = cmd.spawn().expect("spawn the CLI");
        let stderr = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        Watched {
            child,
            stderr,
            seen: Vec::new(),
        }
    }

    /// Reads stderr until a line satisfies `pred`; returns that line.
    pub async fn wait_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        loop {
            let line = within(what, self.stderr.next_line()).await.expect("stderr");
            let Some(line) = line else {
                panic!("stderr ended before {what}; saw:\n{}", self.seen.join("\n"));
            };
            self.seen.push(line.clone());
            if pred(&line) {
                return line;
            }
        }
    }

    /// Reads the rest of stderr and waits for the exit.
    pub async fn finish(mut self) -> Run {
        let mut stderr = self.seen.join("\n");
        while let Some(line) = within("stderr", self.stderr.next_line())
            .await
            .expect("stderr")
        {
            stderr.push('\n');
            stderr.push_str(&line);
        }
        let out = within("exit", self.child.wait_with_output())
            .await
            .expect("wait");
        Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
        }
    }

    /// SIGKILL, then reap.
    pub async fn kill(mut self) {
        within("kill the CLI", self.child.kill())
            .await
            .expect("SIGKILL");
    }

    /// SIGINT (what Ctrl-C sends); returns the exit status and the rest of
    /// stderr.
    pub async fn interrupt(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().expect("a running child").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -INT {pid}");
        let mut rest = String::new();
        while let Some(line) = within("stderr after SIGINT", self.stderr.next_line())
            .await
            .expect("stderr")
        {
            rest.push_str(&line);
            rest.push('\n');
        }
        let status = within("exit after SIGINT", self.child.wait())
            .await
            .expect("wait");
        (status, rest)
    }
}

/// `(sent, total)` from a progress line ending in `, SENT/TOTAL parts`.
pub fn parts_of(line: &str) -> Option<(u64, u64)> {
    let head = line.strip_suffix(" parts")?;
    let (_, frac) = head.rsplit_once(", ")?;
    let (a, b) = frac.split_once('/')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The percentage of a progress line `LABEL: P% ...`.
pub fn percent_of(line: &str, label: &str) -> Option<u64> {
    let rest = line.strip_prefix(label)?.strip_prefix(": ")?;
    rest.split_once("% ")?.0.parse().ok()
}

/// Reads one HTTP/1.1 response: its status and its body (by
/// `Content-Length`, which every boxup answer here carries).
pub async fn read_response(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> (u16, Vec<u8>) {
    let mut buf = Vec::new();
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::io::AsyncReadExt::read(stream, &mut chunk)
            .await
            .expect("read the answer");
        let seen = String::from_utf8_lossy(&buf);
        assert!(n > 0, "connection closed after {seen:?}");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head:?}"));
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().expect("a Content-Length"));
    let mut body = buf.split_off(end);
    while body.len() < len {
        let mut chunk = [0u8; 4096];
        let n = tokio::io::AsyncReadExt::read(stream, &mut chunk)
            .await
            .expect("read the body");
        assert!(n > 0, "connection closed mid-body");
        body.extend_from_slice(&chunk[..n]);
    }
    (status, body)
}
