//! What boxup signs: folder-listing markers and download links.
//!
//! Why signed, not stored: a marker or a download link must survive a
//! restart and work on any replica, yet a client must not be able to forge
//! one (a marker naming another user's folder, a link to another file, a
//! link whose expiry it extended). An HMAC-SHA256 over every field, under a
//! key all replicas share, gives both without a table: the token carries
//! its own fields, and a token whose MAC does not verify is refused.
//!
//! Each kind of token has its own domain string inside the MAC, so a
//! marker can never pass for a download link or the reverse.
//!
//! The download side is behind [`LinkSigner`]: boxup signs links it serves
//! itself; an object-store backend can hand out the store's own presigned
//! URLs instead.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::store::{FileId, FolderId, ItemCursor, UserId, VersionId};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of MAC kept in a token: 128 bits is far beyond guessing range.
const MAC_LEN: usize = 16;

/// The key every token is signed with. Its `Debug` never shows it.
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// A fresh random key (a single process; replicas must share one).
    pub fn random() -> Self {
        SigningKey(rand::random())
    }

    /// A key from its stored form: 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(SigningKey(bytes.try_into().ok()?))
    }

    /// The stored form: 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn mac(&self, domain: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    /// `payload` and its MAC, as URL-safe base64.
    fn seal(&self, domain: &str, payload: &[u8]) -> String {
        let tag = self.mac(domain, payload).finalize().into_bytes();
        let mut token = payload.to_vec();
        token.extend_from_slice(&tag[..MAC_LEN]);
        URL_SAFE_NO_PAD.encode(token)
    }

    /// The payload of a token sealed under `domain`, if its MAC verifies
    /// (compared in constant time).
    fn open(&self, domain: &str, token: &str) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        let split = raw.len().checked_sub(MAC_LEN)?;
        let (payload, tag) = raw.split_at(split);
        self.mac(domain, payload).verify_truncated_left(tag).ok()?;
        Some(payload.to_vec())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

const MARKER: &str = "boxup folder-items marker v1";
const DOWNLOAD: &str = "boxup download link v1";

/// Writes `u64`s and strings into a payload, length-prefixed so that no
/// two field lists encode alike.
#[derive(Default)]
struct Payload(Vec<u8>);

impl Payload {
    fn num(mut self, v: i64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn text(mut self, s: &str) -> Self {
        self.0.extend_from_slice(&(s.len() as u32).to_be_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self
    }
}

/// Reads back what [`Payload`] wrote.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn num(&mut self) -> Option<i64> {
        let (head, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(i64::from_be_bytes(*head))
    }
    fn text(&mut self) -> Option<String> {
        let (len, rest) = self.0.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*len) as usize;
        if rest.len() < len {
            return None;
        }
        let (text, rest) = rest.split_at(len);
        self.0 = rest;
        String::from_utf8(text.to_vec()).ok()
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// A marker: where the next page of `folder`'s items starts, for `user`.
pub(crate) fn seal_marker(
    key: &SigningKey,
    user: UserId,
    folder: FolderId,
    after: &ItemCursor,
) -> String {
    let payload = Payload::default()
        .num(user.0)
        .num(folder.0)
        .num(i64::from(after.is_file))
        .num(after.id)
        .text(&after.name_key)
        .text(&after.name);
    key.seal(MARKER, &payload.0)
}

/// The position a marker names, if it is genuine and was issued for this
/// user and folder.
pub(crate) fn open_marker(
    key: &SigningKey,
    user: UserId,
    folder: FolderId,
    marker: &str,
) -> Option<ItemCursor> {
    let payload = key.open(MARKER, marker)?;
    let mut r = Reader(&payload);
    let (u, f) = (r.num()?, r.num()?);
    let (is_file, id) = (r.num()?, r.num()?);
    let (name_key, name) = (r.text()?, r.text()?);
    (u == user.0 && f == folder.0 && r.done() && is_file <= 1).then_some(ItemCursor {
        is_file: is_file == 1,
        name_key,
        name,
        id,
    })
}

/// What a download link grants: one version of one file of one user,
/// from `not_before` until `expires_at` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadGrant {
    pub user: UserId,
    pub file: FileId,
    pub version: VersionId,
    pub not_before: i64,
    pub expires_at: i64,
}

/// Why a download link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefused {
    /// Not a link this server signed, or altered since.
    Invalid,
    /// Genuine, but outside its range of validity.
    Expired,
}

