//! Folders (docs/protocol.md §5.8) and item names: names are data, never paths.

use crate::common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn names_are_data_and_path_like_names_are_rejected() {
    let t = TestServer::start(|_| {}).await;
    let odd = [
        "..x",
        "a%2Fb",
        "naïve 日本語 🎉.txt",
        "x..",
        ".hidden",
        "%2e%2e",
    ];
    let sub = t.new_folder(ALICE, "0", "..y").await;
    assert_eq!(sub["name"], "..y");
    for (i, name) in odd.iter().enumerate() {
        let bytes = data(50, i as u64);
        let f = t.upload_file(ALICE, &id(&sub), name, &bytes).await;
        assert_eq!(f["name"], *name);
        let got = expect_json(t.get(ALICE, &format!("{API}/files/{}", id(&f))).await, 200).await;
        assert_eq!(got["name"], *name);
        assert_eq!(t.download(ALICE, &id(&f)).await, bytes);
        let s = t.new_session(ALICE, "0", name, 10).await;
        let committed = t.finish_session(ALICE, &s, &bytes[..10]).await;
        assert_eq!(committed["name"], *name);
    }
    let listed: Vec<String> = t.items(ALICE, &id(&sub)).await["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    for name in odd {
        assert!(
            listed.iter().any(|n| n == name),
            "{name} listed in {listed:?}"
        );
    }

    for bad in ["../../x", "a/b", "..\\x", "..", ".", "/x", "x "] {
        let r = t.simple_upload(ALICE, UPLOAD, "0", bad, b"evil").await;
        expect_error(r, 400, "item_name_invalid").await;
        expect_error(
            t.create_session(ALICE, UPLOAD, "0", bad, 10).await,
            400,
            "item_name_invalid",
        )
        .await;
        expect_error(
            t.create_folder(ALICE, "0", bad).await,
            400,
            "item_name_invalid",
        )
        .await;
        let body = json!({"name": bad, "size": 4, "parent": {"id": "0"}});
        let r = t
            .send(
                t.req(Method::OPTIONS, ALICE, &format!("{API}/files/content"))
                    .json(&body),
            )
            .await;
        expect_error(r, 400, "item_name_invalid").await;
    }

    // Nothing was written outside the data dir, and no name became a path.
    let top: Vec<_> = std::fs::read_dir(&t.root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(top, vec![std::ffi::OsString::from("data")]);
    for path in walk(&t.root) {
        let leaf = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !odd.contains(&leaf.as_str()) && leaf != "x" && leaf != "b",
            "{}",
            path.display()
        );
    }
}

