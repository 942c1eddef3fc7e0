//! Finishing a whole-file upload: checking the parts a session already
//! lists against the part grid, then listing and committing until real
//! Box's short listings and transient `parts_mismatch` refusals settle,
//! and recognising the file a lost commit attempt created.

use std::collections::HashMap;

use boxup_protocol::{ErrorCode, File, Sha1Digest};
use serde_json::Value;

use super::Endpoints;
use crate::chunked::pipeline::{Outcome, Plan};
use crate::chunked::{ChunkedUploadsManager, UploadOptions};
use crate::error::{Error, Result};

impl ChunkedUploadsManager {
    /// The parts already on the server, by part index, each on the grid.
    pub(super) async fn listed_parts(
        &self,
        endpoints: &Endpoints,
        plan: &Plan,
    ) -> Result<HashMap<u64, boxup_protocol::UploadPart>> {
        let mut existing = HashMap::new();
        for part in self.list_all_parts(&endpoints.list_parts).await? {
            let index = part.offset / plan.part_size;
            let on_grid = part.offset % plan.part_size == 0
                && index < plan.total_parts
                && part.size == plan.part_len(index);
            if !on_grid {
                return Err(Error::ResumeMismatch {
                    part_id: part.part_id.clone(),
                    offset: part.offset,
                    remote_sha1: part.sha1.clone().unwrap_or_default(),
                    remote_size: part.size,
                    local_sha1: "(no part starts there locally)".into(),
                    local_size: if index < plan.total_parts {
                        plan.part_len(index)
                    } else {
                        0
                    },
                });
            }
            if existing.insert(index, part).is_some() {
                return Err(Error::Protocol(format!(
                    "the session lists two parts at part index {index}"
                )));
            }
        }
        Ok(existing)
    }

    /// Like the official SDKs: the session must list every part, then the
    /// commit carries them in offset order with the whole-file digest.
    ///
    /// A short listing, or a commit refused with 400 `parts_mismatch`, is
    /// what real Box may answer for a moment after the last part (docs/protocol.md
    /// §4.9): both are tried again, listing first, as many times as the
    /// client's retry policy allows, with its backoff. `file_name` (when
    /// known) is the name the commit creates, for [`lost_commit_conflict`].
    pub(super) async fn finish(
        &self,
        endpoints: &Endpoints,
        plan: &Plan,
        outcome: Outcome,
        file_name: Option<&str>,
        options: &UploadOptions,
    ) -> Result<File> {
        use backon::BackoffBuilder;
        let mut settle = self.client.inner.retry.backoff().build();
        let mut maybe_committed = false;
        let digest = outcome.sha1.to_digest_header();
        let files = loop {
            let listed = self.list_all_parts(&endpoints.list_parts).await?.len() as u64;
            if listed != plan.total_parts {
                if listed < plan.total_parts
                    && let Some(delay) = settle.next()
                {
                    tracing::warn!(
                        listed,
                        total_parts = plan.total_parts,
                        ?delay,
                        "the session does not list every part yet; listing again"
                    );
                    tokio::time::sleep(delay).await;
                    continue;
                }
                return Err(Error::Protocol(format!(
                    "after the upload the session lists {listed} parts; the file has {}",
                    plan.total_parts
                )));
            }
            let (result, maybe) = self
                .commit_tracked(
                    endpoints.commit.clone(),
                    &outcome.parts,
                    &digest,
                    &options.commit,
                )
                .await;
            maybe_committed |= maybe;
            match result {
                Ok(files) => break files,
                Err(e)
                    if e.status() == Some(400) && e.code() == Some(ErrorCode::PARTS_MISMATCH) =>
                {
                    let Some(delay) = settle.next() else {
                        return Err(e);
                    };
                    tracing::warn!(error = %e, ?delay, "commit refused for now; trying again");
                    tokio::time::sleep(delay).await;
                }
                Err(e) if maybe_committed => {
                    return lost_commit_conflict(&e, &outcome.sha1, file_name).unwrap_or(Err(e));
                }
                Err(e) => return Err(e),
            }
        };
        let file = files
            .entries
            .into_iter()
            .next()
            .ok_or_else(|| Error::Protocol("the commit answered with no file".into()))?;
        if let Some(sha1) = &file.sha1
            && !sha1.eq_ignore_ascii_case(&outcome.sha1.to_hex())
        {
            return Err(Error::Protocol(format!(
                "the committed file {} has sha1 {sha1}, but the source's is {}",
                file.id, outcome.sha1
            )));
        }
        Ok(file)
    }
}

