//! Resumable uploads: the CLI is killed (SIGKILL) or interrupted (SIGINT,
//! what Ctrl-C sends) after some parts were stored, and re-running the
//! same command finishes the upload, sending only the missing parts.
//!
//! The interruption point is controlled: the CLI runs with `--parallel 1`
//! through a proxy (boxup-e2e's `FaultProxy`) that, during the first run,
//! drops every attempt at part 5 mid-request. The test interrupts the CLI
//! once its progress line shows 5 parts sent and the server has stored 5
//! parts. What else the server holds by then is up to the CLI's scheduling
//! and the machine's load, so the tests assert only what the protocol
//! guarantees, from the server's own listing taken before the re-run: no
//! part it listed is sent again, every part it did not list is sent, and
//! the file is correct.
//!
//! One race is outside the tests' control: the interrupted run's last
//! attempt at part 5 can still sit in a socket buffer when it dies, and
//! reach the proxy only after part 5 is let through. So a missing part may
//! arrive twice (the stale attempt and the re-run's, identical bytes, both
//! answered 200), or be stored before the re-run lists the parts.
//! `assert_only_missing_parts_sent` allows exactly that one extra request.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::cli_support::blocked::{self, blocked_setup, upload_args};
use crate::cli_support::{Cli, MIB, Watched, parts_of, sha1_hex, within};
use boxup_e2e::FaultProxy;

const PART: u64 = MIB as u64;

async fn upload_until_part_5(cli: &Cli, proxy: &FaultProxy, path: &Path) -> Watched {
    blocked::upload_until_part_5(cli, proxy, &upload_args(path)).await
}

/// The re-run resumed the interrupted session: no part in `listed` (the
/// server's listing before the re-run) was sent again, every other part
/// was sent, and nothing else but one stale attempt of the interrupted run
/// (see the module doc). Returns the parts resumed.
fn assert_only_missing_parts_sent(
    done: &serde_json::Value,
    proxy: &FaultProxy,
    t: Instant,
    listed: &[u64],
) -> u64 {
    let resumed = done["parts_resumed"].as_u64().expect("parts_resumed");
    let before = listed.len() as u64;
    assert!(
        resumed == before || resumed == before + 1,
        "resumed {resumed} with {before} listed: {done}"
    );
    assert_eq!(
        done["parts_uploaded"].as_u64(),
        Some(20 - resumed),
        "{done}"
    );
    let sent = puts_since(proxy, t);
    for offset in &sent {
        assert!(
            !listed.contains(offset),
            "part at {offset} was listed, yet sent again: {sent:?}"
        );
    }
    let missing: Vec<u64> = offsets(0, 20)
        .into_iter()
        .filter(|o| !listed.contains(o))
        .collect();
    for offset in &missing {
        let times = sent.iter().filter(|&o| o == offset).count();
        assert!(
            (1..=2).contains(&times),
            "part at {offset} sent {times} times: {sent:?}"
        );
    }
    assert!(
        sent.len() <= missing.len() + 1,
        "more than one extra request: {sent:?}"
    );
    resumed
}

/// The part offsets the server lists for `session`.
async fn listed_offsets(cli: &Cli, session: &str) -> Vec<u64> {
    cli.run(&["session", "parts", session, "--json"])
        .await
        .ok()
        .json_lines()
        .iter()
        .map(|p| p["offset"].as_u64().expect("an offset"))
        .collect()
}

/// The offsets of the PUTs the proxy saw since `t`, whatever their fate.
fn puts_since(proxy: &FaultProxy, t: Instant) -> Vec<u64> {
    let mut v: Vec<u64> = proxy
        .puts()
        .iter()
        .filter(|l| l.at >= t)
        .filter_map(|l| l.seen.range_start())
        .collect();
    v.sort_unstable();
    v
}

/// How many PUTs the server has stored so far.
fn stored_puts(proxy: &FaultProxy) -> usize {
    proxy
        .puts()
        .iter()
        .filter(|l| l.upstream_status == Some(200))
        .count()
}

