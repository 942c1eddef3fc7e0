//! The two headers of a part upload: `Content-Range` and `Digest`.
//!
//! `Digest` follows RFC 3230: a comma-separated list of `algorithm=value`
//! entries whose algorithm token is case-insensitive (`sha=` from the gen
//! SDKs, `SHA=` from the legacy ones). Only SHA-1 is meaningful, so parsing
//! picks the `sha` entry and requires 20 bytes of standard padded base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

/// Why a `Content-Range` or `Digest` header value (or a hex SHA-1) was
/// rejected. A server maps each to its own error code, so they stay apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Not `bytes FIRST-LAST/TOTAL` with decimal numbers.
    #[error("Content-Range must look like 'bytes FIRST-LAST/TOTAL'")]
    BadContentRange,
    /// Well formed but empty or inverted (`FIRST > LAST`), such as the
    /// empty last chunk `bytes N-(N-1)/N` old SDKs sent: unsatisfiable
    /// rather than malformed.
    #[error("Content-Range 'bytes {first}-{last}/{total}' is empty: FIRST must be <= LAST")]
    EmptyContentRange {
        /// The first byte as sent.
        first: u64,
        /// The last byte as sent, below `first`.
        last: u64,
        /// The total as sent.
        total: u64,
    },
    /// No `sha=` entry, or one that is not 20 bytes of base64.
    #[error("Digest must hold a 'sha=' entry with the base64 of a 20-byte SHA-1")]
    BadDigest,
    /// Not 40 hexadecimal characters.
    #[error("a SHA-1 must be 40 hexadecimal characters")]
    BadSha1Hex,
}

/// `Content-Range: bytes FIRST-LAST/TOTAL` with inclusive bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// Offset of the first byte.
    pub first: u64,
    /// Offset of the last byte (inclusive, so never below `first`).
    pub last: u64,
    /// Size of the whole file.
    pub total: u64,
}

impl ContentRange {
    /// The range of a part of `len` bytes at `offset` in a file of `total`.
    /// `len` must be positive. Whether the range fits in `total` is the
    /// caller's rule to check (a server answers 416, not 400, for that).
    pub fn for_part(offset: u64, len: u64, total: u64) -> Self {
        debug_assert!(len > 0);
        ContentRange {
            first: offset,
            last: offset + len - 1,
            total,
        }
    }

    /// Number of bytes in the range (never 0: `parse` rejects empty ones).
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Always `false`: a `ContentRange` holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Parses a header value. Tolerates `bytes=` for `bytes ` and spaces
    /// around the numbers; an inverted range is
    /// [`HeaderError::EmptyContentRange`], anything else malformed
    /// [`HeaderError::BadContentRange`].
    pub fn parse(value: &str) -> Result<Self, HeaderError> {
        let rest = value
            .trim()
            .strip_prefix("bytes")
            .ok_or(HeaderError::BadContentRange)?;
        let rest = rest
            .strip_prefix([' ', '='])
            .ok_or(HeaderError::BadContentRange)?;
        let (range, total) = rest
            .trim()
            .split_once('/')
            .ok_or(HeaderError::BadContentRange)?;
        let (first, last) = range.split_once('-').ok_or(HeaderError::BadContentRange)?;
        let num = |s: &str| {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HeaderError::BadContentRange);
            }
            s.parse::<u64>().map_err(|_| HeaderError::BadContentRange)
        };
        let (first, last, total) = (num(first)?, num(last)?, num(total)?);
        if first > last {
            return Err(HeaderError::EmptyContentRange { first, last, total });
        }
        Ok(ContentRange { first, last, total })
    }
}

impl fmt::Display for ContentRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bytes {}-{}/{}", self.first, self.last, self.total)
    }
}

/// A SHA-1 value, convertible between the wire's two spellings: lowercase
/// hex (JSON `sha1` fields) and base64 (the `Digest` header).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha1Digest(pub [u8; 20]);

impl Sha1Digest {
    /// SHA-1 of `data` in one call.
    pub fn of(data: &[u8]) -> Self {
        use sha1::Digest;
        Sha1Digest(sha1::Sha1::digest(data).into())
    }

