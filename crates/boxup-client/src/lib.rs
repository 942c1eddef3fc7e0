//! A Rust client for Box chunked uploads, for the real Box and for a
//! boxup server alike.
//!
//! - [`BoxClient`]: base URLs (Box's hosts by default, without `/2.0`, as
//!   in the official generated SDKs' `BaseUrls`), a bearer token from a
//!   [`TokenProvider`], timeouts and a retry policy. Clones are cheap and
//!   share one HTTP connection pool.
//! - [`ChunkedUploadsManager`]: the thirteen operations of the official
//!   SDKs, named as there, plus
//!   [`upload_big_file_version`](ChunkedUploadsManager::upload_big_file_version)
//!   and [`resume_upload`](ChunkedUploadsManager::resume_upload).
//! - [`Error`]: one error type. Box's error object is [`Error::Api`];
//!   [`Error::is_retryable`] says what a retry could fix.
//! - The wire models (`UploadSession`, `UploadPart`, `Files`, `File`, …)
//!   are `boxup_protocol`'s, re-exported: the server renders the same
//!   types. Unknown JSON fields are ignored; a field of the wrong type is
//!   an [`Error::Decode`] naming the model.
//!
//! # `upload_big_file`
//!
//! Parts go up in parallel (default 4, [`UploadOptions::with_parallelism`]).
//! Memory stays within `(parallelism + 1) × part_size` whatever the file
//! size. One pass over the source computes every part's SHA-1 and the
//! whole-file SHA-1. Each part echo is checked (sha1, offset, size) as the
//! official SDKs do. 5xx, 429 and network errors are retried with
//! exponential backoff and jitter, honouring `Retry-After`. So is a commit
//! answered 202. Progress is reported per byte, in 64 KiB steps.
//!
//! **Cancellation**: both ways work. Cancel the
//! [`CancellationToken`] given to [`UploadOptions::with_cancellation`] and
//! the call returns [`Error::Cancelled`] after aborting the parts in
//! flight. Or drop the future: the part tasks live in a `JoinSet` owned
//! by it and are aborted with it. In both cases the session stays open:
//! [`ChunkedUploadsManager::resume_upload`] can finish it, and
//! `delete_file_upload_session_by_id` discards it.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use boxup_client::{BaseUrls, BoxClient};
//!
//! let client = BoxClient::builder()
//!     .token("TOKEN")
//!     .base_urls(BaseUrls::single_origin("http://127.0.0.1:8080"))
//!     .build()?;
//! let file = tokio::fs::File::open("big.iso").await?;
//! let size = file.metadata().await?.len();
//! let uploaded = client.chunked_uploads().upload_big_file(file, "big.iso", size, "0").await?;
//! println!("uploaded file {}", uploaded.id);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod auth;
mod chunked;
mod client;
mod downloads;
mod error;
mod files;
mod folders;
mod http;
mod progress;
mod uploads;

pub use auth::{StaticToken, TokenProvider};
pub use chunked::{ChunkedUploadsManager, CommitOptions, SessionRef, UploadOptions};
pub use client::{
    BaseUrls, BoxClient, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_UPLOAD_URL, RetryConfig,
};
pub use downloads::{DownloadOptions, Downloaded, DownloadsManager, FileContent};
pub use error::{Error, Result};
pub use files::FilesManager;
pub use folders::FoldersManager;
pub use progress::{Progress, ProgressFn};
pub use uploads::{UploadFileOptions, UploadsManager};

pub use boxup_protocol;
/// The wire models, shared with the server.
pub use boxup_protocol::{
    BoxError, CommitAttributes, ContentRange, ErrorCode, File, Files, Folder, Item, Items,
    SessionEndpoints, Sha1Digest, UploadPart, UploadPartPlan, UploadPartPlanHit, UploadParts,
    UploadSession, UploadSessionPlanResponse, UploadedPart,
};
pub use reqwest::header::HeaderMap;
pub use tokio_util::sync::CancellationToken;
