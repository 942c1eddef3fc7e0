//! `boxup serve --tls-cert --tls-key` on the real binary, with a CA made
//! for each test (`cli_support::tls`): an authenticated request over https
//! succeeds for a client trusting only that CA, the URLs the server builds
//! say https, plain HTTP on the same port gets no HTTP answer, the `boxup`
//! CLI uploads and downloads over https trusting the CA that
//! `SSL_CERT_FILE` names, the graceful
//! shutdown lets a part upload in flight over TLS finish, and every bad
//! flag or file is refused at start-up, naming the file, before anything
//! is created.
#![cfg(unix)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use boxup_protocol::{ContentRange, Sha1Digest, UploadSession};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::cli_support::read_response;
use crate::cli_support::tls::Pki;
use crate::cli_support::{Cli, clean, sha1_hex, within};

const TOKEN: &str = "t";
const PART: usize = 1 << 20;

/// One TLS `boxup serve` (1 MiB parts), its banner and its log lines.
struct TlsServe {
    child: Child,
    addr: SocketAddr,
    banner: Vec<String>,
    log: mpsc::UnboundedReceiver<String>,
}

impl TlsServe {
    /// Starts the server; `env` names the PEM files through
    /// BOXUP_TLS_CERT / BOXUP_TLS_KEY instead of the flags.
    async fn start(pki: &Pki, data_dir: &Path, env: bool) -> TlsServe {
        let mut cmd = clean(Command::new(env!("CARGO_BIN_EXE_boxup")));
        cmd.args(["serve", "--bind", "127.0.0.1:0", "--token", "t=alice"])
            .args(["--min-chunked-size", "1", "--part-size", "1048576"])
            .args(["--shutdown-grace", "300s", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if env {
            cmd.env("BOXUP_TLS_CERT", &pki.cert)
                .env("BOXUP_TLS_KEY", &pki.key);
        } else {
            cmd.arg("--tls-cert").arg(&pki.cert);
            cmd.arg("--tls-key").arg(&pki.key);
        }
        let mut child = cmd.spawn().expect("spawn boxup serve");
        let (tx, log) = mpsc::unbounded_channel();
        let mut err = BufReader::new(child.stderr.take().expect("stderr")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err.next_line().await {
                let _ = tx.send(line);
            }
        });
        let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut banner = Vec::new();
        for _ in 0..3 {
            let line = within("the banner", out.next_line()).await.expect("stdout");
            banner.push(line.unwrap_or_else(|| panic!("the banner ended: {banner:?}")));
        }
        tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
        let addr = banner[0]
            .strip_prefix("boxup serving on ")
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {banner:?}"));
        TlsServe {
            child,
            addr,
            banner,
            log,
        }
    }

    /// `https://localhost:PORT` + `path`: the name the certificate covers.
    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    async fn wait_for_log(&mut self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = within(needle, self.log.recv()).await;
            let line = line.unwrap_or_else(|| panic!("no {needle:?} in the log: {seen:#?}"));
            let found = line.contains(needle);
            seen.push(line);
            if found {
                return seen;
            }
        }
    }
}

