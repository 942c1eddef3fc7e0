//! Quotas (docs/protocol.md §5.12): `users/me` reports the quota and the
//! space used, and preflight, session creation and simple upload refuse
//! what would go past it with 403 `storage_limit_exceeded`, leaving
//! nothing stored; a commit checks again.

use boxup_server::admin::Admin;
use reqwest::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn uploads_past_the_quota_are_refused_and_leave_nothing() {
    let s = TestServer::start(|_| {}).await;
    let admin = Admin::open(&s.data_dir, None).await.unwrap();
    admin.set_quota("alice", Some(10_000)).await.unwrap();

    let me = expect_json(s.get(ALICE, "/2.0/users/me").await, 200).await;
    assert_eq!(
        (me["space_amount"].as_u64(), me["space_used"].as_u64()),
        (Some(10_000), Some(0))
    );

    // 6000 bytes fit.
    let first = data(6_000, 1);
    s.upload_file(ALICE, "0", "first.bin", &first).await;
    let me = expect_json(s.get(ALICE, "/2.0/users/me").await, 200).await;
    assert_eq!(me["space_used"], 6_000);

    // 4001 more do not: by preflight, by session, by simple upload.
    let pre = s
        .send(
            s.req(Method::OPTIONS, ALICE, "/2.0/files/content")
                .json(&json!({"name": "x.bin", "parent": {"id": "0"}, "size": 4_001})),
        )
        .await;
    expect_error(pre, 403, "storage_limit_exceeded").await;
    let session = s.create_session(ALICE, API, "0", "x.bin", 4_001).await;
    expect_error(session, 403, "storage_limit_exceeded").await;
    let simple = s
        .simple_upload(ALICE, API, "0", "x.bin", &data(4_001, 2))
        .await;
    expect_error(simple, 403, "storage_limit_exceeded").await;
    let items = expect_json(s.get(ALICE, "/2.0/folders/0/items").await, 200).await;
    assert_eq!(items["total_count"], 1, "{items}");

    // Exactly what is left still fits; bob, without a quota, is unaffected.
    s.upload_file(ALICE, "0", "last.bin", &data(4_000, 3)).await;
    let bob = expect_json(s.get(BOB, "/2.0/users/me").await, 200).await;
    assert_eq!(bob["space_amount"], 999_999_999_999_999_u64);
    s.upload_file(BOB, "0", "big.bin", &data(20_000, 4)).await;

    // Lifting the quota lifts the limit.
    admin.set_quota("alice", None).await.unwrap();
    s.upload_file(ALICE, "0", "more.bin", &data(20_000, 5))
        .await;
    s.stop().await;
}

/// Two sessions created while both fit: the second to commit finds the
/// space gone and is refused with 403, its session kept (nothing lost, the
/// client may free space and commit again), and commits once there is room.
#[tokio::test]
async fn a_commit_past_the_quota_is_refused_and_the_session_kept() {
    let s = TestServer::start(|_| {}).await;
    let admin = Admin::open(&s.data_dir, None).await.unwrap();
    let quota = 3 * PART_SIZE;
    admin.set_quota("alice", Some(quota)).await.unwrap();

    let (a, b) = (
        data(2 * PART_SIZE as usize, 7),
        data(2 * PART_SIZE as usize, 8),
    );
    let first = s.new_session(ALICE, "0", "a.bin", a.len() as u64).await;
    let second = s.new_session(ALICE, "0", "b.bin", b.len() as u64).await;
    s.finish_session(ALICE, &first, &a).await;

    let parts = s.upload_parts(ALICE, &second, &b).await;
    let commit = endpoint(&second, "commit");
    let refused = s.commit(ALICE, &commit, &parts, &b).await;
    let err = expect_error(refused, 403, "storage_limit_exceeded").await;
    let left = quota - a.len() as u64;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{left} bytes left")),
        "{err}"
    );
    let items = expect_json(s.get(ALICE, "/2.0/folders/0/items").await, 200).await;
    assert_eq!(entry_names(&items), vec!["a.bin"]);
    let me = expect_json(s.get(ALICE, "/2.0/users/me").await, 200).await;
    assert_eq!(me["space_used"], a.len() as u64);
    let list = s.req_url(Method::GET, ALICE, &endpoint(&second, "list_parts"));
    let listed = expect_json(s.send(list).await, 200).await;
    assert_eq!(listed["entries"].as_array().unwrap().len(), parts.len());

    // With room again, the same commit succeeds.
    admin.set_quota("alice", Some(4 * PART_SIZE)).await.unwrap();
    let files = expect_json(s.commit(ALICE, &commit, &parts, &b).await, 201).await;
    assert_eq!(files["entries"][0]["sha1"], sha1_hex(&b));
    s.stop().await;
}
