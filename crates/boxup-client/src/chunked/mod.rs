//! Box chunked uploads: the thirteen operations of the official SDKs'
//! `ChunkedUploadsManager`, named as there, plus `upload_big_file_version`
//! and `resume_upload`.
//!
//! Every operation that addresses a session exists twice: `..._by_id`
//! builds the URL from the client's `upload_url`, `..._by_url` takes an
//! absolute URL from the session's `session_endpoints` (which may point at
//! another, regional host). Each takes optional extra headers, sent as
//! given and overriding the client's own.
//!
//! Files (by API area): `sessions.rs` creates, gets and deletes sessions;
//! `parts.rs` uploads and lists parts; `commit.rs` commits; `big_file.rs`
//! holds the whole-file helpers (their listing and commit in
//! `big_file/finish.rs`), built on the pipeline in `pipeline.rs`;
//! `plan.rs` holds the 2026 plan endpoint.

mod big_file;
mod commit;
mod options;
mod parts;
mod pipeline;
mod plan;
mod sessions;

pub use commit::CommitOptions;
pub use options::{SessionRef, UploadOptions};

use crate::client::BoxClient;

/// The chunked-upload operations, from [`BoxClient::chunked_uploads`].
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct ChunkedUploadsManager {
    pub(crate) client: BoxClient,
}

impl ChunkedUploadsManager {
    /// The operations through `client` (as [`BoxClient::chunked_uploads`]).
    pub fn new(client: BoxClient) -> Self {
        ChunkedUploadsManager { client }
    }

    pub(crate) fn url(&self, url: &str) -> crate::Result<reqwest::Url> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| crate::Error::InvalidInput(format!("URL {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(crate::Error::InvalidInput(format!(
                "URL {url:?} is not http(s)"
            )));
        }
        Ok(parsed)
    }

    /// `{upload_url}/2.0/files/upload_sessions/{id}[/suffix]`.
    pub(crate) fn session_url(&self, id: &str, suffix: Option<&str>) -> reqwest::Url {
        let mut segments = vec!["files", "upload_sessions", id];
        segments.extend(suffix);
        self.client.upload_endpoint(&segments)
    }
}