#[tokio::test]
async fn https_serves_authenticated_requests_and_plain_http_gets_no_answer() {
    let pki = Pki::new();
    let data = tempfile::tempdir().unwrap();
    let server = TlsServe::start(&pki, data.path(), false).await;
    let port = server.addr.port();
    let api = format!("  API base:    https://127.0.0.1:{port}/2.0");
    assert_eq!(server.banner[1], api, "{:?}", server.banner);
    assert!(server.banner[2].contains("https://"), "{:?}", server.banner);

    let http = pki.reqwest();
    let res = http.get(server.url("/2.0/folders/0")).bearer_auth(TOKEN);
    let res = within("GET /folders/0", res.send()).await.expect("https");
    assert_eq!(res.status(), 200);
    let folder: serde_json::Value = res.json().await.unwrap();
    assert_eq!(folder["id"], "0", "{folder}");
    let res = within("no token", http.get(server.url("/2.0/folders/0")).send()).await;
    assert_eq!(res.expect("https").status(), 401);

    // The URLs the server builds from the request say https.
    let body = serde_json::json!({"folder_id": "0", "file_size": 3 * PART, "file_name": "f"});
    let res = http.post(server.url("/api/2.0/files/upload_sessions"));
    let res = within(
        "create a session",
        res.bearer_auth(TOKEN).json(&body).send(),
    )
    .await;
    let res = res.expect("https");
    assert_eq!(res.status(), 201);
    let session: UploadSession = res.json().await.unwrap();
    let commit = session.session_endpoints.expect("endpoints").commit;
    let want = server.url(&format!(
        "/api/2.0/files/upload_sessions/{}/commit",
        session.id
    ));
    assert_eq!(commit.as_deref(), Some(want.as_str()));

    // A client trusting another CA refuses the server's certificate.
    let stranger = Pki::new().reqwest();
    let res = within("untrusted", stranger.get(server.url("/healthz")).send()).await;
    assert!(res.is_err(), "a client without the CA connected: {res:?}");

    // Plain HTTP to the TLS port: no HTTP answer of any kind.
    let res = within(
        "plain http",
        http.get(format!("http://{}/healthz", server.addr)).send(),
    );
    assert!(res.await.is_err(), "plain HTTP was answered");
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let head = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let _ = within("the server closes", tcp.read_to_end(&mut reply)).await;
    assert!(
        !reply.starts_with(b"HTTP/"),
        "plain HTTP got {:?}",
        String::from_utf8_lossy(&reply)
    );
}

#[tokio::test]
async fn the_cli_uploads_and_downloads_over_https_trusting_ssl_cert_file() {
    let pki = Pki::new();
    let data = tempfile::tempdir().unwrap();
    let server = TlsServe::start(&pki, data.path(), false).await;
    let cli = Cli::new(&server.url(""));
    let (path, bytes) = cli.file("f.bin", 3 * PART + 5, 7);
    let run = |args: &[&str]| {
        let mut cmd = cli.command(args);
        cmd.env("SSL_CERT_FILE", &pki.ca);
        within("the CLI", cmd.output())
    };
    let up = run(&["upload", path.to_str().unwrap(), "--json"])
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert!(up.status.success(), "upload: {stderr}");
    let file: serde_json::Value = serde_json::from_slice(&up.stdout).expect("JSON");
    assert_eq!(file["sha1"], sha1_hex(&bytes), "{file}");
    let id = file["id"].as_str().expect("an id").to_owned();

    let copy = cli.work.join("copy.bin");
    let down = run(&["download", &id, "-o", copy.to_str().unwrap()])
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&down.stderr);
    assert!(down.status.success(), "download: {stderr}");
    assert!(
        std::fs::read(&copy).unwrap() == bytes,
        "the downloaded bytes differ"
    );
}

