//! Updates and folder deletes (docs/protocol.md §5.9, §5.11): rename,
//! move, describe and re-date items; delete folders, recursively or only
//! if empty. Copies are in `copies.rs`.

use std::time::SystemTime;

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn now() -> i64 {
    boxup_protocol::time::now_unix()
}

async fn put(t: &TestServer, path: &str, body: &Value) -> reqwest::Response {
    t.send(t.req(Method::PUT, ALICE, path).json(body)).await
}

#[tokio::test]
async fn a_file_is_renamed_moved_described_and_redated() {
    let t = TestServer::start(|_| {}).await;
    let dest = t.new_folder(ALICE, "0", "dest").await;
    let file = t.upload_file(ALICE, "0", "a.txt", b"abc").await;
    let fid = id(&file);
    let body = json!({"name": "b.txt", "parent": {"id": id(&dest)},
        "description": "moved", "content_modified_at": "2020-05-06T07:08:09Z"});
    let moved = expect_json(put(&t, &format!("{API}/files/{fid}"), &body).await, 200).await;
    assert_eq!(moved["id"], file["id"]);
    assert_eq!(moved["name"], "b.txt");
    assert_eq!(moved["description"], "moved");
    assert_eq!(moved["content_modified_at"], "2020-05-06T07:08:09Z");
    assert_eq!(moved["parent"]["id"], dest["id"]);
    assert_eq!(moved["path_collection"]["total_count"], 2);
    assert_eq!(
        moved["file_version"], file["file_version"],
        "no new version"
    );
    let etag = |v: &Value| v["etag"].as_str().unwrap().parse::<i64>().unwrap();
    assert!(etag(&moved) > etag(&file), "an update is a new sequence");
    assert_eq!(entry_names(&t.items(ALICE, "0").await), ["dest"]);
    assert_eq!(entry_names(&t.items(ALICE, &id(&dest)).await), ["b.txt"]);
    assert_eq!(t.download(ALICE, &fid).await, b"abc");
    // Only what is named changes; `fields` selects the answer.
    let url = format!("{API}/files/{fid}?fields=content_modified_at,size");
    let touched = expect_json(
        put(
            &t,
            &url,
            &json!({"content_modified_at": "2021-01-01T00:00:00Z"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(touched["content_modified_at"], "2021-01-01T00:00:00Z");
    assert_eq!(
        (&touched["name"], &touched["size"]),
        (&json!("b.txt"), &json!(3))
    );
    assert!(touched.get("description").is_none(), "{touched}");
}

#[tokio::test]
async fn update_errors_are_boxs() {
    let t = TestServer::start(|_| {}).await;
    let a = t.upload_file(ALICE, "0", "a.txt", b"a").await;
    let b = t.upload_file(ALICE, "0", "b.txt", b"b").await;
    let path = format!("{API}/files/{}", id(&a));
    // A clash names the item in the way.
    let e = expect_error(
        put(&t, &path, &json!({"name": "B.TXT"})).await,
        409,
        "item_name_in_use",
    )
    .await;
    assert_eq!(e["context_info"]["conflicts"]["id"], b["id"]);
    for (body, status, code) in [
        (json!({"name": "x/y"}), 400, "item_name_invalid"),
        (json!({"name": ".."}), 400, "item_name_invalid"),
        (json!({"name": " lead"}), 400, "item_name_invalid"),
        (json!({"name": "a".repeat(256)}), 400, "item_name_too_long"),
        (
            json!({"parent": {"id": "77777777"}}),
            404,
            "invalid_parameter",
        ),
        (json!({"parent": "0"}), 400, "bad_request"),
        (
            json!({"content_modified_at": "yesterday"}),
            400,
            "bad_request",
        ),
        (json!({"name": 5}), 400, "bad_request"),
    ] {
        expect_error(put(&t, &path, &body).await, status, code).await;
    }
    expect_error(
        t.send(t.req(Method::PUT, ALICE, &path).body("{")).await,
        400,
        "invalid_json",
    )
    .await;
    let stale = t
        .req(Method::PUT, ALICE, &path)
        .header("if-match", "\"99\"")
        .json(&json!({"name": "c"}));
    expect_error(t.send(stale).await, 412, "precondition_failed").await;
    expect_error(
        put(&t, &format!("{API}/files/88888888"), &json!({})).await,
        404,
        "not_found",
    )
    .await;
    // Nothing changed.
    let now = expect_json(t.get(ALICE, &path).await, 200).await;
    assert_eq!((&now["name"], &now["etag"]), (&a["name"], &a["etag"]));
}

#[tokio::test]
async fn folders_move_but_never_into_themselves() {
    let t = TestServer::start(|_| {}).await;
    let top = t.new_folder(ALICE, "0", "top").await;
    let mid = t.new_folder(ALICE, &id(&top), "mid").await;
    let low = t.new_folder(ALICE, &id(&mid), "low").await;
    let top_path = format!("{API}/folders/{}", id(&top));
    for target in [&top, &mid, &low] {
        let body = json!({"parent": {"id": id(target)}});
        expect_error(
            put(&t, &top_path, &body).await,
            400,
            "cyclical_folder_structure",
        )
        .await;
        let copy = t.post_json(ALICE, &format!("{top_path}/copy"), &body).await;
        expect_error(copy, 400, "cyclical_folder_structure").await;
    }
    // Moving `low` up to the root and renaming `mid` work.
    let low_path = format!("{API}/folders/{}", id(&low));
    let moved = expect_json(
        put(&t, &low_path, &json!({"parent": {"id": "0"}})).await,
        200,
    )
    .await;
    assert_eq!(moved["parent"]["id"], "0");
    let renamed = expect_json(
        put(
            &t,
            &format!("{API}/folders/{}", id(&mid)),
            &json!({"name": "Middle", "description": "d"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (&renamed["name"], &renamed["description"]),
        (&json!("Middle"), &json!("d"))
    );
    let clash = put(&t, &low_path, &json!({"name": "TOP"})).await;
    let e = expect_error(clash, 409, "item_name_in_use").await;
    assert_eq!(e["context_info"]["conflicts"][0]["id"], top["id"]);
    expect_error(
        put(&t, &format!("{API}/folders/0"), &json!({"name": "x"})).await,
        400,
        "bad_request",
    )
    .await;
    let mut root = entry_names(&t.items(ALICE, "0").await);
    root.sort();
    assert_eq!(root, ["low", "top"]);
}

#[tokio::test]
async fn folder_delete_is_recursive_only_when_asked() {
    let t = TestServer::start_manual_sweep(|_| {}).await;
    let top = t.new_folder(ALICE, "0", "top").await;
    let sub = t.new_folder(ALICE, &id(&top), "sub").await;
    let deep = t
        .upload_file(ALICE, &id(&sub), "deep.bin", &data(5000, 1))
        .await;
    let big = t
        .session_upload(
            ALICE,
            &id(&top),
            "big.bin",
            &data(PART_SIZE as usize + 9, 2),
        )
        .await;
    let path = format!("{API}/folders/{}", id(&top));
    expect_error(t.delete(ALICE, &path).await, 400, "folder_not_empty").await;
    let stale = t
        .req(Method::DELETE, ALICE, &format!("{path}?recursive=true"))
        .header("if-match", "\"9\"");
    expect_error(t.send(stale).await, 412, "precondition_failed").await;
    assert!(!t.object_files().is_empty());
    expect_empty(
        t.delete(ALICE, &format!("{path}?recursive=true")).await,
        204,
    )
    .await;
    for gone in [
        format!("{API}/folders/{}", id(&sub)),
        format!("{API}/files/{}", id(&deep)),
        format!("{API}/files/{}", id(&big)),
    ] {
        expect_error(t.get(ALICE, &gone).await, 404, "not_found").await;
    }
    assert_eq!(t.items(ALICE, "0").await["total_count"], 0);
    // Their bytes are garbage now: a sweep frees every object.
    t.service
        .sweep_once(now(), SystemTime::UNIX_EPOCH)
        .await
        .expect("sweep");
    assert_eq!(t.object_files(), Vec::<std::path::PathBuf>::new());
    // An empty folder goes without `recursive`; the root never does.
    let empty = t.new_folder(ALICE, "0", "empty").await;
    expect_empty(
        t.delete(ALICE, &format!("{API}/folders/{}", id(&empty)))
            .await,
        204,
    )
    .await;
    expect_error(
        t.delete(ALICE, &format!("{API}/folders/0?recursive=true"))
            .await,
        400,
        "bad_request",
    )
    .await;
    expect_error(t.delete(ALICE, &path).await, 404, "not_found").await;
}

#[tokio::test]
async fn folder_update_and_copy_errors_are_boxs() {
    let t = TestServer::start(|_| {}).await;
    let f = t.new_folder(ALICE, "0", "f").await;
    let path = format!("{API}/folders/{}", id(&f));
    for (body, status, code) in [
        (json!({"name": "a\\b"}), 400, "item_name_invalid"),
        (json!({"name": "."}), 400, "item_name_invalid"),
        (json!({"name": "x".repeat(256)}), 400, "item_name_too_long"),
        (
            json!({"parent": {"id": "77777777"}}),
            404,
            "invalid_parameter",
        ),
        (json!({"parent": {"id": "no"}}), 400, "bad_request"),
        (json!({"description": 3}), 400, "bad_request"),
    ] {
        expect_error(put(&t, &path, &body).await, status, code).await;
    }
    expect_error(
        t.send(t.req(Method::PUT, ALICE, &path).body("[1]")).await,
        400,
        "invalid_json",
    )
    .await;
    let stale = t
        .req(Method::PUT, ALICE, &path)
        .header("if-match", "\"5\"")
        .json(&json!({"name": "g"}));
    expect_error(t.send(stale).await, 412, "precondition_failed").await;
    let copy = format!("{path}/copy");
    for (body, status, code) in [
        (json!({"name": "g"}), 400, "bad_request"),
        (
            json!({"parent": {"id": "77777777"}}),
            404,
            "invalid_parameter",
        ),
        (json!({"parent": {"id": "0"}}), 409, "item_name_in_use"),
        (
            json!({"parent": {"id": "0"}, "name": ""}),
            400,
            "item_name_invalid",
        ),
    ] {
        expect_error(t.post_json(ALICE, &copy, &body).await, status, code).await;
    }
    let missing = t
        .post_json(
            ALICE,
            &format!("{API}/folders/88888888/copy"),
            &json!({"parent": {"id": "0"}}),
        )
        .await;
    expect_error(missing, 404, "not_found").await;
    let root = t
        .post_json(
            ALICE,
            &format!("{API}/folders/0/copy"),
            &json!({"parent": {"id": "0"}}),
        )
        .await;
    expect_error(root, 400, "bad_request").await;
    // Nothing changed.
    let now = expect_json(t.get(ALICE, &path).await, 200).await;
    assert_eq!((&now["name"], &now["etag"]), (&f["name"], &f["etag"]));
    assert_eq!(t.items(ALICE, "0").await["total_count"], 1);
}
