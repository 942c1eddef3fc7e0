//! The state directory: one small JSON file per in-flight transfer, so a
//! re-run of the same command continues it after Ctrl-C, a crash or a
//! network failure.
//!
//! - `uploads/KEY.json`: an upload session, written (temp file, fsync,
//!   rename) the moment the session exists and removed after the commit.
//!   KEY hashes what makes two commands "the same upload": the canonical
//!   path, the destination (folder or new version of a file), the upload
//!   URL and the name. The file's size and mtime are stored, not hashed:
//!   a re-run that finds them changed knows the old session is stale and
//!   discards it instead of leaving it behind under another key.
//! - `downloads/KEY.json`: which file (id, sha1, size) a `PATH.part`
//!   belongs to, KEY hashing the output path. A partial download is only
//!   continued if the file on the server is still that one.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boxup_client::{SessionEndpoints, Sha1Digest, UploadSession};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Where an upload goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Target {
    /// A new file in this folder.
    Folder(String),
    /// A new version of this file.
    NewVersion(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Folder(id) => write!(f, "folder {id}"),
            Target::NewVersion(id) => write!(f, "new version of file {id}"),
        }
    }
}

/// One in-flight upload session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UploadEntry {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
    pub name: String,
    pub target: Target,
    pub upload_url: String,
    pub session_id: String,
    #[serde(default)]
    pub session_endpoints: Option<SessionEndpoints>,
    #[serde(default)]
    pub part_size: Option<u64>,
    #[serde(default)]
    pub total_parts: Option<u32>,
    #[serde(default)]
    pub session_expires_at: Option<String>,
}

impl UploadEntry {
    pub(crate) fn with_session(&self, s: &UploadSession) -> UploadEntry {
        UploadEntry {
            session_id: s.id.clone(),
            session_endpoints: s.session_endpoints.clone(),
            part_size: s.part_size,
            total_parts: s.total_parts,
            session_expires_at: s.session_expires_at.clone(),
            ..self.clone()
        }
    }

    /// The session's status URL when the server gave one, else its id.
    pub(crate) fn session_ref(&self) -> String {
        self.session_endpoints
            .as_ref()
            .and_then(|e| e.status.clone())
            .unwrap_or_else(|| self.session_id.clone())
    }
}

/// The partial download behind a `PATH.part`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DownloadEntry {
    pub file_id: String,
    pub sha1: Option<String>,
    pub size: u64,
    pub path: PathBuf,
}

/// One kind of entry (`uploads` or `downloads`) in the state directory.
#[derive(Debug, Clone)]
pub(crate) struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub(crate) fn uploads(state_dir: &Path) -> Journal {
        Journal {
            dir: state_dir.join("uploads"),
        }
    }

    pub(crate) fn downloads(state_dir: &Path) -> Journal {
        Journal {
            dir: state_dir.join("downloads"),
        }
    }

    /// The key of an upload: a hash of what identifies the command.
    pub(crate) fn upload_key(path: &Path, target: &Target, upload_url: &str, name: &str) -> String {
        let target = serde_json::to_string(target).expect("targets serialise");
        key_of(&[&path.to_string_lossy(), &target, upload_url, name])
    }

    pub(crate) fn download_key(path: &Path) -> String {
        key_of(&[&path.to_string_lossy()])
    }

    fn file(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The entry under `key`; an unreadable one is reported and ignored.
    pub(crate) fn load<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let path = self.file(key);
        let text = std::fs::read(&path).ok()?;
        match serde_json::from_slice(&text) {
            Ok(entry) => Some(entry),
            Err(e) => {
                super::common::errln!("boxup: ignoring unreadable journal {}: {e}", path.display());
                None
            }
        }
    }

    /// Writes `entry` atomically: a reader sees the old or the new one.
    pub(crate) fn save<T: Serialize>(&self, key: &str, entry: &T) -> anyhow::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let path = self.file(key);
        let tmp = self
            .dir
            .join(format!("{key}.json.{}.tmp", std::process::id()));
        let data = serde_json::to_vec_pretty(entry).expect("entries serialise");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&data)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().with_context(|| format!("cannot write the journal {}", path.display()))
    }

    pub(crate) fn remove(&self, key: &str) {
        let _ = std::fs::remove_file(self.file(key));
    }

    /// Every readable entry, with its key, sorted by key.
    pub(crate) fn all<T: DeserializeOwned>(&self) -> Vec<(String, T)> {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<(String, T)> = dir
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let key = name.strip_suffix(".json")?.to_owned();
                Some((key.clone(), self.load(&key)?))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl Journal {
    /// The upload entries naming `session` (an id or a status URL).
    pub(crate) fn find_session(&self, session: &str) -> Vec<(String, UploadEntry)> {
        self.all::<UploadEntry>()
            .into_iter()
            .filter(|(_, e)| e.session_id == session || e.session_ref() == session)
            .collect()
    }
}

fn key_of(fields: &[&str]) -> String {
    let joined = fields.join("\0");
    let hex = Sha1Digest::of(format!("v1\0{joined}").as_bytes()).to_hex();
    hex[..24].to_owned()
}

/// A file's size and modification time (ns since the epoch).
pub(crate) fn stat(path: &Path) -> std::io::Result<(u64, u64)> {
    let meta = std::fs::metadata(path)?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    Ok((meta.len(), mtime))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> UploadEntry {
        UploadEntry {
            path: "/data/big.iso".into(),
            size: 10,
            mtime_ns: 5,
            name: "big.iso".into(),
            target: Target::Folder("0".into()),
            upload_url: "http://h/api".into(),
            session_id: "S1".into(),
            session_endpoints: Some(SessionEndpoints::under("http://h/api/2.0", "S1")),
            part_size: Some(4),
            total_parts: Some(3),
            session_expires_at: None,
        }
    }

    #[test]
    fn entries_round_trip_and_are_found_by_session() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::uploads(dir.path());
        let key = Journal::upload_key(
            Path::new("/data/big.iso"),
            &Target::Folder("0".into()),
            "u",
            "n",
        );
        assert_eq!(j.load::<UploadEntry>(&key), None);
        j.save(&key, &entry()).unwrap();
        assert_eq!(j.load::<UploadEntry>(&key), Some(entry()));
        assert_eq!(j.find_session("S1").len(), 1);
        let status = "http://h/api/2.0/files/upload_sessions/S1";
        assert_eq!(j.find_session(status).len(), 1);
        assert_eq!(j.find_session("S2").len(), 0);
        j.remove(&key);
        assert!(j.all::<UploadEntry>().is_empty());
    }

    #[test]
    fn keys_separate_destinations_and_names() {
        let p = Path::new("/a");
        let f0 = Target::Folder("0".into());
        let k = Journal::upload_key(p, &f0, "u", "n");
        assert_eq!(k.len(), 24);
        assert_ne!(
            k,
            Journal::upload_key(p, &Target::NewVersion("0".into()), "u", "n")
        );
        assert_ne!(k, Journal::upload_key(p, &f0, "u", "m"));
        assert_ne!(k, Journal::upload_key(p, &f0, "v", "n"));
    }
}
