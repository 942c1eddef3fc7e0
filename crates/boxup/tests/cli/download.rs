//! Resumable downloads: the CLI is killed (or interrupted) while a
//! download is stalled at a known byte, and re-running the same command
//! asks only for the rest (`Range: bytes=N-`), verifies the SHA-1 and
//! renames `PATH.part` to PATH.
//!
//! The stall is deterministic: a proxy serves the first download's first
//! 8 MiB and then keeps the connection open without sending more; the test
//! acts once the CLI's progress line shows 40% (8 of 20 MiB).

use crate::cli_support::stall::{StallProxy, Then};
use crate::cli_support::{Cli, MIB, Server, Watched, percent_of, sha1_hex, within};

const CUT: u64 = 8 * MIB as u64;

/// A 20 MiB file on the server, and a CLI aimed at a stalling proxy.
async fn setup(seed: u64, then: Then) -> (Server, StallProxy, Cli, String, Vec<u8>) {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let direct = Cli::new(&server.origin);
    let (path, data) = direct.file("dl.bin", 20 * MIB, seed);
    let up = direct
        .upload(&path, &["--chunked-threshold", "1048576"])
        .await;
    let id = up["id"].as_str().unwrap().to_owned();
    let proxy = StallProxy::start(&server.origin, CUT, then).await;
    let cli = Cli::new(&proxy.origin);
    (server, proxy, cli, id, data)
}

async fn stalled_download(cli: &Cli, proxy: &StallProxy, id: &str) -> Watched {
    let mut w = Watched::spawn(cli.command(&["download", id, "-o", "dl.bin", "--json"]));
    w.wait_line("the 40% line", |l| {
        percent_of(l, "download dl.bin").is_some_and(|p| p >= 40)
    })
    .await;
    within("the stall", proxy.stalled()).await;
    w
}

