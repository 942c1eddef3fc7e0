//! Assembling a server: the embedded default stores in a data directory,
//! the token table, the sweeper, and the listener.
//!
//! Data-directory layout (everything boxup writes):
//! - `metadata.sqlite3` (+ WAL files): the metadata store;
//! - `parts/`: the part store (`objects/` and `tmp/`), unless the part
//!   bytes live in an object store (`--storage s3://…`);
//! - `dev-token`: the generated development token, when none is configured;
//! - `signing-key`: the key for listing markers and download links, unless
//!   `--signing-key-file` names a shared one.
//!
//! [`Server::run`] shuts down gracefully, within a bounded grace period
//! (see `server/shutdown.rs`), over plain HTTP or TLS (`server/tls.rs`).

mod secrets;
mod shutdown;
mod static_tokens;
mod tls;

pub use tls::{TlsError, TlsFiles};

pub use secrets::SIGNING_KEY_FILE;
use static_tokens::load_or_create_dev_token;
pub use static_tokens::{parse_token_spec, parse_tokens};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use tokio::net::TcpListener;

use crate::http::MetricsAccess;
use crate::http::{AppState, CorsOrigins, RateLimit, UserRateLimiter, router};
use crate::metrics::{CountedPartStore, Metrics};
use crate::service::{ServiceConfig, UploadService};
use crate::store::disk::LocalDiskPartStore;
use crate::store::object::{ObjectStorePartStore, S3Options};
use crate::store::postgres::{PostgresMetadataStore, PostgresOptions};
use crate::store::sqlite::SqliteMetadataStore;
use crate::store::{MetadataStore, PartStore, StoreError};

/// The login of the user behind a generated development token.
pub const DEV_USER: &str = "dev";
/// The file in the data directory that holds the development token.
pub const DEV_TOKEN_FILE: &str = "dev-token";
/// How long a shutdown waits for requests in flight by default.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub public_url: Option<String>,
    /// (token, user login) pairs. Empty: a development token is used.
    pub tokens: Vec<(String, String)>,
    pub service: ServiceConfig,
    pub sweep_every: Duration,
    /// Metadata in PostgreSQL (`postgres://…`) instead of the embedded
    /// SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// How long [`Server::run`], once told to stop, waits for requests in
    /// flight (and the part writes behind them) before abandoning them.
    pub shutdown_grace: Duration,
    /// Serve https with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// The key that signs listing markers and download links; by default
    /// `signing-key` in `data_dir`, generated on first start. Replicas
    /// must share one.
    pub signing_key_file: Option<PathBuf>,
    /// Part bytes in this S3-compatible object store instead of `parts/`
    /// in `data_dir`.
    pub object_store: Option<S3Options>,
    /// Origins (`scheme://host[:port]`) of pages hosted elsewhere that may
    /// call the API from a browser. Empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// Each user's request budget; over it, requests answer 429 with
    /// `Retry-After`. `None` (the default): unlimited.
    pub rate_limit: Option<RateLimit>,
    /// The bearer token `/metrics` requires. Unset: `/metrics` answers
    /// only to connections from a loopback address (docs/operations.md).
    pub metrics_token: Option<String>,
}

