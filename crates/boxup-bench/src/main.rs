//! `upload-bench`: measures a `boxup serve` binary (built separately, e.g.
//! `cargo build --release -p boxup -p boxup-bench`) with a well-behaved
//! chunked-upload client over loopback.
//!
//! Modes:
//! - default: upload one file of `--size` (or `--file`) `--repeat` times;
//! - `--compare-sizes 256M,1G,4G`: commit latency across file sizes;
//! - `--sessions N`: N concurrent uploads of `--session-size` each.
//!
//! The server keeps part bytes in its data directory, or in an S3-compatible
//! object store with `--storage s3://BUCKET/PREFIX` (and `--s3-endpoint`,
//! `--s3-region`, `--s3-path-style`), or `--s3-from-env` inside
//! `tests/garage/run.sh`. `--json FILE` records every upload for scripts
//! such as `s3-compare.sh`.
//!
//! Example: `target/release/upload-bench --size 1G --parallel 4`.

mod server;
mod upload;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use bytes::Bytes;
use clap::Parser;
use serde_json::json;
use server::{ObjectStore, ServerOptions, ServerProc, TOKEN};
use upload::{Client, Source, Stats};

#[derive(Parser, Debug)]
#[command(
    name = "upload-bench",
    about = "Upload throughput and commit latency of `boxup serve`"
)]
struct Args {
    /// The boxup binary to run as the server.
    #[arg(long, default_value = "target/release/boxup")]
    boxup: PathBuf,
    /// The server's data directory (default: a fresh temp dir), to choose the disk.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where the test file is generated (default: the system temp dir).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Size of the generated test file (K, M, G suffixes are binary).
    #[arg(long, default_value = "1G", value_parser = parse_size)]
    size: u64,
    /// Upload this file instead of generating one.
    #[arg(long)]
    file: Option<PathBuf>,
    /// PUTs in flight per upload.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// A fixed part size for the server (default: the server's own rule).
    #[arg(long, value_parser = parse_size)]
    part_size: Option<u64>,
    /// Uploads of the file (or rounds of `--sessions`) in a row, same server.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Instead: one upload per size, to compare commit latency.
    #[arg(long, value_delimiter = ',', value_parser = parse_size)]
    compare_sizes: Vec<u64>,
    /// Instead: this many concurrent uploads of `--session-size`.
    #[arg(long)]
    sessions: Option<usize>,
    #[arg(long, default_value = "4M", value_parser = parse_size)]
    session_size: u64,
    /// PUTs in flight per session in `--sessions` mode.
    #[arg(long, default_value_t = 1)]
    session_parallel: usize,
    /// After `--sessions`: watch the server's RSS for up to this many
    /// seconds, until it is back under twice its idle size (0: don't).
    #[arg(long, default_value_t = 60)]
    settle_secs: u64,
    /// Write the server's stderr here (default: discarded).
    #[arg(long)]
    server_log: Option<PathBuf>,
    /// Append one JSON object per upload (default and --compare-sizes
    /// modes) to this file: size, MiB/s, commit ms, the server's peak RSS
    /// during that upload, CPU seconds.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    #[command(
        flatten,
        next_help_heading = "Part bytes in an object store (default: in the data dir)"
    )]
    store: StoreArgs,
}

/// Where the server keeps part bytes: its data directory unless one of
/// these names an object store. Credentials are the server's to take from
/// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
#[derive(clap::Args, Debug)]
struct StoreArgs {
    /// Part bytes in an S3-compatible object store, as s3://BUCKET/PREFIX
    /// (`boxup serve --storage`); use a fresh prefix per run.
    #[arg(long, value_name = "URL")]
    storage: Option<String>,
    /// The object store's endpoint, e.g. http://127.0.0.1:3900.
    #[arg(long, value_name = "URL", requires = "storage")]
    s3_endpoint: Option<String>,
    /// The object store's region (Garage's default is "garage").
    #[arg(long, requires = "storage")]
    s3_region: Option<String>,
    /// Path-style requests (endpoint/bucket/key), as Garage and MinIO want.
    #[arg(long, requires = "storage")]
    s3_path_style: bool,
    /// The object store tests/garage/run.sh provides: --storage
    /// $BOXUP_TEST_S3_URL, --s3-endpoint $BOXUP_TEST_S3_ENDPOINT,
    /// --s3-region $AWS_REGION, path-style.
    #[arg(long, conflicts_with_all = ["storage", "s3_endpoint", "s3_region", "s3_path_style"])]
    s3_from_env: bool,
}

