//! Tokens that need no metadata store: those given to `boxup serve` on the
//! command line or in a tokens file (for development and tests), and the
//! development token generated into the data directory when none is given.

use std::path::Path;

use super::{DEV_TOKEN_FILE, DEV_USER, secrets};

/// Reads `dev-token` from the data directory, or writes a new random one
/// (readable by the owner only).
pub(super) fn load_or_create_dev_token(dir: &Path) -> std::io::Result<String> {
    secrets::load_or_create(dir, DEV_TOKEN_FILE, || {
        hex::encode(rand::random::<[u8; 24]>())
    })
}

/// Parses a tokens file: one `TOKEN USER` or `TOKEN=USER` per line; blank
/// lines and `#` comments are skipped. A bare token maps to the dev user.
pub fn parse_tokens(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(parse_token_spec(line).map_err(|e| format!("line {}: {e}", n + 1))?);
    }
    Ok(out)
}

/// `TOKEN`, `TOKEN=USER` or `TOKEN USER`.
pub fn parse_token_spec(spec: &str) -> Result<(String, String), String> {
    let spec = spec.trim();
    let (token, user) = spec
        .split_once('=')
        .or_else(|| spec.split_once(char::is_whitespace))
        .map(|(t, u)| (t.trim(), u.trim()))
        .unwrap_or((spec, DEV_USER));
    if token.is_empty() || user.is_empty() || token.contains(char::is_whitespace) {
        return Err(format!("'{spec}' is not TOKEN or TOKEN=USER"));
    }
    Ok((token.to_owned(), user.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_specs() {
        assert_eq!(
            parse_token_spec("abc=alice").unwrap(),
            ("abc".into(), "alice".into())
        );
        assert_eq!(
            parse_token_spec("abc bob").unwrap(),
            ("abc".into(), "bob".into())
        );
        assert_eq!(
            parse_token_spec("abc").unwrap(),
            ("abc".into(), DEV_USER.into())
        );
        assert!(parse_token_spec("=x").is_err());
        let parsed = parse_tokens("# comment\n\nt1=u1\nt2 u2\n").unwrap();
        assert_eq!(parsed.len(), 2);
        assert!(
            parse_tokens("ok=u\n=bad")
                .unwrap_err()
                .starts_with("line 2")
        );
    }

    #[test]
    fn dev_token_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_dev_token(dir.path()).unwrap();
        let b = load_or_create_dev_token(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 48);
    }
}