fn offsets(from: u64, to: u64) -> Vec<u64> {
    (from..to).map(|i| i * PART).collect()
}

/// The journaled session of the one interrupted upload.
async fn journaled_session(cli: &Cli) -> String {
    let list = cli.run(&["session", "list", "--json"]).await.ok().json();
    list["session_id"]
        .as_str()
        .expect("a session id")
        .to_owned()
}

async fn assert_downloads_as(cli: &Cli, id: &str, data: &[u8]) {
    let got = cli
        .run(&["download", id, "-o", "check.bin", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(got["sha1"], sha1_hex(data));
    let bytes = std::fs::read(cli.work.join("check.bin")).unwrap();
    assert_eq!(sha1_hex(&bytes), sha1_hex(data));
}

#[tokio::test]
async fn a_killed_upload_resumes_sending_only_the_missing_parts() {
    let (_server, proxy, block, cli) = blocked_setup().await;
    let (path, data) = cli.file("big.bin", 20 * MIB, 11);
    upload_until_part_5(&cli, &proxy, &path).await.kill().await;

    let session = journaled_session(&cli).await;
    // Part 5 is blocked, so nothing more can arrive while the test looks.
    let listed = listed_offsets(&cli, &session).await;
    assert!(
        offsets(0, 5).iter().all(|o| listed.contains(o)) && !listed.contains(&(5 * PART)),
        "the server holds parts 0-4, not part 5: {listed:?}"
    );
    let show = cli
        .run(&["session", "show", &session, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(
        (
            show["num_parts_processed"].as_u64(),
            show["total_parts"].as_u64()
        ),
        (Some(listed.len() as u64), Some(20))
    );
    let canonical = std::fs::canonicalize(&path).unwrap();
    assert_eq!(show["local"]["path"], canonical.to_str().unwrap());

    block.store(false, Ordering::SeqCst);
    let rerun = Instant::now();
    let run = cli.run(&upload_args(&path)).await.ok();
    let done = run.json();
    assert_eq!(done["session_id"], session.as_str());
    let resumed = assert_only_missing_parts_sent(&done, &proxy, rerun, &listed);
    assert_eq!(done["sha1"], sha1_hex(&data));
    assert!(
        run.stderr
            .contains(&format!("resuming session {session}: {resumed}/20 parts")),
        "{}",
        run.stderr
    );

    assert_eq!(
        cli.run(&["session", "list", "--json"]).await.ok().stdout,
        "",
        "journal cleared"
    );
    assert_downloads_as(&cli, done["id"].as_str().unwrap(), &data).await;
}

#[tokio::test]
async fn ctrl_c_leaves_the_upload_resumable_and_says_how() {
    let (_server, proxy, block, cli) = blocked_setup().await;
    let (path, data) = cli.file("big.bin", 20 * MIB, 12);
    let (status, stderr) = upload_until_part_5(&cli, &proxy, &path)
        .await
        .interrupt()
        .await;
    assert_eq!(status.code(), Some(130), "{stderr}");
    let session = journaled_session(&cli).await;
    assert!(
        stderr.contains(&format!("is resumable (session {session})")),
        "{stderr}"
    );
    assert!(stderr.contains("run the same command again"), "{stderr}");
    let command = format!("upload {} --parallel 1 --json", path.display());
    assert!(stderr.contains(&command), "the command to re-run: {stderr}");
    assert!(
        stderr.contains("--token ***"),
        "the token is not echoed: {stderr}"
    );

    let listed = listed_offsets(&cli, &session).await;
    block.store(false, Ordering::SeqCst);
    let rerun = Instant::now();
    let done = cli.run(&upload_args(&path)).await.ok().json();
    assert_eq!(done["session_id"], session.as_str());
    assert_eq!(done["sha1"], sha1_hex(&data));
    assert_only_missing_parts_sent(&done, &proxy, rerun, &listed);
    assert_downloads_as(&cli, done["id"].as_str().unwrap(), &data).await;
}

#[tokio::test]
async fn a_changed_file_or_restart_starts_over_and_aborts_the_old_session() {
    let (_server, proxy, block, cli) = blocked_setup().await;
    let (path, _) = cli.file("big.bin", 20 * MIB, 13);
    upload_until_part_5(&cli, &proxy, &path).await.kill().await;
    let old = journaled_session(&cli).await;

    // The file changed (other bytes, other size): the session is stale.
    let data = crate::cli_support::random_bytes(20 * MIB + 1, 14);
    std::fs::write(&path, &data).unwrap();
    block.store(false, Ordering::SeqCst);
    let run = cli.run(&upload_args(&path)).await.ok();
    let expected = format!("changed since the interrupted upload: discarding session {old}");
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    let done = run.json();
    assert_eq!(
        (
            done["parts_resumed"].as_u64(),
            done["parts_uploaded"].as_u64()
        ),
        (Some(0), Some(21))
    );
    assert_eq!(done["sha1"], sha1_hex(&data));
    let gone = cli.run(&["session", "show", &old]).await;
    assert_eq!(
        gone.code(),
        Some(1),
        "the old session was aborted: {gone:#?}"
    );

    // --restart discards a journaled session even when the file is the same.
    block.store(true, Ordering::SeqCst);
    let (other, other_data) = cli.file("other.bin", 20 * MIB, 15);
    let stored = stored_puts(&proxy);
    let mut w = Watched::spawn(cli.command(&upload_args(&other)));
    w.wait_line("5 parts sent", |l| parts_of(l).is_some_and(|(s, _)| s >= 5))
        .await;
    within("5 more parts stored", proxy.stored_puts(stored + 5)).await;
    w.kill().await;
    let old = journaled_session(&cli).await;
    block.store(false, Ordering::SeqCst);
    let mut args = upload_args(&other);
    args.push("--restart");
    let run = cli.run(&args).await.ok();
    assert!(
        run.stderr
            .contains(&format!("--restart: discarding session {old}")),
        "{}",
        run.stderr
    );
    let done = run.json();
    assert_eq!(done["parts_resumed"], 0);
    assert_ne!(done["session_id"], old.as_str());
    assert_eq!(done["sha1"], sha1_hex(&other_data));
}

#[tokio::test]
async fn session_commit_and_abort_repair_interrupted_uploads() {
    let (_server, proxy, block, cli) = blocked_setup().await;
    let (path, data) = cli.file("big.bin", 20 * MIB, 16);
    upload_until_part_5(&cli, &proxy, &path).await.kill().await;
    let session = journaled_session(&cli).await;
    block.store(false, Ordering::SeqCst);

    // commit: the local file comes from the journal; missing parts go up.
    let done = cli
        .run(&["session", "commit", &session, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(done["sha1"], sha1_hex(&data));
    assert_eq!(
        cli.run(&["session", "list", "--json"]).await.ok().stdout,
        ""
    );
    assert_downloads_as(&cli, done["id"].as_str().unwrap(), &data).await;

    // abort: the session and its journal entry go.
    block.store(true, Ordering::SeqCst);
    let (other, _) = cli.file("other.bin", 20 * MIB, 17);
    let stored = stored_puts(&proxy);
    let mut w = Watched::spawn(cli.command(&upload_args(&other)));
    w.wait_line("5 parts sent", |l| parts_of(l).is_some_and(|(s, _)| s >= 5))
        .await;
    within("5 more parts stored", proxy.stored_puts(stored + 5)).await;
    w.kill().await;
    let session = journaled_session(&cli).await;
    let aborted = cli.run(&["session", "abort", &session]).await.ok();
    assert_eq!(aborted.stdout.trim(), format!("aborted session {session}"));
    assert_eq!(
        cli.run(&["session", "list", "--json"]).await.ok().stdout,
        ""
    );
    let gone = cli.run(&["session", "parts", &session]).await;
    assert_eq!(gone.code(), Some(1), "{gone:#?}");
}
