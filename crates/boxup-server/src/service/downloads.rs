//! Downloads as Box does them (docs/protocol.md §5.4): the authenticated
//! `GET /files/{id}/content` answers 302 with a short-lived signed URL,
//! and that URL serves the bytes (with `Range`) to whoever holds it,
//! without a bearer token: browsers, download managers and `curl` can
//! fetch it, and clients such as the SDKs' `get_download_file_url` read
//! it from `Location`.
//!
//! With an object store that hands out presigned URLs, a file that is one
//! object (a simple upload, or a session of one part) is redirected to the
//! store itself, so its bytes never pass through boxup; a file made of
//! several parts streams through the signed link as above. A presigned URL
//! keeps working until it expires (5 minutes), even if the file is deleted
//! meanwhile, until the sweeper deletes the object.

use boxup_protocol::ErrorKind;

use super::links::{DownloadGrant, LinkRefused};
use super::{Caller, Download, Origin, UploadService, now, parse_id};
use crate::error::{ApiError, ApiResult};

/// How long a download link works: long enough to start a big download
/// (which then streams for as long as it takes), short enough that a
/// leaked link soon stops working.
pub const DOWNLOAD_LINK_SECS: i64 = 300;
/// How far before its issue a link is already valid: a replica whose clock
/// runs slightly behind the issuer's still accepts it.
const CLOCK_SKEW_SECS: i64 = 30;

impl UploadService {
    /// `GET /files/{id}/content[?version=]`: where to download it from.
    ///
    /// With `presign` false the link is always boxup's own, never the
    /// object store's presigned URL: a HEAD request follows the redirect
    /// with HEAD, which a URL presigned for GET refuses, and a page reads
    /// the link it lands on (same origin, unlike the store).
    pub async fn download_url(
        &self,
        caller: &Caller,
        id: &str,
        version: Option<&str>,
        origin: &Origin,
        presign: bool,
    ) -> ApiResult<String> {
        let version = version.map(parse_id).transpose()?;
        let (file, version) = self
            .file_version(caller.user.id, parse_id(id)?, version)
            .await?;
        let objects = self.meta.version_objects(version.id).await?;
        if let ([object], true) = (objects.as_slice(), presign) {
            let expires_in = std::time::Duration::from_secs(DOWNLOAD_LINK_SECS as u64);
            let disposition = content_disposition(&file.name);
            if let Some(url) = self
                .parts
                .download_url(&object.key, expires_in, &disposition)
                .await?
            {
                return Ok(url);
            }
        }
        let issued = now();
        let grant = DownloadGrant {
            user: caller.user.id,
            file: file.id,
            version: version.id,
            not_before: issued - CLOCK_SKEW_SECS,
            expires_at: issued + DOWNLOAD_LINK_SECS,
        };
        Ok(self.keys.links.url(&grant, &origin.base))
    }

    /// `GET /downloads/{token}`: the bytes a download link grants. A link
    /// that is altered, expired or not this server's is 403 `forbidden`;
    /// one whose file or version is gone since is 404.
    pub async fn download_by_link(&self, token: &str, range: Option<&str>) -> ApiResult<Download> {
        let grant = self.keys.links.verify(token, now()).map_err(|e| match e {
            LinkRefused::Invalid => {
                ApiError::new(ErrorKind::Forbidden, "The download link is not valid")
            }
            LinkRefused::Expired => {
                ApiError::new(ErrorKind::Forbidden, "The download link has expired")
            }
        })?;
        let (file, version) = self
            .file_version(grant.user, grant.file, Some(grant.version))
            .await?;
        self.serve_version(file, version, range).await
    }
}

/// `Content-Disposition` for a download of `name`: the name is data,
/// percent-encoded (RFC 5987), never interpreted.
pub fn content_disposition(name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename*=UTF-8''{encoded}")
}
