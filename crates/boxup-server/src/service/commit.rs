//! Committing a session (docs/protocol.md §4.9).
//!
//! Commit answers 201 synchronously and never 202: the SDKs mishandle 202
//! (docs/protocol.md §4.9), and the hash frontier leaves little to hash here. A
//! repeated commit of a committed session replays the 201 with the file,
//! covering a client whose first answer was lost.

use boxup_protocol::{ErrorKind, Files, Sha1Digest, UploadPart};
use serde_json::Value;

use super::input::{field, file_attributes, json_object};
use super::policy::{self, FileAttributes, NoneMatch, Preconditions};
use super::{Caller, UploadService, if_match_etag, now};
use crate::error::{ApiError, ApiResult};
use crate::store::{CommitSession, PartRecord, SessionRecord, SessionState, StoreError};

/// The request headers of a commit, unparsed.
pub struct CommitHeaders<'a> {
    pub digest: Option<&'a str>,
    pub if_match: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
}

fn parts_mismatch(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::PartsMismatch, message)
}

impl UploadService {
    /// `POST /files/upload_sessions/{id}/commit`.
    pub async fn commit(
        &self,
        caller: &Caller,
        id: &str,
        headers: CommitHeaders<'_>,
        body: &[u8],
    ) -> ApiResult<Files> {
        let started = std::time::Instant::now();
        let session = self.load_session(caller, id).await?;
        if session.state == SessionState::Committed {
            return self.replay_commit(caller, &session).await;
        }
        let digest = headers
            .digest
            .ok_or_else(|| ApiError::new(ErrorKind::BadDigest, "Digest is required"))
            .and_then(|v| {
                Sha1Digest::from_digest_header(v)
                    .map_err(|e| ApiError::new(ErrorKind::BadDigest, e.to_string()))
            })?;
        let obj = json_object(body)?;
        let claimed: Vec<UploadPart> = match field(&obj, "parts") {
            Some(v @ Value::Array(_)) => serde_json::from_value(v.clone())
                .map_err(|e| parts_mismatch(format!("'parts' is malformed: {e}")))?,
            _ => return Err(parts_mismatch("'parts' (an array of parts) is required")),
        };
        let attributes = match field(&obj, "attributes") {
            Some(Value::Object(attrs)) => file_attributes(attrs)?,
            _ => FileAttributes::default(),
        };
        let stored = self.all_parts(&session).await?;
        check_parts(&session, claimed, &stored)?;

        let actual = self
            .whole_file_sha1(&session)
            .await?
            .ok_or_else(|| parts_mismatch("Not all parts have been processed yet"))?;
        if actual != digest {
            return Err(ApiError::new(
                ErrorKind::DigestMismatch,
                format!(
                    "File digest was incorrect. Actual: {} Expected: {}",
                    actual.to_base64(),
                    digest.to_base64()
                ),
            ));
        }
        // Checked again: other uploads may have used the space since the
        // session was created (users.rs says what is counted). A retried
        // commit can find the space taken by its own first attempt, which
        // committed meanwhile: that one is replayed, not refused.
        if let Err(refused) = self.check_quota(caller, session.file_size).await {
            let now = self.load_session(caller, id).await?;
            if now.state == SessionState::Committed {
                return self.replay_commit(caller, &now).await;
            }
            return Err(refused);
        }
        let preconditions = Preconditions {
            if_match: headers.if_match.and_then(if_match_etag),
            if_none_match: headers.if_none_match.map(NoneMatch::parse),
        };
        let commit = CommitSession {
            session_id: session.id.clone(),
            sha1: actual.to_hex(),
            decide: policy::commit(caller.user.id, attributes, preconditions, now()),
        };
        match self.meta.commit_session(commit).await {
            Ok(file) => {
                let files = Files {
                    total_count: 1,
                    entries: vec![self.render_file(caller, &file).await?],
                };
                self.metrics.committed(started.elapsed());
                Ok(files)
            }
            Err(StoreError::SessionNotOpen(SessionState::Committed)) => {
                let session = self.load_session(caller, id).await?;
                self.replay_commit(caller, &session).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The 201 of a commit that already happened, showing the version that
    /// commit made even if newer versions followed (a retry must not see
    /// someone else's content). A file deleted since answers 404.
    async fn replay_commit(&self, caller: &Caller, session: &SessionRecord) -> ApiResult<Files> {
        let committed = session
            .committed
            .ok_or_else(|| ApiError::internal("committed session without a file"))?;
        let (file_id, version_id) = (committed.file_id, committed.version_id);
        let mut file = self
            .meta
            .get_file(caller.user.id, file_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if file.version.id != version_id {
            file.version = self
                .meta
                .get_version(caller.user.id, file_id, version_id)
                .await?
                .ok_or_else(ApiError::not_found)?;
        }
        Ok(Files {
            total_count: 1,
            entries: vec![self.render_file(caller, &file).await?],
        })
    }

    /// Every stored part of a session, in offset order.
    pub(crate) async fn all_parts(&self, session: &SessionRecord) -> ApiResult<Vec<PartRecord>> {
        let mut parts = Vec::with_capacity(session.total_parts as usize);
        loop {
            let (total, page) = self
                .meta
                .list_parts(&session.id, parts.len() as u64, 1000)
                .await?;
            let got = page.len();
            parts.extend(page);
            if got == 0 || parts.len() as u64 >= total {
                return Ok(parts);
            }
        }
    }
}

/// The commit's parts must be exactly the stored parts: same ids, offsets
/// and sizes (and sha1 where given), tiling the file with no gap.
fn check_parts(
    session: &SessionRecord,
    mut claimed: Vec<UploadPart>,
    stored: &[PartRecord],
) -> ApiResult<()> {
    if stored.len() != session.total_parts as usize {
        return Err(parts_mismatch(format!(
            "The session has {} of {} parts",
            stored.len(),
            session.total_parts
        )));
    }
    if claimed.len() != stored.len() {
        return Err(parts_mismatch(format!(
            "The commit lists {} parts but the file has {}",
            claimed.len(),
            stored.len()
        )));
    }
    claimed.sort_by_key(|p| p.offset);
    let mut next = 0;
    for (c, s) in claimed.iter().zip(stored) {
        let sha1_ok = c
            .sha1
            .as_ref()
            .is_none_or(|h| h.eq_ignore_ascii_case(&s.sha1));
        if c.part_id != s.part_id || c.offset != s.offset || c.size != s.size || !sha1_ok {
            return Err(parts_mismatch(format!(
                "Part {} at offset {} does not match the uploaded part",
                c.part_id, c.offset
            )));
        }
        if s.offset != next {
            return Err(parts_mismatch(format!(
                "The parts leave a gap at byte {next}"
            )));
        }
        next = s.offset + s.size;
    }
    if next != session.file_size {
        return Err(parts_mismatch("The parts do not cover the whole file"));
    }
    Ok(())
}
