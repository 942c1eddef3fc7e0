//! What real clients send that the SDKs do not: a trailing slash on a
//! path, the file part of a simple upload under another name (rclone's
//! `contents`), content times in the upload's attributes.

use crate::common::*;
use reqwest::Method;
use serde_json::json;

/// A multipart body whose file part is named `field`.
fn multipart_named(attributes: &str, field: &str, file: &[u8]) -> (String, Vec<u8>) {
    let (content_type, body) = multipart(attributes, file, false);
    let body = String::from_utf8(body)
        .unwrap()
        .replace("name=\"file\"", &format!("name=\"{field}\""));
    (content_type, body.into_bytes())
}

#[tokio::test]
async fn a_trailing_slash_is_the_path_without_it() {
    let t = TestServer::start(|_| {}).await;
    let pre = t
        .req(Method::OPTIONS, ALICE, &format!("{API}/files/content/"))
        .json(&json!({"name": "a.txt", "size": 3, "parent": {"id": "0"}}));
    let answer = expect_json(t.send(pre).await, 200).await;
    assert!(
        answer["upload_url"]
            .as_str()
            .unwrap()
            .contains("/files/content")
    );
    let items = expect_json(t.get(ALICE, &format!("{API}/folders/0/items/")).await, 200).await;
    assert_eq!(items["total_count"], 0);
    let me = expect_json(t.get(ALICE, &format!("{UPLOAD}/users/me/")).await, 200).await;
    assert_eq!(me["login"], "alice");
    expect_error(
        t.get(ALICE, &format!("{API}/nothing/here/")).await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        t.get("bad", &format!("{API}/users/me/")).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn the_file_part_may_have_any_name_after_the_attributes() {
    let t = TestServer::start(|_| {}).await;
    let attrs = json!({"name": "c.txt", "parent": {"id": "0"},
        "content_created_at": "2019-01-02T03:04:05Z",
        "content_modified_at": "2019-06-07T08:09:10+02:00"});
    let (ct, body) = multipart_named(&attrs.to_string(), "contents", b"rclone");
    let url = format!("{UPLOAD}/files/content");
    let r = t
        .send(
            t.req(Method::POST, ALICE, &url)
                .header("content-type", ct)
                .body(body),
        )
        .await;
    let files = expect_json(r, 201).await;
    let f = &files["entries"][0];
    assert_eq!((&f["name"], &f["size"]), (&json!("c.txt"), &json!(6)));
    assert_eq!(f["content_created_at"], "2019-01-02T03:04:05Z");
    assert_eq!(f["content_modified_at"], "2019-06-07T06:09:10Z");
    assert_eq!(t.download(ALICE, &id(f)).await, b"rclone");
    // A new version the same way, and its content time.
    let attrs = json!({"name": "c.txt", "content_modified_at": "2020-01-01T00:00:00Z"});
    let (ct, body) = multipart_named(&attrs.to_string(), "contents", b"v2");
    let url = format!("{UPLOAD}/files/{}/content", id(f));
    let r = t
        .send(
            t.req(Method::POST, ALICE, &url)
                .header("content-type", ct)
                .body(body),
        )
        .await;
    let v2 = expect_json(r, 200).await;
    assert_eq!(
        v2["entries"][0]["content_modified_at"],
        "2020-01-01T00:00:00Z"
    );
    assert_eq!(t.download(ALICE, &id(f)).await, b"v2");
    // A file-like part before the attributes is still out of order.
    let (ct, body) = multipart(&attrs.to_string(), b"x", true);
    let r = t
        .send(
            t.req(Method::POST, ALICE, &url)
                .header("content-type", ct)
                .body(body),
        )
        .await;
    expect_error(r, 400, "metadata_after_file_contents").await;
}