impl StoreArgs {
    fn object_store(&self) -> anyhow::Result<Option<ObjectStore>> {
        if self.s3_from_env {
            let var = |name: &str| {
                std::env::var(name).with_context(|| {
                    format!("--s3-from-env: {name} is not set (run under tests/garage/run.sh)")
                })
            };
            return Ok(Some(ObjectStore {
                url: var("BOXUP_TEST_S3_URL")?,
                endpoint: Some(var("BOXUP_TEST_S3_ENDPOINT")?),
                region: std::env::var("AWS_REGION").ok(),
                path_style: true,
            }));
        }
        Ok(self.storage.as_ref().map(|url| ObjectStore {
            url: url.clone(),
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            path_style: self.s3_path_style,
        }))
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1 << 10),
        Some((i, 'M' | 'm')) => (&s[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&s[..i], 1 << 30),
        Some((i, 'T' | 't')) => (&s[..i], 1u64 << 40),
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size like 4096, 256M or 1G"))?;
    n.checked_mul(mult)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("'{s}' is out of range"))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b.is_multiple_of(1 << 30) => format!("{}G", b >> 30),
        b if b >= 1 << 20 && b.is_multiple_of(1 << 20) => format!("{}M", b >> 20),
        b => format!("{b}B"),
    }
}

/// Writes `len` pseudo-random bytes (incompressible, never all-equal parts).
fn generate(path: &Path, len: u64, seed: u64) -> anyhow::Result<()> {
    let t = Instant::now();
    let mut out = std::io::BufWriter::with_capacity(8 << 20, std::fs::File::create(path)?);
    let mut state = seed;
    let mut chunk = vec![0u8; 8 << 20];
    let mut left = len;
    while left > 0 {
        for word in chunk.chunks_exact_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            word.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        let n = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    out.flush()?;
    eprintln!(
        "generated {} ({} bytes) in {:.1} s",
        path.display(),
        len,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn open_source(path: &Path) -> anyhow::Result<Source> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = file.metadata()?.len();
    Ok(Source::File(Arc::new(file), len))
}

fn print_stats(label: &str, s: &Stats, parallel: usize) {
    let secs = s.total.as_secs_f64();
    println!(
        "{label}: {} bytes ({:.1} MiB), {} parts of {} bytes, parallel {parallel}",
        s.size,
        mib(s.size),
        s.parts,
        s.part_size
    );
    println!(
        "  total {secs:.3} s  {:.1} MB/s  {:.1} MiB/s   (PUT phase {:.3} s, list {:.1} ms, commit {:.1} ms, retries {})",
        s.size as f64 / secs / 1e6,
        mib(s.size) / secs,
        s.put_phase.as_secs_f64(),
        s.list.as_secs_f64() * 1e3,
        s.commit.as_secs_f64() * 1e3,
        s.retries
    );
}

fn print_memory(server: &ServerProc, when: &str) -> anyhow::Result<()> {
    let m = server.memory()?;
    let (user, sys) = server.cpu()?;
    let (c_user, c_sys) = server::cpu_of(std::process::id())?;
    println!(
        "  server RSS {when}: {:.1} MiB, peak (VmHWM) {:.1} MiB; CPU so far: server {user:.2} s user + {sys:.2} s sys, client {c_user:.2} + {c_sys:.2} s",
        mib(m.now),
        mib(m.peak)
    );
    Ok(())
}

/// What one upload cost beyond its time.
struct Cost {
    /// The server's peak RSS during the upload (VmHWM), or since it
    /// started where the kernel would not reset the peak.
    peak_rss: u64,
    peak_is_own: bool,
    /// CPU seconds (user + system) during the upload.
    server_cpu: f64,
    client_cpu: f64,
}

/// `client.upload` with the server's peak RSS and both sides' CPU time.
async fn measured(
    client: &Client,
    server: &ServerProc,
    source: Source,
    name: &str,
    parallel: usize,
) -> anyhow::Result<(Stats, Cost)> {
    let peak_is_own = server.reset_peak();
    let cpu = |(user, sys): (f64, f64)| user + sys;
    let (server0, client0) = (cpu(server.cpu()?), cpu(server::cpu_of(std::process::id())?));
    let stats = client.upload(source, name, parallel).await?;
    let cost = Cost {
        peak_rss: server.memory()?.peak,
        peak_is_own,
        server_cpu: cpu(server.cpu()?) - server0,
        client_cpu: cpu(server::cpu_of(std::process::id())?) - client0,
    };
    Ok((stats, cost))
}

fn print_cost(cost: &Cost) {
    println!(
        "  server peak RSS {} {:.1} MiB; CPU during the upload: server {:.2} s, client {:.2} s",
        if cost.peak_is_own {
            "during the upload"
        } else {
            "since start"
        },
        mib(cost.peak_rss),
        cost.server_cpu,
        cost.client_cpu
    );
}

/// The `--json` file: one line per upload.
struct Records {
    file: Option<std::fs::File>,
    /// "disk" or the object store's URL.
    storage: String,
}

impl Records {
    fn record(&mut self, mode: &str, s: &Stats, c: &Cost, parallel: usize) -> anyhow::Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let secs = s.total.as_secs_f64();
        let line = json!({
            "mode": mode,
            "storage": self.storage,
            "size": s.size,
            "part_size": s.part_size,
            "parts": s.parts,
            "parallel": parallel,
            "total_s": secs,
            "mib_s": mib(s.size) / secs,
            "put_phase_s": s.put_phase.as_secs_f64(),
            "list_ms": s.list.as_secs_f64() * 1e3,
            "commit_ms": s.commit.as_secs_f64() * 1e3,
            "retries": s.retries,
            "server_peak_rss_mib": mib(c.peak_rss),
            "server_peak_is_own": c.peak_is_own,
            "server_cpu_s": c.server_cpu,
            "client_cpu_s": c.client_cpu,
        });
        writeln!(file, "{line}")?;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let work = match &args.work_dir {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let data_dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => work.path().join("data"),
    };
    let object_store = args.store.object_store()?;
    let server = ServerProc::start(&ServerOptions {
        boxup: &args.boxup,
        data_dir: &data_dir,
        part_size: args.part_size,
        log: args.server_log.as_deref(),
        object_store: object_store.as_ref(),
    })
    .await?;
    let storage = object_store
        .as_ref()
        .map_or_else(|| "disk".to_owned(), |s| s.url.clone());
    println!(
        "server {} (pid {}) on {}, data dir {}, part bytes in {}",
        args.boxup.display(),
        server.pid,
        server.origin,
        data_dir.display(),
        object_store
            .as_ref()
            .map_or_else(|| "the data dir".to_owned(), |s| s.url.clone())
    );
    let mut records = Records {
        file: match &args.json {
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("opening {}", path.display()))?,
            ),
            None => None,
        },
        storage,
    };
    let client = Client::new(&server.origin, TOKEN)?;
    let idle_rss = server.memory()?.now;
    println!("server idle RSS {:.1} MiB", mib(idle_rss));
    let result = if let Some(n) = args.sessions {
        let mut result = Ok(());
        for round in 1..=args.repeat {
            println!("round {round}/{}", args.repeat);
            result = sessions(&client, &server, &args, n, round).await;
            if result.is_err() {
                break;
            }
        }
        // The burst is over when its clients are gone: close their
        // keep-alive connections, whose buffers the server keeps meanwhile.
        drop(client);
        if result.is_ok() && args.settle_secs > 0 {
            result = settle(&server, idle_rss, Duration::from_secs(args.settle_secs)).await;
        }
        result
    } else if !args.compare_sizes.is_empty() {
        compare_sizes(&client, &server, &args, work.path(), &mut records).await
    } else {
        single(&client, &server, &args, work.path(), &mut records).await
    };
    // Read just before stopping, whatever happened.
    let m = server.memory()?;
    println!(
        "server peak RSS (VmHWM) {:.1} MiB, RSS at end {:.1} MiB",
        mib(m.peak),
        mib(m.now)
    );
    server.stop().await?;
    result
}

