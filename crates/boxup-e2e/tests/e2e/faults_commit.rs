//! `upload_big_file` through a faulty network, at the commit: a commit
//! answered 202, and a commit whose answer is lost after it committed.
//! Also what real Box answers where boxup is kinder: a retried commit
//! refused with 409 naming the file it created, a listing or commit that
//! lags behind the last part. The part side is in `faults_parts.rs`.

use crate::common::upload_through;
use boxup_client::{Error, Files};
use boxup_e2e::server::PART;
use boxup_e2e::{Action, FaultProxy, Logged, Rewrite, TestServer, pattern, sha1_hex};
use bytes::Bytes;

#[tokio::test]
async fn commit_answered_202_then_retried() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.is_commit() && s.nth <= 3 {
            Action::retry_after(202, "0")
        } else {
            Action::Forward
        }
    })
    .await;
    upload_through(&server, &proxy, 3, 94).await;
    let commits = proxy
        .log()
        .into_iter()
        .filter(|l| l.seen.is_commit())
        .count();
    assert_eq!(commits, 3, "two 202s, then the real commit");
}

#[tokio::test]
async fn commit_response_lost_after_commit() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.is_commit() && s.attempt == 1 {
            Action::ForwardThenFail(502)
        } else {
            Action::Forward
        }
    })
    .await;
    upload_through(&server, &proxy, 3, 95).await;
    let commits: Vec<_> = proxy
        .log()
        .into_iter()
        .filter(|l| l.seen.is_commit())
        .collect();
    assert_eq!(commits.len(), 2);
    assert!(commits.iter().all(|c| c.upstream_status == Some(201)));
}

/// The requests of the final listing and commit, in order, as
/// `"GET parts"` / `"POST commit"` with the status the client got.
fn list_and_commit(proxy: &FaultProxy) -> Vec<String> {
    proxy
        .log()
        .iter()
        .filter(|l| l.seen.path.contains("/parts") || l.seen.is_commit())
        .map(|l| {
            let kind = if l.seen.is_commit() {
                "commit"
            } else {
                "parts"
            };
            format!("{kind} {}", answered(l))
        })
        .collect()
}

/// The status the client was answered.
fn answered(l: &Logged) -> u16 {
    match &l.action {
        Action::Respond { status, .. } => *status,
        _ => l.upstream_status.unwrap_or(0),
    }
}

/// Real Box's answer to a repeated commit whose first attempt created the
/// file: 409 `item_name_in_use` naming it. Made from boxup's replayed 201,
/// with the conflict's sha1 replaced by `sha1` when given.
fn box_style_409(sha1: Option<&'static str>) -> Rewrite {
    Rewrite::new(move |status, body: &Bytes| {
        assert_eq!(status, 201, "boxup replays the commit");
        let files: Files = serde_json::from_slice(body).unwrap();
        let file = &files.entries[0];
        let conflict = serde_json::json!({
            "type": "file", "id": file.id, "file_version": file.file_version,
            "sequence_id": file.sequence_id, "etag": file.etag,
            "sha1": sha1.map(str::to_owned).or(file.sha1.clone()), "name": file.name,
        });
        let error = serde_json::json!({
            "type": "error", "status": 409, "code": "item_name_in_use",
            "message": "Item with the same name already exists",
            "context_info": { "conflicts": conflict }, "request_id": "box-style",
        });
        (409, error.to_string())
    })
}

#[tokio::test]
async fn a_retried_commit_answered_409_naming_our_file_is_success() {
    let server = TestServer::start_small().await;
    let rewrite = box_style_409(None);
    let proxy = FaultProxy::start(server.addr, move |s| match (s.is_commit(), s.attempt) {
        (true, 1) => Action::ForwardThenDrop,
        (true, _) => Action::ForwardThenRewrite(rewrite.clone()),
        _ => Action::Forward,
    })
    .await;
    let data = pattern(3 * PART as usize, 101);
    let file = proxy
        .client()
        .chunked_uploads()
        .upload_big_file(&data[..], "lost-commit.bin", data.len() as u64, "0")
        .await
        .unwrap();
    let commits: Vec<Logged> = proxy
        .log()
        .into_iter()
        .filter(|l| l.seen.is_commit())
        .collect();
    assert_eq!(commits.len(), 2);
    let created: Files =
        serde_json::from_slice(commits[0].upstream_body.as_ref().unwrap()).unwrap();
    assert_eq!(
        file.id, created.entries[0].id,
        "the file the lost attempt created"
    );
    assert_eq!(file.name.as_deref(), Some("lost-commit.bin"));
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(server.download(&file.id).await, data);
}

#[tokio::test]
async fn a_retried_commit_answered_409_naming_other_content_is_an_error() {
    let server = TestServer::start_small().await;
    let rewrite = box_style_409(Some("0000000000000000000000000000000000000000"));
    let proxy = FaultProxy::start(server.addr, move |s| match (s.is_commit(), s.attempt) {
        (true, 1) => Action::ForwardThenDrop,
        (true, _) => Action::ForwardThenRewrite(rewrite.clone()),
        _ => Action::Forward,
    })
    .await;
    let data = pattern(2 * PART as usize, 102);
    let err = proxy
        .client()
        .chunked_uploads()
        .upload_big_file(&data[..], "someone-else.bin", data.len() as u64, "0")
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), Some("item_name_in_use"))
    );
}

#[tokio::test]
async fn a_short_listing_right_after_the_last_part_is_listed_again() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.method == "GET" && s.path.contains("/parts") && s.nth <= 2 {
            // Real Box may not list the last parts for a moment.
            Action::Respond {
                status: 200,
                retry_after: None,
                body: Some(r#"{"total_count":0,"entries":[],"offset":0,"limit":1000}"#.into()),
            }
        } else {
            Action::Forward
        }
    })
    .await;
    upload_through(&server, &proxy, 3, 103).await;
    assert_eq!(
        list_and_commit(&proxy),
        ["parts 200", "parts 200", "parts 200", "commit 201"]
    );
}

#[tokio::test]
async fn a_transient_parts_mismatch_is_committed_again() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.is_commit() && s.attempt == 1 {
            Action::Respond {
                status: 400,
                retry_after: None,
                body: Some(
                    r#"{"type":"error","status":400,"code":"parts_mismatch","message":"m"}"#.into(),
                ),
            }
        } else {
            Action::Forward
        }
    })
    .await;
    upload_through(&server, &proxy, 3, 104).await;
    assert_eq!(
        list_and_commit(&proxy),
        ["parts 200", "commit 400", "parts 200", "commit 201"]
    );
}

#[tokio::test]
async fn a_listing_that_stays_short_fails_after_the_retries() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |s| {
        if s.method == "GET" && s.path.contains("/parts") {
            Action::Respond {
                status: 200,
                retry_after: None,
                body: Some(r#"{"total_count":0,"entries":[],"offset":0,"limit":1000}"#.into()),
            }
        } else {
            Action::Forward
        }
    })
    .await;
    let data = pattern(2 * PART as usize, 105);
    let err = proxy
        .client()
        .chunked_uploads()
        .upload_big_file(&data[..], "never-listed.bin", data.len() as u64, "0")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("lists 0 parts")),
        "{err:?}"
    );
    let listings = list_and_commit(&proxy);
    assert_eq!(
        listings.len(),
        boxup_e2e::fast_retry().max_attempts as usize,
        "{listings:?}"
    );
    assert!(listings.iter().all(|l| l == "parts 200"), "{listings:?}");
}