/// Hands out credential-free download URLs and checks the ones it made.
pub trait LinkSigner: Send + Sync {
    /// A URL that serves `grant` without a bearer token; `origin` is the
    /// base (scheme and host) the client reached this server at.
    fn url(&self, grant: &DownloadGrant, origin: &str) -> String;
    /// The grant behind a token this signer put in a URL, if it is
    /// genuine and valid at `now`.
    fn verify(&self, token: &str, now: i64) -> Result<DownloadGrant, LinkRefused>;
}

/// Links to boxup's own `GET /downloads/{token}`, signed with a
/// [`SigningKey`].
pub struct LocalLinkSigner {
    pub key: SigningKey,
}

impl LinkSigner for LocalLinkSigner {
    fn url(&self, grant: &DownloadGrant, origin: &str) -> String {
        let payload = Payload::default()
            .num(grant.user.0)
            .num(grant.file.0)
            .num(grant.version.0)
            .num(grant.not_before)
            .num(grant.expires_at);
        let token = self.key.seal(DOWNLOAD, &payload.0);
        format!("{origin}/downloads/{token}")
    }

    fn verify(&self, token: &str, now: i64) -> Result<DownloadGrant, LinkRefused> {
        let payload = self.key.open(DOWNLOAD, token).ok_or(LinkRefused::Invalid)?;
        let mut r = Reader(&payload);
        let mut field = || r.num().ok_or(LinkRefused::Invalid);
        let grant = DownloadGrant {
            user: UserId(field()?),
            file: FileId(field()?),
            version: VersionId(field()?),
            not_before: field()?,
            expires_at: field()?,
        };
        if !r.done() {
            return Err(LinkRefused::Invalid);
        }
        if now < grant.not_before || now >= grant.expires_at {
            return Err(LinkRefused::Expired);
        }
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> ItemCursor {
        ItemCursor {
            is_file: true,
            name_key: "a.txt".into(),
            name: "A.txt".into(),
            id: 123_456_789_012,
        }
    }

    #[test]
    fn markers_open_only_for_their_user_and_folder() {
        let key = SigningKey::random();
        let (u, f) = (UserId(1), FolderId(2));
        let marker = seal_marker(&key, u, f, &cursor());
        assert_eq!(open_marker(&key, u, f, &marker), Some(cursor()));
        assert_eq!(open_marker(&key, UserId(9), f, &marker), None);
        assert_eq!(open_marker(&key, u, FolderId(9), &marker), None);
        assert_eq!(open_marker(&SigningKey::random(), u, f, &marker), None);
        // Any flipped character breaks it.
        let mut bytes = marker.clone().into_bytes();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(open_marker(&key, u, f, &tampered), None);
        assert_eq!(open_marker(&key, u, f, "not base64!"), None);
        assert_eq!(open_marker(&key, u, f, ""), None);
    }

    #[test]
    fn download_links_expire_and_resist_tampering() {
        let signer = LocalLinkSigner {
            key: SigningKey::random(),
        };
        let grant = DownloadGrant {
            user: UserId(1),
            file: FileId(2),
            version: VersionId(3),
            not_before: 100,
            expires_at: 400,
        };
        let url = signer.url(&grant, "https://h");
        let token = url.strip_prefix("https://h/downloads/").unwrap();
        assert_eq!(signer.verify(token, 100), Ok(grant));
        assert_eq!(signer.verify(token, 399), Ok(grant));
        assert_eq!(signer.verify(token, 400), Err(LinkRefused::Expired));
        assert_eq!(signer.verify(token, 99), Err(LinkRefused::Expired));
        let other = LocalLinkSigner {
            key: SigningKey::random(),
        };
        assert_eq!(other.verify(token, 200), Err(LinkRefused::Invalid));
        // A marker is not a download link, even under the same key.
        let marker = seal_marker(&signer.key, UserId(1), FolderId(2), &cursor());
        assert_eq!(signer.verify(&marker, 200), Err(LinkRefused::Invalid));
    }

    #[test]
    fn keys_round_trip_and_hide() {
        let key = SigningKey::random();
        assert_eq!(SigningKey::from_hex(&key.to_hex()).unwrap().0, key.0);
        assert!(SigningKey::from_hex("abc").is_none());
        assert_eq!(format!("{key:?}"), "SigningKey(..)");
    }
}
