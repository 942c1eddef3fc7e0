//! `boxup serve`: the embedded default server (SQLite + local disk), or
//! metadata in PostgreSQL with `--database-url` and part bytes in an
//! S3-compatible object store with `--storage s3://BUCKET/PREFIX`: the
//! scale-out configuration, where any number of replicas share both.
//!
//! SIGTERM or Ctrl-C shuts the server down gracefully (new connections
//! refused, requests in flight finished within `--shutdown-grace`), then
//! the process exits 0: a restart does not cut part uploads off mid-body.
//!
//! With `--tls-cert` and `--tls-key` (both or neither) it serves https;
//! the files are checked at start-up, so a bad one exits non-zero naming it.
//!
//! Operations (docs/operations.md): `/metrics` for Prometheus, opened by
//! the token in `--metrics-token-file` (a file, so that the token is not
//! in `ps`) or, without one, to loopback peers only; and one log line per
//! request, as text or, with `--log-format json`, as JSON for collectors.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use boxup_server::http::RateLimit;
use boxup_server::server::{TlsFiles, parse_token_spec, parse_tokens};
use boxup_server::store::object::S3Options;
use boxup_server::{Server, ServerOptions, ServiceConfig};
use clap::Args;

#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// A TOML file of settings, keyed by these flags' names with `_`
    /// (data_dir = "…", session_ttl = "7d", tokens = ["T=alice"]). A flag
    /// or BOXUP_* variable overrides the file. See docs/cli.md.
    #[arg(long, env = "BOXUP_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "BOXUP_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Where metadata and part bytes are kept.
    #[arg(long, env = "BOXUP_DATA_DIR", default_value = "./boxup-data")]
    data_dir: PathBuf,
    /// The origin clients reach this server at (used in session_endpoints
    /// and preflight URLs); by default derived from each request's Host.
    #[arg(long, env = "BOXUP_PUBLIC_URL")]
    public_url: Option<String>,
    /// An accepted bearer token, as TOKEN or TOKEN=USER (repeatable).
    #[arg(long = "token", env = "BOXUP_TOKEN", value_delimiter = ',')]
    tokens: Vec<String>,
    /// A file of tokens, one `TOKEN=USER` (or `TOKEN USER`) per line.
    #[arg(long, env = "BOXUP_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,
    /// The smallest file an upload session accepts, in bytes.
    #[arg(long, env = "BOXUP_MIN_CHUNKED_SIZE", default_value_t = 20_000_000)]
    min_chunked_size: u64,
    /// A fixed part size in bytes (a multiple of 64), instead of Box's
    /// size-dependent rule (8 MiB, doubling past 10,000 parts).
    #[arg(long, env = "BOXUP_PART_SIZE")]
    part_size: Option<u64>,
    /// The largest file accepted, in bytes.
    #[arg(long, env = "BOXUP_MAX_FILE_SIZE", default_value_t = ServiceConfig::default().max_file_size)]
    max_file_size: u64,
    /// Bytes of memory for parts that arrive ahead of the whole-file hash
    /// (parallel uploads), so that it need not read them back from
    /// storage; 0 to always read back.
    #[arg(long, env = "BOXUP_FRONTIER_MEMORY", default_value_t = ServiceConfig::default().recent_parts_budget)]
    frontier_memory: u64,
    /// How long an upload session lives (e.g. 7d, 12h, 30m).
    #[arg(long, env = "BOXUP_SESSION_TTL", default_value = "7d", value_parser = humantime::parse_duration)]
    session_ttl: Duration,
    /// Keep metadata in PostgreSQL (postgres://user@host/db) instead of the
    /// embedded SQLite file in the data directory. Part bytes stay in
    /// the data directory.
    #[arg(long, env = "BOXUP_DATABASE_URL")]
    database_url: Option<String>,
    /// How long an access token from /oauth2/token (client credentials or
    /// JWT grant of an app added with `boxup admin app add`) works.
    #[arg(long, env = "BOXUP_OAUTH_TOKEN_TTL", default_value = "60m", value_parser = humantime::parse_duration)]
    oauth_token_ttl: Duration,
    /// Each OAuth app's budget at /oauth2/token, in grants per second
    /// (fractions allowed); over it, grants answer 429 with Retry-After.
    /// Every grant checks a password hash, so this is always on.
    #[arg(
        long,
        env = "BOXUP_OAUTH_RATE_LIMIT",
        value_name = "GRANTS_PER_SECOND",
        default_value_t = 1.0
    )]
    oauth_rate_limit: f64,
    /// How many grants an app may get at once under --oauth-rate-limit.
    #[arg(
        long,
        env = "BOXUP_OAUTH_RATE_LIMIT_BURST",
        value_name = "N",
        default_value_t = 30
    )]
    oauth_rate_limit_burst: u32,
    /// How often expired sessions and garbage are swept.
    #[arg(long, env = "BOXUP_SWEEP_EVERY", default_value = "60s", value_parser = humantime::parse_duration)]
    sweep_every: Duration,
    /// On SIGTERM or Ctrl-C, how long requests in flight (such as part
    /// uploads mid-body) may take to finish before the server exits anyway
    /// (e.g. 30s, 2m; 0s to not wait).
    #[arg(long, env = "BOXUP_SHUTDOWN_GRACE", default_value = "30s", value_parser = humantime::parse_duration)]
    shutdown_grace: Duration,
    /// Serve https with this PEM certificate chain (server certificate
    /// first); needs --tls-key.
    #[arg(
        long,
        env = "BOXUP_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert; needs --tls-cert.
    #[arg(
        long,
        env = "BOXUP_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// A file holding the key (64 hex digits) that signs folder-listing
    /// markers and download links. Replicas serving one database must
    /// share it; by default each data directory generates its own.
    #[arg(long, env = "BOXUP_SIGNING_KEY_FILE")]
    signing_key_file: Option<PathBuf>,
    /// The origin (scheme://host[:port]) of a browser page hosted
    /// elsewhere that may call the API (repeatable): its requests get CORS
    /// headers. Exact origins only, no `*`. A page this server serves
    /// itself is same-origin and needs none.
    #[arg(
        long = "cors-origin",
        env = "BOXUP_CORS_ORIGIN",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// Each user's request budget, in requests per second (fractions
    /// allowed: 0.5 is one every two seconds); over it, requests answer
    /// 429 rate_limit_exceeded with Retry-After. Off by default.
    #[arg(long, env = "BOXUP_RATE_LIMIT", value_name = "REQUESTS_PER_SECOND")]
    rate_limit: Option<f64>,
    /// How many requests a user may send at once under --rate-limit; by
    /// default one second's worth.
    #[arg(
        long,
        env = "BOXUP_RATE_LIMIT_BURST",
        value_name = "N",
        requires = "rate_limit"
    )]
    rate_limit_burst: Option<u32>,
    /// A file holding the bearer token that `/metrics` requires (kept in a
    /// file so that it does not show in `ps`). Without it, `/metrics`
    /// answers only to connections from this machine's loopback address.
    #[arg(long, env = "BOXUP_METRICS_TOKEN_FILE", value_name = "FILE")]
    metrics_token_file: Option<PathBuf>,
    /// The format of log lines on stderr: `text` for people, `json` for
    /// log collectors (one JSON object per line).
    #[arg(long, env = "BOXUP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Boxed, so that `ServeArgs` stays small enough to sit unboxed in the
    /// CLI's command enum beside the other commands' arguments.
    #[command(flatten)]
    storage: Box<StorageArgs>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

