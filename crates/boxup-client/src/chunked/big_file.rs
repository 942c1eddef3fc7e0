//! Whole-file helpers: `upload_big_file`, `upload_big_file_version` and
//! `resume_upload`.
//!
//! They drive the session as the official SDKs' `upload_big_file` does
//! (docs/protocol.md §4.14), through `session_endpoints`, with the pipeline of
//! `pipeline.rs` doing the parts in parallel. On any failure the session is
//! left open, so that [`ChunkedUploadsManager::resume_upload`] can finish
//! it; delete it to discard the parts instead.
//!
//! Each helper's whole body runs under the options' cancellation token
//! ([`cancellable`]): session creation, listings, parts, the commit and its
//! retry waits all stop the moment it is cancelled.
//!
//! Two things real Box does that the SDKs trip over are absorbed when
//! finishing (`big_file/finish.rs`):
//! - right after the last part, a listing may be short and a commit may be
//!   refused with 400 `parts_mismatch` for a moment (docs/protocol.md §4.9): both
//!   are tried again a few times, with the client's backoff;
//! - a commit retried after a lost answer may be refused with 409
//!   `item_name_in_use` naming the file the lost attempt created: when that
//!   file has the source's SHA-1 (and name), it is the result.

mod finish;

use std::future::Future;

use boxup_protocol::{File, UploadSession};
use reqwest::Url;
use tokio::io::AsyncRead;

use super::pipeline::{self, Plan};
use super::{ChunkedUploadsManager, SessionRef, UploadOptions};
use crate::error::{Error, Result};

/// The three URLs the helpers use, from `session_endpoints` when the
/// server gave them (they may name a regional host), else built from the
/// session id under the client's `upload_url`.
struct Endpoints {
    upload_part: Url,
    list_parts: Url,
    commit: Url,
}

impl Endpoints {
    fn of(mgr: &ChunkedUploadsManager, session: &UploadSession) -> Result<Self> {
        let given = session.session_endpoints.clone().unwrap_or_default();
        let pick = |url: Option<String>, suffix: Option<&str>| match url {
            Some(u) => mgr.url(&u),
            None => Ok(mgr.session_url(&session.id, suffix)),
        };
        Ok(Endpoints {
            upload_part: pick(given.upload_part, None)?,
            list_parts: pick(given.list_parts, Some("parts"))?,
            commit: pick(given.commit, Some("commit"))?,
        })
    }
}

impl ChunkedUploadsManager {
    /// Uploads `file_size` bytes from `file` as a new file `file_name` in
    /// folder `parent_folder_id`, with the default [`UploadOptions`], and
    /// returns the file. `file` is any `AsyncRead`: a `tokio::fs::File`,
    /// `tokio::io::stdin()`, a byte slice.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), Box<dyn std::error::Error>> {
    /// let file = tokio::fs::File::open("Project.mov").await?;
    /// let size = file.metadata().await?.len();
    /// let uploaded = client
    ///     .chunked_uploads()
    ///     .upload_big_file(file, "Project.mov", size, "0")
    ///     .await?;
    /// println!("file {} sha1 {:?}", uploaded.id, uploaded.sha1);
    /// # Ok(()) }
    /// ```
    pub async fn upload_big_file<R>(
        &self,
        file: R,
        file_name: &str,
        file_size: u64,
        parent_folder_id: &str,
    ) -> Result<File>
    where
        R: AsyncRead + Unpin + Send,
    {
        self.upload_big_file_with(
            file,
            file_name,
            file_size,
            parent_folder_id,
            &UploadOptions::default(),
        )
        .await
    }

