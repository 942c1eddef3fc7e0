//! Uploading and listing parts.
//!
//! A part body is `Bytes`: retries re-send it without a copy. The caller
//! computes the `Digest` and `Content-Range` values, as with the official
//! SDKs; `boxup_protocol::{Sha1Digest, ContentRange}` produce both.

use std::sync::Arc;

use boxup_protocol::{UploadPart, UploadParts, UploadedPart};
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};

use super::ChunkedUploadsManager;
use crate::error::{Error, Result};
use crate::http::{Payload, Request};
use crate::progress::PartMeter;

/// The page size used to walk all parts (the protocol's maximum).
const LIST_PAGE: u64 = 1000;

impl ChunkedUploadsManager {
    /// `PUT` one part through the session's `session_endpoints.upload_part`
    /// URL. `digest` is `sha=<base64 SHA-1 of the part>`; `content_range`
    /// is `bytes FIRST-LAST/TOTAL`.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient, session: boxup_client::UploadSession, chunk: bytes::Bytes, file_size: u64) -> Result<(), boxup_client::Error> {
    /// use boxup_client::{ContentRange, Sha1Digest};
    /// let url = session.session_endpoints.unwrap().upload_part.unwrap();
    /// let digest = Sha1Digest::of(&chunk).to_digest_header();
    /// let range = ContentRange::for_part(0, chunk.len() as u64, file_size).to_string();
    /// let part = client
    ///     .chunked_uploads()
    ///     .upload_file_part_by_url(&url, chunk, &digest, &range, None)
    ///     .await?;
    /// println!("stored as {}", part.part.part_id);
    /// # Ok(()) }
    /// ```
    pub async fn upload_file_part_by_url(
        &self,
        url: &str,
        request_body: impl Into<Bytes>,
        digest: &str,
        content_range: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadedPart> {
        let url = self.url(url)?;
        self.put_part(
            url,
            request_body.into(),
            digest,
            content_range,
            extra_headers,
            None,
        )
        .await
    }

    /// `PUT {upload_url}/2.0/files/upload_sessions/{upload_session_id}`:
    /// one part, addressed by session id.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient, chunk: bytes::Bytes, file_size: u64) -> Result<(), boxup_client::Error> {
    /// use boxup_client::{ContentRange, Sha1Digest};
    /// let digest = Sha1Digest::of(&chunk).to_digest_header();
    /// let range = ContentRange::for_part(0, chunk.len() as u64, file_size).to_string();
    /// let part = client
    ///     .chunked_uploads()
    ///     .upload_file_part("F971964745A5CD0C001BBE4E58196BFD", chunk, &digest, &range, None)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_file_part(
        &self,
        upload_session_id: &str,
        request_body: impl Into<Bytes>,
        digest: &str,
        content_range: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadedPart> {
        let url = self.session_url(upload_session_id, None);
        self.put_part(
            url,
            request_body.into(),
            digest,
            content_range,
            extra_headers,
            None,
        )
        .await
    }

    pub(crate) async fn put_part(
        &self,
        url: Url,
        data: Bytes,
        digest: &str,
        content_range: &str,
        extra_headers: Option<&HeaderMap>,
        meter: Option<Arc<PartMeter>>,
    ) -> Result<UploadedPart> {
        let mut req = Request::new(Method::PUT, url, extra_headers)
            .header("digest", digest)?
            .header("content-range", content_range)?;
        req.payload = Payload::Part { data, meter };
        self.client.send(&req).await?.json("UploadedPart")
    }

    /// `GET` a page of the session's parts through its
    /// `session_endpoints.list_parts` URL. `offset` is an index into the
    /// list of parts (not a byte offset); entries come in byte order.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient, session: boxup_client::UploadSession) -> Result<(), boxup_client::Error> {
    /// let url = session.session_endpoints.unwrap().list_parts.unwrap();
    /// let page = client
    ///     .chunked_uploads()
    ///     .get_file_upload_session_parts_by_url(&url, Some(0), Some(100), None)
    ///     .await?;
    /// println!("{} parts uploaded", page.total_count);
    /// # Ok(()) }
    /// ```
    pub async fn get_file_upload_session_parts_by_url(
        &self,
        url: &str,
        offset: Option<u64>,
        limit: Option<u64>,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadParts> {
        self.list_parts(self.url(url)?, offset, limit, extra_headers)
            .await
    }

    /// `GET {upload_url}/2.0/files/upload_sessions/{upload_session_id}/parts`.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), boxup_client::Error> {
    /// let page = client
    ///     .chunked_uploads()
    ///     .get_file_upload_session_parts("F971964745A5CD0C001BBE4E58196BFD", None, None, None)
    ///     .await?;
    /// for part in &page.entries {
    ///     println!("{} at {}", part.part_id, part.offset);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_file_upload_session_parts(
        &self,
        upload_session_id: &str,
        offset: Option<u64>,
        limit: Option<u64>,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadParts> {
        let url = self.session_url(upload_session_id, Some("parts"));
        self.list_parts(url, offset, limit, extra_headers).await
    }

    async fn list_parts(
        &self,
        mut url: Url,
        offset: Option<u64>,
        limit: Option<u64>,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadParts> {
        if offset.is_some() || limit.is_some() {
            let mut q = url.query_pairs_mut();
            if let Some(o) = offset {
                q.append_pair("offset", &o.to_string());
            }
            if let Some(l) = limit {
                q.append_pair("limit", &l.to_string());
            }
        }
        let req = Request::new(Method::GET, url, extra_headers);
        self.client.send(&req).await?.json("UploadParts")
    }

    /// Every part of a session, walking all pages.
    pub(crate) async fn list_all_parts(&self, url: &Url) -> Result<Vec<UploadPart>> {
        let mut parts: Vec<UploadPart> = Vec::new();
        loop {
            let page = self
                .list_parts(url.clone(), Some(parts.len() as u64), Some(LIST_PAGE), None)
                .await?;
            let got = page.entries.len();
            parts.extend(page.entries);
            if got == 0 || parts.len() as u64 >= page.total_count {
                if (parts.len() as u64) < page.total_count {
                    return Err(Error::Protocol(format!(
                        "the parts list claims {} parts but its pages hold {}",
                        page.total_count,
                        parts.len()
                    )));
                }
                return Ok(parts);
            }
        }
    }
}
