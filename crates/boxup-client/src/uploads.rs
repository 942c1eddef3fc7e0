//! Direct (non-chunked) uploads: `POST {upload_url}/2.0/files/content` and
//! `POST {upload_url}/2.0/files/{id}/content`, named after the official
//! SDKs' `UploadsManager` (docs/protocol.md §5.5, §5.6).
//!
//! These are for files below the upload-session minimum (20,000,000 bytes
//! on Box), so the multipart body is built in memory, once: the source is
//! read straight into it after the `attributes` part, hashing as it goes.
//! Holding it as `Bytes` lets the client's one retry loop re-send it
//! without a copy, and the body is metered for progress like a part.
//! `Content-MD5` carries the SHA-1 (Box's convention) so the server checks
//! the bytes, and the returned file's `sha1` is checked against it too.

use boxup_protocol::{File, Files, ParentRef, Sha1Digest, UploadAttributes};
use bytes::{BufMut, BytesMut};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::client::BoxClient;
use crate::error::{Error, Result};
use crate::http::{Payload, Request};
use crate::progress::{PartMeter, Progress, ProgressFn, Tracker};

impl BoxClient {
    /// Direct (multipart) uploads of small files.
    pub fn uploads(&self) -> UploadsManager {
        UploadsManager {
            client: self.clone(),
        }
    }
}

/// Direct uploads, from [`BoxClient::uploads`].
#[derive(Debug, Clone)]
pub struct UploadsManager {
    client: BoxClient,
}

/// Options of a direct upload.
#[derive(Debug, Clone, Default)]
pub struct UploadFileOptions {
    /// Called with the file bytes sent so far (64 KiB steps).
    pub progress: Option<ProgressFn>,
    /// `content_modified_at` (RFC 3339) of the file.
    pub content_modified_at: Option<String>,
    /// New versions only: fail with 412 unless the file's etag is this.
    pub if_match: Option<String>,
}

impl UploadFileOptions {
    /// Sets [`progress`](Self::progress) from a closure.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressFn::new(f));
        self
    }
}

impl UploadsManager {
    /// Uploads `file_size` bytes of `file` as a new file `file_name` in
    /// folder `parent_folder_id`. A taken name is 409 `item_name_in_use`,
    /// whose `context_info.conflicts` names the existing file.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), boxup_client::Error> {
    /// use boxup_client::UploadFileOptions;
    /// let data = b"hello";
    /// let file = client
    ///     .uploads()
    ///     .upload_file(&data[..], "hello.txt", 5, "0", &UploadFileOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_file<R>(
        &self,
        file: R,
        file_name: &str,
        file_size: u64,
        parent_folder_id: &str,
        options: &UploadFileOptions,
    ) -> Result<File>
    where
        R: AsyncRead + Unpin,
    {
        let attributes = UploadAttributes {
            name: Some(file_name.to_owned()),
            parent: Some(ParentRef {
                id: parent_folder_id.to_owned(),
            }),
            content_modified_at: options.content_modified_at.clone(),
            ..UploadAttributes::default()
        };
        let url = self.client.upload_endpoint(&["files", "content"]);
        self.send(url, attributes, file, file_size, options).await
    }

    /// Uploads a new version of file `file_id`, optionally renaming it.
    pub async fn upload_file_version<R>(
        &self,
        file: R,
        file_id: &str,
        file_size: u64,
        file_name: Option<&str>,
        options: &UploadFileOptions,
    ) -> Result<File>
    where
        R: AsyncRead + Unpin,
    {
        let attributes = UploadAttributes {
            name: file_name.map(str::to_owned),
            content_modified_at: options.content_modified_at.clone(),
            ..UploadAttributes::default()
        };
        let url = self.client.upload_endpoint(&["files", file_id, "content"]);
        self.send(url, attributes, file, file_size, options).await
    }

    async fn send<R: AsyncRead + Unpin>(
        &self,
        url: reqwest::Url,
        attributes: UploadAttributes,
        file: R,
        file_size: u64,
        options: &UploadFileOptions,
    ) -> Result<File> {
        let body = Multipart::read(&attributes, file, file_size).await?;
        let mut extra = HeaderMap::new();
        let content_type = format!("multipart/form-data; boundary={}", body.boundary);
        extra.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(&content_type).expect("the boundary is ASCII"),
        );
        let mut req = Request::new(Method::POST, url, Some(&extra))
            .header("content-md5", &body.sha1.to_hex())?;
        if let Some(etag) = &options.if_match {
            req = req.header("if-match", etag)?;
        }
        let prefix = body.prefix_len;
        let meter = options.progress.clone().map(|user| {
            let file_bytes = move |p: Progress| {
                (user.0)(Progress {
                    bytes_done: p.bytes_done.saturating_sub(prefix).min(file_size),
                    total_bytes: file_size,
                })
            };
            let total = body.bytes.len() as u64;
            PartMeter::new(Tracker::new(total, Some(ProgressFn::new(file_bytes))))
        });
        req.payload = Payload::Part {
            data: body.bytes.freeze(),
            meter,
        };
        let files: Files = self.client.send(&req).await?.json("Files")?;
        let file = files
            .entries
            .into_iter()
            .next()
            .ok_or_else(|| Error::Protocol("the upload answered with no file".into()))?;
        if let Some(sha1) = &file.sha1
            && !sha1.eq_ignore_ascii_case(&body.sha1.to_hex())
        {
            return Err(Error::Protocol(format!(
                "the uploaded file {} has sha1 {sha1}, but the source's is {}",
                file.id, body.sha1
            )));
        }
        Ok(file)
    }
}

