//! The hash frontier: a rolling SHA-1 over the longest contiguous prefix of
//! finished parts, persisted at each part boundary.
//!
//! Why: commit must check the whole-file SHA-1, and re-reading a 50 GB file
//! at commit takes minutes while the SDKs give up after 60 s. Instead, the
//! request that stores a part moves the frontier over every stored part
//! contiguous with it before answering, and the midstate is saved with a
//! compare-and-set in the metadata store. Any replica, or this one after a
//! restart, continues from the saved state. Once the last part's answer is
//! out the frontier stands at the end of the file, so a commit hashes
//! nothing and its latency stays flat as files grow and as load rises (a
//! background task did this before; under load it fell behind, and commits
//! waited for it).
//!
//! Reading a part back is the fallback: a part that arrived in order was
//! hashed as it streamed in, and one that arrived ahead of the frontier is
//! usually still in memory (`recent_parts.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use boxup_protocol::Sha1Digest;
use futures::TryStreamExt;
use sha1::digest::common::hazmat::{SerializableState, SerializedState};
use sha1::{Digest, Sha1};

use super::UploadService;
use crate::error::Chain;
use crate::store::{Frontier, SessionId, SessionRecord, SessionState, StoreError, StoreResult};

/// Per-session async locks, so one process hashes each session once at a
/// time. Across replicas the store's compare-and-set keeps it correct.
#[derive(Default)]
pub struct FrontierLocks {
    map: Mutex<HashMap<SessionId, Weak<tokio::sync::Mutex<()>>>>,
}

impl FrontierLocks {
    fn get(&self, session_id: &SessionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(lock) = map.get(session_id).and_then(Weak::upgrade) {
            return lock;
        }
        if map.len() >= 1024 {
            map.retain(|_, w| w.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        map.insert(session_id.clone(), Arc::downgrade(&lock));
        lock
    }
}

pub(super) fn restore(frontier: &Frontier) -> StoreResult<Sha1> {
    if frontier.offset == 0 {
        return Ok(Sha1::new());
    }
    let state = SerializedState::<Sha1>::try_from(frontier.state.as_slice())
        .map_err(|_| StoreError::backend("stored SHA-1 midstate has the wrong size"))?;
    Sha1::deserialize(&state).map_err(|_| StoreError::backend("stored SHA-1 midstate is invalid"))
}

impl UploadService {
    /// Holds this process's frontier lock of a session: while held, no
    /// advancer here reads or moves its frontier.
    pub(super) async fn hold_frontier(
        &self,
        session_id: &SessionId,
    ) -> tokio::sync::OwnedMutexGuard<()> {
        self.frontier_locks.get(session_id).lock_owned().await
    }

    /// Advances the frontier after a part lands. A failure does not fail
    /// the part, which is stored: the frontier is recomputable, and the
    /// next part or the commit tries again.
    pub(crate) async fn advance_frontier_after_put(&self, session_id: &SessionId) {
        match self.advance_frontier(session_id).await {
            Ok(_) => {}
            // Aborted (or expired and forgotten) meanwhile, perhaps on
            // another replica: nothing is left to hash.
            Err(StoreError::NotFound) => {
                tracing::debug!(session = %session_id, "session gone before its frontier moved");
            }
            Err(e) => {
                tracing::warn!(session = %session_id, error = %Chain(&e), "frontier stalled")
            }
        }
    }

    /// Hashes every finished part contiguous with the frontier and returns
    /// the session as it then stands.
    pub(crate) async fn advance_frontier(
        &self,
        session_id: &SessionId,
    ) -> StoreResult<SessionRecord> {
        let lock = self.frontier_locks.get(session_id);
        let _guard = lock.lock().await;
        loop {
            let (session, part) = self
                .meta
                .frontier_step(session_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            let from = session.frontier.offset;
            if session.state != SessionState::Open || from >= session.file_size {
                return Ok(session);
            }
            let Some(part) = part else {
                return Ok(session);
            };
            if part.offset != from {
                return Err(StoreError::backend(format!(
                    "session {session_id}: frontier at {from} but part {} starts at {}",
                    part.index, part.offset
                )));
            }
            let mut hasher = restore(&session.frontier)?;
            let mut hashed = 0u64;
            if let Some(chunks) = self.recent_parts.take(&part.object_key) {
                for chunk in chunks {
                    hashed += chunk.len() as u64;
                    hasher.update(&chunk);
                }
            } else {
                self.metrics.frontier_readback();
                let mut body = self.parts.get(&part.object_key, 0..part.size).await?;
                while let Some(chunk) = body.try_next().await.map_err(|e| {
                    StoreError::backend_context(format!("reading {}", part.object_key), e)
                })? {
                    hashed += chunk.len() as u64;
                    hasher.update(&chunk);
                }
            }
            if hashed != part.size {
                return Err(StoreError::backend(format!(
                    "object {} holds {hashed} bytes, its part row says {}",
                    part.object_key, part.size
                )));
            }
            let next = Frontier {
                offset: from + part.size,
                state: hasher.serialize().to_vec(),
            };
            // false: another advancer moved it first; reload and go on.
            self.meta.advance_frontier(session_id, from, &next).await?;
        }
    }

    /// Brings the frontier to the end of the file and returns the SHA-1 of
    /// the whole file, or `None` if a part is still missing.
    /// `session` is the session as just loaded: a frontier already at the
    /// end needs no lock and no query.
    pub(crate) async fn whole_file_sha1(
        &self,
        session: &SessionRecord,
    ) -> StoreResult<Option<Sha1Digest>> {
        let advanced;
        let session = if session.frontier.offset == session.file_size {
            session
        } else {
            advanced = self.advance_frontier(&session.id).await?;
            &advanced
        };
        if session.frontier.offset != session.file_size {
            return Ok(None);
        }
        let hasher = restore(&session.frontier)?;
        Ok(Some(Sha1Digest(hasher.finalize().into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midstate_round_trip_matches_one_pass() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let mut a = Sha1::new();
        a.update(&data[..4096]);
        let saved = Frontier {
            offset: 4096,
            state: a.serialize().to_vec(),
        };
        let mut b = restore(&saved).unwrap();
        b.update(&data[4096..]);
        assert_eq!(Sha1Digest(b.finalize().into()), Sha1Digest::of(&data));
        let corrupt = Frontier {
            offset: 1,
            state: vec![1, 2, 3],
        };
        assert!(restore(&corrupt).is_err());
    }
}
