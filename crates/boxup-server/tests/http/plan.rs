//! `POST …/plan` (2026 SDKs): boxup holds no parts by SHA-512, so every
//! planned part comes back as a miss, in the SDKs' exact response shape.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn a_plan_answers_every_part_as_a_miss() {
    let t = TestServer::start(|_| {}).await;
    let size = 2 * PART_SIZE + 10;
    let s = t.new_session(ALICE, "0", "planned.bin", size).await;
    let sha512 = "ab".repeat(64);
    let parts = json!([
        {"offset": 0, "size": PART_SIZE, "sha512": sha512},
        {"offset": PART_SIZE, "size": PART_SIZE, "sha512": sha512},
        {"offset": 2 * PART_SIZE, "size": 10, "sha512": sha512},
    ]);
    let url = endpoint(&s, "plan");
    let plan = expect_json(
        t.send(
            t.req_url(reqwest::Method::POST, ALICE, &url)
                .json(&json!({ "parts": parts })),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(plan["upload_session_id"], s["id"]);
    assert_eq!(plan["hits"], json!([]));
    assert_eq!(plan["misses"], parts);

    // An empty plan is a plan; a malformed one is a 400.
    let empty = expect_json(
        t.send(
            t.req_url(reqwest::Method::POST, ALICE, &url)
                .json(&json!({"parts": []})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(empty["misses"], json!([]));
    for bad in [
        json!({}),
        json!({"parts": "x"}),
        json!({"parts": [{"offset": 0, "size": 1}]}),
        json!({"parts": [{"offset": -1, "size": 1, "sha512": sha512}]}),
    ] {
        let r = t
            .send(t.req_url(reqwest::Method::POST, ALICE, &url).json(&bad))
            .await;
        expect_error(r, 400, "bad_request").await;
    }
    let r = t
        .send(
            t.req_url(reqwest::Method::POST, ALICE, &url)
                .body("{not json"),
        )
        .await;
    expect_error(r, 400, "invalid_json").await;
}

#[tokio::test]
async fn a_committed_session_takes_no_plan() {
    let t = TestServer::start(|_| {}).await;
    let bytes = data(PART_SIZE as usize + 1, 71);
    let s = t
        .new_session(ALICE, "0", "done.bin", bytes.len() as u64)
        .await;
    t.finish_session(ALICE, &s, &bytes).await;
    let r = t
        .send(
            t.req_url(reqwest::Method::POST, ALICE, &endpoint(&s, "plan"))
                .json(&json!({"parts": []})),
        )
        .await;
    expect_error(r, 409, "upload_session_committed").await;
}