#[tokio::test]
async fn sigterm_lets_a_part_upload_in_flight_over_tls_finish() {
    let pki = Pki::new();
    let data = tempfile::tempdir().unwrap();
    let mut server = TlsServe::start(&pki, data.path(), true).await;
    let http = pki.reqwest();
    let body = serde_json::json!({"folder_id": "0", "file_size": 2 * PART, "file_name": "f"});
    let res = http.post(server.url("/api/2.0/files/upload_sessions"));
    let res = within(
        "create a session",
        res.bearer_auth(TOKEN).json(&body).send(),
    )
    .await;
    let session: UploadSession = res.expect("https").json().await.unwrap();

    // A PUT of part 0 held mid-body: `100 Continue` comes once the
    // handler reads the body.
    let part: Vec<u8> = (0..PART).map(|i| (i % 251) as u8).collect();
    let mut tls = within("TLS connect", pki.connect(server.addr)).await;
    let head = format!(
        "PUT /api/2.0/files/upload_sessions/{} HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Range: {}\r\nDigest: {}\r\n\
         Content-Length: {PART}\r\nExpect: 100-continue\r\n\r\n",
        session.id,
        ContentRange::for_part(0, PART as u64, 2 * PART as u64),
        Sha1Digest::of(&part).to_digest_header(),
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    let (status, _) = within("100 Continue", read_response(&mut tls)).await;
    assert_eq!(status, 100);
    tls.write_all(&part[..PART / 2]).await.unwrap();
    tls.flush().await.unwrap();

    let pid = server.child.id().expect("running") as i32;
    let pid = rustix::process::Pid::from_raw(pid).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    server.wait_for_log("stopped accepting connections").await;
    let refused = TcpStream::connect(server.addr).await;
    assert!(
        matches!(&refused, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
        "a new connection during the shutdown: {refused:?}"
    );

    within("the rest", tls.write_all(&part[PART / 2..]))
        .await
        .unwrap();
    tls.flush().await.unwrap();
    let (status, body) = within("the answer", read_response(&mut tls)).await;
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 200, "{body}");
    let sha1 = Sha1Digest::of(&part).to_hex();
    assert!(body.contains(&sha1), "{body}");

    let log = server.wait_for_log("shutdown complete").await;
    let exit = tokio::time::timeout(Duration::from_secs(60), server.child.wait()).await;
    let exit = exit.unwrap_or_else(|_| panic!("still running: {log:#?}"));
    assert_eq!(exit.unwrap().code(), Some(0), "{log:#?}");
}

/// Runs `boxup serve ARGS` over a fresh data dir that must stay absent;
/// returns (exit code, stderr).
async fn refused(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut cmd = clean(Command::new(env!("CARGO_BIN_EXE_boxup")));
    cmd.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--token",
        "t",
        "--data-dir",
    ])
    .arg(&data)
    .args(args)
    .stdin(Stdio::null())
    .kill_on_drop(true);
    let out = within("boxup serve", cmd.output()).await.expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!data.exists(), "a refused start created {}", data.display());
    (out.status.code(), stderr)
}

#[tokio::test]
async fn bad_tls_flags_and_files_are_refused_naming_the_file() {
    let pki = Pki::new();
    let flag = |f: &'static str| std::ffi::OsStr::new(f);
    let (cert, key) = (pki.cert.as_os_str(), pki.key.as_os_str());

    let (code, err) = refused(&[flag("--tls-cert"), cert]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--tls-key"), "{err}");
    let (code, err) = refused(&[flag("--tls-key"), key]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--tls-cert"), "{err}");

    let missing = pki.dir.path().join("missing.pem");
    let cases = [
        // (cert, key, what the message says, the file it names)
        (
            &missing,
            &pki.key,
            "cannot read the TLS certificate file",
            &missing,
        ),
        (
            &pki.cert,
            &missing,
            "cannot read the TLS key file",
            &missing,
        ),
        (&pki.key, &pki.key, "holds no CERTIFICATE block", &pki.key),
        (&pki.cert, &pki.cert, "holds no private key", &pki.cert),
        (
            &pki.cert,
            &pki.other_key,
            "cannot use the TLS key",
            &pki.other_key,
        ),
    ];
    for (c, k, says, names) in cases {
        let (code, err) = refused(&[
            flag("--tls-cert"),
            c.as_os_str(),
            flag("--tls-key"),
            k.as_os_str(),
        ])
        .await;
        assert_eq!(code, Some(1), "{c:?} {k:?}: {err}");
        assert!(err.contains(says), "{c:?} {k:?}: {err}");
        assert!(err.contains(&names.display().to_string()), "{err}");
    }
    let garbage = pki.file(
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n",
    );
    let (code, err) = refused(&[
        flag("--tls-cert"),
        garbage.as_os_str(),
        flag("--tls-key"),
        key,
    ])
    .await;
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("is not valid PEM") && err.contains("garbage.pem"),
        "{err}"
    );
}