    /// Parses the hex spelling (either case, surrounding spaces ignored).
    pub fn from_hex(hex_str: &str) -> Result<Self, HeaderError> {
        let mut out = [0u8; 20];
        hex::decode_to_slice(hex_str.trim(), &mut out).map_err(|_| HeaderError::BadSha1Hex)?;
        Ok(Sha1Digest(out))
    }

    /// Lowercase hex, as in JSON `sha1` fields.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Standard padded base64, as in the `Digest` header.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Parses a `Digest` header value and returns its SHA-1.
    pub fn from_digest_header(value: &str) -> Result<Self, HeaderError> {
        for entry in value.split(',') {
            let Some((alg, b64)) = entry.trim().split_once('=') else {
                continue;
            };
            if !alg.trim().eq_ignore_ascii_case("sha") {
                continue;
            }
            let bytes = STANDARD
                .decode(b64.trim())
                .map_err(|_| HeaderError::BadDigest)?;
            let arr: [u8; 20] = bytes.try_into().map_err(|_| HeaderError::BadDigest)?;
            return Ok(Sha1Digest(arr));
        }
        Err(HeaderError::BadDigest)
    }

    /// The `Digest` header value for this SHA-1 (`sha=<base64>`).
    pub fn to_digest_header(&self) -> String {
        format!("sha={}", self.to_base64())
    }
}

impl fmt::Debug for Sha1Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha1Digest({})", self.to_hex())
    }
}

impl fmt::Display for Sha1Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_round_trip_and_rejects() {
        let r = ContentRange::parse("bytes 8388608-16777215/20971520").unwrap();
        assert_eq!(
            (r.first, r.last, r.total, r.len()),
            (8388608, 16777215, 20971520, 8388608)
        );
        assert_eq!(r.to_string(), "bytes 8388608-16777215/20971520");
        for bad in [
            "",
            "bytes -1-3/10",
            "bytes 0-3",
            "items 0-3/10",
            "bytes 0-x/10",
            "bytes 0-3/",
            "bytes0-3/10",
        ] {
            assert_eq!(
                ContentRange::parse(bad),
                Err(HeaderError::BadContentRange),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_empty_range_is_well_formed_but_empty() {
        assert_eq!(
            ContentRange::parse("bytes 10-9/10"),
            Err(HeaderError::EmptyContentRange {
                first: 10,
                last: 9,
                total: 10
            })
        );
    }

    #[test]
    fn digest_spec_examples() {
        // The check values of docs/protocol.md §4.14.
        let d = Sha1Digest::from_digest_header("sha=fpRyg5eVQletdZqEKaFlqwBXJzM=").unwrap();
        assert_eq!(d.to_hex(), "7e94728397954257ad759a8429a165ab00572733");
        assert_eq!(
            Sha1Digest::of(b"").to_base64(),
            "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
        );
        let abc = Sha1Digest::of(b"abc");
        assert_eq!(abc.to_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(abc.to_digest_header(), "sha=qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    }

    #[test]
    fn digest_algorithm_is_case_insensitive_and_listed() {
        let upper = Sha1Digest::from_digest_header("SHA=qZk+NkcGgWq6PiVxeFDCbJzQ2J0=").unwrap();
        let listed =
            Sha1Digest::from_digest_header("md5=abc, sha=qZk+NkcGgWq6PiVxeFDCbJzQ2J0=").unwrap();
        assert_eq!(upper, listed);
        assert!(Sha1Digest::from_digest_header("md5=abc").is_err());
        assert!(Sha1Digest::from_digest_header("sha=AAAA").is_err());
        assert!(Sha1Digest::from_digest_header("sha=***").is_err());
    }

    #[test]
    fn hex_round_trip() {
        let d = Sha1Digest::from_hex("A9993E364706816ABA3E25717850C26C9CD0D89D").unwrap();
        assert_eq!(d.to_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert!(Sha1Digest::from_hex("abc").is_err());
    }
}
