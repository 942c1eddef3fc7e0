//! The resumable download: hash the bytes the caller already has, fetch
//! only the rest, re-request from the current offset when a connection
//! breaks mid-body (the client's retry budget, reset by progress), and
//! check the whole file's SHA-1 against the file's `sha1`.

use std::time::Duration;

use backon::BackoffBuilder;
use boxup_protocol::{File, Sha1Digest};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::{DownloadsManager, retryable};
use crate::error::{Error, Result};
use crate::progress::{Progress, ProgressFn};

/// How long a download body may stay silent before the connection is
/// given up and the rest re-requested.
const STALL: Duration = Duration::from_secs(60);

/// Options of [`DownloadsManager::download_file_to`].
#[derive(Debug, Clone, Default)]
pub struct DownloadOptions {
    /// Called with the bytes the caller now holds (resumed ones included).
    pub progress: Option<ProgressFn>,
    /// Cancelling stops the download with [`Error::Cancelled`]; what was
    /// written so far stays written (and flushed).
    pub cancel: Option<CancellationToken>,
    /// The file's metadata when the caller already has it (saves a `GET`).
    pub file: Option<File>,
}

impl DownloadOptions {
    /// Sets [`progress`](Self::progress) from a closure.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressFn::new(f));
        self
    }
}

/// What [`DownloadsManager::download_file_to`] did.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// The file's metadata, as used to check the download.
    pub file: File,
    /// Bytes taken from the caller's partial download.
    pub bytes_resumed: u64,
    /// Bytes fetched now.
    pub bytes_downloaded: u64,
    /// The SHA-1 of the whole file, equal to `file.sha1`.
    pub sha1: Sha1Digest,
}

impl DownloadsManager {
    /// Downloads file `file_id` into `writer`, after the bytes in
    /// `existing` (a partial download, read and hashed first; pass
    /// `tokio::io::empty()` to start from the beginning). Only the missing
    /// bytes are fetched. A body that breaks off is re-requested from where
    /// it stopped. The whole file's SHA-1 must equal the file's `sha1`,
    /// else [`Error::Protocol`]; a partial download longer than the file is
    /// [`Error::InvalidInput`]. The writer is flushed on every way out.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), Box<dyn std::error::Error>> {
    /// use boxup_client::DownloadOptions;
    /// let mut out = tokio::fs::File::create("big.iso").await?;
    /// let done = client
    ///     .downloads()
    ///     .download_file_to("12345", tokio::io::empty(), &mut out, &DownloadOptions::default())
    ///     .await?;
    /// println!("{} bytes, sha1 {}", done.bytes_downloaded, done.sha1);
    /// # Ok(()) }
    /// ```
    pub async fn download_file_to<P, W>(
        &self,
        file_id: &str,
        existing: P,
        writer: &mut W,
        options: &DownloadOptions,
    ) -> Result<Downloaded>
    where
        P: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let result = self.fetch(file_id, existing, writer, options).await;
        let flushed = writer.flush().await.map_err(Error::Source);
        let done = result?;
        flushed?;
        Ok(done)
    }

    async fn fetch<P, W>(
        &self,
        file_id: &str,
        mut existing: P,
        writer: &mut W,
        options: &DownloadOptions,
    ) -> Result<Downloaded>
    where
        P: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let file = match &options.file {
            Some(f) => f.clone(),
            None => self.client.files().get_file_by_id(file_id, None).await?,
        };
        let size = file.size.unwrap_or(0);
        let cancel = options.cancel.clone().unwrap_or_default();
        let report = |done: u64| {
            if let Some(p) = &options.progress {
                (p.0)(Progress {
                    bytes_done: done,
                    total_bytes: size,
                });
            }
        };
        let mut hasher = Sha1::new();
        let mut have = hash_existing(&mut existing, &mut hasher).await?;
        if have > size {
            return Err(Error::InvalidInput(format!(
                "the partial download holds {have} bytes, but file {file_id} has {size}"
            )));
        }
        let resumed = have;
        report(have);
        let mut delays = self.client.inner.retry.backoff().build();
        while have < size {
            let before = have;
            let attempt = async {
                let mut content = self.download_file(file_id, have, None).await?;
                if content.total_size != size {
                    return Err(Error::Protocol(format!(
                        "file {file_id} has {size} bytes, but its content has {}",
                        content.total_size
                    )));
                }
                if content.offset > have {
                    return Err(Error::Protocol(format!(
                        "asked for file {file_id} from byte {have}, got it from {}",
                        content.offset
                    )));
                }
                // A server that ignores `Range` sends everything again.
                let mut skip = have - content.offset;
                loop {
                    let chunk = match tokio::time::timeout(STALL, content.chunk()).await {
                        Ok(chunk) => chunk?,
                        Err(_) => return Err(stalled(&content.request)),
                    };
                    let Some(mut chunk) = chunk else { break };
                    let drop_now = skip.min(chunk.len() as u64);
                    skip -= drop_now;
                    let _ = chunk.split_to(drop_now as usize);
                    let room = (size - have).min(chunk.len() as u64) as usize;
                    writer
                        .write_all(&chunk[..room])
                        .await
                        .map_err(Error::Source)?;
                    hasher.update(&chunk[..room]);
                    have += room as u64;
                    report(have);
                }
                Ok(())
            };
            let outcome = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(Error::Cancelled),
                outcome = attempt => outcome,
            };
            match outcome {
                Ok(()) if have < size => {
                    return Err(Error::Protocol(format!(
                        "the content of file {file_id} ended after {have} of {size} bytes"
                    )));
                }
                Ok(()) => {}
                Err(e) if retryable(&e) || is_stall(&e) => {
                    if have > before {
                        delays = self.client.inner.retry.backoff().build();
                    }
                    let Some(d) = delays.next() else {
                        return Err(e);
                    };
                    tracing::warn!(error = %e, offset = have, "download broke off; resuming");
                    tokio::select! {
                        () = cancel.cancelled() => return Err(Error::Cancelled),
                        () = tokio::time::sleep(self.delay(&e, d)) => {}
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let sha1 = Sha1Digest(hasher.finalize().into());
        match file.sha1.as_deref() {
            Some(want) if !want.eq_ignore_ascii_case(&sha1.to_hex()) => {
                Err(Error::Protocol(format!(
                    "the downloaded content of file {file_id} has sha1 {sha1}, \
                     but the file's sha1 is {want}"
                )))
            }
            _ => Ok(Downloaded {
                file,
                bytes_resumed: resumed,
                bytes_downloaded: have - resumed,
                sha1,
            }),
        }
    }
}

async fn hash_existing<P: AsyncRead + Unpin>(existing: &mut P, hasher: &mut Sha1) -> Result<u64> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = existing.read(&mut buf).await.map_err(Error::Source)?;
        if n == 0 {
            return Ok(total);
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
}

const STALL_MARK: &str = "no data arrived for";

fn stalled(request: &str) -> Error {
    Error::Protocol(format!("{request}: {STALL_MARK} {}s", STALL.as_secs()))
}

fn is_stall(e: &Error) -> bool {
    matches!(e, Error::Protocol(m) if m.contains(STALL_MARK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stalls_are_told_apart_from_other_protocol_errors() {
        assert!(is_stall(&stalled("GET u")));
        assert!(!is_stall(&Error::Protocol("sha1 differs".into())));
        assert!(!retryable(&stalled("GET u")));
    }
}
