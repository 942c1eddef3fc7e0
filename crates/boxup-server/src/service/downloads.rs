//! Downloads as Box does them (docs/protocol.md §5.4): the authenticated
//! `GET /files/{id}/content` answers 302 with a short-lived signed URL,
//! and that URL serves the bytes (with `Range`) to whoever holds it,
//! without a bearer token: browsers, download managers and `curl` can
//! fetch it, and clients such as the SDKs' `get_download_file_url` read
//! it from `Location`.

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
    pub async fn download_url(
        &self,
        caller: &Caller,
        id: &str,
        version: Option<&str>,
        origin: &Origin,
    ) -> ApiResult<String> {
        let version = version.map(parse_id).transpose()?;
        let (file, version) = self
            .file_version(caller.user.id, parse_id(id)?, version)
            .await?;
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
