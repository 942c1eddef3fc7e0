//! The access log of the real `boxup serve` binary with `--log-format
//! json`: exactly one JSON line per request, carrying the route template,
//! method, status, user id (when authenticated), body bytes, duration and
//! the same request id as the answer's `box-request-id`; and no token (a
//! bearer token, the metrics token or a download link's) anywhere in
//! the output. `--metrics-token-file` is read: its token opens `/metrics`.
//!
//! Each line is written once its answer is sent, so the test reads the
//! log until it has one line per request (a bounded wait, never a sleep).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::cli_support::clean;

const TOKEN: &str = "log-secret-token-5f2a9c";
const METRICS_TOKEN: &str = "metrics-secret-token-77e1b0";

/// Bounds a step, so that a wedged server fails the test instead of hanging
/// it. Never used to wait for something to happen.
async fn within<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Starts `boxup serve` with a JSON log; returns it, its address and its
/// output lines (stdout and stderr alike) as they come.
async fn serve(root: &Path) -> (Child, String, mpsc::UnboundedReceiver<String>) {
    let token_file = root.join("metrics-token");
    std::fs::write(&token_file, format!("{METRICS_TOKEN}\n")).unwrap();
    // Only the command line configures the server under test.
    let mut cmd = clean(Command::new(env!("CARGO_BIN_EXE_boxup")));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--log-format", "json"])
        .args(["--token", &format!("{TOKEN}=alice")])
        .arg("--metrics-token-file")
        .arg(&token_file)
        .arg("--data-dir")
        .arg(root.join("data"))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn boxup serve");
    let (tx, rx) = mpsc::unbounded_channel();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = within("server start", out.next_line()).await.unwrap();
    let addr = first
        .as_deref()
        .and_then(|l| l.strip_prefix("boxup serving on "))
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .trim()
        .to_owned();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let err_tx = tx.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = err.next_line().await {
            let _ = err_tx.send(format!("E {line}"));
        }
    });
    tokio::spawn(async move {
        while let Ok(Some(line)) = out.next_line().await {
            let _ = tx.send(format!("O {line}"));
        }
    });
    (child, format!("http://{addr}"), rx)
}

/// What a request's line must say.
struct Expected {
    id: String,
    method: &'static str,
    route: &'static str,
    status: u16,
    authenticated: bool,
    response_bytes: u64,
}

async fn send(
    rb: reqwest::RequestBuilder,
    method: &'static str,
    route: &'static str,
    authenticated: bool,
) -> (Expected, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = within(route, rb.send()).await.expect("answered");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let id = headers["box-request-id"].to_str().unwrap().to_owned();
    let body = resp.bytes().await.unwrap().to_vec();
    let expected = Expected {
        id,
        method,
        route,
        status,
        authenticated,
        response_bytes: body.len() as u64,
    };
    (expected, headers, body)
}

