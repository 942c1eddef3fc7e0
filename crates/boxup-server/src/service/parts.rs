//! Uploading and listing parts (docs/protocol.md §4.5–4.7; docs/design.md, "A part upload").
//!
//! A part's bytes are streamed into the part store through a verifying
//! stream (exact length, SHA-1 against `Digest`), made durable there, and
//! only then recorded; the 200 goes out after the row commits. Races on
//! one range are settled by the metadata store's uniqueness: the first row
//! wins, an identical retry gets the stored part back, a different body
//! gets 416 with the conflicting part.

use boxup_protocol::{ContentRange, ErrorKind, HeaderError, Sha1Digest, UploadParts, UploadedPart};
use serde_json::json;

use super::frontier::restore;
use super::recent_parts::Tap;
use super::verify::{Expect, VerifyingStream, body_error_to_api};
use super::{Caller, UploadService, random_hex_upper, render};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    ByteStream, PartInsert, PartRecord, SessionId, SessionRecord, SessionState, StoreError,
};

/// The request headers of a part upload, unparsed.
pub struct PartHeaders<'a> {
    pub content_range: Option<&'a str>,
    pub digest: Option<&'a str>,
    pub content_length: Option<u64>,
}

/// Default and largest page of `GET …/parts`, and the largest offset.
pub(super) const DEFAULT_PARTS_LIMIT: u64 = 100;
pub(super) const MAX_PARTS_LIMIT: u64 = 1000;
pub(super) const MAX_PARTS_OFFSET: u64 = 10_000;

fn range_error(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::RangeNotSatisfiable, message)
}

fn overlap_error(existing: &PartRecord) -> ApiError {
    ApiError::new(
        ErrorKind::RangeOverlaps,
        "The content range overlaps an existing part",
    )
    .with_context(json!({ "conflicting_part": render::part(existing) }))
}

/// Checks a range against the session's part grid; returns the part index.
fn grid_index(session: &SessionRecord, range: &ContentRange) -> ApiResult<u32> {
    if range.total != session.file_size {
        return Err(range_error(format!(
            "The total size {} does not match the session's file size {}",
            range.total, session.file_size
        )));
    }
    if range.last >= session.file_size {
        return Err(range_error(format!(
            "The range ends past the file's last byte {}",
            session.file_size.saturating_sub(1)
        )));
    }
    if !range.first.is_multiple_of(session.part_size) {
        return Err(range_error(format!(
            "A part must start at a multiple of the part size {}",
            session.part_size
        )));
    }
    let end = range
        .first
        .saturating_add(session.part_size)
        .min(session.file_size);
    if range.last + 1 != end {
        return Err(range_error(format!(
            "A part starting at {} must end at byte {}",
            range.first,
            end - 1
        )));
    }
    Ok((range.first / session.part_size) as u32)
}

impl UploadService {
    /// `PUT /files/upload_sessions/{id}`.
    pub async fn upload_part(
        &self,
        caller: &Caller,
        id: &str,
        headers: PartHeaders<'_>,
        body: ByteStream,
    ) -> ApiResult<UploadedPart> {
        let started = std::time::Instant::now();
        let session = self.load_session(caller, id).await?;
        let range = headers
            .content_range
            .ok_or_else(|| ApiError::new(ErrorKind::BadRequest, "Content-Range is required"))
            .and_then(|v| {
                ContentRange::parse(v).map_err(|e| match e {
                    HeaderError::EmptyContentRange { .. } => range_error(e.to_string()),
                    _ => ApiError::new(ErrorKind::BadRequest, e.to_string()),
                })
            })?;
        let digest = headers
            .digest
            .ok_or_else(|| ApiError::new(ErrorKind::BadDigest, "Digest is required"))
            .and_then(|v| {
                Sha1Digest::from_digest_header(v)
                    .map_err(|e| ApiError::new(ErrorKind::BadDigest, e.to_string()))
            })?;
        let index = grid_index(&session, &range)?;
        if let Some(len) = headers.content_length.filter(|len| *len != range.len()) {
            return Err(ApiError::new(
                ErrorKind::RequestSizeMismatch,
                format!(
                    "Content-Length {len} does not match the range length {}",
                    range.len()
                ),
            ));
        }
        let sha1 = digest.to_hex();
        let existing = self.meta.get_part(&session.id, index).await?;
        if let Some(existing) = existing.as_ref().filter(|p| p.sha1 == sha1) {
            // A retry of a stored part: its body must still prove the digest.
            check_body(body, range.len(), digest).await?;
            return Ok(UploadedPart {
                part: render::part(existing),
            });
        }
        if session.state == SessionState::Committed {
            return Err(crate::store::StoreError::SessionNotOpen(SessionState::Committed).into());
        }
        if let Some(existing) = existing {
            return Err(overlap_error(&existing));
        }

        let part_id = part_id_for(&session.id, index);
        // Racing uploads of one index must not share an object: each gets
        // its own random suffix, and the loser's object is deleted.
        let object_key = format!("s/{}/{index:06}-{}", session.id, random_hex_upper(8));
        // A slot from a chunk's arrival until it is hashed (body_slots.rs).
        let (body, slot) = self.body_slots.gate(body);
        let (verified, _) = VerifyingStream::new(body, Expect::Exact(range.len()), Some(digest));
        // What the hash frontier will need of these bytes, taken as they
        // pass (see recent_parts.rs).
        let tap = if session.frontier.offset == range.first {
            Tap::hashing(restore(&session.frontier)?)
        } else {
            Tap::keeping(&self.recent_parts, range.len())
        };
        self.parts
            .put(
                &object_key,
                slot.release_after(tap.wrap(Box::pin(verified))),
            )
            .await
            .map_err(|e| body_error_to_api(e, too_long))?;
        let record = PartRecord {
            session_id: session.id.clone(),
            index,
            part_id,
            offset: range.first,
            size: range.len(),
            sha1: sha1.clone(),
            object_key,
        };
        if session.expires_at <= super::now() {
            // The session expired while the body streamed in.
            self.discard(&record.object_key).await;
            return Err(ApiError::session_expired());
        }
        // A part hashed in-stream moves the frontier itself, in the same
        // transaction as its row, under the frontier lock from before its
        // row exists, so that no advancer of this process reads it back
        // meanwhile. (If another replica moved the frontier first, the row
        // goes in and the frontier stays where that replica put it.)
        let hashed = tap.frontier_after(record.offset + record.size);
        let frontier_guard = match hashed {
            Some(_) => Some(self.hold_frontier(&session.id).await),
            None => None,
        };
        let inserted = match &hashed {
            Some(to) => self.meta.insert_hashed_part(&record, to).await,
            None => self.meta.insert_part(&record).await,
        };
        match inserted {
            Ok(PartInsert::Inserted) => {
                // Holds the bytes of a part ahead of the frontier.
                tap.finish(&self.recent_parts, &record.object_key);
                drop(frontier_guard);
                // The request hashes every stored part contiguous with the
                // frontier before it answers, rather than leaving that to a
                // background task: the last part's answer then finds the
                // frontier at the end of the file, so a commit has nothing
                // left to hash, however busy the server. It hashes only
                // parts already here, so it never waits on one the client
                // has yet to send; the CPU spent is the same either way.
                self.advance_frontier_after_put(&session.id).await;
                self.metrics
                    .part_stored(started.elapsed(), record.size, hashed.is_some());
                Ok(UploadedPart {
                    part: render::part(&record),
                })
            }
            Ok(PartInsert::Existing(existing)) => {
                self.discard(&record.object_key).await;
                settle(existing, &sha1)
            }
            Err(e) => {
                self.discard(&record.object_key).await;
                Err(e.into())
            }
        }
    }

