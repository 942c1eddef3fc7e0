//! Copies (docs/protocol.md §5.10): a file copy shares the original's
//! bytes (none are written, and none are freed while a file uses them); a
//! folder copy copies the whole tree.

use std::time::SystemTime;

use crate::common::*;
use serde_json::json;

fn now() -> i64 {
    boxup_protocol::time::now_unix()
}

#[tokio::test]
async fn a_copy_shares_bytes_until_the_last_file_that_uses_them_goes() {
    let t = TestServer::start_manual_sweep(|_| {}).await;
    let bytes = data(3 * PART_SIZE as usize + 5, 3);
    let original = t.session_upload(ALICE, "0", "orig.bin", &bytes).await;
    let objects = t.object_files().len();
    let dest = t.new_folder(ALICE, "0", "dest").await;
    let copy_url = format!("{API}/files/{}/copy", id(&original));
    let copy = expect_json(
        t.post_json(ALICE, &copy_url, &json!({"parent": {"id": id(&dest)}}))
            .await,
        201,
    )
    .await;
    assert_ne!(copy["id"], original["id"]);
    assert_eq!(
        (&copy["name"], &copy["sha1"], &copy["size"]),
        (&original["name"], &original["sha1"], &original["size"])
    );
    assert_eq!(copy["etag"], "0");
    assert_eq!(t.object_files().len(), objects, "a copy writes no bytes");
    // Same folder needs a new name.
    let clash = t
        .post_json(ALICE, &copy_url, &json!({"parent": {"id": "0"}}))
        .await;
    expect_error(clash, 409, "item_name_in_use").await;
    let renamed = expect_json(
        t.post_json(
            ALICE,
            &copy_url,
            &json!({"parent": {"id": "0"}, "name": "second.bin"}),
        )
        .await,
        201,
    )
    .await;
    for (body, status, code) in [
        (json!({}), 400, "bad_request"),
        (
            json!({"parent": {"id": "77777777"}}),
            404,
            "invalid_parameter",
        ),
        (
            json!({"parent": {"id": "0"}, "name": "a/b"}),
            400,
            "item_name_invalid",
        ),
    ] {
        expect_error(t.post_json(ALICE, &copy_url, &body).await, status, code).await;
    }
    // Deleting the original and sweeping frees nothing the copies use.
    expect_empty(
        t.delete(ALICE, &format!("{API}/files/{}", id(&original)))
            .await,
        204,
    )
    .await;
    t.service
        .sweep_once(now(), SystemTime::UNIX_EPOCH)
        .await
        .expect("sweep");
    assert_eq!(t.object_files().len(), objects);
    assert_eq!(t.download(ALICE, &id(&copy)).await, bytes);
    expect_empty(
        t.delete(ALICE, &format!("{API}/files/{}", id(&copy))).await,
        204,
    )
    .await;
    t.service
        .sweep_once(now(), SystemTime::UNIX_EPOCH)
        .await
        .expect("sweep");
    assert_eq!(t.download(ALICE, &id(&renamed)).await, bytes);
    // The last one takes the bytes with it.
    expect_empty(
        t.delete(ALICE, &format!("{API}/files/{}", id(&renamed)))
            .await,
        204,
    )
    .await;
    t.service
        .sweep_once(now(), SystemTime::UNIX_EPOCH)
        .await
        .expect("sweep");
    assert_eq!(t.object_files().len(), 0);
}

#[tokio::test]
async fn a_folder_copy_copies_the_whole_tree() {
    let t = TestServer::start(|_| {}).await;
    let top = t.new_folder(ALICE, "0", "top").await;
    let sub = t.new_folder(ALICE, &id(&top), "sub").await;
    t.upload_file(ALICE, &id(&top), "a.txt", b"aaa").await;
    t.upload_file(ALICE, &id(&sub), "b.txt", b"bb").await;
    let url = format!("{API}/folders/{}/copy?fields=name", id(&top));
    let copy = expect_json(
        t.post_json(
            ALICE,
            &url,
            &json!({"parent": {"id": "0"}, "name": "top 2"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(copy["name"], "top 2");
    assert!(copy.get("created_at").is_none(), "fields honoured: {copy}");
    let listed = t.items(ALICE, &id(&copy)).await;
    assert_eq!(entry_names(&listed), ["sub", "a.txt"]);
    let sub_copy = id(&listed["entries"][0]);
    assert_ne!(sub_copy, id(&sub));
    let deep = t.items(ALICE, &sub_copy).await;
    assert_eq!(entry_names(&deep), ["b.txt"]);
    assert_eq!(t.download(ALICE, &id(&deep["entries"][0])).await, b"bb");
    // The original is untouched.
    assert_eq!(
        entry_names(&t.items(ALICE, &id(&top)).await),
        ["sub", "a.txt"]
    );
    let again = t
        .post_json(
            ALICE,
            &url,
            &json!({"parent": {"id": "0"}, "name": "TOP 2"}),
        )
        .await;
    expect_error(again, 409, "item_name_in_use").await;
}
