//! What a retrying client sees again: a replayed commit shows the version
//! that commit made, even after newer versions; part ids stay distinct
//! within a session.

use std::collections::HashSet;

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn a_replayed_commit_shows_its_own_version_after_a_newer_one() {
    let t = TestServer::start(|_| {}).await;
    let v1 = data(2 * PART_SIZE as usize + 5, 61);
    let s = t
        .new_session(ALICE, "0", "replayed.bin", v1.len() as u64)
        .await;
    let parts = t.upload_parts(ALICE, &s, &v1).await;
    let commit_url = endpoint(&s, "commit");
    let first = expect_json(t.commit(ALICE, &commit_url, &parts, &v1).await, 201).await;
    let first = &first["entries"][0];

    // A newer version of the same file, through a simple upload.
    let v2 = data(1000, 62);
    let url = t.url(&format!("{UPLOAD}/files/{}/content", id(first)));
    let newer = expect_json(
        t.multipart_post(ALICE, &url, &json!({"name": "replayed.bin"}), &v2, None)
            .await,
        200,
    )
    .await;
    assert_ne!(
        newer["entries"][0]["file_version"]["id"],
        first["file_version"]["id"]
    );

    let replay = expect_json(t.commit(ALICE, &commit_url, &parts, &v1).await, 201).await;
    let replay = &replay["entries"][0];
    assert_eq!(replay["id"], first["id"]);
    assert_eq!(replay["file_version"], first["file_version"]);
    assert_eq!(replay["sha1"], sha1_hex(&v1));
    assert_eq!(replay["size"], v1.len());
}

#[tokio::test]
async fn part_ids_are_distinct_within_a_session() {
    let t = TestServer::start(|o| o.service.part_size = Some(64)).await;
    let body = data(64 * 600, 63);
    let s = t
        .new_session(ALICE, "0", "many-parts.bin", body.len() as u64)
        .await;
    let parts = t.upload_parts(ALICE, &s, &body).await;
    let ids: HashSet<&str> = parts
        .iter()
        .map(|p| p["part_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), parts.len(), "duplicate part ids");
    for p in &parts {
        let id = p["part_id"].as_str().unwrap();
        assert!(
            id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
}