    /// `GET /files/upload_sessions/{id}/parts`.
    pub async fn list_parts(
        &self,
        caller: &Caller,
        id: &str,
        offset: Option<u64>,
        limit: Option<u64>,
    ) -> ApiResult<UploadParts> {
        // The session first: a bad, unknown or expired id outranks a bad
        // page (400/404/410 before 400 invalid_offset).
        let session = self.load_session(caller, id).await?;
        let offset = offset.unwrap_or(0);
        if offset > MAX_PARTS_OFFSET {
            return Err(ApiError::new(
                ErrorKind::InvalidOffset,
                format!("offset must not exceed {MAX_PARTS_OFFSET}"),
            ));
        }
        let limit = limit
            .unwrap_or(DEFAULT_PARTS_LIMIT)
            .clamp(1, MAX_PARTS_LIMIT);
        let (total, parts) = self.meta.list_parts(&session.id, offset, limit).await?;
        Ok(UploadParts {
            total_count: total,
            limit: Some(limit),
            offset: Some(offset),
            order: Some(vec![boxup_protocol::SortOrder::asc("offset")]),
            entries: parts.iter().map(render::part).collect(),
        })
    }

    /// Deletes an object nobody will reference; a failure leaves it to the
    /// orphan sweep.
    pub(crate) async fn discard(&self, key: &str) {
        if let Err(e) = self.parts.delete(key).await {
            tracing::warn!(key, error = %crate::error::Chain(&e), "could not delete an unreferenced object");
        }
    }
}

/// Reads a body to its end through the verifier, keeping nothing.
async fn check_body(body: ByteStream, len: u64, digest: Sha1Digest) -> ApiResult<()> {
    use futures::TryStreamExt;
    let (mut verified, _) = VerifyingStream::new(body, Expect::Exact(len), Some(digest));
    loop {
        match verified.try_next().await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(e) => return Err(body_error_to_api(StoreError::Body(e), too_long)),
        }
    }
}

fn too_long(_: u64) -> ApiError {
    ApiError::new(
        ErrorKind::RequestSizeMismatch,
        "The body is longer than the Content-Range",
    )
}

/// An upload onto a taken range: the same bytes answer 200 with the stored
/// part (a retry whose first answer was lost), different bytes answer 416.
fn settle(existing: PartRecord, sha1: &str) -> ApiResult<UploadedPart> {
    if existing.sha1 == sha1 {
        Ok(UploadedPart {
            part: render::part(&existing),
        })
    } else {
        Err(overlap_error(&existing))
    }
}

/// A part's id: 8 uppercase hex digits like Box's, distinct for every index
/// of a session (an odd multiplier makes `index -> id` a bijection of u32),
/// and scattered per session by a base drawn from the session id.
pub(crate) fn part_id_for(session_id: &SessionId, index: u32) -> String {
    use sha1::Digest as _;
    let digest = sha1::Sha1::digest(session_id.as_str().as_bytes());
    let base = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    format!("{:08X}", base.wrapping_add(index.wrapping_mul(0x9E37_79B9)))
}