#[tokio::test]
async fn root_folder_has_the_standard_shape() {
    let t = TestServer::start(|_| {}).await;
    let file = t.upload_file(ALICE, "0", "in-root.txt", b"hello").await;
    for prefix in PREFIXES {
        let root = expect_json(t.get(ALICE, &format!("{prefix}/folders/0")).await, 200).await;
        assert_eq!(root["type"], "folder");
        assert_eq!(root["id"], "0");
        assert_eq!(root["name"], "All Files");
        assert!(
            root["sequence_id"].is_null() && root["etag"].is_null(),
            "{root}"
        );
        assert!(root["parent"].is_null(), "{root}");
        assert_eq!(
            root["path_collection"],
            json!({"total_count": 0, "entries": []})
        );
        assert_eq!(root["item_status"], "active");
        assert_eq!(root["owned_by"]["type"], "user");
        assert!(root["owned_by"]["id"].is_string(), "{root}");
        let items = &root["item_collection"];
        assert_eq!(items["total_count"], 1);
        assert_eq!(items["offset"], 0);
        assert!(items["limit"].as_u64().is_some(), "{items}");
        assert!(items["order"].is_array(), "{items}");
        let entry = &items["entries"][0];
        assert_eq!(entry["type"], "file");
        assert_eq!(entry["id"], file["id"]);
        assert_eq!(entry["name"], "in-root.txt");
        assert_eq!(entry["sha1"], sha1_hex(b"hello"));
        assert_eq!(entry["file_version"]["id"], file["file_version"]["id"]);
        assert!(entry["etag"].is_string(), "{entry}");
    }
    expect_error(
        t.get(ALICE, &format!("{API}/folders/424242")).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn create_folder_201_and_409_with_a_conflicts_array() {
    let t = TestServer::start(|_| {}).await;
    let folder = t.new_folder(ALICE, "0", "Projects").await;
    assert_eq!(folder["type"], "folder");
    assert!(id(&folder).bytes().all(|b| b.is_ascii_digit()) && id(&folder) != "0");
    assert_eq!(folder["name"], "Projects");
    assert_eq!(folder["parent"]["id"], "0");
    let child = t.new_folder(ALICE, &id(&folder), "2026").await;
    let got = expect_json(
        t.get(ALICE, &format!("{UPLOAD}/folders/{}", id(&child)))
            .await,
        200,
    )
    .await;
    assert_eq!(got["parent"]["id"], folder["id"]);
    let path: Vec<&str> = got["path_collection"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(path, vec!["0", folder["id"].as_str().unwrap()]);
    assert_eq!(got["path_collection"]["total_count"], 2);
    for name in ["Projects", "projects"] {
        let e = expect_error(
            t.create_folder(ALICE, "0", name).await,
            409,
            "item_name_in_use",
        )
        .await;
        let conflicts = e["context_info"]["conflicts"]
            .as_array()
            .expect("folder conflicts are an array");
        assert_eq!(conflicts[0]["id"], folder["id"]);
        assert_eq!(conflicts[0]["type"], "folder");
    }
    // A file may not take a folder's name either.
    let r = t.simple_upload(ALICE, UPLOAD, "0", "Projects", b"x").await;
    expect_error(r, 409, "item_name_in_use").await;
    let r = t.create_folder(ALICE, "99999", "orphan").await;
    let e = expect_error_any(r, 404).await;
    assert!(
        ["not_found", "invalid_parameter"].contains(&e["code"].as_str().unwrap()),
        "{e}"
    );
}

#[tokio::test]
async fn folder_items_page_with_limit_and_offset() {
    let t = TestServer::start(|_| {}).await;
    let folder = t.new_folder(ALICE, "0", "many").await;
    let fid = id(&folder);
    let mut names: Vec<String> = (0..5).map(|i| format!("f{i}.txt")).collect();
    for name in &names {
        t.upload_file(ALICE, &fid, name, name.as_bytes()).await;
    }
    t.new_folder(ALICE, &fid, "sub").await;
    names.push("sub".into());
    let mut seen = Vec::new();
    for offset in [0, 2, 4, 6] {
        let page = expect_json(
            t.get(
                ALICE,
                &format!("{API}/folders/{fid}/items?limit=2&offset={offset}"),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(page["total_count"], 6, "{page}");
        assert_eq!(page["limit"], 2);
        assert_eq!(page["offset"], offset);
        let entries = page["entries"].as_array().unwrap();
        assert_eq!(entries.len(), if offset < 6 { 2 } else { 0 }, "{page}");
        seen.extend(
            entries
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_owned()),
        );
    }
    seen.sort();
    names.sort();
    assert_eq!(seen, names);
    expect_error(
        t.get(ALICE, &format!("{API}/folders/31337/items")).await,
        404,
        "not_found",
    )
    .await;
}

/// Legacy clients send a parent id as a JSON number: accepted in a folder
/// create and in a simple upload's attributes, as Box does.
#[tokio::test]
async fn a_numeric_parent_id_is_accepted() {
    let t = TestServer::start(|_| {}).await;
    let folder = expect_json(
        t.post_json(
            ALICE,
            &format!("{API}/folders"),
            &json!({"name": "numeric", "parent": {"id": 0}}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(folder["parent"]["id"], "0");
    let folder_id: u64 = id(&folder).parse().unwrap();
    let attrs = json!({"name": "n.txt", "parent": {"id": folder_id}});
    let url = t.url(&format!("{UPLOAD}/files/content"));
    let files = expect_json(
        t.multipart_post(ALICE, &url, &attrs, b"abc", None).await,
        201,
    )
    .await;
    assert_eq!(files["entries"][0]["parent"]["id"], id(&folder).as_str());
    for bad in [json!(-1), json!(1.5), json!(true)] {
        let attrs = json!({"name": "bad.txt", "parent": {"id": bad}});
        let r = t.multipart_post(ALICE, &url, &attrs, b"abc", None).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
}