/// The file a lost commit attempt created, when the retry's error says so.
///
/// Box does not document a repeated commit. After an attempt that may have
/// committed (its answer was lost), real Box may refuse the retry with 409
/// `item_name_in_use`, the conflict being the file that attempt created.
/// A conflict with the source's SHA-1 (and `name`, when known) is taken as
/// that file: its content is exactly the upload's. `None` when the error is
/// something else; an error when the conflict matches but is not a usable
/// file object.
fn lost_commit_conflict(e: &Error, sha1: &Sha1Digest, name: Option<&str>) -> Option<Result<File>> {
    if e.status() != Some(409) || e.code() != Some(ErrorCode::ITEM_NAME_IN_USE) {
        return None;
    }
    let conflicts = e.context_info()?.get("conflicts")?;
    let candidates: Vec<&Value> = match conflicts {
        Value::Array(all) => all.iter().collect(),
        one => vec![one],
    };
    let hex = sha1.to_hex();
    let ours = candidates.into_iter().find(|c| {
        let text = |key: &str| c.get(key).and_then(Value::as_str);
        text("sha1").is_some_and(|s| s.eq_ignore_ascii_case(&hex))
            && name.is_none_or(|n| text("name") == Some(n))
    })?;
    let file = serde_json::from_value::<File>(ours.clone()).map_err(|err| {
        Error::Protocol(format!(
            "the commit probably succeeded on an attempt whose answer was lost: the retry got \
             {e}, naming a file with the source's SHA-1, but that is not a usable file object ({err})"
        ))
    });
    if let Ok(f) = &file {
        tracing::info!(file = %f.id, "an earlier commit attempt created the file");
    }
    Some(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxup_protocol::BoxError;

    fn conflict(conflicts: Value) -> Error {
        let mut e = BoxError::new(
            409,
            "item_name_in_use",
            "Item with the same name already exists",
        );
        e.context_info = Some(serde_json::json!({ "conflicts": conflicts }));
        Error::Api {
            request: "POST u".into(),
            error: Box::new(e),
            retry_after: None,
        }
    }

    #[test]
    fn only_a_conflict_with_our_content_and_name_is_our_file() {
        let sha = Sha1Digest::of(b"content");
        let file = |sha1: &str, name: &str| serde_json::json!({"type": "file", "id": "42", "sha1": sha1, "name": name, "etag": "0"});
        let ours = conflict(file(&sha.to_hex().to_uppercase(), "a.bin"));
        let found = lost_commit_conflict(&ours, &sha, Some("a.bin"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (found.id.as_str(), found.name.as_deref()),
            ("42", Some("a.bin"))
        );
        assert!(lost_commit_conflict(&ours, &sha, None).unwrap().is_ok());
        // Another name, other content, another error: not ours.
        assert!(lost_commit_conflict(&ours, &sha, Some("b.bin")).is_none());
        let other = conflict(file(&Sha1Digest::of(b"other").to_hex(), "a.bin"));
        assert!(lost_commit_conflict(&other, &sha, Some("a.bin")).is_none());
        let mut not_409 = BoxError::new(400, "item_name_in_use", "m");
        not_409.context_info =
            Some(serde_json::json!({ "conflicts": file(&sha.to_hex(), "a.bin") }));
        let not_409 = Error::Api {
            request: "POST u".into(),
            error: Box::new(not_409),
            retry_after: None,
        };
        assert!(lost_commit_conflict(&not_409, &sha, None).is_none());
        // The array form is searched too.
        let listed = conflict(serde_json::json!([
            file("00", "a.bin"),
            file(&sha.to_hex(), "a.bin")
        ]));
        assert!(
            lost_commit_conflict(&listed, &sha, Some("a.bin"))
                .unwrap()
                .is_ok()
        );
        // Our content, but no id to return: a clear error, not a guess.
        let idless = conflict(serde_json::json!({"type": "file", "sha1": sha.to_hex()}));
        let err = lost_commit_conflict(&idless, &sha, None)
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("answer was lost"), "{err}");
    }
}
