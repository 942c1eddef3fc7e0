//! Wire helpers without a server: test data, digests, multipart bodies,
//! and assertions on answers (status, JSON, Box's error object).

use std::path::{Path, PathBuf};

use base64::Engine;
use reqwest::Response;
use serde_json::Value;
use sha1::{Digest, Sha1};

pub const HELP_URL: &str =
    "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/";

/// Passes a response through, panicking (with its body) if it is a 5xx.
pub async fn no_5xx(resp: Response) -> Response {
    if resp.status().as_u16() < 500 {
        return resp;
    }
    let (status, url) = (resp.status(), resp.url().clone());
    let body = resp.text().await.unwrap_or_default();
    panic!("a client request got {status} from {url}: {body}");
}

/// Every regular file below `dir` (empty if `dir` does not exist).
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Deterministic pseudo-random bytes (xorshift), different per seed.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn sha1_raw(bytes: &[u8]) -> [u8; 20] {
    Sha1::digest(bytes).into()
}

/// Lowercase hex SHA-1, as JSON `sha1` fields carry it.
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(sha1_raw(bytes))
}

/// Base64 SHA-1, as the `Digest` header carries it.
pub fn sha1_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha1_raw(bytes))
}

pub fn content_range(offset: u64, len: u64, total: u64) -> String {
    format!("bytes {offset}-{}/{total}", offset + len - 1)
}

/// `(offset, chunk)` pairs of `data` cut at `part_size`.
pub fn chunks(data: &[u8], part_size: u64) -> Vec<(u64, &[u8])> {
    data.chunks(part_size as usize)
        .enumerate()
        .map(|(i, c)| (i as u64 * part_size, c))
        .collect()
}

/// A `session_endpoints` URL of a session object.
pub fn endpoint(session: &Value, name: &str) -> String {
    session["session_endpoints"][name]
        .as_str()
        .unwrap_or_else(|| panic!("session_endpoints.{name} missing: {session}"))
        .to_owned()
}

pub fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no string id in {v}"))
        .to_owned()
}

pub const BOUNDARY: &str = "----boxup-test-boundary-5c1d3e7a";

/// A `multipart/form-data` body with `attributes` and `file` parts (in
/// that order, or reversed); returns `(content_type, body)`.
pub fn multipart(attributes: &str, file: &[u8], file_first: bool) -> (String, Vec<u8>) {
    let attr = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attributes\"\r\n\r\n{attributes}\r\n"
    );
    let mut filepart = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"unused\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    filepart.extend_from_slice(file);
    filepart.extend_from_slice(b"\r\n");
    let mut body = Vec::new();
    if file_first {
        body.extend_from_slice(&filepart);
        body.extend_from_slice(attr.as_bytes());
    } else {
        body.extend_from_slice(attr.as_bytes());
        body.extend_from_slice(&filepart);
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Asserts the status and a JSON body (with `Content-Type: application/json`).
pub async fn expect_json(resp: Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let json_ct = is_json(&resp);
    let url = resp.url().to_string();
    let text = resp.text().await.expect("body");
    assert_eq!(got, status, "{url}: unexpected status; body: {text}");
    assert!(json_ct, "{url}: answer {got} is not application/json");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: invalid JSON ({e}): {text}"))
}

/// Asserts 503 `unavailable` with a `Retry-After` of at least a second.
pub async fn expect_unavailable(resp: Response) {
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let retry: u64 = retry
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry >= 1, "Retry-After {retry}");
    let body = expect_json(resp, 503).await;
    assert_eq!(body["type"], "error");
    assert_eq!(body["code"], "unavailable");
}

/// Asserts an empty-bodied status (204, 304).
pub async fn expect_empty(resp: Response, status: u16) {
    let got = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    assert!(
        text.is_empty(),
        "a {status} must have no body, got {text:?}"
    );
}

/// Asserts Box's error object (docs/protocol.md §6.1) with this status and `code`.
pub async fn expect_error(resp: Response, status: u16, code: &str) -> Value {
    let v = expect_error_any(resp, status).await;
    assert_eq!(v["code"], code, "wrong code in {v}");
    v
}

/// Asserts Box's error object with this status, whatever its code.
pub async fn expect_error_any(resp: Response, status: u16) -> Value {
    let v = expect_json(resp, status).await;
    assert_error_shape(&v, status);
    v
}

pub fn assert_error_shape(v: &Value, status: u16) {
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(
        v["status"], status,
        "status field must repeat the HTTP status: {v}"
    );
    assert!(
        v["code"].as_str().is_some_and(|c| !c.is_empty()),
        "code: {v}"
    );
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message: {v}"
    );
    assert!(
        v["request_id"].as_str().is_some_and(|r| !r.is_empty()),
        "request_id: {v}"
    );
    assert_eq!(v["help_url"], HELP_URL, "help_url: {v}");
    let ctx = &v["context_info"];
    assert!(
        ctx.is_null() || ctx.is_object(),
        "context_info must be null or an object: {v}"
    );
}

/// The `name` of each entry of a listing, in order.
pub fn entry_names(items: &Value) -> Vec<String> {
    items["entries"]
        .as_array()
        .expect("a listing has entries")
        .iter()
        .map(|e| e["name"].as_str().expect("an entry has a name").to_owned())
        .collect()
}
