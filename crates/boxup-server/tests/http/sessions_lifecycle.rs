//! Upload sessions, continued: listing parts, commit and its replay,
//! abort, lenient JSON, and new-version sessions.

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn list_parts_pages_by_index_sorted_by_offset() {
    let t = TestServer::start(|_| {}).await;
    for (n, prefix) in PREFIXES.iter().enumerate() {
        let data = data(5 * PART_SIZE as usize - 1, 30 + n as u64);
        let total = data.len() as u64;
        let s = t.new_session(ALICE, "0", &format!("list-{n}"), total).await;
        let pieces = chunks(&data, PART_SIZE);
        for i in [3usize, 0, 4, 1, 2] {
            let (offset, chunk) = pieces[i];
            t.put_part_ok(ALICE, &endpoint(&s, "upload_part"), offset, chunk, total)
                .await;
        }
        let path = format!("{}/parts", TestServer::session_path(prefix, &id(&s)));
        let all = expect_json(t.get(ALICE, &path).await, 200).await;
        assert_eq!(all["total_count"], 5);
        assert!(
            all["limit"].as_u64().is_some_and(|l| l >= 5),
            "limit always present: {all}"
        );
        assert_eq!(all["offset"], 0);
        let offsets: Vec<u64> = all["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["offset"].as_u64().unwrap())
            .collect();
        assert_eq!(offsets, (0..5).map(|i| i * PART_SIZE).collect::<Vec<_>>());
        for e in all["entries"].as_array().unwrap() {
            let i = (e["offset"].as_u64().unwrap() / PART_SIZE) as usize;
            assert_eq!(e["sha1"], sha1_hex(pieces[i].1));
            assert_eq!(e["size"], pieces[i].1.len());
        }
        let mut paged: Vec<Value> = Vec::new();
        for (offset, expect_len) in [(0, 2), (2, 2), (4, 1), (6, 0)] {
            let page = expect_json(
                t.get(ALICE, &format!("{path}?limit=2&offset={offset}"))
                    .await,
                200,
            )
            .await;
            assert_eq!(
                page["total_count"], 5,
                "total_count counts all parts: {page}"
            );
            assert_eq!(page["limit"], 2);
            assert_eq!(page["offset"], offset);
            assert_eq!(
                page["entries"].as_array().unwrap().len(),
                expect_len,
                "{page}"
            );
            paged.extend(page["entries"].as_array().unwrap().iter().cloned());
        }
        assert_eq!(json!(paged), all["entries"]);
        // box-ui-elements: `?offset=<index>&limit=1` finds part <index>.
        let one = expect_json(t.get(ALICE, &format!("{path}?offset=3&limit=1")).await, 200).await;
        assert_eq!(one["entries"][0]["offset"], 3 * PART_SIZE);
    }
}

#[tokio::test]
async fn commit_201_replays_and_delete_after_commit_keeps_the_file() {
    let t = TestServer::start(|_| {}).await;
    let folder = t.new_folder(ALICE, "0", "dest").await;
    let data = data(2 * PART_SIZE as usize + 33, 6);
    let s = t
        .new_session(ALICE, &id(&folder), "report.pdf", data.len() as u64)
        .await;
    let parts = t.upload_parts(ALICE, &s, &data).await;
    let commit_url = endpoint(&s, "commit");
    let files = expect_json(t.commit(ALICE, &commit_url, &parts, &data).await, 201).await;
    assert_eq!(files["total_count"], 1);
    let file = &files["entries"][0];
    assert_eq!(file["type"], "file");
    assert!(id(file).bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(file["name"], "report.pdf");
    assert_eq!(file["size"], data.len());
    assert_eq!(file["sha1"], sha1_hex(&data));
    assert_eq!(file["parent"]["id"], id(&folder).as_str());
    assert_eq!(file["file_version"]["type"], "file_version");

    let replay = expect_json(t.commit(ALICE, &commit_url, &parts, &data).await, 201).await;
    assert_eq!(replay["entries"][0]["id"], file["id"]);
    assert_eq!(
        replay["entries"][0]["file_version"]["id"],
        file["file_version"]["id"]
    );
    let status = expect_json(
        t.send(t.req_url(Method::GET, ALICE, &endpoint(&s, "status")))
            .await,
        200,
    )
    .await;
    assert_eq!(status["num_parts_processed"], status["total_parts"]);

    expect_empty(
        t.send(t.req_url(Method::DELETE, ALICE, &endpoint(&s, "abort")))
            .await,
        204,
    )
    .await;
    assert_eq!(t.download(ALICE, &id(file)).await, data);
    let got = expect_json(
        t.get(ALICE, &format!("{API}/files/{}", id(file))).await,
        200,
    )
    .await;
    assert_eq!(got["sha1"], sha1_hex(&data));
    expect_error(
        t.send(t.req_url(Method::GET, ALICE, &endpoint(&s, "status")))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn abort_answers_204_then_404_on_every_session_route() {
    let t = TestServer::start(|_| {}).await;
    let data = data(2 * PART_SIZE as usize, 7);
    let total = data.len() as u64;
    let s = t.new_session(ALICE, "0", "aborted.bin", total).await;
    let p = t
        .put_part_ok(
            ALICE,
            &endpoint(&s, "upload_part"),
            0,
            &data[..PART_SIZE as usize],
            total,
        )
        .await;
    expect_empty(
        t.send(t.req_url(Method::DELETE, ALICE, &endpoint(&s, "abort")))
            .await,
        204,
    )
    .await;
    for prefix in PREFIXES {
        let path = TestServer::session_path(prefix, &id(&s));
        expect_error(t.get(ALICE, &path).await, 404, "not_found").await;
        let put = t
            .put_part(
                ALICE,
                &t.url(&path),
                PART_SIZE,
                &data[PART_SIZE as usize..],
                total,
            )
            .await;
        expect_error(put, 404, "not_found").await;
        expect_error(
            t.get(ALICE, &format!("{path}/parts")).await,
            404,
            "not_found",
        )
        .await;
        let commit = t
            .commit(
                ALICE,
                &t.url(&format!("{path}/commit")),
                std::slice::from_ref(&p),
                &data,
            )
            .await;
        expect_error(commit, 404, "not_found").await;
        expect_error(
            t.post_json(ALICE, &format!("{path}/log"), &json!({})).await,
            404,
            "not_found",
        )
        .await;
        expect_error(t.delete(ALICE, &path).await, 404, "not_found").await;
    }
    let root = t.items(ALICE, "0").await;
    assert_eq!(
        root["total_count"], 0,
        "an aborted session leaves no file: {root}"
    );
}

#[tokio::test]
async fn json_bodies_without_content_type_are_parsed() {
    let t = TestServer::start(|_| {}).await;
    let data = data(PART_SIZE as usize + 1, 8);
    let body =
        json!({"folder_id": "0", "file_size": data.len(), "file_name": "legacy.bin"}).to_string();
    let rb = t
        .req(
            Method::POST,
            ALICE,
            &format!("{UPLOAD}/files/upload_sessions"),
        )
        .body(body);
    let req = rb.build().unwrap();
    assert!(req.headers().get("content-type").is_none());
    let s = expect_json(t.send_built(req).await, 201).await;
    let parts = t.upload_parts(ALICE, &s, &data).await;
    let commit = t
        .req_url(Method::POST, ALICE, &endpoint(&s, "commit"))
        .header("Digest", format!("SHA={}", sha1_b64(&data)))
        .body(json!({"parts": parts, "attributes": {}}).to_string());
    let files = expect_json(t.send(commit).await, 201).await;
    assert_eq!(files["entries"][0]["name"], "legacy.bin");
    let folder = t
        .req(Method::POST, ALICE, &format!("{API}/folders"))
        .body(r#"{"name":"f","parent":{"id":"0"}}"#);
    expect_json(t.send(folder).await, 201).await;
}

#[tokio::test]
async fn new_version_session_keeps_the_file_id_and_bumps_etag_and_version() {
    let t = TestServer::start(|_| {}).await;
    for (n, prefix) in PREFIXES.iter().enumerate() {
        let v1 = data(1000, 40 + n as u64);
        let file = t
            .upload_file(ALICE, "0", &format!("doc-{n}.txt"), &v1)
            .await;
        let fid = id(&file);
        let v2 = data(2 * PART_SIZE as usize + 1, 50 + n as u64);
        let path = format!("{prefix}/files/{fid}/upload_sessions");
        let s = expect_json(
            t.post_json(ALICE, &path, &json!({"file_size": v2.len()}))
                .await,
            201,
        )
        .await;
        assert_eq!(s["type"], "upload_session");
        assert_eq!(s["num_parts_processed"], 0);
        assert_eq!(s["total_parts"], 3);
        let updated = t.finish_session(ALICE, &s, &v2).await;
        assert_eq!(
            updated["id"],
            fid.as_str(),
            "a new version keeps the file id"
        );
        assert_eq!(updated["name"], format!("doc-{n}.txt"));
        assert_eq!(updated["sha1"], sha1_hex(&v2));
        assert_eq!(updated["size"], v2.len());
        assert_ne!(updated["file_version"]["id"], file["file_version"]["id"]);
        let (e1, e2) = (
            file["etag"].as_str().unwrap(),
            updated["etag"].as_str().unwrap(),
        );
        assert!(
            e2.parse::<i64>().unwrap() > e1.parse::<i64>().unwrap(),
            "etag {e1} -> {e2}"
        );
        assert_eq!(t.download(ALICE, &fid).await, v2);
        let old = t
            .get(
                ALICE,
                &format!(
                    "{API}/files/{fid}/content?version={}",
                    id(&file["file_version"])
                ),
            )
            .await;
        assert_eq!(old.bytes().await.unwrap().to_vec(), v1);

        // With a new name.
        let v3 = data(10, 60 + n as u64);
        let body = json!({"file_size": v3.len(), "file_name": format!("renamed-{n}.txt")});
        let s = expect_json(t.post_json(ALICE, &path, &body).await, 201).await;
        let renamed = t.finish_session(ALICE, &s, &v3).await;
        assert_eq!(
            (renamed["id"].as_str(), &renamed["name"]),
            (Some(fid.as_str()), &json!(format!("renamed-{n}.txt")))
        );
    }
}

#[tokio::test]
async fn commit_applies_attributes_and_returns_a_complete_file_object() {
    let t = TestServer::start(|_| {}).await;
    let folder = t.new_folder(ALICE, "0", "docs").await;
    let bytes = data(PART_SIZE as usize + 1, 70);
    let s = t
        .new_session(ALICE, &id(&folder), "attrs.bin", bytes.len() as u64)
        .await;
    let parts = t.upload_parts(ALICE, &s, &bytes).await;
    let body = json!({"parts": parts, "attributes": {
        "content_modified_at": "2017-04-08T00:58:08Z",
        "content_created_at": "2016-01-02T03:04:05-07:00",
        "description": "quarterly",
        "unknown_key": "ignored"}});
    let url = endpoint(&s, "commit");
    let rb = t
        .req_url(Method::POST, ALICE, &url)
        .header("digest", format!("sha={}", sha1_b64(&bytes)))
        .json(&body);
    let files = expect_json(t.send(rb).await, 201).await;
    let f = &files["entries"][0];
    assert_eq!(f["content_modified_at"], "2017-04-08T00:58:08Z");
    assert_eq!(f["content_created_at"], "2016-01-02T10:04:05Z");
    assert_eq!(f["description"], "quarterly");
    for key in ["id", "etag", "sequence_id", "sha1", "name"] {
        assert!(f[key].is_string(), "{key} is a string: {f}");
    }
    assert_eq!(f["file_version"]["sha1"], sha1_hex(&bytes));
    assert!(f["file_version"]["id"].is_string());
    for key in [
        "created_at",
        "modified_at",
        "content_created_at",
        "content_modified_at",
    ] {
        let ts = f[key].as_str().unwrap_or_else(|| panic!("{key}: {f}"));
        assert!(
            chrono::DateTime::parse_from_rfc3339(ts).is_ok() && !ts.contains('.'),
            "{key}: {ts}"
        );
    }
    for key in ["created_by", "modified_by", "owned_by"] {
        assert_eq!(f[key]["type"], "user", "{f}");
        assert!(f[key]["id"].is_string(), "{f}");
        assert_eq!(f[key]["login"], "alice");
    }
    assert!(
        f["shared_link"].is_null() && f["trashed_at"].is_null() && f["purged_at"].is_null(),
        "{f}"
    );
    assert_eq!(f["item_status"], "active");
    let path = &f["path_collection"];
    assert_eq!(path["total_count"], 2);
    assert_eq!(path["entries"][0]["id"], "0");
    assert_eq!(path["entries"][0]["name"], "All Files");
    assert_eq!(path["entries"][1]["id"], folder["id"]);
    // After a commit, parts can still be listed (docs/protocol.md §2.2).
    let listed = expect_json(
        t.send(t.req_url(Method::GET, ALICE, &endpoint(&s, "list_parts")))
            .await,
        200,
    )
    .await;
    assert_eq!(listed["total_count"], 2);
    let got = expect_json(t.get(ALICE, &format!("{API}/files/{}", id(f))).await, 200).await;
    assert_eq!(got["description"], "quarterly");
}

#[tokio::test]
async fn version_session_accepts_an_optional_folder_id_and_only_file_size() {
    let t = TestServer::start(|_| {}).await;
    let file = t.upload_file(ALICE, "0", "v.txt", b"one").await;
    let path = format!("{UPLOAD}/files/{}/upload_sessions", id(&file));
    let s = expect_json(
        t.post_json(ALICE, &path, &json!({"file_size": 3, "folder_id": "0"}))
            .await,
        201,
    )
    .await;
    let updated = t.finish_session(ALICE, &s, b"two").await;
    assert_eq!(updated["id"], file["id"]);
    let r = t.post_json(ALICE, &path, &json!({"file_name": "x"})).await;
    expect_error(r, 400, "missing_file_size").await;
    expect_empty(
        t.delete(ALICE, &format!("{API}/files/{}", id(&file))).await,
        204,
    )
    .await;
    expect_error(
        t.post_json(ALICE, &path, &json!({"file_size": 3})).await,
        404,
        "not_found",
    )
    .await;
}
