//! `upload_big_file` throughput over loopback to a real boxup server.
//!
//! ```text
//! cargo run --release -p boxup-e2e --bin client-bench -- [--size BYTES] [--parallelism 1,4,8]
//! ```
//!
//! The server runs in a child process (this binary re-executed with
//! `--serve-child DIR`) so that the peak RSS printed is the client's alone.
//! The source is generated on the fly (no 1 GiB buffer, no disk read), so
//! the figure isolates the client's pipeline: read, hash, PUT, commit. The
//! peak RSS is reset before each run through `/proc/self/clear_refs`.

use std::io::{BufRead, BufReader};
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::task::{Context, Poll};
use std::time::Instant;

use boxup_client::{BaseUrls, BoxClient, UploadOptions};
use tokio::io::{AsyncRead, ReadBuf};

const TOKEN: &str = "bench-token";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve-child") {
        return serve_child(&args[i + 1]).await;
    }
    let size: u64 = flag(&args, "--size").map_or(1 << 30, |v| v.parse().expect("--size BYTES"));
    let levels: Vec<usize> = flag(&args, "--parallelism")
        .unwrap_or("1,4,8")
        .split(',')
        .map(|p| p.parse().expect("--parallelism 1,4,8"))
        .collect();

    let dir = tempfile::tempdir().expect("a data directory");
    let mut child = Command::new(std::env::current_exe().expect("this binary"))
        .args(["--serve-child", dir.path().to_str().expect("a UTF-8 path")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server child");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("child stdout"))
        .read_line(&mut line)
        .expect("the child's address");
    let origin = format!("http://{}", line.trim());
    let client = BoxClient::builder()
        .token(TOKEN)
        .base_urls(BaseUrls::single_origin(&origin))
        .build()
        .expect("a client");

    println!(
        "upload_big_file of {size} bytes ({:.0} MiB) to boxup at {origin} (server in pid {})",
        size as f64 / 1048576.0,
        child.id()
    );
    println!(
        "{:>11} {:>9} {:>9} {:>10} {:>13} {:>13} {:>13}",
        "parallelism", "seconds", "MB/s", "MiB/s", "peak RSS MiB", "RSS before", "client CPU s"
    );
    for (run, p) in levels.iter().enumerate() {
        let reset = reset_peak_rss();
        let before = status_kib("VmRSS:");
        let cpu_before = cpu_seconds();
        let started = Instant::now();
        let options = UploadOptions::new().with_parallelism(*p);
        let name = format!("bench-{run}-p{p}.bin");
        let file = client
            .chunked_uploads()
            .upload_big_file_with(
                Generated::new(size, run as u64 + 1),
                &name,
                size,
                "0",
                &options,
            )
            .await
            .expect("the upload succeeds");
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(file.size, Some(size));
        let peak = status_kib("VmHWM:");
        println!(
            "{p:>11} {secs:>9.2} {:>9.1} {:>10.1} {:>13.1} {:>13.1} {:>13.2}{}",
            size as f64 / secs / 1e6,
            size as f64 / secs / 1048576.0,
            peak as f64 / 1024.0,
            before as f64 / 1024.0,
            cpu_seconds() - cpu_before,
            if reset {
                ""
            } else {
                "  (peak since start: clear_refs unavailable)"
            }
        );
    }
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The child: a default-configured server on an ephemeral port; prints
/// its address, serves until the parent closes stdin.
async fn serve_child(dir: &str) {
    let mut options = boxup_server::ServerOptions::new(dir);
    options.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    options.tokens = vec![(TOKEN.to_owned(), "bench".to_owned())];
    let server = boxup_server::Server::open(options)
        .await
        .expect("the server opens");
    println!("{}", server.local_addr());
    let stop = async {
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
    };
    server.run(stop).await.expect("the server runs");
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU time of this process (`/proc/self/stat`, in the
/// usual 100 Hz clock ticks).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// `remaining` pseudo-random bytes, made as they are read.
struct Generated {
    remaining: u64,
    state: u64,
}

impl Generated {
    fn new(len: u64, seed: u64) -> Self {
        Generated {
            remaining: len,
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = (buf.remaining() as u64).min(self.remaining).min(1 << 20) as usize;
        let out = buf.initialize_unfilled_to(n);
        for chunk in out.chunks_mut(8) {
            let mut s = self.state;
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            self.state = s;
            chunk.copy_from_slice(&s.to_le_bytes()[..chunk.len()]);
        }
        buf.advance(n);
        self.remaining -= n as u64;
        Poll::Ready(Ok(()))
    }
}
