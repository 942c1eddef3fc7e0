//! Exit codes and error messages of the `boxup` CLI: usage mistakes exit 2
//! with a clear message, failures exit 1 with Box's code, message and
//! request id on one line; a local server's dev token is found without
//! `--token`.

use crate::cli_support::{Cli, Server};

#[tokio::test]
async fn bad_arguments_exit_2_with_a_clear_message() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let (f, _) = cli.file("f.bin", 10, 1);
    let f = f.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["upload"], "required arguments were not provided"),
        (
            &["upload", f, "--parallel", "0"],
            "invalid value '0' for '--parallel <N>'",
        ),
        (
            &["upload", f, "--chunked-threshold", "lots"],
            "invalid value 'lots'",
        ),
        (
            &["upload", f, "--frobnicate"],
            "unexpected argument '--frobnicate'",
        ),
        (
            &["upload", f, f, "--name", "x"],
            "--name and --new-version take exactly one PATH",
        ),
        (
            &["upload", f, "--folder", "1", "--new-version", "2"],
            "cannot be used with",
        ),
        (&["download"], "required arguments were not provided"),
        (&["session", "frob", "X"], "unrecognized subcommand 'frob'"),
        (&["launch"], "unrecognized subcommand 'launch'"),
    ];
    for (args, message) in cases {
        let run = cli.run(args).await;
        assert_eq!(run.code(), Some(2), "{args:?}: {run:#?}");
        assert!(
            run.stderr.contains(message),
            "{args:?} should say {message:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("try '--help'"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{args:?}");
    }

    // No token for a remote host is a usage error too, naming the fix.
    let mut remote = Cli::new("https://api.box.com");
    remote.token = String::new();
    let run = remote.run(&["ls"]).await;
    assert_eq!(run.code(), Some(2), "{run:#?}");
    assert!(
        run.stderr.contains("pass --token or set BOX_TOKEN"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_wrong_token_exits_1_with_boxs_error_on_one_line() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let mut cli = Cli::new(&server.origin);
    cli.token = "wrong".into();
    let (path, _) = cli.file("f.bin", 3 << 20, 2);
    for args in [
        vec!["ls"],
        vec!["upload", path.to_str().unwrap()],
        vec!["upload", path.to_str().unwrap(), "--chunked-threshold", "1"],
        vec!["download", "1"],
    ] {
        let run = cli.run(&args).await;
        assert_eq!(run.code(), Some(1), "{args:?}: {run:#?}");
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("boxup: "))
            .collect();
        assert_eq!(errors.len(), 1, "{args:?}: {}", run.stderr);
        let line = errors[0];
        assert!(line.contains("401 unauthorized: "), "{line}");
        assert!(line.contains("(request id "), "{line}");
        assert!(line.contains("--token"), "a hint: {line}");
        assert_eq!(run.stdout, "");
    }
}

#[tokio::test]
async fn failures_exit_1_with_code_message_and_request_id() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let run = cli.run(&["download", "424242"]).await;
    assert_eq!(run.code(), Some(1));
    let line = run.stderr.trim();
    assert!(!line.contains('\n'), "one line: {line:?}");
    assert!(
        line.starts_with("boxup: download 424242: 404 not_found: "),
        "{line}"
    );
    assert!(line.contains("(request id "), "{line}");

    let missing = cli.run(&["upload", "no-such-file.bin"]).await;
    assert_eq!(missing.code(), Some(1));
    assert!(
        missing.stderr.contains("cannot open no-such-file.bin"),
        "{missing:#?}"
    );

    let unknown = "0123456789ABCDEF0123456789ABCDEF";
    let session = cli.run(&["session", "show", unknown]).await;
    assert_eq!(session.code(), Some(1));
    assert!(session.stderr.contains("404 not_found"), "{session:#?}");
}

#[tokio::test]
async fn a_local_server_dev_token_is_used_when_no_token_is_given() {
    let server = Server::start(None).await;
    let mut cli = Cli::new(&server.origin);
    cli.token = String::new();
    let mut cmd = cli.command(&["mkdir", "from-dev-token"]);
    cmd.arg("--server-data-dir").arg(&server.data_dir);
    let out = crate::cli_support::within("mkdir", cmd.output())
        .await
        .unwrap();
    assert!(out.status.success(), "{out:#?}");

    // Through the environment, as after `boxup serve --data-dir D`.
    let mut cmd = cli.command(&["ls"]);
    cmd.env("BOXUP_DATA_DIR", &server.data_dir);
    let out = crate::cli_support::within("ls", cmd.output())
        .await
        .unwrap();
    assert!(out.status.success(), "{out:#?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("from-dev-token"));

    // Elsewhere there is no dev token: a usage error that says where it looked.
    let run = cli.run(&["ls", "--server-data-dir", "/nonexistent"]).await;
    assert_eq!(run.code(), Some(2), "{run:#?}");
    assert!(
        run.stderr
            .contains("no dev token in /nonexistent/dev-token"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn serve_names_the_real_cause_when_its_database_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd =
        crate::cli_support::clean(tokio::process::Command::new(env!("CARGO_BIN_EXE_boxup")));
    cmd.arg("serve")
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        // Port 1: nothing listens, so the connection is refused at once.
        .args(["--database-url", "postgres://ops:s3cret@127.0.0.1:1/meta"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = crate::cli_support::within("serve to give up", cmd.output())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "cannot open the metadata store: cannot connect to PostgreSQL at ops@127.0.0.1:1/meta: "
        ),
        "{stderr}"
    );
    assert!(stderr.to_lowercase().contains("refused"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "the password leaked: {stderr}");
    assert!(!stderr.contains("Internal Server Error"), "{stderr}");
}

#[tokio::test]
async fn serve_logs_each_request_with_the_id_its_client_sees() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let token = "log-test-token-8f3a1c";
    let mut cmd =
        crate::cli_support::clean(tokio::process::Command::new(env!("CARGO_BIN_EXE_boxup")));
    cmd.arg("serve")
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--token", &format!("{token}=alice")])
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = crate::cli_support::within("serve to start", stdout.next_line())
        .await
        .unwrap()
        .unwrap();
    let addr = first.strip_prefix("boxup serving on ").unwrap().trim();
    let answer = reqwest::Client::new()
        .get(format!("http://{addr}/2.0/files/123456789012"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    let id = answer.headers()["box-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["request_id"], id.as_str());
    // The access-log line of that request, on the server's stderr.
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = crate::cli_support::within("the request's log line", async {
        loop {
            let line = stderr.next_line().await.unwrap().expect("serve is running");
            assert!(!line.contains(token), "a token reached the log: {line}");
            if line.contains(&id) {
                return line;
            }
        }
    })
    .await;
    assert!(line.contains("status=404"), "{line}");
    assert!(line.contains("path=/2.0/files/123456789012"), "{line}");
    // A download link is a credential too: its token is never logged.
    let link_token = "c2VjcmV0LWxpbmstdG9rZW4tZm9yLXRlc3Rz";
    let answer = reqwest::Client::new()
        .get(format!("http://{addr}/downloads/{link_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    let id = answer.headers()["box-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let line = crate::cli_support::within("the link request's log line", async {
        loop {
            let line = stderr.next_line().await.unwrap().expect("serve is running");
            assert!(
                !line.contains(link_token),
                "a link token reached the log: {line}"
            );
            if line.contains(&id) {
                return line;
            }
        }
    })
    .await;
    assert!(line.contains("path=/downloads/…"), "{line}");
}
