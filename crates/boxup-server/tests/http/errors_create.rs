//! Error catalogue (docs/protocol.md §6): the checks of session creation and
//! uploads (fields, names, sizes, parents, conflicts, preconditions).

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};

const SESSIONS: &str = "/api/2.0/files/upload_sessions";

async fn create_raw(t: &TestServer, body: Value) -> reqwest::Response {
    t.post_json(ALICE, SESSIONS, &body).await
}

#[tokio::test]
async fn create_session_field_errors() {
    let t = TestServer::start(|_| {}).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"file_size": 10, "file_name": "a"}),
            "missing_destination",
        ),
        (
            json!({"folder_id": null, "file_size": 10, "file_name": "a"}),
            "missing_destination",
        ),
        (
            json!({"folder_id": "abc", "file_size": 10, "file_name": "a"}),
            "invalid_folder_id",
        ),
        (
            json!({"folder_id": "-1", "file_size": 10, "file_name": "a"}),
            "invalid_folder_id",
        ),
        (
            json!({"folder_id": {"id": "0"}, "file_size": 10, "file_name": "a"}),
            "invalid_folder_id",
        ),
        (
            json!({"folder_id": "0", "file_name": "a"}),
            "missing_file_size",
        ),
        (
            json!({"folder_id": "0", "file_size": -1, "file_name": "a"}),
            "invalid_file_size",
        ),
        (
            json!({"folder_id": "0", "file_size": "ten", "file_name": "a"}),
            "invalid_file_size",
        ),
        (
            json!({"folder_id": "0", "file_size": 1.5, "file_name": "a"}),
            "invalid_file_size",
        ),
        (
            json!({"folder_id": "0", "file_size": true, "file_name": "a"}),
            "invalid_file_size",
        ),
        (
            json!({"folder_id": "0", "file_size": 10}),
            "missing_file_name",
        ),
        (
            json!({"folder_id": "0", "file_size": 10, "file_name": null}),
            "missing_file_name",
        ),
        (
            json!({"folder_id": "0", "file_size": 10, "file_name": "a/b"}),
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_size": 10, "file_name": ".."}),
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_size": 10, "file_name": "tab\there"}),
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_size": 10, "file_name": "trailing "}),
            "item_name_invalid",
        ),
        (json!({}), "missing_destination"),
    ];
    for (body, code) in cases {
        let r = create_raw(&t, body.clone()).await;
        let e = expect_error_any(r, 400).await;
        assert_eq!(e["code"], code, "for {body}: {e}");
    }
    assert_eq!(t.items(ALICE, "0").await["total_count"], 0);
}

#[tokio::test]
async fn name_over_255_characters_is_item_name_too_long() {
    let t = TestServer::start(|_| {}).await;
    let long = "é".repeat(256);
    let ok = "é".repeat(255);
    expect_error(
        t.create_session(ALICE, UPLOAD, "0", &long, 10).await,
        400,
        "item_name_too_long",
    )
    .await;
    expect_error(
        t.simple_upload(ALICE, UPLOAD, "0", &long, b"x").await,
        400,
        "item_name_too_long",
    )
    .await;
    expect_error(
        t.create_folder(ALICE, "0", &long).await,
        400,
        "item_name_too_long",
    )
    .await;
    let s = expect_json(t.create_session(ALICE, UPLOAD, "0", &ok, 10).await, 201).await;
    let file = t.finish_session(ALICE, &s, b"0123456789").await;
    assert_eq!(file["name"], ok.as_str());
}

