//! Secrets a server keeps in its data directory: the development token
//! and the key that signs listing markers and download links.
//!
//! Each is created once, written to a temporary file readable by the
//! owner only, fsynced and renamed into place, so a crash never leaves a
//! half-written secret, and reused on every later start (markers and links
//! handed out before a restart keep working after it). Replicas sharing
//! one database must share one key: they point `--signing-key-file` at the
//! same file instead.

use std::io::Write;
use std::path::Path;

use crate::service::SigningKey;

/// The file in the data directory that holds the generated signing key.
pub const SIGNING_KEY_FILE: &str = "signing-key";

/// Reads the secret in `dir/name`, or writes `make()` there first.
pub(super) fn load_or_create(
    dir: &Path,
    name: &str,
    make: impl FnOnce() -> String,
) -> std::io::Result<String> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let secret = make();
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(secret.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(secret)
}

/// The signing key: from `file` if given (it must hold 64 hex digits),
/// else the data directory's, generated on first start.
pub(super) fn signing_key(dir: &Path, file: Option<&Path>) -> Result<SigningKey, String> {
    let (text, from) = match file {
        Some(file) => (
            std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read signing key file {}: {e}", file.display()))?,
            file.to_path_buf(),
        ),
        None => (
            load_or_create(dir, SIGNING_KEY_FILE, || SigningKey::random().to_hex())
                .map_err(|e| format!("cannot keep the signing key in {}: {e}", dir.display()))?,
            dir.join(SIGNING_KEY_FILE),
        ),
    };
    SigningKey::from_hex(&text).ok_or_else(|| {
        format!(
            "{} must hold a signing key of 64 hex digits (e.g. from `openssl rand -hex 32`)",
            from.display()
        )
    })
}
