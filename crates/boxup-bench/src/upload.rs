//! A well-behaved chunked-upload client: one read of the source, each
//! part's SHA-1 computed once, the whole-file SHA-1 in the same pass,
//! `parallel` PUTs in flight, memory bounded by `parallel + 1` part buffers.

use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use boxup_protocol::{
    ContentRange, Files, SessionEndpoints, Sha1Digest, UploadPart, UploadParts, UploadSession,
    UploadedPart,
};
use bytes::Bytes;
use sha1::{Digest, Sha1};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Attempts per PUT; only 5xx, 429 and transport errors are retried.
const PUT_ATTEMPTS: u32 = 4;

/// Where the bytes come from.
#[derive(Clone)]
pub(crate) enum Source {
    /// A file, read part by part (positioned reads).
    File(Arc<std::fs::File>, u64),
    /// Bytes in memory with their precomputed whole-file SHA-1 (for many
    /// concurrent sessions sharing one buffer).
    Memory(Bytes, Sha1Digest),
}

impl Source {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::File(_, len) => *len,
            Source::Memory(b, _) => b.len() as u64,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Client {
    pub http: reqwest::Client,
    /// `http://HOST:PORT`.
    pub origin: String,
    pub token: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Stats {
    pub size: u64,
    pub part_size: u64,
    pub parts: u32,
    /// From the create-session request to the commit's 201.
    pub total: Duration,
    /// Session created to the last part's 200.
    pub put_phase: Duration,
    pub list: Duration,
    pub commit: Duration,
    pub retries: u64,
}

impl Client {
    pub(crate) fn new(origin: &str, token: &str) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .build()?;
        Ok(Client {
            http,
            origin: origin.to_owned(),
            token: token.to_owned(),
        })
    }

    /// Uploads `source` as `name` into the root folder.
    pub(crate) async fn upload(
        &self,
        source: Source,
        name: &str,
        parallel: usize,
    ) -> anyhow::Result<Stats> {
        ensure!(parallel > 0, "parallelism must be positive");
        let size = source.len();
        let start = Instant::now();
        let res = self
            .http
            .post(format!("{}/api/2.0/files/upload_sessions", self.origin))
            .bearer_auth(&self.token)
            .json(&serde_json::json!({"folder_id": "0", "file_size": size, "file_name": name}))
            .send()
            .await?;
        let session: UploadSession = expect(res, 201, "create session").await?.json().await?;
        let part_size = session.part_size.context("session without part_size")?;
        let total_parts = session.total_parts.context("session without total_parts")?;
        let endpoints = session.session_endpoints.clone().unwrap_or_else(|| {
            SessionEndpoints::under(&format!("{}/api/2.0", self.origin), &session.id)
        });
        let upload_url = endpoints
            .upload_part
            .clone()
            .context("no upload_part endpoint")?;

        let retries = Arc::new(AtomicU64::new(0));
        let permits = Arc::new(Semaphore::new(parallel));
        let mut puts = JoinSet::new();
        let mut whole = Sha1::new();
        let mut acked = Vec::with_capacity(total_parts as usize);
        for index in 0..u64::from(total_parts) {
            // A buffer exists only while its permit is held: at most
            // `parallel` in flight, one of which may be the one being read.
            let permit = permits.clone().acquire_owned().await?;
            while let Some(done) = puts.try_join_next() {
                acked.push(done??);
            }
            let offset = index * part_size;
            let len = part_size.min(size - offset);
            let (body, hasher) = read_part(&source, offset, len, whole).await?;
            whole = hasher;
            let (client, url, retries) = (self.clone(), upload_url.clone(), retries.clone());
            let range = ContentRange::for_part(offset, len, size);
            puts.spawn(async move {
                let part = client.put_part(&url, body, range, &retries).await;
                drop(permit);
                part
            });
        }
        while let Some(done) = puts.join_next().await {
            acked.push(done??);
        }
        let put_phase = start.elapsed();
        let whole = match &source {
            Source::File(..) => Sha1Digest(whole.finalize().into()),
            Source::Memory(_, sha1) => *sha1,
        };

        let t = Instant::now();
        let listed = self.list_parts(&endpoints).await?;
        let list = t.elapsed();
        acked.sort_by_key(|p| p.offset);
        ensure!(
            listed == acked,
            "the listed parts differ from the acknowledged ones"
        );
        ensure!(
            listed.len() == total_parts as usize,
            "{} of {total_parts} parts listed",
            listed.len()
        );

        let t = Instant::now();
        let res = self
            .http
            .post(endpoints.commit.as_deref().context("no commit endpoint")?)
            .bearer_auth(&self.token)
            .header("digest", whole.to_digest_header())
            .json(&serde_json::json!({ "parts": listed }))
            .send()
            .await?;
        let files: Files = expect(res, 201, "commit").await?.json().await?;
        let commit = t.elapsed();
        let file = files.entries.first().context("commit returned no file")?;
        ensure!(
            file.size == Some(size),
            "committed size {:?} != {size}",
            file.size
        );
        ensure!(
            file.sha1.as_deref() == Some(whole.to_hex().as_str()),
            "committed sha1 differs"
        );
        Ok(Stats {
            size,
            part_size,
            parts: total_parts,
            total: start.elapsed(),
            put_phase,
            list,
            commit,
            retries: retries.load(Ordering::Relaxed),
        })
    }

    /// One part: SHA-1 once (off the async threads), then PUT with retries.
    async fn put_part(
        &self,
        url: &str,
        body: Bytes,
        range: ContentRange,
        retries: &AtomicU64,
    ) -> anyhow::Result<UploadPart> {
        let (body, sha1) = tokio::task::spawn_blocking(move || {
            let sha1 = Sha1Digest::of(&body);
            (body, sha1)
        })
        .await?;
        let mut attempt = 1;
        loop {
            let sent = self
                .http
                .put(url)
                .bearer_auth(&self.token)
                .header("content-type", "application/octet-stream")
                .header("content-range", range.to_string())
                .header("digest", sha1.to_digest_header())
                .body(body.clone())
                .send()
                .await;
            let retryable = match sent {
                Ok(res) if res.status() == 200 => {
                    let part = res.json::<UploadedPart>().await?.part;
                    ensure!(
                        part.offset == range.first && part.size == range.len(),
                        "part answer {part:?} does not match {range}"
                    );
                    ensure!(
                        part.sha1.as_deref() == Some(sha1.to_hex().as_str()),
                        "part sha1 differs"
                    );
                    return Ok(part);
                }
                Ok(res) if res.status().is_server_error() || res.status() == 429 => {
                    anyhow!("PUT {range}: {}", res.status())
                }
                Ok(res) => return Err(expect(res, 200, "PUT part").await.unwrap_err()),
                Err(e) => anyhow!("PUT {range}: {e}"),
            };
            if attempt >= PUT_ATTEMPTS {
                return Err(retryable.context(format!("giving up after {attempt} attempts")));
            }
            attempt += 1;
            retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn list_parts(&self, endpoints: &SessionEndpoints) -> anyhow::Result<Vec<UploadPart>> {
        let url = endpoints
            .list_parts
            .as_deref()
            .context("no list_parts endpoint")?;
        let mut parts = Vec::new();
        loop {
            let res = self
                .http
                .get(format!("{url}?offset={}&limit=1000", parts.len()))
                .bearer_auth(&self.token)
                .send()
                .await?;
            let page: UploadParts = expect(res, 200, "list parts").await?.json().await?;
            let got = page.entries.len();
            parts.extend(page.entries);
            if got == 0 || parts.len() as u64 >= page.total_count {
                return Ok(parts);
            }
        }
    }
}

/// Reads one part and feeds it to the whole-file hasher in the same pass.
async fn read_part(
    source: &Source,
    offset: u64,
    len: u64,
    mut whole: Sha1,
) -> anyhow::Result<(Bytes, Sha1)> {
    match source {
        Source::Memory(data, _) => {
            Ok((data.slice(offset as usize..(offset + len) as usize), whole))
        }
        Source::File(file, _) => {
            let file = file.clone();
            tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; len as usize];
                file.read_exact_at(&mut buf, offset)
                    .with_context(|| format!("reading {len} bytes at {offset}"))?;
                whole.update(&buf);
                Ok((Bytes::from(buf), whole))
            })
            .await?
        }
    }
}

/// The response if it has status `want`, else an error with its body.
async fn expect(
    res: reqwest::Response,
    want: u16,
    what: &str,
) -> anyhow::Result<reqwest::Response> {
    if res.status() == want {
        return Ok(res);
    }
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    bail!(
        "{what}: {status}: {}",
        text.chars().take(300).collect::<String>()
    )
}