async fn single(
    client: &Client,
    server: &ServerProc,
    args: &Args,
    work: &Path,
    records: &mut Records,
) -> anyhow::Result<()> {
    let path = match &args.file {
        Some(p) => p.clone(),
        None => {
            let p = work.join("bench.bin");
            generate(&p, args.size, 42)?;
            p
        }
    };
    let mut totals = Vec::new();
    for run in 1..=args.repeat {
        let source = open_source(&path)?;
        let (stats, cost) = measured(
            client,
            server,
            source,
            &format!("bench-{run}.bin"),
            args.parallel,
        )
        .await?;
        print_stats(&format!("run {run}/{}", args.repeat), &stats, args.parallel);
        print_cost(&cost);
        records.record("single", &stats, &cost, args.parallel)?;
        totals.push(stats);
    }
    if totals.len() > 1 {
        let n = totals.len() as f64;
        let secs: f64 = totals.iter().map(|s| s.total.as_secs_f64()).sum::<f64>() / n;
        let commit: f64 = totals
            .iter()
            .map(|s| s.commit.as_secs_f64() * 1e3)
            .sum::<f64>()
            / n;
        let size = totals[0].size;
        println!(
            "mean of {}: {secs:.3} s  {:.1} MB/s  {:.1} MiB/s  commit {commit:.1} ms",
            totals.len(),
            size as f64 / secs / 1e6,
            mib(size) / secs
        );
    }
    Ok(())
}

