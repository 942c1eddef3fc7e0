//! What happens to an upload between its first parts and its commit: the
//! local file changing under it, Ctrl-C after `--restart`, and stderr
//! going away. Each test stops the upload at a known point with the
//! proxy of `crate::cli_support::blocked` (parts 0-4 stored, part 5 held back),
//! acts, then lets it go on.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use crate::cli_support::blocked::{blocked_setup, upload_args, upload_until_part_5};
use crate::cli_support::{MIB, random_bytes, sha1_hex, within};

#[tokio::test]
async fn a_file_changed_while_uploading_is_not_committed() {
    let (_server, proxy, block, cli) = blocked_setup().await;
    let (path, _) = cli.file("big.bin", 20 * MIB, 21);
    let w = upload_until_part_5(&cli, &proxy, &upload_args(&path)).await;
    let session = w
        .seen
        .iter()
        .find_map(|l| l.strip_prefix("upload big.bin: session "))
        .and_then(|l| l.split(':').next())
        .expect("the session line")
        .to_owned();
    // The same size, other bytes, a later mtime: parts 6-19 will be read
    // from the new content.
    let data = random_bytes(20 * MIB, 22);
    std::fs::write(&path, &data).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(SystemTime::now() + Duration::from_secs(3600))
        .unwrap();
    drop(f);
    block.store(false, Ordering::SeqCst);

    let run = w.finish().await;
    assert_eq!(run.code(), Some(1), "{run:#?}");
    assert!(
        run.stderr
            .contains("big.bin changed while uploading; run again to upload its current content"),
        "{}",
        run.stderr
    );
    let failed = run.json();
    assert_eq!(failed["path"], path.to_str().unwrap());
    assert!(failed["id"].is_null(), "not committed: {failed}");
    let ls = cli.run(&["ls", "--json"]).await.ok();
    assert!(!ls.stdout.contains("big.bin"), "nothing committed: {ls:#?}");
    assert_eq!(
        cli.run(&["session", "list", "--json"]).await.ok().stdout,
        "",
        "the journal entry was dropped"
    );
    let gone = cli.run(&["session", "show", &session]).await;
    assert_eq!(gone.code(), Some(1), "the session was aborted: {gone:#?}");

    // Running again uploads what the file holds now.
    let done = cli.run(&upload_args(&path)).await.ok().json();
    assert_eq!(done["sha1"], sha1_hex(&data));
    assert_eq!(done["parts_resumed"], 0);
}

#[tokio::test]
async fn the_resume_hint_after_restart_leaves_restart_out() {
    let (_server, proxy, block, cli) = blocked_setup().await;
    let (path, _) = cli.file("big.bin", 20 * MIB, 23);
    let mut args = upload_args(&path);
    args.push("--restart");
    let (status, stderr) = upload_until_part_5(&cli, &proxy, &args)
        .await
        .interrupt()
        .await;
    assert_eq!(status.code(), Some(130), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with("run the same command again:"))
        .unwrap_or_else(|| panic!("no resume hint: {stderr}"));
    let command = lines[at + 1].trim();
    let expected = format!(
        "upload {} --parallel 1 --json --chunked-threshold 1048576",
        path.display()
    );
    assert!(command.contains(&expected), "{command}");
    assert!(!command.contains("--restart"), "{command}");

    // The printed command resumes instead of starting over (which would
    // resume 0): at least the 5 parts stored before the interruption (more
    // if the run got further, or its last attempt at part 5 reached the
    // server after the unblock).
    block.store(false, Ordering::SeqCst);
    let done = cli.run(&upload_args(&path)).await.ok().json();
    let resumed = done["parts_resumed"].as_u64().unwrap();
    assert!((5..20).contains(&resumed), "{done}");
}

#[tokio::test]
async fn a_closed_stderr_does_not_fail_the_upload() {
    let (_server, proxy, block, cli) = blocked_setup().await;
    let (path, data) = cli.file("big.bin", 20 * MIB, 24);
    let w = upload_until_part_5(&cli, &proxy, &upload_args(&path)).await;
    // As `boxup upload ... 2>&1 | head`: the reader goes away, and every
    // later progress line meets a closed pipe.
    let crate::cli_support::Watched { child, stderr, .. } = w;
    drop(stderr);
    block.store(false, Ordering::SeqCst);
    let out = within("exit", child.wait_with_output()).await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:#?}");
    let done: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(done["sha1"], sha1_hex(&data));
}
