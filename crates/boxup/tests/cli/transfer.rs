//! The `boxup` CLI against the real `boxup serve` binary: upload and
//! download round trips (direct and chunked), `--json` output, the plain
//! progress lines printed when stderr is not a terminal, folders, new
//! versions and deletion.

use crate::cli_support::{Cli, MIB, Server, parts_of, percent_of, sha1_hex};

#[tokio::test]
async fn upload_then_download_round_trips_with_equal_sha1() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let (big, big_data) = cli.file("big.bin", 20 * MIB + 12_345, 1);
    let (small, small_data) = cli.file("small.bin", 100_000, 2);

    let run = cli
        .run(&[
            "upload",
            big.to_str().unwrap(),
            small.to_str().unwrap(),
            "--chunked-threshold",
            "1048576",
            "--json",
        ])
        .await
        .ok();
    let results = run.json_lines();
    assert_eq!(results.len(), 2, "one JSON object per file: {run:#?}");
    let (b, s) = (&results[0], &results[1]);
    assert_eq!(b["name"], "big.bin");
    assert_eq!(b["size"], big_data.len() as u64);
    assert_eq!(b["sha1"], sha1_hex(&big_data));
    assert_eq!(b["method"], "chunked");
    assert_eq!(
        (b["parts_total"].as_u64(), b["parts_uploaded"].as_u64()),
        (Some(21), Some(21))
    );
    assert_eq!(b["parts_resumed"], 0);
    assert!(b["seconds"].as_f64().is_some_and(|s| s >= 0.0), "{b}");
    assert_eq!(s["name"], "small.bin");
    assert_eq!(s["method"], "direct");
    assert_eq!(s["sha1"], sha1_hex(&small_data));
    assert!(b["id"].is_string() && s["id"].is_string());

    for (result, data) in [(b, &big_data), (s, &small_data)] {
        let id = result["id"].as_str().unwrap();
        let out = format!("copy-{id}");
        let got = cli
            .run(&["download", id, "-o", &out, "--json"])
            .await
            .ok()
            .json();
        assert_eq!(got["sha1"], sha1_hex(data));
        assert_eq!(got["bytes_resumed"], 0);
        assert_eq!(got["bytes_downloaded"], data.len() as u64);
        let bytes = std::fs::read(cli.work.join(&out)).expect("the downloaded file");
        assert_eq!(sha1_hex(&bytes), sha1_hex(data), "downloaded bytes differ");
        assert!(!cli.work.join(format!("{out}.part")).exists());
    }

    // Without -o the file lands under its own name; a re-download replaces it.
    let id = b["id"].as_str().unwrap();
    std::fs::remove_file(&big).unwrap();
    for _ in 0..2 {
        let run = cli.run(&["download", id]).await.ok();
        assert!(run.stdout.contains("verified"), "{run:#?}");
        assert_eq!(sha1_hex(&std::fs::read(&big).unwrap()), sha1_hex(&big_data));
    }
    // Nothing is left in the journal.
    let list = cli.run(&["session", "list", "--json"]).await.ok();
    assert_eq!(list.stdout, "");
}

#[tokio::test]
async fn progress_is_plain_lines_when_stderr_is_not_a_terminal() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    // Exactly 20 parts of 1 MiB: one line per part (each is 5%).
    let (path, _) = cli.file("twenty.bin", 20 * MIB, 3);
    let run = cli
        .run(&["upload", path.to_str().unwrap(), "--parallel", "1"])
        .await
        .ok();
    assert!(
        !run.stderr.contains('\x1b'),
        "no terminal escapes: {:?}",
        run.stderr
    );
    assert!(
        !run.stderr.contains('\r'),
        "no carriage returns: {:?}",
        run.stderr
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    let label = "upload twenty.bin";
    assert!(
        lines[0].starts_with(&format!("{label}: session "))
            && lines[0].ends_with(": 20 parts of 1.00 MiB"),
        "first line: {:?}",
        lines[0]
    );
    let progress = &lines[1..lines.len() - 1];
    assert_eq!(progress.len(), 20, "one line per 5%: {lines:#?}");
    for (i, line) in progress.iter().enumerate() {
        let k = i as u64 + 1;
        assert_eq!(percent_of(line, label), Some(5 * k), "{line}");
        assert_eq!(parts_of(line), Some((k, 20)), "{line}");
        let mib = format!("{k}.00 MiB / 20.00 MiB, ");
        assert!(line.contains(&mib), "{line} should contain {mib:?}");
        assert!(line.contains("/s, "), "a rate: {line}");
    }
    let last = lines.last().unwrap();
    assert!(
        last.starts_with(&format!("{label}: done, 20.00 MiB in ")),
        "{last}"
    );
    // The result line goes to stdout.
    assert!(
        run.stdout
            .starts_with(&format!("{} -> file ", path.display())),
        "{}",
        run.stdout
    );

    // --quiet prints no progress at all.
    let (quiet, _) = cli.file("quiet.bin", 3 * MIB, 4);
    let run = cli
        .run(&[
            "upload",
            quiet.to_str().unwrap(),
            "--quiet",
            "--chunked-threshold",
            "0",
        ])
        .await
        .ok();
    assert_eq!(run.stderr, "");
}

