//! What the CLI says when things are not as expected: a symlink's name, a
//! name already taken, failures in `--json` output, base URLs given with
//! `/2.0`, and a server that cannot be reached or does not answer.

use std::process::Stdio;

use crate::cli_support::{Cli, MIB, Server, Watched, sha1_hex, within};

#[tokio::test]
async fn a_symlink_is_uploaded_under_its_own_name() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let (real, data) = cli.file("real.bin", 1000, 41);
    let link = cli.work.join("link.bin");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let done = cli.upload(&link, &[]).await;
    assert_eq!(done["name"], "link.bin");
    assert_eq!(done["sha1"], sha1_hex(&data));
    let named = cli.upload(&link, &["--name", "other.bin"]).await;
    assert_eq!(named["name"], "other.bin");
}

#[tokio::test]
async fn json_output_has_one_object_per_path_failures_included() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let (taken, _) = cli.file("taken.bin", 1000, 42);
    let first = cli.upload(&taken, &[]).await;
    let id = first["id"].as_str().unwrap();
    std::fs::write(&taken, b"other bytes").unwrap();
    let (ok, ok_data) = cli.file("ok.bin", 1000, 43);
    let args = [
        "upload",
        ok.to_str().unwrap(),
        "missing.bin",
        taken.to_str().unwrap(),
        "--json",
    ];
    let run = cli.run(&args).await;
    assert_eq!(run.code(), Some(1), "{run:#?}");
    let out = run.json_lines();
    assert_eq!(out.len(), 3, "{run:#?}");
    assert_eq!(out[0]["sha1"], sha1_hex(&ok_data));
    assert_eq!(out[1]["path"], "missing.bin");
    let local = out[1]["error"]["message"].as_str().unwrap();
    assert!(local.contains("cannot open missing.bin"), "{local}");
    let api = &out[2]["error"];
    assert_eq!(out[2]["path"], taken.to_str().unwrap());
    assert_eq!(api["status"], 409);
    assert_eq!(api["code"], "item_name_in_use");
    assert!(api["request_id"].is_string(), "{api}");
    assert!(api["message"].is_string(), "{api}");

    // The 409 names the file holding the name and how to replace it.
    let hint = format!("file {id}; pass --new-version {id} to upload a new version");
    assert!(run.stderr.contains(&hint), "{}", run.stderr);
    let alone = cli.run(&["upload", taken.to_str().unwrap()]).await;
    assert_eq!(alone.code(), Some(1));
    assert!(alone.stderr.contains(&hint), "{}", alone.stderr);
}

#[tokio::test]
async fn base_urls_may_end_in_2_0() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let mut cli = Cli::new(&format!("{}/2.0", server.origin));
    cli.upload_url = Some(format!("{}/api/2.0/", server.origin));
    let (path, data) = cli.file("v.bin", 3 * MIB, 44);
    let done = cli.upload(&path, &["--chunked-threshold", "1"]).await;
    assert_eq!(done["sha1"], sha1_hex(&data));

    // The same through BOX_API_URL and BOX_UPLOAD_URL.
    let mut cmd =
        crate::cli_support::clean(tokio::process::Command::new(env!("CARGO_BIN_EXE_boxup")));
    cmd.args(["ls", "--json"])
        .env("BOX_API_URL", format!("{}/2.0", server.origin))
        .env("BOX_UPLOAD_URL", format!("{}/api/2.0", server.origin))
        .env("BOX_TOKEN", crate::cli_support::TOKEN)
        .stdin(Stdio::null());
    let out = within("ls", cmd.output()).await.unwrap();
    assert!(out.status.success(), "{out:#?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("v.bin"));
}

#[tokio::test]
async fn retries_of_an_unreachable_server_are_announced() {
    // A port nobody listens on: connection refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cli = Cli::new(&format!("http://127.0.0.1:{port}"));
    let mut w = Watched::spawn(cli.command(&["ls"]));
    let line = w
        .wait_line("a retry notice", |l| l.contains("retrying in"))
        .await;
    let expected = format!("boxup: GET http://127.0.0.1:{port}/2.0/folders/0/items failed: ");
    assert!(line.starts_with(&expected), "{line}");
    w.kill().await;
}

#[tokio::test]
async fn a_silent_server_times_out_per_box_timeout_and_is_retried() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = listener.accept().await {
            conns.push(c);
        }
    });
    let cli = Cli::new(&origin);
    let mut cmd = cli.command(&["ls"]);
    cmd.env("BOX_TIMEOUT", "1");
    let mut w = Watched::spawn(cmd);
    // Without the 1 s timeout the first attempt would wait 60 s, past
    // `within`'s bound.
    let started = std::time::Instant::now();
    let line = w
        .wait_line("a retry notice", |l| l.contains("retrying in"))
        .await;
    assert!(line.contains(&origin), "{line}");
    assert!(started.elapsed().as_secs() < 30, "{line}");
    w.kill().await;
    held.abort();
}
