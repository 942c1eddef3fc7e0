//! Committing a session.
//!
//! A 202 (parts still processing) is not an answer but a request to come
//! back later: it is retried like a 5xx, after the server's `Retry-After`,
//! up to the client's attempt limit, and only then surfaces as
//! [`Error::CommitPending`](crate::Error::CommitPending).
//!
//! A commit whose answer was lost (a transport error, a 5xx) is retried
//! too, but Box does not document what a repeated commit gets. A boxup
//! server replays its 201. Real Box may instead answer 409
//! `item_name_in_use`, naming the file the first attempt created; the
//! whole-file helpers recognise that case (see `big_file/finish.rs`), the raw
//! operations below return the 409 as it is.

use boxup_protocol::{CommitAttributes, CommitRequest, Files, UploadPart};
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};

use super::ChunkedUploadsManager;
use crate::error::{Error, Result};
use crate::http::Request;

/// The optional parts of a commit.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// Fail with 412 unless the file's etag is this (new versions).
    pub if_match: Option<String>,
    /// Fail with 412 if the file's etag is this.
    pub if_none_match: Option<String>,
    /// File attributes (`content_modified_at`, `content_created_at`,
    /// `description`) to apply.
    pub attributes: Option<CommitAttributes>,
    /// Headers added to the commit request (as the SDKs' `extra_headers`).
    pub extra_headers: Option<HeaderMap>,
}

impl ChunkedUploadsManager {
    /// `POST` the commit through the session's `session_endpoints.commit`
    /// URL. `parts` are the parts as the server echoed them; `digest` is
    /// `sha=<base64 SHA-1 of the whole file>`.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient, commit_url: String, parts: Vec<boxup_client::UploadPart>, file_sha1: boxup_client::Sha1Digest) -> Result<(), boxup_client::Error> {
    /// use boxup_client::CommitOptions;
    /// let files = client
    ///     .chunked_uploads()
    ///     .create_file_upload_session_commit_by_url(
    ///         &commit_url,
    ///         &parts,
    ///         &file_sha1.to_digest_header(),
    ///         &CommitOptions::default(),
    ///     )
    ///     .await?;
    /// println!("file id {}", files.entries[0].id);
    /// # Ok(()) }
    /// ```
    pub async fn create_file_upload_session_commit_by_url(
        &self,
        url: &str,
        parts: &[UploadPart],
        digest: &str,
        options: &CommitOptions,
    ) -> Result<Files> {
        self.commit(self.url(url)?, parts, digest, options).await
    }

    /// `POST {upload_url}/2.0/files/upload_sessions/{upload_session_id}/commit`.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient, parts: Vec<boxup_client::UploadPart>, file_sha1: boxup_client::Sha1Digest) -> Result<(), boxup_client::Error> {
    /// use boxup_client::{CommitAttributes, CommitOptions};
    /// let options = CommitOptions {
    ///     attributes: Some(CommitAttributes {
    ///         content_modified_at: Some("2017-04-08T00:58:08Z".into()),
    ///         ..Default::default()
    ///     }),
    ///     ..Default::default()
    /// };
    /// let files = client
    ///     .chunked_uploads()
    ///     .create_file_upload_session_commit(
    ///         "F971964745A5CD0C001BBE4E58196BFD",
    ///         &parts,
    ///         &file_sha1.to_digest_header(),
    ///         &options,
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_file_upload_session_commit(
        &self,
        upload_session_id: &str,
        parts: &[UploadPart],
        digest: &str,
        options: &CommitOptions,
    ) -> Result<Files> {
        let url = self.session_url(upload_session_id, Some("commit"));
        self.commit(url, parts, digest, options).await
    }

    pub(crate) async fn commit(
        &self,
        url: Url,
        parts: &[UploadPart],
        digest: &str,
        options: &CommitOptions,
    ) -> Result<Files> {
        self.commit_tracked(url, parts, digest, options).await.0
    }

    /// [`commit`](Self::commit), also telling whether an earlier attempt
    /// may have committed although its answer was lost: it failed with a
    /// transport error or a 5xx (not a 429 or a 202, which say the commit
    /// has not happened yet).
    pub(crate) async fn commit_tracked(
        &self,
        url: Url,
        parts: &[UploadPart],
        digest: &str,
        options: &CommitOptions,
    ) -> (Result<Files>, bool) {
        let mut maybe_committed = false;
        let result = self
            .send_commit(url, parts, digest, options, &mut maybe_committed)
            .await;
        (result, maybe_committed)
    }

    async fn send_commit(
        &self,
        url: Url,
        parts: &[UploadPart],
        digest: &str,
        options: &CommitOptions,
        maybe_committed: &mut bool,
    ) -> Result<Files> {
        let body = CommitRequest {
            parts: parts.to_vec(),
            attributes: options.attributes.clone(),
        };
        let mut req = Request::new(Method::POST, url, options.extra_headers.as_ref())
            .json(&body)
            .header("digest", digest)?;
        if let Some(v) = &options.if_match {
            req = req.header("if-match", v)?;
        }
        if let Some(v) = &options.if_none_match {
            req = req.header("if-none-match", v)?;
        }
        req.commit = true;
        self.client
            .send_observed(&req, |e| {
                *maybe_committed |= matches!(e, Error::Http { .. })
                    || matches!(e, Error::Api { error, .. } if error.status >= 500);
            })
            .await?
            .json("Files")
    }
}