/// Where part bytes go when not in the data directory. Credentials and
/// region may also come from the standard `AWS_*` variables (and
/// `AWS_ENDPOINT`), as every S3 tool reads them.
#[derive(Args, Debug)]
struct StorageArgs {
    /// Keep part bytes in an S3-compatible object store, as
    /// s3://BUCKET or s3://BUCKET/PREFIX, instead of the data directory.
    #[arg(long, env = "BOXUP_STORAGE")]
    storage: Option<String>,
    /// The object store's endpoint, e.g. http://127.0.0.1:3900 (Garage,
    /// MinIO); AWS's by default.
    #[arg(long, env = "BOXUP_S3_ENDPOINT", requires = "storage")]
    s3_endpoint: Option<String>,
    /// The object store's region (Garage's default is "garage").
    #[arg(long, env = "BOXUP_S3_REGION", requires = "storage")]
    s3_region: Option<String>,
    /// Path-style requests (endpoint/bucket/key), which Garage and MinIO
    /// want, instead of virtual-hosted ones (bucket.endpoint/key).
    #[arg(long, env = "BOXUP_S3_PATH_STYLE", requires = "storage")]
    s3_path_style: bool,
    /// The access key id; else AWS_ACCESS_KEY_ID.
    #[arg(long, env = "BOXUP_S3_ACCESS_KEY_ID", requires = "storage")]
    s3_access_key_id: Option<String>,
    /// A file holding the secret access key; else AWS_SECRET_ACCESS_KEY.
    /// (A file, so that the secret shows in no process listing.)
    #[arg(long, env = "BOXUP_S3_SECRET_KEY_FILE", requires = "storage")]
    s3_secret_key_file: Option<PathBuf>,
    /// Redirect downloads of single-object files to presigned URLs of the
    /// object store (true), or stream every download through boxup
    /// (false: for stores the clients cannot reach).
    #[arg(long, env = "BOXUP_S3_PRESIGNED_DOWNLOADS", default_value_t = true, action = clap::ArgAction::Set, requires = "storage")]
    s3_presigned_downloads: bool,
}

