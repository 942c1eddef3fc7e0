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

mod modes;
mod report;
mod server;
mod upload;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use modes::{compare_sizes, sessions, settle, single};
use report::*;
use server::{ObjectStore, ServerOptions, ServerProc, TOKEN};
use upload::Client;

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
