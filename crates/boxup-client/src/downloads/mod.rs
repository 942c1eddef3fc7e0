//! Downloads: `GET {base_url}/2.0/files/{id}/content`, streamed, from any
//! byte offset (`Range: bytes=N-`), named after the official SDKs'
//! `DownloadsManager`. This file holds the single request; `resume.rs`
//! the resumable, verified whole-file download.
//!
//! The body is never buffered whole, so this does not go through the
//! client's buffered `send`; it reuses its token provider, connection pool
//! and retry policy. [`DownloadsManager::download_file_to`] is the resumable
//! form: it hashes the bytes a caller already has, asks only for the rest,
//! re-requests from the current offset when a connection breaks mid-body
//! (the same retry budget as every other call, reset by progress), and
//! checks the whole file's SHA-1 against the file's `sha1`.

mod resume;

pub use resume::{DownloadOptions, Downloaded};

use std::time::Duration;

use backon::BackoffBuilder;
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, HeaderMap, RANGE};

use crate::client::BoxClient;
use crate::error::{Error, Result};
use crate::http::parse_retry_after;

impl BoxClient {
    /// File downloads.
    pub fn downloads(&self) -> DownloadsManager {
        DownloadsManager {
            client: self.clone(),
        }
    }
}

/// Downloads, from [`BoxClient::downloads`].
#[derive(Debug, Clone)]
pub struct DownloadsManager {
    client: BoxClient,
}

/// One streaming answer to a content `GET`.
#[derive(Debug)]
pub struct FileContent {
    /// The whole file's size.
    pub total_size: u64,
    /// The file offset of this answer's first byte.
    pub offset: u64,
    /// The `ETag` header, if any.
    pub etag: Option<String>,
    request: String,
    response: reqwest::Response,
}

impl FileContent {
    /// The next piece of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        self.response.chunk().await.map_err(|source| Error::Http {
            request: self.request.clone(),
            source,
        })
    }
}

impl DownloadsManager {
    /// `GET {base_url}/2.0/files/{file_id}/content`, with
    /// `Range: bytes={offset}-` when `offset > 0`. The request is retried
    /// like any other; the body is then read with [`FileContent::chunk`].
    /// Redirects (Box answers 302 to its download host) are followed.
    pub async fn download_file(
        &self,
        file_id: &str,
        offset: u64,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<FileContent> {
        let mut delays = self.client.inner.retry.backoff().build();
        loop {
            match self.open(file_id, offset, extra_headers).await {
                Ok(content) => return Ok(content),
                Err(e) if retryable(&e) => match delays.next() {
                    Some(d) => tokio::time::sleep(self.delay(&e, d)).await,
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }

    fn delay(&self, e: &Error, computed: Duration) -> Duration {
        let cap = self.client.inner.retry.max_retry_after;
        e.retry_after().map_or(computed, |ra| ra.min(cap))
    }

    /// One attempt: the request and its status line.
    async fn open(
        &self,
        file_id: &str,
        offset: u64,
        extra: Option<&HeaderMap>,
    ) -> Result<FileContent> {
        let url = self.client.api_endpoint(&["files", file_id, "content"])?;
        let request = format!("GET {url}");
        let token = self.client.inner.auth.token().await?;
        let mut builder = self.client.inner.http.get(url).bearer_auth(token);
        if offset > 0 {
            builder = builder.header(RANGE, format!("bytes={offset}-"));
        }
        if let Some(extra) = extra {
            builder = builder.headers(extra.clone());
        }
        let http = |source| Error::Http {
            request: request.clone(),
            source,
        };
        let response = builder.send().await.map_err(http)?;
        let status = response.status();
        let headers = response.headers();
        let etag = header(headers, ETAG).map(str::to_owned);
        let length = header(headers, CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
        let (offset, total_size) = match status {
            StatusCode::PARTIAL_CONTENT => header(headers, CONTENT_RANGE)
                .and_then(parse_content_range)
                .ok_or_else(|| {
                    Error::Protocol(format!("{request}: a 206 without a valid Content-Range"))
                })?,
            StatusCode::OK => (0, length.unwrap_or(0)),
            _ => return Err(api_error(request, response).await),
        };
        Ok(FileContent {
            total_size,
            offset,
            etag,
            request,
            response,
        })
    }
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `bytes FIRST-LAST/TOTAL` to `(FIRST, TOTAL)`.
fn parse_content_range(v: &str) -> Option<(u64, u64)> {
    let (range, total) = v.trim().strip_prefix("bytes ")?.split_once('/')?;
    let first = range.split_once('-')?.0.trim().parse().ok()?;
    Some((first, total.trim().parse().ok()?))
}

/// What is worth another request here: [`Error::is_retryable`], plus 202
/// ("not ready yet, retry after") and a body that broke off mid-way, which
/// reqwest reports as a decode error (`Response::chunk` maps every body
/// read error to `Kind::Decode`, and this crate never lets reqwest decode).
fn retryable(e: &Error) -> bool {
    e.is_retryable()
        || e.status() == Some(202)
        || matches!(e, Error::Http { source, .. } if source.is_decode())
}

/// Box's error object from an error answer, or one made from its status
/// (the same rule as the buffered requests).
/// Box's error object from a failed response, built like every other call's.
async fn api_error(request: String, response: reqwest::Response) -> Error {
    let status = response.status();
    let retry_after = parse_retry_after(response.headers());
    let body = response.bytes().await.unwrap_or_default();
    crate::http::api_error(request, status, retry_after, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse() {
        assert_eq!(parse_content_range("bytes 5-9/10"), Some((5, 10)));
        assert_eq!(parse_content_range("bytes */10"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
    }
}