async fn finish_and_check(cli: &Cli, proxy: &StallProxy, id: &str, data: &[u8], kept: u64) {
    let done = cli
        .run(&["download", id, "-o", "dl.bin", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(done["bytes_resumed"], kept);
    assert_eq!(done["bytes_downloaded"], data.len() as u64 - kept);
    assert_eq!(done["sha1"], sha1_hex(data));
    assert_eq!(proxy.ranges(), vec![None, Some(format!("bytes={kept}-"))]);
    let got = std::fs::read(cli.work.join("dl.bin")).unwrap();
    assert_eq!(sha1_hex(&got), sha1_hex(data));
    assert!(!cli.work.join("dl.bin.part").exists());
}

#[tokio::test]
async fn a_killed_download_resumes_with_range_and_verifies_sha1() {
    let (_server, proxy, cli, id, data) = setup(31, Then::Hang).await;
    stalled_download(&cli, &proxy, &id).await.kill().await;

    let part = cli.work.join("dl.bin.part");
    let kept = std::fs::read(&part).expect("the partial download");
    // What SIGKILL loses is what had not reached the OS: the CLI's 1 MiB
    // BufWriter plus the write tokio::fs::File had in flight (at most
    // 2 MiB), so at least CUT - 3 MiB is on disk; 4 MiB leaves a margin.
    assert!(
        kept.len() as u64 <= CUT && kept.len() as u64 >= CUT - 4 * MIB as u64,
        "{}",
        kept.len()
    );
    assert_eq!(
        kept[..],
        data[..kept.len()],
        "the part file is a prefix of the file"
    );
    assert!(
        !cli.work.join("dl.bin").exists(),
        "no partial file under the final name"
    );

    finish_and_check(&cli, &proxy, &id, &data, kept.len() as u64).await;
}

#[tokio::test]
async fn an_interrupted_download_keeps_every_byte_and_says_how_to_resume() {
    let (_server, proxy, cli, id, data) = setup(32, Then::Hang).await;
    let (status, stderr) = stalled_download(&cli, &proxy, &id).await.interrupt().await;
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("8.00 MiB of dl.bin are kept in dl.bin.part"),
        "{stderr}"
    );
    assert!(stderr.contains("run the same command again"), "{stderr}");
    // Ctrl-C flushes: exactly the bytes received are kept.
    let kept = std::fs::metadata(cli.work.join("dl.bin.part"))
        .unwrap()
        .len();
    assert_eq!(kept, CUT);
    finish_and_check(&cli, &proxy, &id, &data, CUT).await;
}

#[tokio::test]
async fn a_part_file_of_another_version_is_discarded() {
    let (server, proxy, cli, id, _) = setup(33, Then::Hang).await;
    stalled_download(&cli, &proxy, &id).await.kill().await;
    assert!(cli.work.join("dl.bin.part").exists());
    // A new version: the journaled part belongs to the old one.
    let direct = Cli::new(&server.origin);
    let (path, data) = direct.file("v2.bin", 3 * MIB, 35);
    direct.upload(&path, &["--new-version", &id]).await;
    let run = cli
        .run(&["download", &id, "-o", "dl.bin", "--json"])
        .await
        .ok();
    assert!(
        run.stderr
            .contains("dl.bin.part is not a partial download of this version"),
        "{}",
        run.stderr
    );
    let done = run.json();
    assert_eq!(done["bytes_resumed"], 0);
    assert_eq!(
        sha1_hex(&std::fs::read(cli.work.join("dl.bin")).unwrap()),
        sha1_hex(&data)
    );
}

#[tokio::test]
async fn a_part_file_boxup_did_not_start_is_left_alone() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let (path, _) = cli.file("v.bin", 3 * MIB, 36);
    let id = cli.upload(&path, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Someone else's file that happens to be called out.bin.part.
    let stray = cli.work.join("out.bin.part");
    std::fs::write(&stray, b"precious").unwrap();
    let run = cli.run(&["download", &id, "-o", "out.bin"]).await;
    assert_eq!(run.code(), Some(1), "{run:#?}");
    assert!(
        run.stderr
            .contains("out.bin.part exists and is not a partial download")
            && run.stderr.contains("remove it, or pass -o PATH"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&stray).unwrap(), b"precious");
    assert!(!cli.work.join("out.bin").exists());
}

/// The journal entries of downloads in the state directory.
fn download_entries(cli: &Cli) -> usize {
    std::fs::read_dir(cli.state_dir.join("downloads")).map_or(0, |d| d.count())
}

#[tokio::test]
async fn bad_destinations_fail_before_downloading() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let (path, data) = cli.file("d.bin", 100_000, 37);
    let id = cli.upload(&path, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::remove_file(&path).unwrap();

    let cases: &[(&[&str], &str)] = &[
        (&["-o", "newdir/"], "newdir/: no such directory"),
        (&["-o", "newdir/x.bin"], "newdir is not a directory"),
        (&[], "d.bin is a directory"),
    ];
    std::fs::create_dir(cli.work.join("d.bin")).unwrap();
    for (extra, message) in cases {
        let mut args = vec!["download", id.as_str()];
        args.extend_from_slice(extra);
        let run = cli.run(&args).await;
        assert_eq!(run.code(), Some(1), "{args:?}: {run:#?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
    assert!(!cli.work.join("newdir").exists());
    assert_eq!(download_entries(&cli), 0);

    // An existing directory as -o: the file goes in it, under its name.
    std::fs::create_dir(cli.work.join("into")).unwrap();
    cli.run(&["download", &id, "-o", "into"]).await.ok();
    let got = std::fs::read(cli.work.join("into/d.bin")).unwrap();
    assert_eq!(sha1_hex(&got), sha1_hex(&data));
}

#[tokio::test]
async fn an_unwritable_part_file_leaves_no_journal_entry() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let (path, _) = cli.file("e.bin", 1000, 38);
    let id = cli.upload(&path, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // 251 bytes is a valid name; with ".part" it is too long to create.
    let long = "x".repeat(251);
    let run = cli.run(&["download", &id, "-o", &long]).await;
    assert_eq!(run.code(), Some(1), "{run:#?}");
    assert_eq!(download_entries(&cli), 0, "{run:#?}");
}

#[tokio::test]
async fn an_unusable_state_dir_only_warns() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let mut cli = Cli::new(&server.origin);
    let (path, data) = cli.file("s.bin", 1000, 39);
    let id = cli.upload(&path, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A regular file where the state directory should be.
    let file = cli.work.join("not-a-dir");
    std::fs::write(&file, b"").unwrap();
    cli.state_dir = file;
    let run = cli.run(&["download", &id, "-o", "s2.bin"]).await.ok();
    assert!(
        run.stderr.contains("the download is not resumable"),
        "{}",
        run.stderr
    );
    let got = std::fs::read(cli.work.join("s2.bin")).unwrap();
    assert_eq!(sha1_hex(&got), sha1_hex(&data));
}

#[tokio::test]
async fn a_broken_connection_is_continued_within_the_same_run() {
    let (_server, proxy, cli, id, data) = setup(34, Then::Close).await;
    let done = cli
        .run(&["download", &id, "-o", "dl.bin", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(done["bytes_resumed"], 0);
    assert_eq!(done["bytes_downloaded"], data.len() as u64);
    assert_eq!(done["sha1"], sha1_hex(&data));
    // One continuation in the same run, from what had arrived: a broken
    // connection may lose bytes still in flight, so it starts at or
    // before the cut, never past it.
    let ranges = proxy.ranges();
    assert_eq!(ranges.len(), 2, "{ranges:?}");
    assert_eq!(ranges[0], None);
    let from: u64 = ranges[1]
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not an open-ended range: {ranges:?}"));
    assert!(from <= CUT, "{ranges:?}");
    let got = std::fs::read(cli.work.join("dl.bin")).unwrap();
    assert_eq!(sha1_hex(&got), sha1_hex(&data));
}