async fn compare_sizes(
    client: &Client,
    server: &ServerProc,
    args: &Args,
    work: &Path,
    records: &mut Records,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for (i, &size) in args.compare_sizes.iter().enumerate() {
        let path = work.join(format!("bench-{}.bin", human(size)));
        generate(&path, size, 42 + i as u64)?;
        let measured = measured(
            client,
            server,
            open_source(&path)?,
            &format!("size-{}.bin", human(size)),
            args.parallel,
        )
        .await;
        std::fs::remove_file(&path)?;
        let (stats, cost) = measured?;
        print_stats(&format!("size {}", human(size)), &stats, args.parallel);
        print_cost(&cost);
        records.record("sizes", &stats, &cost, args.parallel)?;
        rows.push((stats, cost));
    }
    println!(
        "\n{:>8} {:>7} {:>9} {:>9} {:>11} {:>9} {:>13}",
        "size", "parts", "total s", "MiB/s", "commit ms", "list ms", "peak RSS MiB"
    );
    for (s, c) in &rows {
        println!(
            "{:>8} {:>7} {:>9.3} {:>9.1} {:>11.1} {:>9.1} {:>13.1}",
            human(s.size),
            s.parts,
            s.total.as_secs_f64(),
            mib(s.size) / s.total.as_secs_f64(),
            s.commit.as_secs_f64() * 1e3,
            s.list.as_secs_f64() * 1e3,
            mib(c.peak_rss)
        );
    }
    Ok(())
}

/// How long the server takes to give back a burst's memory: polls its RSS
/// until it is under twice the idle size, or `limit` passes.
async fn settle(server: &ServerProc, idle: u64, limit: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    let target = 2 * idle;
    loop {
        let now = server.memory()?.now;
        if now < target {
            println!(
                "  server RSS back under 2 x idle ({:.1} MiB) after {:.1} s: {:.1} MiB",
                mib(target),
                start.elapsed().as_secs_f64(),
                mib(now)
            );
            return Ok(());
        }
        if start.elapsed() >= limit {
            println!(
                "  server RSS still {:.1} MiB after {:.0} s (2 x idle is {:.1} MiB)",
                mib(now),
                limit.as_secs_f64(),
                mib(target)
            );
            return Ok(());
        }
        // Sampling a process's memory over time: the pause is the sampling
        // interval, not a wait for an event.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn sessions(
    client: &Client,
    server: &ServerProc,
    args: &Args,
    n: usize,
    round: usize,
) -> anyhow::Result<()> {
    ensure!(n > 0, "--sessions must be positive");
    let mut data = vec![0u8; args.session_size as usize];
    let mut state = 7u64;
    for b in data.iter_mut() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *b = (state >> 33) as u8;
    }
    let sha1 = boxup_protocol::Sha1Digest::of(&data);
    let data = Bytes::from(data);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (client, source) = (client.clone(), Source::Memory(data.clone(), sha1));
        let parallel = args.session_parallel;
        tasks.spawn(async move {
            client
                .upload(source, &format!("s-{round}-{i}.bin"), parallel)
                .await
        });
    }
    let (mut ok, mut errors) = (Vec::new(), Vec::new());
    while let Some(r) = tasks.join_next().await {
        match r? {
            Ok(s) => ok.push(s),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    let wall = start.elapsed();
    let bytes = ok.len() as u64 * args.session_size;
    println!(
        "{n} concurrent sessions of {} bytes, {} PUTs in flight each: {} ok, {} failed in {:.2} s ({:.1} MiB/s committed)",
        args.session_size,
        args.session_parallel,
        ok.len(),
        errors.len(),
        wall.as_secs_f64(),
        mib(bytes) / wall.as_secs_f64()
    );
    let pct = |v: &mut Vec<Duration>, p: f64| -> f64 {
        v.sort();
        v.get(((v.len() as f64 - 1.0) * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let mut commits: Vec<Duration> = ok.iter().map(|s| s.commit).collect();
    let mut totals: Vec<Duration> = ok.iter().map(|s| s.total).collect();
    println!(
        "  commit ms p50 {:.1} p95 {:.1} max {:.1}; upload ms p50 {:.0} p95 {:.0} max {:.0}; retries {}",
        pct(&mut commits, 0.5),
        pct(&mut commits, 0.95),
        pct(&mut commits, 1.0),
        pct(&mut totals, 0.5),
        pct(&mut totals, 0.95),
        pct(&mut totals, 1.0),
        ok.iter().map(|s| s.retries).sum::<u64>()
    );
    errors.sort();
    errors.dedup_by(|a, b| a == b);
    for e in errors.iter().take(10) {
        println!("  error: {e}");
    }
    print_memory(server, "after sessions")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1X").is_err());
    }
}
