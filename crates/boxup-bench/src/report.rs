//! What `upload-bench` measures with and how it reports: sizes on the
//! command line, the generated test file, an upload's cost beyond its time
//! (peak RSS, CPU of both sides), and the printed and `--json` records.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use crate::server::{self, ServerProc};
use crate::upload::{Client, Source, Stats};

pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1 << 10),
        Some((i, 'M' | 'm')) => (&s[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&s[..i], 1 << 30),
        Some((i, 'T' | 't')) => (&s[..i], 1u64 << 40),
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size like 4096, 256M or 1G"))?;
    n.checked_mul(mult)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("'{s}' is out of range"))
}

pub(crate) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

pub(crate) fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b.is_multiple_of(1 << 30) => format!("{}G", b >> 30),
        b if b >= 1 << 20 && b.is_multiple_of(1 << 20) => format!("{}M", b >> 20),
        b => format!("{b}B"),
    }
}

/// Writes `len` pseudo-random bytes (incompressible, never all-equal parts).
pub(crate) fn generate(path: &Path, len: u64, seed: u64) -> anyhow::Result<()> {
    let t = Instant::now();
    let mut out = std::io::BufWriter::with_capacity(8 << 20, std::fs::File::create(path)?);
    let mut state = seed;
    let mut chunk = vec![0u8; 8 << 20];
    let mut left = len;
    while left > 0 {
        for word in chunk.chunks_exact_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            word.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        let n = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    out.flush()?;
    eprintln!(
        "generated {} ({} bytes) in {:.1} s",
        path.display(),
        len,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

pub(crate) fn open_source(path: &Path) -> anyhow::Result<Source> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = file.metadata()?.len();
    Ok(Source::File(Arc::new(file), len))
}

pub(crate) fn print_stats(label: &str, s: &Stats, parallel: usize) {
    let secs = s.total.as_secs_f64();
    println!(
        "{label}: {} bytes ({:.1} MiB), {} parts of {} bytes, parallel {parallel}",
        s.size,
        mib(s.size),
        s.parts,
        s.part_size
    );
    println!(
        "  total {secs:.3} s  {:.1} MB/s  {:.1} MiB/s   (PUT phase {:.3} s, list {:.1} ms, commit {:.1} ms, retries {})",
        s.size as f64 / secs / 1e6,
        mib(s.size) / secs,
        s.put_phase.as_secs_f64(),
        s.list.as_secs_f64() * 1e3,
        s.commit.as_secs_f64() * 1e3,
        s.retries
    );
}

pub(crate) fn print_memory(server: &ServerProc, when: &str) -> anyhow::Result<()> {
    let m = server.memory()?;
    let (user, sys) = server.cpu()?;
    let (c_user, c_sys) = server::cpu_of(std::process::id())?;
    println!(
        "  server RSS {when}: {:.1} MiB, peak (VmHWM) {:.1} MiB; CPU so far: server {user:.2} s user + {sys:.2} s sys, client {c_user:.2} + {c_sys:.2} s",
        mib(m.now),
        mib(m.peak)
    );
    Ok(())
}

/// What one upload cost beyond its time.
pub(crate) struct Cost {
    /// The server's peak RSS during the upload (VmHWM), or since it
    /// started where the kernel would not reset the peak.
    pub(crate) peak_rss: u64,
    pub(crate) peak_is_own: bool,
    /// CPU seconds (user + system) during the upload.
    pub(crate) server_cpu: f64,
    pub(crate) client_cpu: f64,
}

/// `client.upload` with the server's peak RSS and both sides' CPU time.
pub(crate) async fn measured(
    client: &Client,
    server: &ServerProc,
    source: Source,
    name: &str,
    parallel: usize,
) -> anyhow::Result<(Stats, Cost)> {
    let peak_is_own = server.reset_peak();
    let cpu = |(user, sys): (f64, f64)| user + sys;
    let (server0, client0) = (cpu(server.cpu()?), cpu(server::cpu_of(std::process::id())?));
    let stats = client.upload(source, name, parallel).await?;
    let cost = Cost {
        peak_rss: server.memory()?.peak,
        peak_is_own,
        server_cpu: cpu(server.cpu()?) - server0,
        client_cpu: cpu(server::cpu_of(std::process::id())?) - client0,
    };
    Ok((stats, cost))
}

pub(crate) fn print_cost(cost: &Cost) {
    println!(
        "  server peak RSS {} {:.1} MiB; CPU during the upload: server {:.2} s, client {:.2} s",
        if cost.peak_is_own {
            "during the upload"
        } else {
            "since start"
        },
        mib(cost.peak_rss),
        cost.server_cpu,
        cost.client_cpu
    );
}

/// The `--json` file: one line per upload.
pub(crate) struct Records {
    pub(crate) file: Option<std::fs::File>,
    /// "disk" or the object store's URL.
    pub(crate) storage: String,
}

impl Records {
    pub(crate) fn record(
        &mut self,
        mode: &str,
        s: &Stats,
        c: &Cost,
        parallel: usize,
    ) -> anyhow::Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let secs = s.total.as_secs_f64();
        let line = json!({
            "mode": mode,
            "storage": self.storage,
            "size": s.size,
            "part_size": s.part_size,
            "parts": s.parts,
            "parallel": parallel,
            "total_s": secs,
            "mib_s": mib(s.size) / secs,
            "put_phase_s": s.put_phase.as_secs_f64(),
            "list_ms": s.list.as_secs_f64() * 1e3,
            "commit_ms": s.commit.as_secs_f64() * 1e3,
            "retries": s.retries,
            "server_peak_rss_mib": mib(c.peak_rss),
            "server_peak_is_own": c.peak_is_own,
            "server_cpu_s": c.server_cpu,
            "client_cpu_s": c.client_cpu,
        });
        writeln!(file, "{line}")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1X").is_err());
    }
}