impl ServerOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            public_url: None,
            tokens: Vec::new(),
            service: ServiceConfig::default(),
            sweep_every: Duration::from_secs(60),
            database_url: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            tls: None,
            signing_key_file: None,
            object_store: None,
            cors_origins: Vec::new(),
            rate_limit: None,
            metrics_token: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the metadata store")]
    Metadata(#[source] StoreError),
    #[error("cannot open the part store in {path}")]
    Parts { path: PathBuf, source: StoreError },
    #[error("cannot use the object store {url}")]
    ObjectStore { url: String, source: StoreError },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// A server bound to its address, ready to run.
pub struct Server {
    pub service: UploadService,
    pub state: AppState,
    listener: TcpListener,
    /// Set when the server generated (or reloaded) a development token.
    pub dev_token: Option<String>,
    sweep_every: Duration,
    /// The part store behind `service`, which a shutdown lets settle.
    parts: Arc<dyn PartStore>,
    shutdown_grace: Duration,
    /// Set when the server speaks https.
    tls: Option<RustlsConfig>,
}

impl Server {
    pub async fn open(options: ServerOptions) -> Result<Self, ServerError> {
        if let Some(p) = options.service.part_size
            && (p == 0 || !p.is_multiple_of(64))
        {
            return Err(ServerError::Config(format!(
                "part size {p} must be a positive multiple of 64"
            )));
        }
        // Before anything is created or bound: a bad origin or file fails fast.
        let cors_origins =
            CorsOrigins::parse(&options.cors_origins).map_err(ServerError::Config)?;
        let tls = options.tls.as_ref().map(tls::load).transpose()?;
        let dir = &options.data_dir;
        let io = |source| ServerError::DataDir {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let meta = open_metadata(dir, options.database_url.as_deref()).await?;
        let metrics = Metrics::new();
        let counted = metrics.clone();
        meta.on_failure(Box::new(move |op, e| {
            counted.store_error("metadata", op, e)
        }));
        let metrics_access = match options.metrics_token.as_deref() {
            Some("") => return Err(ServerError::Config("the metrics token is empty".into())),
            Some(token) => MetricsAccess::token(token),
            None => MetricsAccess::Loopback,
        };
        let parts: Arc<dyn PartStore> = Arc::new(CountedPartStore::new(
            open_parts(&options).await?,
            metrics.clone(),
        ));
        let key = secrets::signing_key(dir, options.signing_key_file.as_deref())
            .map_err(ServerError::Config)?;
        let service = UploadService::new(meta, Arc::clone(&parts), options.service.clone())
            .with_signing_key(key)
            .with_metrics(metrics);

        let mut pairs = options.tokens.clone();
        let mut dev_token = None;
        if pairs.is_empty() {
            let token = load_or_create_dev_token(dir).map_err(io)?;
            pairs.push((token.clone(), DEV_USER.to_owned()));
            dev_token = Some(token);
        }
        let mut tokens = HashMap::new();
        for (token, login) in pairs {
            if token.is_empty() || login.is_empty() {
                return Err(ServerError::Config(
                    "a token and its user must not be empty".into(),
                ));
            }
            let user = service
                .ensure_user(&login)
                .await
                .map_err(ServerError::Metadata)?;
            tokens.insert(token, user);
        }
        let listener = listen(options.bind).map_err(|source| ServerError::Bind {
            addr: options.bind,
            source,
        })?;
        let state = AppState {
            service: service.clone(),
            tokens: Arc::new(tokens),
            public_url: options.public_url.clone(),
            dev_token: dev_token.as_deref().map(Arc::from),
            cors_origins,
            rate_limiter: options
                .rate_limit
                .map(|l| Arc::new(UserRateLimiter::new(l))),
            metrics_access,
        };
        Ok(Server {
            service,
            state,
            listener,
            dev_token,
            sweep_every: options.sweep_every,
            parts,
            shutdown_grace: options.shutdown_grace,
            tls,
        })
    }

    /// `"https"` when the server speaks TLS, else `"http"`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully: new
    /// connections are refused at once, requests in flight finish and the
    /// part writers settle, for at most [`ServerOptions::shutdown_grace`];
    /// whatever still runs then is abandoned and `run` returns `Ok`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let sweeper = tokio::spawn(self.service.clone().run_sweeper(self.sweep_every));
        let mut app = router(self.state);
        if self.tls.is_some() {
            app = app.layer(axum::middleware::map_request(tls::default_https_proto));
        }
        let result = shutdown::serve(
            self.listener,
            app,
            self.tls,
            self.parts,
            self.shutdown_grace,
            shutdown,
        )
        .await;
        sweeper.abort();
        result
    }
}

/// The metadata store: PostgreSQL at `database_url`, else the SQLite file
/// in `data_dir` (created if missing). `boxup admin` opens it the same way.
pub async fn open_metadata(
    data_dir: &Path,
    database_url: Option<&str>,
) -> Result<Arc<dyn MetadataStore>, ServerError> {
    Ok(match database_url {
        None => {
            std::fs::create_dir_all(data_dir).map_err(|source| ServerError::DataDir {
                path: data_dir.to_owned(),
                source,
            })?;
            Arc::new(
                SqliteMetadataStore::open(&data_dir.join("metadata.sqlite3"))
                    .map_err(ServerError::Metadata)?,
            )
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Arc::new(
                PostgresMetadataStore::connect(url, PostgresOptions::default())
                    .await
                    .map_err(ServerError::Metadata)?,
            )
        }
        Some(_) => {
            return Err(ServerError::Config(
                "the database URL must start with postgres:// or postgresql://".into(),
            ));
        }
    })
}

/// The part store: the object store if one is configured, else `parts/`
/// in the data directory.
async fn open_parts(options: &ServerOptions) -> Result<Arc<dyn PartStore>, ServerError> {
    if let Some(s3) = &options.object_store {
        let failed = |source| ServerError::ObjectStore {
            url: s3.url.clone(),
            source,
        };
        let store = ObjectStorePartStore::s3(s3).map_err(failed)?;
        store.check().await.map_err(failed)?;
        return Ok(Arc::new(store));
    }
    let path = options.data_dir.join("parts");
    let store = LocalDiskPartStore::open(&path).map_err(|source| ServerError::Parts {
        path: path.clone(),
        source,
    })?;
    Ok(Arc::new(store))
}

/// Connections the kernel queues before `accept` (capped by
/// `net.core.somaxconn`, 4096 by default on Linux).
const LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` with a deep accept queue. Why: `TcpListener::bind` listens
/// with a backlog of 128; when a few hundred clients connected at once,
/// the kernel dropped the SYNs beyond it, and those clients waited 1-7 s
/// for their SYN retries (seen as stragglers in the 256-session
/// benchmark, with `TcpExtListenOverflows` counting them).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does on Unix: a restarted server can bind at
    // once while old connections linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
