//! The three modes of `upload-bench`: one file uploaded `--repeat` times,
//! commit latency across `--compare-sizes`, and `--sessions` concurrent
//! uploads (with the server's memory as it settles afterwards).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::ensure;
use bytes::Bytes;

use crate::Args;
use crate::report::*;
use crate::server::ServerProc;
use crate::upload::{Client, Source};

pub(crate) async fn single(
    client: &Client,
    server: &ServerProc,
    args: &Args,
    work: &Path,
    records: &mut Records,
) -> anyhow::Result<()> {
    let path = match &args.file {
        Some(p) => p.clone(),
        None => {
            let p = work.join("bench.bin");
            generate(&p, args.size, 42)?;
            p
        }
    };
    let mut totals = Vec::new();
    for run in 1..=args.repeat {
        let source = open_source(&path)?;
        let (stats, cost) = measured(
            client,
            server,
            source,
            &format!("bench-{run}.bin"),
            args.parallel,
        )
        .await?;
        print_stats(&format!("run {run}/{}", args.repeat), &stats, args.parallel);
        print_cost(&cost);
        records.record("single", &stats, &cost, args.parallel)?;
        totals.push(stats);
    }
    if totals.len() > 1 {
        let n = totals.len() as f64;
        let secs: f64 = totals.iter().map(|s| s.total.as_secs_f64()).sum::<f64>() / n;
        let commit: f64 = totals
            .iter()
            .map(|s| s.commit.as_secs_f64() * 1e3)
            .sum::<f64>()
            / n;
        let size = totals[0].size;
        println!(
            "mean of {}: {secs:.3} s  {:.1} MB/s  {:.1} MiB/s  commit {commit:.1} ms",
            totals.len(),
            size as f64 / secs / 1e6,
            mib(size) / secs
        );
    }
    Ok(())
}

pub(crate) async fn compare_sizes(
    client: &Client,
    server: &ServerProc,
    args: &Args,
    work: &Path,
    records: &mut Records,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for (i, &size) in args.compare_sizes.iter().enumerate() {
        let path = work.join(format!("bench-{}.bin", human(size)));
        generate(&path, size, 42 + i as u64)?;
        let measured = measured(
            client,
            server,
            open_source(&path)?,
            &format!("size-{}.bin", human(size)),
            args.parallel,
        )
        .await;
        std::fs::remove_file(&path)?;
        let (stats, cost) = measured?;
        print_stats(&format!("size {}", human(size)), &stats, args.parallel);
        print_cost(&cost);
        records.record("sizes", &stats, &cost, args.parallel)?;
        rows.push((stats, cost));
    }
    println!(
        "\n{:>8} {:>7} {:>9} {:>9} {:>11} {:>9} {:>13}",
        "size", "parts", "total s", "MiB/s", "commit ms", "list ms", "peak RSS MiB"
    );
    for (s, c) in &rows {
        println!(
            "{:>8} {:>7} {:>9.3} {:>9.1} {:>11.1} {:>9.1} {:>13.1}",
            human(s.size),
            s.parts,
            s.total.as_secs_f64(),
            mib(s.size) / s.total.as_secs_f64(),
            s.commit.as_secs_f64() * 1e3,
            s.list.as_secs_f64() * 1e3,
            mib(c.peak_rss)
        );
    }
    Ok(())
}

/// How long the server takes to give back a burst's memory: polls its RSS
/// until it is under twice the idle size, or `limit` passes.
pub(crate) async fn settle(server: &ServerProc, idle: u64, limit: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    let target = 2 * idle;
    loop {
        let now = server.memory()?.now;
        if now < target {
            println!(
                "  server RSS back under 2 x idle ({:.1} MiB) after {:.1} s: {:.1} MiB",
                mib(target),
                start.elapsed().as_secs_f64(),
                mib(now)
            );
            return Ok(());
        }
        if start.elapsed() >= limit {
            println!(
                "  server RSS still {:.1} MiB after {:.0} s (2 x idle is {:.1} MiB)",
                mib(now),
                limit.as_secs_f64(),
                mib(target)
            );
            return Ok(());
        }
        // Sampling a process's memory over time: the pause is the sampling
        // interval, not a wait for an event.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub(crate) async fn sessions(
    client: &Client,
    server: &ServerProc,
    args: &Args,
    n: usize,
    round: usize,
) -> anyhow::Result<()> {
    ensure!(n > 0, "--sessions must be positive");
    let mut data = vec![0u8; args.session_size as usize];
    let mut state = 7u64;
    for b in data.iter_mut() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *b = (state >> 33) as u8;
    }
    let sha1 = boxup_protocol::Sha1Digest::of(&data);
    let data = Bytes::from(data);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (client, source) = (client.clone(), Source::Memory(data.clone(), sha1));
        let parallel = args.session_parallel;
        tasks.spawn(async move {
            client
                .upload(source, &format!("s-{round}-{i}.bin"), parallel)
                .await
        });
    }
    let (mut ok, mut errors) = (Vec::new(), Vec::new());
    while let Some(r) = tasks.join_next().await {
        match r? {
            Ok(s) => ok.push(s),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    let wall = start.elapsed();
    let bytes = ok.len() as u64 * args.session_size;
    println!(
        "{n} concurrent sessions of {} bytes, {} PUTs in flight each: {} ok, {} failed in {:.2} s ({:.1} MiB/s committed)",
        args.session_size,
        args.session_parallel,
        ok.len(),
        errors.len(),
        wall.as_secs_f64(),
        mib(bytes) / wall.as_secs_f64()
    );
    let pct = |v: &mut Vec<Duration>, p: f64| -> f64 {
        v.sort();
        v.get(((v.len() as f64 - 1.0) * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let mut commits: Vec<Duration> = ok.iter().map(|s| s.commit).collect();
    let mut totals: Vec<Duration> = ok.iter().map(|s| s.total).collect();
    println!(
        "  commit ms p50 {:.1} p95 {:.1} max {:.1}; upload ms p50 {:.0} p95 {:.0} max {:.0}; retries {}",
        pct(&mut commits, 0.5),
        pct(&mut commits, 0.95),
        pct(&mut commits, 1.0),
        pct(&mut totals, 0.5),
        pct(&mut totals, 0.95),
        pct(&mut totals, 1.0),
        ok.iter().map(|s| s.retries).sum::<u64>()
    );
    errors.sort();
    errors.dedup_by(|a, b| a == b);
    for e in errors.iter().take(10) {
        println!("  error: {e}");
    }
    print_memory(server, "after sessions")?;
    Ok(())
}
