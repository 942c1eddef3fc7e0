//! The upload pipeline behind `upload_big_file`, `upload_big_file_version`
//! and `resume_upload` (docs/design.md):
//!
//! ```text
//! source -> part buffers (at most parallelism + 1) -> SHA-1 per part and of
//!        the whole file, in the same pass, in order
//!        -> up to `parallelism` concurrent PUTs (retried by the client)
//!        -> each echo checked (sha1, offset, size)
//! ```
//!
//! Reading and hashing run in the caller's future; each part upload is a
//! task in a `JoinSet`, so dropping the future aborts them all. A buffer
//! permit is taken before a part is read and released when its upload
//! ends; a separate slot permit caps the PUTs in flight. Memory therefore
//! stays at `(parallelism + 1) × part_size` whatever the file size, while
//! the next part is already read when a slot frees.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use boxup_protocol::{ContentRange, Sha1Digest, UploadPart, UploadSession};
use bytes::{Bytes, BytesMut};
use reqwest::Url;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Semaphore;
use tokio::task::{JoinError, JoinSet};

use super::{ChunkedUploadsManager, UploadOptions};
use crate::error::{Error, Result};
use crate::progress::{PartMeter, Tracker};

/// What to upload into one session.
pub(crate) struct Plan {
    pub file_size: u64,
    pub part_size: u64,
    pub total_parts: u64,
    pub upload_url: Url,
    /// Parts already on the server, by part index (a resume).
    pub existing: HashMap<u64, UploadPart>,
}

/// The most parts a session may need. Box doubles its part size while a
/// file would need more than 10,000 parts, up to 128 MiB, so only files
/// over 1.28 TB need more than 10,000; a million parts of 128 MiB is over
/// 130 TB. A session needing more is a server's bad `part_size`, refused
/// before anything is read or allocated for it.
pub(crate) const MAX_PARTS: u64 = 1_000_000;

impl Plan {
    /// The part grid of `session` for a file of `file_size` bytes.
    pub(super) fn for_session(
        session: &UploadSession,
        file_size: u64,
        upload_url: Url,
    ) -> Result<Plan> {
        let part_size = session
            .part_size
            .filter(|p| *p > 0)
            .ok_or_else(|| Error::Protocol(format!("session {} has no part_size", session.id)))?;
        let total_parts = file_size.div_ceil(part_size);
        if let Some(t) = session.total_parts
            && u64::from(t) != total_parts
        {
            return Err(Error::InvalidInput(format!(
                "session {} has {t} parts of {part_size} bytes, but a file of {file_size} bytes has {total_parts}",
                session.id
            )));
        }
        if total_parts > MAX_PARTS {
            return Err(Error::Protocol(format!(
                "session {} has a part size of {part_size} bytes: a file of {file_size} bytes \
                 would need {total_parts} parts (at most {MAX_PARTS} are supported)",
                session.id
            )));
        }
        Ok(Plan {
            file_size,
            part_size,
            total_parts,
            upload_url,
            existing: HashMap::new(),
        })
    }

    /// The byte length of part `index`.
    pub(super) fn part_len(&self, index: u64) -> u64 {
        self.part_size.min(self.file_size - index * self.part_size)
    }
}

pub(crate) struct Outcome {
    /// Every part of the file, in offset order.
    pub parts: Vec<UploadPart>,
    /// SHA-1 of the whole source.
    pub sha1: Sha1Digest,
}

/// How long the end-of-source probe waits for the source to show its end
/// (or a byte too many) once the declared size is read. A file or a closed
/// pipe answers at once; a pipe or socket whose writer stays open never
/// does, and is then taken to hold exactly the declared size. The wait
/// overlaps the last parts' uploads.
const END_PROBE_WAIT: Duration = Duration::from_secs(1);

/// Reads `source` once, uploading every part not in `plan.existing` and
/// checking every part that is. Cancellation is the caller's: dropping this
/// future drops the part tasks (they live in its `JoinSet`).
pub(crate) async fn run<R>(
    mgr: &ChunkedUploadsManager,
    plan: &Plan,
    mut source: R,
    options: &UploadOptions,
) -> Result<Outcome>
where
    R: AsyncRead + Unpin + Send,
{
    let parallelism = options.parallelism();
    let buffers = Arc::new(Semaphore::new(parallelism + 1));
    let slots = Arc::new(Semaphore::new(parallelism));
    let tracker = Tracker::new(plan.file_size, options.progress.clone());
    let mut tasks: JoinSet<Result<UploadPart>> = JoinSet::new();
    let mut whole = Sha1::new();
    // Grows with the parts actually uploaded: never sized from the
    // server's numbers.
    let mut parts = Vec::new();

    for index in 0..plan.total_parts {
        let offset = index * plan.part_size;
        let len = plan.part_len(index);
        let buffer = loop {
            tokio::select! {
                biased;
                Some(done) = tasks.join_next() => parts.push(joined(done)?),
                permit = buffers.clone().acquire_owned() => {
                    break permit.expect("the buffer semaphore is never closed");
                }
            }
        };
        let (data, sha1) = read_part(&mut source, offset, len, plan.file_size, &mut whole).await?;
        if let Some(existing) = plan.existing.get(&index) {
            verify_existing(existing, offset, len, &sha1)?;
            tracker.add(len);
            parts.push(existing.clone());
            continue;
        }
        let job = PartJob {
            mgr: mgr.clone(),
            url: plan.upload_url.clone(),
            data,
            sha1,
            offset,
            file_size: plan.file_size,
            meter: PartMeter::new(tracker.clone()),
        };
        let slots = slots.clone();
        tasks.spawn(async move {
            let _slot = slots
                .acquire_owned()
                .await
                .expect("the slot semaphore is never closed");
            let _buffer = buffer;
            job.run().await
        });
    }
    // The end-of-source probe runs while the last parts go up.
    let probe = check_exhausted(&mut source, plan.file_size, END_PROBE_WAIT);
    let uploads = async {
        while let Some(done) = tasks.join_next().await {
            parts.push(joined(done)?);
        }
        Ok(())
    };
    futures::try_join!(probe, uploads)?;
    parts.sort_by_key(|p| p.offset);
    Ok(Outcome {
        parts,
        sha1: Sha1Digest(whole.finalize().into()),
    })
}