    /// [`upload_big_file`](Self::upload_big_file) with options:
    /// parallelism, progress, cancellation, the session callback (for a
    /// later resume) and commit options.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), Box<dyn std::error::Error>> {
    /// use boxup_client::UploadOptions;
    /// use tokio_util::sync::CancellationToken;
    ///
    /// let cancel = CancellationToken::new();
    /// let options = UploadOptions::new()
    ///     .with_parallelism(8)
    ///     .on_progress(|p| eprintln!("{}/{} bytes", p.bytes_done, p.total_bytes))
    ///     .on_session(|s| eprintln!("session {} (resumable)", s.id))
    ///     .with_cancellation(cancel.clone());
    /// let stdin = tokio::io::stdin();
    /// let file = client
    ///     .chunked_uploads()
    ///     .upload_big_file_with(stdin, "backup.tar", 52_428_800, "0", &options)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_big_file_with<R>(
        &self,
        file: R,
        file_name: &str,
        file_size: u64,
        parent_folder_id: &str,
        options: &UploadOptions,
    ) -> Result<File>
    where
        R: AsyncRead + Unpin + Send,
    {
        cancellable(options, async {
            let session = self
                .create_file_upload_session(parent_folder_id, file_size, file_name, None)
                .await?;
            self.upload_into_new_session(session, file, file_size, Some(file_name), options)
                .await
        })
        .await
    }

    /// Uploads a new version of file `file_id` (optionally renaming it)
    /// through a chunked session. Use the commit options' `if_match` to
    /// fail with 412 if the file changed meanwhile.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), Box<dyn std::error::Error>> {
    /// use boxup_client::{CommitOptions, UploadOptions};
    /// let file = tokio::fs::File::open("Project-v2.mov").await?;
    /// let size = file.metadata().await?.len();
    /// let options = UploadOptions::new().with_commit_options(CommitOptions {
    ///     if_match: Some("1".into()),
    ///     ..Default::default()
    /// });
    /// let updated = client
    ///     .chunked_uploads()
    ///     .upload_big_file_version(file, "12345", size, None, &options)
    ///     .await?;
    /// println!("version {:?}", updated.file_version.map(|v| v.id));
    /// # Ok(()) }
    /// ```
    pub async fn upload_big_file_version<R>(
        &self,
        file: R,
        file_id: &str,
        file_size: u64,
        file_name: Option<&str>,
        options: &UploadOptions,
    ) -> Result<File>
    where
        R: AsyncRead + Unpin + Send,
    {
        cancellable(options, async {
            let session = self
                .create_file_upload_session_for_existing_file(file_id, file_size, file_name, None)
                .await?;
            self.upload_into_new_session(session, file, file_size, file_name, options)
                .await
        })
        .await
    }

    /// Finishes an interrupted upload: gets the session (by id or status
    /// URL), lists all its parts (every page), reads `file` once while
    /// checking each listed part against the local bytes, uploads only the
    /// missing parts, and commits. A listed part whose SHA-1 or size
    /// differs from the local bytes is an [`Error::ResumeMismatch`]; it is
    /// never silently re-uploaded. Resuming a session that was already
    /// committed uploads nothing and returns its file.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), Box<dyn std::error::Error>> {
    /// use boxup_client::{SessionRef, UploadOptions};
    /// let file = tokio::fs::File::open("Project.mov").await?;
    /// let size = file.metadata().await?.len();
    /// let done = client
    ///     .chunked_uploads()
    ///     .resume_upload(SessionRef::parse("F971964745A5CD0C001BBE4E58196BFD"), file, size, &UploadOptions::new())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn resume_upload<R>(
        &self,
        session: impl Into<SessionRef>,
        file: R,
        file_size: u64,
        options: &UploadOptions,
    ) -> Result<File>
    where
        R: AsyncRead + Unpin + Send,
    {
        let session = session.into();
        cancellable(options, async {
            let session = match session {
                SessionRef::Id(id) => self.get_file_upload_session_by_id(&id, None).await?,
                SessionRef::Url(url) => self.get_file_upload_session_by_url(&url, None).await?,
            };
            let endpoints = Endpoints::of(self, &session)?;
            let mut plan = Plan::for_session(&session, file_size, endpoints.upload_part.clone())?;
            plan.existing = self.listed_parts(&endpoints, &plan).await?;
            tracing::info!(
                session = %session.id,
                on_server = plan.existing.len(),
                missing = plan.total_parts - plan.existing.len() as u64,
                "resuming"
            );
            if let Some(cb) = &options.on_session {
                cb(&session);
            }
            let outcome = pipeline::run(self, &plan, file, options).await?;
            // The session does not say the file's name.
            self.finish(&endpoints, &plan, outcome, None, options).await
        })
        .await
    }

    async fn upload_into_new_session<R>(
        &self,
        session: UploadSession,
        file: R,
        file_size: u64,
        file_name: Option<&str>,
        options: &UploadOptions,
    ) -> Result<File>
    where
        R: AsyncRead + Unpin + Send,
    {
        if session.num_parts_processed.unwrap_or(0) != 0 {
            return Err(Error::Protocol(format!(
                "new session {} already has parts",
                session.id
            )));
        }
        let endpoints = Endpoints::of(self, &session)?;
        let plan =
            Plan::for_session(&session, file_size, endpoints.upload_part.clone()).map_err(|e| {
                match e {
                    Error::InvalidInput(m) => Error::Protocol(m),
                    e => e,
                }
            })?;
        if let Some(cb) = &options.on_session {
            cb(&session);
        }
        let outcome = pipeline::run(self, &plan, file, options).await?;
        self.finish(&endpoints, &plan, outcome, file_name, options)
            .await
    }
}

/// Runs `work` (a helper's whole body) unless `options`' token is or gets
/// cancelled: then `work` is dropped where it stands (with the requests and
/// part tasks it owns) and the answer is [`Error::Cancelled`]. Nothing at
/// all is sent if the token is cancelled before the call.
async fn cancellable<T>(
    options: &UploadOptions,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let Some(cancel) = &options.cancel else {
        return work.await;
    };
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Error::Cancelled),
        result = work => result,
    }
}