#[tokio::test]
async fn folders_new_versions_listing_and_deletion() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let folder = cli
        .run(&["mkdir", "photos"])
        .await
        .ok()
        .stdout
        .trim()
        .to_owned();
    assert!(
        folder.chars().all(|c| c.is_ascii_digit()),
        "an id: {folder:?}"
    );
    let again = cli.run(&["mkdir", "photos"]).await;
    assert_eq!(again.code(), Some(1));
    assert!(again.stderr.contains("409 item_name_in_use"), "{again:#?}");

    let (v1, _) = cli.file("doc.bin", 2 * MIB, 5);
    let first = cli
        .upload(&v1, &["--folder", &folder, "--name", "report.bin"])
        .await;
    let id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(first["name"], "report.bin");

    // A new version: chunked (threshold 1 MiB), then direct.
    let (v2, v2_data) = cli.file("doc2.bin", 3 * MIB + 7, 6);
    let second = cli
        .upload(
            &v2,
            &["--new-version", &id, "--chunked-threshold", "1048576"],
        )
        .await;
    assert_eq!(
        (second["id"].as_str(), second["method"].as_str()),
        (Some(id.as_str()), Some("chunked"))
    );
    assert_eq!(second["sha1"], sha1_hex(&v2_data));
    let (v3, v3_data) = cli.file("doc3.bin", 1000, 7);
    let third = cli.upload(&v3, &["--new-version", &id]).await;
    assert_eq!(
        (third["id"].as_str(), third["method"].as_str()),
        (Some(id.as_str()), Some("direct"))
    );

    let listed = cli.run(&["ls", &folder, "--json"]).await.ok().json();
    assert_eq!(listed["id"], id.as_str());
    assert_eq!(listed["type"], "file");
    assert_eq!(listed["size"], 1000);
    assert_eq!(listed["sha1"], sha1_hex(&v3_data));
    let root = cli.run(&["ls"]).await.ok();
    assert!(
        root.stdout
            .lines()
            .any(|l| l.starts_with("folder") && l.ends_with("  photos")),
        "{root:#?}"
    );

    let rm = cli.run(&["rm", &id, "--json"]).await.ok().json();
    assert_eq!(
        rm,
        serde_json::json!({"type": "file", "id": id, "deleted": true})
    );
    assert_eq!(cli.run(&["ls", &folder]).await.ok().stdout, "");
    let gone = cli.run(&["rm", &id]).await;
    assert_eq!(gone.code(), Some(1));
    assert!(gone.stderr.contains("404 not_found"), "{gone:#?}");
}

#[tokio::test]
async fn rerunning_a_finished_upload_skips_identical_files() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let (small, _) = cli.file("a.bin", 50_000, 8);
    let (big, _) = cli.file("b.bin", 2 * MIB, 9);
    let (a, b) = (small.to_str().unwrap(), big.to_str().unwrap());
    let args = ["upload", a, b, "--chunked-threshold", "1048576", "--json"];
    let first = cli.run(&args).await.ok().json_lines();
    let again = cli.run(&args).await.ok().json_lines();
    for (x, y) in first.iter().zip(&again) {
        assert_eq!(y["skipped"], true, "{y}");
        assert_eq!(
            (&x["id"], &x["sha1"], &x["size"]),
            (&y["id"], &y["sha1"], &y["size"])
        );
    }
    // The same name with other bytes is a real conflict.
    std::fs::write(&small, b"other bytes").unwrap();
    let clash = cli.run(&["upload", a]).await;
    assert_eq!(clash.code(), Some(1));
    assert!(clash.stderr.contains("409 item_name_in_use"), "{clash:#?}");
    assert!(clash.stderr.contains("request id"), "{clash:#?}");
}