fn joined(done: std::result::Result<Result<UploadPart>, JoinError>) -> Result<UploadPart> {
    match done {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(Error::Cancelled),
    }
}

/// Reads exactly `len` bytes, feeding both hashes as the bytes arrive.
async fn read_part<R: AsyncRead + Unpin>(
    source: &mut R,
    offset: u64,
    len: u64,
    file_size: u64,
    whole: &mut Sha1,
) -> Result<(Bytes, Sha1Digest)> {
    let len = len as usize;
    let mut buf = BytesMut::with_capacity(len);
    let mut part = Sha1::new();
    while buf.len() < len {
        let start = buf.len();
        let n = (&mut *source)
            .take((len - start) as u64)
            .read_buf(&mut buf)
            .await
            .map_err(Error::Source)?;
        if n == 0 {
            return Err(Error::SourceTooShort {
                expected: file_size,
                actual: offset + start as u64,
            });
        }
        part.update(&buf[start..]);
        whole.update(&buf[start..]);
    }
    Ok((buf.freeze(), Sha1Digest(part.finalize().into())))
}

/// The source must end where the declared size says. Waits at most `wait`
/// for the source to show either its end or one more byte; a source that
/// shows neither (a pipe whose writer stays open) passes. A byte read here
/// is never dropped silently: it is the [`Error::SourceTooLong`]. A read
/// cut off by the timeout has taken nothing from the source.
async fn check_exhausted<R: AsyncRead + Unpin>(
    source: &mut R,
    file_size: u64,
    wait: Duration,
) -> Result<()> {
    let mut probe = [0u8; 1];
    match tokio::time::timeout(wait, source.read(&mut probe)).await {
        Err(_elapsed) => {
            tracing::debug!("the source did not end within {wait:?} of its declared size");
            Ok(())
        }
        Ok(read) => match read.map_err(Error::Source)? {
            0 => Ok(()),
            _ => Err(Error::SourceTooLong {
                expected: file_size,
            }),
        },
    }
}

/// A listed part must hold exactly the local bytes at its offset.
fn verify_existing(existing: &UploadPart, offset: u64, len: u64, local: &Sha1Digest) -> Result<()> {
    let remote = existing
        .sha1
        .as_deref()
        .and_then(|h| Sha1Digest::from_hex(h).ok());
    if existing.size == len && remote.as_ref() == Some(local) {
        return Ok(());
    }
    Err(Error::ResumeMismatch {
        part_id: existing.part_id.clone(),
        offset,
        remote_sha1: existing.sha1.clone().unwrap_or_else(|| "(none)".into()),
        remote_size: existing.size,
        local_sha1: local.to_hex(),
        local_size: len,
    })
}

struct PartJob {
    mgr: ChunkedUploadsManager,
    url: Url,
    data: Bytes,
    sha1: Sha1Digest,
    offset: u64,
    file_size: u64,
    meter: Arc<PartMeter>,
}

impl PartJob {
    async fn run(self) -> Result<UploadPart> {
        let len = self.data.len() as u64;
        let digest = self.sha1.to_digest_header();
        let range = ContentRange::for_part(self.offset, len, self.file_size).to_string();
        let sent = self
            .mgr
            .put_part(self.url, self.data, &digest, &range, None, Some(self.meter))
            .await;
        let part = match sent {
            Ok(uploaded) => uploaded.part,
            Err(e) => identical_conflict(&e, self.offset, len, &self.sha1).ok_or(e)?,
        };
        check_echo(&part, self.offset, len, &self.sha1)?;
        Ok(part)
    }
}

/// Real Box may answer a re-sent part (whose first answer was lost) with
/// 416 `range_overlaps_existing_part` naming the stored part. If that part
/// is ours byte for byte, the upload succeeded (as Box's Android app
/// treats it); anything else stays an error.
fn identical_conflict(e: &Error, offset: u64, len: u64, sha1: &Sha1Digest) -> Option<UploadPart> {
    if e.code() != Some(boxup_protocol::ErrorCode::RANGE_OVERLAPS) {
        return None;
    }
    let stored = e.context_info()?.get("conflicting_part")?;
    let part: UploadPart = serde_json::from_value(stored.clone()).ok()?;
    let same_sha = part
        .sha1
        .as_deref()
        .and_then(|h| Sha1Digest::from_hex(h).ok())
        == Some(*sha1);
    (part.offset == offset && part.size == len && same_sha).then_some(part)
}

/// The official SDKs' check of a part echo: same SHA-1, offset and size.
fn check_echo(part: &UploadPart, offset: u64, len: u64, sha1: &Sha1Digest) -> Result<()> {
    let echoed = part
        .sha1
        .as_deref()
        .and_then(|h| Sha1Digest::from_hex(h).ok());
    if echoed.as_ref() != Some(sha1) || part.offset != offset || part.size != len {
        return Err(Error::Protocol(format!(
            "part {} echoed offset {}, size {}, sha1 {:?}; sent offset {offset}, size {len}, sha1 {}",
            part.part_id,
            part.offset,
            part.size,
            part.sha1,
            sha1.to_hex()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
