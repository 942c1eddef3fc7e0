//! `--rate-limit`: a user over budget gets Box's `429 rate_limit_exceeded`
//! with a sane `Retry-After`, on both path prefixes; another user, and the
//! routes that need no token, are unaffected. (That a budget refills after
//! `Retry-After` is shown on a fake clock, in `http/rate_limit.rs`, not by
//! sleeping here.)

use boxup_server::http::RateLimit;
use reqwest::Method;

use crate::common::*;

/// One request every 10 s, bursts of 3: nothing refills while a test
/// runs, however slow the machine.
async fn limited_server() -> TestServer {
    TestServer::start(|o| o.rate_limit = Some(RateLimit::new(0.1, Some(3)).unwrap())).await
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()
        .get("retry-after")
        .expect("a 429 carries Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds")
}

#[tokio::test]
async fn over_budget_is_429_with_retry_after_and_box_json() {
    let t = limited_server().await;
    for _ in 0..3 {
        expect_json(t.get(ALICE, "/2.0/users/me").await, 200).await;
    }
    for path in [
        "/2.0/users/me",
        "/api/2.0/folders/0",
        "/2.0/folders/0/items",
    ] {
        let r = t.get(ALICE, path).await;
        let secs = retry_after(&r);
        assert!((1..=10).contains(&secs), "Retry-After {secs} for {path}");
        let v = expect_error(r, 429, "rate_limit_exceeded").await;
        assert!(v["message"].as_str().unwrap().contains("rate limit"), "{v}");
    }
    // Writes are limited the same way.
    let r = t
        .send(
            t.req(Method::POST, ALICE, "/2.0/folders")
                .json(&serde_json::json!({
                    "name": "x", "parent": {"id": "0"}
                })),
        )
        .await;
    expect_error(r, 429, "rate_limit_exceeded").await;
    t.stop().await;
}

#[tokio::test]
async fn another_user_and_unauthenticated_routes_are_unaffected() {
    let t = limited_server().await;
    for _ in 0..3 {
        expect_json(t.get(ALICE, "/2.0/users/me").await, 200).await;
    }
    expect_error(
        t.get(ALICE, "/2.0/users/me").await,
        429,
        "rate_limit_exceeded",
    )
    .await;
    // Bob has a budget of his own.
    for _ in 0..3 {
        expect_json(t.get(BOB, "/2.0/users/me").await, 200).await;
    }
    // A bad token is still 401, not 429; no token is not limited at all.
    expect_error(
        t.get("no-such-token", "/2.0/users/me").await,
        401,
        "unauthorized",
    )
    .await;
    for _ in 0..10 {
        let r = t.client.get(t.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    t.stop().await;
}

#[tokio::test]
async fn unlimited_by_default() {
    let t = TestServer::start(|_| {}).await;
    for _ in 0..50 {
        expect_json(t.get(ALICE, "/2.0/users/me").await, 200).await;
    }
    t.stop().await;
}