impl StorageArgs {
    fn options(&self) -> anyhow::Result<Option<S3Options>> {
        let Some(url) = &self.storage else {
            return Ok(None);
        };
        let secret_access_key = match &self.s3_secret_key_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?
                    .trim()
                    .to_owned(),
            ),
            None => None,
        };
        Ok(Some(S3Options {
            url: url.clone(),
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            path_style: self.s3_path_style,
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key,
            presigned_downloads: self.s3_presigned_downloads,
        }))
    }
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => logs.init(),
        // The request's span is left out: the access line carries its
        // fields itself, and other events keep `span` (the innermost).
        LogFormat::Json => logs.json().with_span_list(false).init(),
    }

    let mut tokens = Vec::new();
    for spec in &args.tokens {
        tokens.push(parse_token_spec(spec).map_err(anyhow::Error::msg)?);
    }
    if let Some(path) = &args.tokens_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read tokens file {}", path.display()))?;
        tokens.extend(parse_tokens(&text).map_err(anyhow::Error::msg)?);
    }
    let metrics_token = match &args.metrics_token_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read metrics token file {}", path.display()))?
                .trim()
                .to_owned(),
        ),
        None => None,
    };
    let options = ServerOptions {
        bind: args.bind,
        data_dir: args.data_dir.clone(),
        public_url: args.public_url.clone(),
        tokens,
        service: ServiceConfig {
            min_chunked_size: args.min_chunked_size,
            part_size: args.part_size,
            max_file_size: args.max_file_size,
            session_ttl_secs: args.session_ttl.as_secs() as i64,
            recent_parts_budget: args.frontier_memory,
            oauth_token_ttl_secs: args.oauth_token_ttl.as_secs() as i64,
            oauth_grant_limit: RateLimit::new(
                args.oauth_rate_limit,
                Some(args.oauth_rate_limit_burst),
            )
            .map_err(|e| anyhow::anyhow!("invalid --oauth-rate-limit: {e}"))?,
        },
        sweep_every: args.sweep_every,
        database_url: args.database_url.clone(),
        shutdown_grace: args.shutdown_grace,
        tls: match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            // clap requires both or neither.
            _ => None,
        },
        signing_key_file: args.signing_key_file.clone(),
        object_store: args.storage.options()?,
        cors_origins: args.cors_origins.clone(),
        rate_limit: match args.rate_limit {
            Some(per_second) => Some(
                RateLimit::new(per_second, args.rate_limit_burst)
                    .map_err(|e| anyhow::anyhow!("invalid --rate-limit: {e}"))?,
            ),
            None => None,
        },
        metrics_token,
    };
    let server = Server::open(options).await?;
    let shutdown = shutdown_signal()?;
    let addr = server.local_addr();
    let origin = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{}://{addr}", server.scheme()));
    let origin = origin.trim_end_matches('/');
    println!("boxup serving on {addr}");
    println!("  API base:    {origin}/2.0");
    println!("  upload base: {origin}/api/2.0");
    if let Some(path) = &args.config {
        println!("  config file: {}", path.display());
    }
    match &args.storage.storage {
        Some(url) => println!("  part bytes:  {url}"),
        None => println!("  part bytes:  {}", args.data_dir.join("parts").display()),
    }
    if let Some(token) = &server.dev_token {
        let file = args.data_dir.join(boxup_server::server::DEV_TOKEN_FILE);
        println!("  dev token:   {token}  (saved in {})", file.display());
    }
    super::memory::spawn_trimmer();
    server.run(shutdown).await?;
    Ok(())
}

/// Installs the SIGTERM and Ctrl-C (SIGINT) handlers at once, so that a
/// signal sent as soon as the server says it is serving is not missed (its
/// default action would kill the process mid-request); the future resolves
/// on the first of them.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let install = |kind| signal(kind).context("cannot install the shutdown signal handlers");
    let mut term = install(SignalKind::terminate())?;
    let mut int = install(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "Ctrl-C",
        };
        tracing::info!("{name} received");
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => tracing::info!("Ctrl-C received"),
            Err(_) => std::future::pending().await,
        }
    })
}