#[tokio::test]
async fn file_size_too_small_and_over_the_limit() {
    let t = TestServer::start(|o| {
        o.service.min_chunked_size = 1000;
        o.service.max_file_size = 100 * 1024;
    })
    .await;
    expect_error(
        t.create_session(ALICE, UPLOAD, "0", "small", 999).await,
        400,
        "file_size_too_small",
    )
    .await;
    expect_error(
        t.create_session(ALICE, UPLOAD, "0", "zero", 0).await,
        400,
        "file_size_too_small",
    )
    .await;
    expect_json(t.create_session(ALICE, UPLOAD, "0", "min", 1000).await, 201).await;
    expect_json(
        t.create_session(ALICE, UPLOAD, "0", "max", 100 * 1024)
            .await,
        201,
    )
    .await;
    for size in [100 * 1024 + 1, u64::MAX >> 1] {
        let r = t.create_session(ALICE, UPLOAD, "0", "huge", size).await;
        expect_error(r, 403, "file_size_limit_exceeded").await;
    }
    let file = t.upload_file(ALICE, "0", "v1", b"small").await;
    // docs/protocol.md §6.5: a missing parent (404) and a taken name (409) come
    // before the size limit (403).
    let huge = 100 * 1024 + 1;
    let r = t
        .create_session(ALICE, UPLOAD, "987654321", "x", huge)
        .await;
    expect_error(r, 404, "invalid_parameter").await;
    let r = t.create_session(ALICE, UPLOAD, "0", "V1", huge).await;
    expect_error(r, 409, "item_name_in_use").await;
    let r = t
        .post_json(
            ALICE,
            &format!("/api/2.0/files/{}/upload_sessions", id(&file)),
            &json!({"file_size": 200_000}),
        )
        .await;
    expect_error(r, 403, "file_size_limit_exceeded").await;
    let r = t
        .post_json(
            ALICE,
            &format!("/api/2.0/files/{}/upload_sessions", id(&file)),
            &json!({"file_size": 10}),
        )
        .await;
    expect_error(r, 400, "file_size_too_small").await;
    let body = json!({"name": "pre", "size": 200_000, "parent": {"id": "0"}});
    let r = t
        .send(
            t.req(Method::OPTIONS, ALICE, "/2.0/files/content")
                .json(&body),
        )
        .await;
    expect_error(r, 403, "file_size_limit_exceeded").await;
    let r = t
        .simple_upload(ALICE, UPLOAD, "0", "too-big.bin", &data(100 * 1024 + 1, 3))
        .await;
    expect_error(r, 403, "file_size_limit_exceeded").await;
    let names: Vec<Value> = t.items(ALICE, "0").await["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("v1")], "rejected uploads leave no file");
}

#[tokio::test]
async fn unknown_parent_folder_is_404() {
    let t = TestServer::start(|_| {}).await;
    let body = json!({"name": "p", "size": 1, "parent": {"id": "777777"}});
    let responses = vec![
        t.create_session(ALICE, UPLOAD, "777777", "a", 10).await,
        t.create_session(ALICE, API, "777777", "a", 10).await,
        t.simple_upload(ALICE, UPLOAD, "777777", "a", b"x").await,
        t.create_folder(ALICE, "777777", "a").await,
        t.send(
            t.req(Method::OPTIONS, ALICE, "/2.0/files/content")
                .json(&body),
        )
        .await,
    ];
    for r in responses {
        let e = expect_error_any(r, 404).await;
        let code = e["code"].as_str().unwrap();
        assert!(code == "not_found" || code == "invalid_parameter", "{e}");
    }
    let r = t
        .post_json(
            ALICE,
            "/api/2.0/files/555555/upload_sessions",
            &json!({"file_size": 10}),
        )
        .await;
    expect_error(r, 404, "not_found").await;
    assert_eq!(t.items(ALICE, "0").await["total_count"], 0);
}

#[tokio::test]
async fn name_in_use_on_create_and_on_commit_is_409_with_conflicts() {
    let t = TestServer::start(|_| {}).await;
    let existing = t.upload_file(ALICE, "0", "taken.txt", b"abc").await;
    for name in ["taken.txt", "TAKEN.txt"] {
        let e = expect_error(
            t.create_session(ALICE, UPLOAD, "0", name, 10).await,
            409,
            "item_name_in_use",
        )
        .await;
        assert_eq!(e["context_info"]["conflicts"]["id"], existing["id"], "{e}");
    }
    // Two sessions race for one name: the second commit loses with 409.
    let a = t.new_session(ALICE, "0", "race.txt", 10).await;
    let b = t.new_session(ALICE, "0", "race.txt", 10).await;
    let first = t.finish_session(ALICE, &a, b"0123456789").await;
    let parts = t.upload_parts(ALICE, &b, b"abcdefghij").await;
    let r = t
        .commit(ALICE, &endpoint(&b, "commit"), &parts, b"abcdefghij")
        .await;
    let e = expect_error(r, 409, "item_name_in_use").await;
    assert_eq!(e["context_info"]["conflicts"]["id"], first["id"], "{e}");
    assert_eq!(t.download(ALICE, &id(&first)).await, b"0123456789");
    // A new-version session may not take a sibling's name.
    let path = format!("/api/2.0/files/{}/upload_sessions", id(&existing));
    let r = t
        .post_json(
            ALICE,
            &path,
            &json!({"file_size": 10, "file_name": "race.txt"}),
        )
        .await;
    expect_error(r, 409, "item_name_in_use").await;
    let r = t
        .post_json(
            ALICE,
            &path,
            &json!({"file_size": 10, "file_name": "TAKEN.TXT"}),
        )
        .await;
    expect_json(r, 201).await;
}

#[tokio::test]
async fn commit_preconditions_fail_with_412() {
    let t = TestServer::start(|_| {}).await;
    let file = t.upload_file(ALICE, "0", "guarded.txt", b"v1").await;
    let etag = file["etag"].as_str().unwrap().to_owned();
    let path = format!("/api/2.0/files/{}/upload_sessions", id(&file));
    let s = expect_json(
        t.post_json(ALICE, &path, &json!({"file_size": 4})).await,
        201,
    )
    .await;
    let parts = t.upload_parts(ALICE, &s, b"v2v2").await;
    let commit = |h: &'static str, v: String| {
        t.req_url(Method::POST, ALICE, &endpoint(&s, "commit"))
            .header("digest", format!("sha={}", sha1_b64(b"v2v2")))
            .header(h, v)
            .json(&json!({"parts": parts}))
    };
    expect_error(
        t.send(commit("if-match", "\"999\"".into())).await,
        412,
        "precondition_failed",
    )
    .await;
    expect_error(
        t.send(commit("if-none-match", format!("\"{etag}\""))).await,
        412,
        "precondition_failed",
    )
    .await;
    assert_eq!(t.download(ALICE, &id(&file)).await, b"v1");
    let ok = expect_json(t.send(commit("if-match", format!("\"{etag}\""))).await, 201).await;
    assert_eq!(ok["entries"][0]["id"], file["id"]);
    assert_eq!(t.download(ALICE, &id(&file)).await, b"v2v2");
}
