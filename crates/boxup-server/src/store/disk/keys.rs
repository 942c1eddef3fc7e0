//! Object keys: which keys are valid (and so cannot escape `objects/`),
//! and the walk of `objects/` that lists the keys of old objects for the
//! orphan sweep.

use std::fs;
use std::io;
use std::path::Path;
use std::time::SystemTime;

use super::is_missing;
use crate::store::parts::is_valid_key;

/// Walks `objects` for files whose mtime is before `before`. Entries that
/// vanish during the walk (concurrent deletes) are skipped, and so are names
/// that are not valid keys (nothing the store wrote).
pub(super) fn list_older_than(objects: &Path, before: SystemTime) -> io::Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut dirs = vec![(objects.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = dirs.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) && !prefix.is_empty() => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let key = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if !is_valid_key(&key) {
                continue;
            }
            let file_type = match entry.file_type() {
                Ok(t) => t,
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(e),
            };
            if file_type.is_dir() {
                dirs.push((entry.path(), key));
            } else if file_type.is_file() {
                let modified = match entry.metadata() {
                    Ok(meta) => meta.modified()?,
                    Err(e) if is_missing(&e) => continue,
                    Err(e) => return Err(e),
                };
                if modified < before {
                    keys.push(key);
                }
            }
        }
    }
    keys.sort_unstable();
    Ok(keys)
}