#[tokio::test]
async fn one_json_line_per_request_without_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut child, base, mut lines) = serve(tmp.path()).await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut expected = Vec::new();

    let me = http.get(format!("{base}/2.0/users/me")).bearer_auth(TOKEN);
    expected.push(send(me, "GET", "/2.0/users/me", true).await.0);
    let missing = http
        .get(format!("{base}/2.0/files/987654"))
        .bearer_auth(TOKEN);
    let (e, _, _) = send(missing, "GET", "/2.0/files/{id}", true).await;
    assert_eq!(e.status, 404);
    expected.push(e);
    let anonymous = http.get(format!("{base}/2.0/folders/0"));
    let (e, _, _) = send(anonymous, "GET", "/2.0/folders/{id}", false).await;
    assert_eq!(e.status, 401);
    expected.push(e);

    let content = b"the content of a logged file";
    let boundary = "boundary-0123";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"attributes\"\r\n\r\n\
         {{\"name\":\"a.txt\",\"parent\":{{\"id\":\"0\"}}}}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request_bytes = body.len() as u64;
    let upload = http
        .post(format!("{base}/api/2.0/files/content"))
        .bearer_auth(TOKEN)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body);
    let (e, _, answer) = send(upload, "POST", "/api/2.0/files/content", true).await;
    assert_eq!(e.status, 201);
    expected.push(e);
    let file: Value = serde_json::from_slice(&answer).unwrap();
    let file_id = file["entries"][0]["id"].as_str().unwrap().to_owned();

    let redirect = http
        .get(format!("{base}/2.0/files/{file_id}/content"))
        .bearer_auth(TOKEN);
    let (e, headers, _) = send(redirect, "GET", "/2.0/files/{id}/content", true).await;
    assert_eq!(e.status, 302);
    expected.push(e);
    let link = headers["location"].to_str().unwrap().to_owned();
    let link_token = link.rsplit('/').next().unwrap().to_owned();
    let (e, _, bytes) = send(http.get(&link), "GET", "/downloads/{token}", false).await;
    assert_eq!(e.status, 200);
    assert_eq!(bytes, content);
    expected.push(e);

    // The metrics token from its file; a user's token is refused.
    let scrape = http.get(format!("{base}/metrics")).bearer_auth(TOKEN);
    let (e, _, _) = send(scrape, "GET", "/metrics", false).await;
    assert_eq!(e.status, 404);
    expected.push(e);
    let scrape = http
        .get(format!("{base}/metrics"))
        .bearer_auth(METRICS_TOKEN);
    let (e, _, text) = send(scrape, "GET", "/metrics", false).await;
    assert_eq!(e.status, 200);
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains(
            r#"boxup_http_requests_total{route="/downloads/{token}",method="GET",status="200"} 1"#
        ),
        "{text}"
    );
    expected.push(e);

    // One "served" line per request.
    let mut output = Vec::new();
    let mut served: Vec<Value> = Vec::new();
    while served.len() < expected.len() {
        let line = within("the access lines", lines.recv())
            .await
            .expect("the server is running");
        if let Some(json) = line.strip_prefix("E ") {
            let v: Value = serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {json}"));
            if v["fields"]["message"] == "served" {
                served.push(v["fields"].clone());
            }
        }
        output.push(line);
    }
    for e in &expected {
        let mine: Vec<&Value> = served
            .iter()
            .filter(|f| f["request_id"] == e.id.as_str())
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "one line for {} {}: {served:?}",
            e.method,
            e.route
        );
        let f = mine[0];
        assert_eq!(f["method"], e.method, "{f}");
        assert_eq!(f["route"], e.route, "{f}");
        assert_eq!(f["status"], e.status, "{f}");
        assert_eq!(f["user_id"].is_u64(), e.authenticated, "{f}");
        assert_eq!(f["response_bytes"], e.response_bytes, "{f}");
        assert!(f["duration_ms"].as_f64().is_some_and(|d| d >= 0.0), "{f}");
        assert!(f["request_bytes"].is_u64(), "{f}");
        assert_eq!(f["complete"], true, "{f}");
    }
    let upload_line = served
        .iter()
        .find(|f| f["route"] == "/api/2.0/files/content")
        .unwrap();
    assert_eq!(upload_line["request_bytes"], request_bytes);
    assert_eq!(
        served
            .iter()
            .find(|f| f["route"] == "/downloads/{token}")
            .unwrap()["path"],
        "/downloads/…"
    );

    // Stop the server and read the rest of its output.
    child.start_kill().unwrap();
    within("exit", child.wait()).await.unwrap();
    while let Some(line) = within("the rest of the output", lines.recv()).await {
        output.push(line);
    }
    let all = output.join("\n");
    assert!(!all.contains(TOKEN), "the bearer token was logged:\n{all}");
    assert!(
        !all.contains(METRICS_TOKEN),
        "the metrics token was logged:\n{all}"
    );
    assert!(
        !all.contains(&link_token),
        "the link token was logged:\n{all}"
    );
}
