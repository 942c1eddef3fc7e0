//! Knobs of the whole-file helpers, and how to name a session to resume.

use std::fmt;
use std::sync::Arc;

use boxup_protocol::UploadSession;
use tokio_util::sync::CancellationToken;

use super::commit::CommitOptions;
use crate::progress::{Progress, ProgressFn};

/// Parts in flight at once unless [`UploadOptions::parallelism`] says
/// otherwise.
pub(super) const DEFAULT_PARALLELISM: usize = 4;

/// The most parts in flight at once, whatever is asked: more would only
/// multiply the memory (`(parallelism + 1) × part size`) and the
/// connections without speeding anything up.
pub(super) const MAX_PARALLELISM: usize = 64;

type SessionFn = Arc<dyn Fn(&UploadSession) + Send + Sync>;

/// Options of `upload_big_file_with`, `upload_big_file_version` and
/// `resume_upload`. Memory use is bounded by `(parallelism + 1) × part
/// size`, whatever the file size.
#[derive(Clone, Default)]
pub struct UploadOptions {
    pub(crate) parallelism: Option<usize>,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) on_session: Option<SessionFn>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) commit: CommitOptions,
}

impl fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadOptions")
            .field("parallelism", &self.parallelism())
            .field("progress", &self.progress.is_some())
            .field("on_session", &self.on_session.is_some())
            .field("cancel", &self.cancel)
            .field("commit", &self.commit)
            .finish()
    }
}

impl UploadOptions {
    /// The defaults: 4 parts at once, no callbacks, no cancellation token,
    /// a plain commit.
    pub fn new() -> Self {
        UploadOptions::default()
    }

    /// Parts uploaded at once: default 4, at least 1 and at most 64
    /// (`0` counts as 1, anything above 64 as 64).
    pub fn parallelism(&self) -> usize {
        self.parallelism
            .unwrap_or(DEFAULT_PARALLELISM)
            .clamp(1, MAX_PARALLELISM)
    }

    /// Sets [`parallelism`](Self::parallelism): more parts at once use more
    /// connections and `(parallelism + 1) × part size` of memory.
    pub fn with_parallelism(mut self, parts: usize) -> Self {
        self.parallelism = Some(parts);
        self
    }

    /// Called with the running byte count as part bodies go out.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressFn::new(f));
        self
    }

    /// Called once the session exists (before any part is sent): keep its
    /// id or `session_endpoints.status` to `resume_upload` after a crash.
    pub fn on_session(mut self, f: impl Fn(&UploadSession) + Send + Sync + 'static) -> Self {
        self.on_session = Some(Arc::new(f));
        self
    }

    /// Cancelling the token stops the upload with
    /// [`Error::Cancelled`](crate::Error::Cancelled) at whatever stage it
    /// is: nothing is sent if it is cancelled before the call; otherwise
    /// the request under way (session creation, a listing, the parts in
    /// flight, the commit or its wait after a 202) is dropped at once and
    /// nothing more is sent. A session that exists is left open (resumable;
    /// delete it to discard). A commit already sent may still take effect
    /// on the server. Dropping the upload future has the same effect.
    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// `If-Match`, `If-None-Match`, attributes and extra headers of the
    /// final commit.
    pub fn with_commit_options(mut self, commit: CommitOptions) -> Self {
        self.commit = commit;
        self
    }
}

/// A session to resume: its id (addressed under the client's
/// `upload_url`) or its absolute `session_endpoints.status` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRef {
    /// A session id, addressed under the client's upload URL.
    Id(String),
    /// A session's absolute `session_endpoints.status` URL, used as is
    /// (so a session created through another host can be resumed).
    Url(String),
}

impl SessionRef {
    /// An `http://` or `https://` string is a URL, anything else an id.
    pub fn parse(s: &str) -> Self {
        let lower = s.trim_start().to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            SessionRef::Url(s.trim().to_owned())
        } else {
            SessionRef::Id(s.trim().to_owned())
        }
    }
}

impl From<&UploadSession> for SessionRef {
    fn from(session: &UploadSession) -> Self {
        SessionRef::Id(session.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_refs_tell_urls_from_ids() {
        assert_eq!(SessionRef::parse("ABC123"), SessionRef::Id("ABC123".into()));
        assert_eq!(
            SessionRef::parse(" HTTPS://upload.box.com/api/2.0/files/upload_sessions/A "),
            SessionRef::Url("HTTPS://upload.box.com/api/2.0/files/upload_sessions/A".into())
        );
    }

    #[test]
    fn parallelism_defaults_to_four_and_stays_between_one_and_64() {
        assert_eq!(UploadOptions::new().parallelism(), 4);
        assert_eq!(UploadOptions::new().with_parallelism(0).parallelism(), 1);
        assert_eq!(UploadOptions::new().with_parallelism(8).parallelism(), 8);
        assert_eq!(UploadOptions::new().with_parallelism(64).parallelism(), 64);
        assert_eq!(UploadOptions::new().with_parallelism(65).parallelism(), 64);
        assert_eq!(
            UploadOptions::new()
                .with_parallelism(usize::MAX)
                .parallelism(),
            64
        );
    }
}