/// A whole `multipart/form-data` body: `attributes`, then `file`.
struct Multipart {
    bytes: BytesMut,
    boundary: String,
    /// Bytes before the first file byte.
    prefix_len: u64,
    sha1: Sha1Digest,
}

impl Multipart {
    async fn read<R: AsyncRead + Unpin>(
        attributes: &UploadAttributes,
        mut file: R,
        file_size: u64,
    ) -> Result<Multipart> {
        let json = serde_json::to_vec(attributes).expect("attributes always serialise");
        // The boundary is fixed before the file is read, so it cannot be
        // chosen to avoid the content; 160 bits from a hash of the clock
        // make a collision with the file's bytes vanishingly unlikely.
        let boundary = format!("boxup-{}", boundary_token());
        let head =
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"attributes\"\r\n\r\n");
        let file_head = format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"unused\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        let size = usize::try_from(file_size)
            .map_err(|_| Error::InvalidInput(format!("{file_size} bytes do not fit in memory")))?;
        let mut bytes =
            BytesMut::with_capacity(head.len() + json.len() + file_head.len() + size + tail.len());
        bytes.put_slice(head.as_bytes());
        bytes.put_slice(&json);
        bytes.put_slice(file_head.as_bytes());
        let prefix_len = bytes.len() as u64;
        let mut hasher = Sha1::new();
        let end = bytes.len() + size;
        while bytes.len() < end {
            let start = bytes.len();
            let want = (end - start) as u64;
            let n = (&mut file)
                .take(want)
                .read_buf(&mut bytes)
                .await
                .map_err(Error::Source)?;
            if n == 0 {
                return Err(Error::SourceTooShort {
                    expected: file_size,
                    actual: (start as u64) - prefix_len,
                });
            }
            hasher.update(&bytes[start..]);
        }
        let mut probe = [0u8; 1];
        if file.read(&mut probe).await.map_err(Error::Source)? != 0 {
            return Err(Error::SourceTooLong {
                expected: file_size,
            });
        }
        bytes.put_slice(tail.as_bytes());
        Ok(Multipart {
            bytes,
            boundary,
            prefix_len,
            sha1: Sha1Digest(hasher.finalize().into()),
        })
    }
}

/// 40 hex characters from the SHA-1 of the current time and process id.
fn boundary_token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = Sha1::new();
    h.update(now.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    Sha1Digest(h.finalize().into()).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_body_is_attributes_then_file() {
        let attrs = UploadAttributes {
            name: Some("a.txt".into()),
            parent: Some(ParentRef { id: "0".into() }),
            ..UploadAttributes::default()
        };
        let m = Multipart::read(&attrs, &b"hello"[..], 5).await.unwrap();
        let text = String::from_utf8(m.bytes.to_vec()).unwrap();
        let b = &m.boundary;
        assert!(text.starts_with(&format!("--{b}\r\n")), "{text}");
        let attrs_at = text.find("name=\"attributes\"").unwrap();
        let file_at = text.find("name=\"file\"").unwrap();
        assert!(attrs_at < file_at);
        assert!(text.contains(r#"{"name":"a.txt","parent":{"id":"0"}}"#));
        assert!(text.ends_with(&format!("\r\nhello\r\n--{b}--\r\n")));
        assert_eq!(&text[m.prefix_len as usize..][..5], "hello");
        assert_eq!(m.sha1, Sha1Digest::of(b"hello"));

        assert!(matches!(
            Multipart::read(&attrs, &b"hell"[..], 5).await,
            Err(Error::SourceTooShort {
                expected: 5,
                actual: 4
            })
        ));
        assert!(matches!(
            Multipart::read(&attrs, &b"hello!"[..], 5).await,
            Err(Error::SourceTooLong { expected: 5 })
        ));
    }
}
