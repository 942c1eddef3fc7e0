//! `upload-bench`: measures a `boxup serve` binary (built separately, e.g.
//! `cargo build --release -p boxup -p boxup-bench`) with a well-behaved
//! chunked-upload client over loopback.
//!
//! Modes:
//! - default: upload one file of `--size` (or `--file`) `--repeat` times;
//! - `--compare-sizes 256M,1G,4G`: commit latency across file sizes;
//! - `--sessions N`: N concurrent uploads of `--session-size` each.
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
use server::{ServerOptions, ServerProc, TOKEN};
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
    /// Write the server's stderr here (default: discarded).
    #[arg(long)]
    server_log: Option<PathBuf>,
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
    let server = ServerProc::start(&ServerOptions {
        boxup: &args.boxup,
        data_dir: &data_dir,
        part_size: args.part_size,
        log: args.server_log.as_deref(),
    })
    .await?;
    println!(
        "server {} (pid {}) on {}, data dir {}",
        args.boxup.display(),
        server.pid,
        server.origin,
        data_dir.display()
    );
    let client = Client::new(&server.origin, TOKEN)?;
    let result = if let Some(n) = args.sessions {
        let mut result = Ok(());
        for round in 1..=args.repeat {
            println!("round {round}/{}", args.repeat);
            result = sessions(&client, &server, &args, n, round).await;
            if result.is_err() {
                break;
            }
        }
        result
    } else if !args.compare_sizes.is_empty() {
        compare_sizes(&client, &server, &args, work.path()).await
    } else {
        single(&client, &server, &args, work.path()).await
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
        let stats = client
            .upload(source, &format!("bench-{run}.bin"), args.parallel)
            .await?;
        print_stats(&format!("run {run}/{}", args.repeat), &stats, args.parallel);
        print_memory(server, "after run")?;
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
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for (i, &size) in args.compare_sizes.iter().enumerate() {
        let path = work.join(format!("bench-{}.bin", human(size)));
        generate(&path, size, 42 + i as u64)?;
        let stats = client
            .upload(
                open_source(&path)?,
                &format!("size-{}.bin", human(size)),
                args.parallel,
            )
            .await;
        std::fs::remove_file(&path)?;
        let stats = stats?;
        print_stats(&format!("size {}", human(size)), &stats, args.parallel);
        print_memory(server, "after upload")?;
        rows.push(stats);
    }
    println!(
        "\n{:>8} {:>7} {:>9} {:>9} {:>11} {:>9}",
        "size", "parts", "total s", "MiB/s", "commit ms", "list ms"
    );
    for s in &rows {
        println!(
            "{:>8} {:>7} {:>9.3} {:>9.1} {:>11.1} {:>9.1}",
            human(s.size),
            s.parts,
            s.total.as_secs_f64(),
            mib(s.size) / s.total.as_secs_f64(),
            s.commit.as_secs_f64() * 1e3,
            s.list.as_secs_f64() * 1e3
        );
    }
    Ok(())
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
