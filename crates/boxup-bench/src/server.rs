//! The `boxup serve` child process: start on a free loopback port, read its
//! memory and CPU figures from /proc, stop it.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The bearer token the benchmark configures and uses.
pub(crate) const TOKEN: &str = "bench";

/// Lines of the server's stderr kept to explain a failed start.
const STDERR_TAIL: usize = 20;

pub(crate) struct ServerOptions<'a> {
    pub boxup: &'a Path,
    pub data_dir: &'a Path,
    pub part_size: Option<u64>,
    pub log: Option<&'a Path>,
    /// Part bytes in this object store instead of the data directory.
    pub object_store: Option<&'a ObjectStore>,
}

/// An S3-compatible object store for the server's part bytes, passed
/// through as `boxup serve --storage … --s3-…`. The credentials are the
/// server's to read from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
#[derive(Debug, Clone)]
pub(crate) struct ObjectStore {
    /// `s3://BUCKET[/PREFIX]`.
    pub url: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub path_style: bool,
}

pub(crate) struct ServerProc {
    child: Child,
    pub pid: u32,
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
}

/// Resident-set figures from /proc/<pid>/status, in bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory {
    /// VmHWM: the peak resident set so far.
    pub peak: u64,
    /// VmRSS: the resident set now.
    pub now: u64,
}

impl ServerProc {
    /// Starts `boxup serve` on `127.0.0.1:0` and learns the port from its
    /// "boxup serving on ADDR" line. The server's configuration is its
    /// command line alone: `BOXUP_*` variables (`BOXUP_STORAGE`, say) are
    /// not passed on, so that a run on disk is one.
    pub(crate) async fn start(o: &ServerOptions<'_>) -> anyhow::Result<ServerProc> {
        let mut cmd = Command::new(o.boxup);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("BOXUP_") {
                cmd.env_remove(name);
            }
        }
        cmd.args(["serve", "--bind", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(o.data_dir)
            .args(["--token", &format!("{TOKEN}=bench")])
            .args(["--min-chunked-size", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if let Some(p) = o.part_size {
            cmd.args(["--part-size", &p.to_string()]);
        }
        if let Some(s) = o.object_store {
            cmd.args(["--storage", &s.url]);
            if let Some(endpoint) = &s.endpoint {
                cmd.args(["--s3-endpoint", endpoint]);
            }
            if let Some(region) = &s.region {
                cmd.args(["--s3-region", region]);
            }
            if s.path_style {
                cmd.arg("--s3-path-style");
            }
        }
        match o.log {
            Some(path) => {
                let f = std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                cmd.stderr(Stdio::from(f));
            }
            // Read and dropped but for the last lines, which explain a
            // server that fails to start (a wrong endpoint, say).
            None => {
                cmd.stderr(Stdio::piped()).env("NO_COLOR", "1");
            }
        }
        let mut child = cmd.spawn().with_context(|| {
            format!(
                "starting {} (build it with `cargo build --release -p boxup`)",
                o.boxup.display()
            )
        })?;
        let pid = child.id().context("server exited at once")?;
        let stderr_tail = child.stderr.take().map(|stderr| {
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                let mut tail = VecDeque::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if tail.len() == STDERR_TAIL {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
                tail
            })
        });
        let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("the server did not report its address within 30 s")??;
        let Some(addr) = first
            .as_deref()
            .and_then(|l| l.strip_prefix("boxup serving on "))
        else {
            let _ = child.kill().await;
            let why = match (stderr_tail, o.log) {
                (Some(task), _) => match tokio::time::timeout(Duration::from_secs(5), task).await {
                    Ok(Ok(tail)) => Vec::from(tail).join("\n"),
                    _ => String::new(),
                },
                (None, Some(path)) => format!("(its log is {})", path.display()),
                (None, None) => String::new(),
            };
            bail!("the server did not start (first line {first:?}):\n{why}");
        };
        let origin = format!("http://{}", addr.trim());
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ServerProc { child, pid, origin })
    }

    pub(crate) fn memory(&self) -> anyhow::Result<Memory> {
        let path = PathBuf::from(format!("/proc/{}/status", self.pid));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let line = text
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("{name} missing from {}", path.display()))?;
            let kib: u64 = line[name.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()?;
            Ok(kib * 1024)
        };
        Ok(Memory {
            peak: field("VmHWM:")?,
            now: field("VmRSS:")?,
        })
    }

    /// Starts a new peak: VmHWM drops to the current RSS (Linux's
    /// `clear_refs` 5), so that the next `memory()` shows the peak of what
    /// happened since. Returns false where the kernel refuses.
    pub(crate) fn reset_peak(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    /// User and system CPU seconds the server has used so far.
    pub(crate) fn cpu(&self) -> anyhow::Result<(f64, f64)> {
        cpu_of(self.pid)
    }

    /// SIGTERM (graceful), then SIGKILL if it has not exited in 10 s.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await?;
        }
        Ok(())
    }
}

/// User and system CPU seconds process `pid` has used so far.
pub(crate) fn cpu_of(pid: u32) -> anyhow::Result<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // After the parenthesised command name come fields 3..; utime and
    // stime are fields 14 and 15, in clock ticks (USER_HZ, 100 on Linux).
    let rest = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let secs = |i: usize| -> anyhow::Result<f64> {
        Ok(fields.get(i).context("short stat")?.parse::<f64>()? / 100.0)
    };
    Ok((secs(11)?, secs(12)?))
}
