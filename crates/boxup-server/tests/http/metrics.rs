//! `/metrics`: the series move by exactly what was done (parts, bytes,
//! commits, requests by route template and status), and only the metrics
//! token (when configured) or a loopback peer (when not) may scrape.

use reqwest::Method;
use serde_json::Value;

use crate::common::*;

/// The sum of the samples of `name` whose labels include all of `labels`
/// (0 when there is none), from a scrape in the text format.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let wanted = series_name == name
                && labels.iter().all(|(k, v)| {
                    series_labels
                        .split(',')
                        .any(|l| l == format!("{k}=\"{v}\""))
                });
            wanted.then(|| value.parse::<f64>().expect("a number"))
        })
        .sum()
}

async fn scrape(server: &TestServer, token: Option<&str>) -> reqwest::Response {
    let mut rb = server.client.get(server.url("/metrics"));
    if let Some(token) = token {
        rb = rb.bearer_auth(token);
    }
    rb.send().await.expect("answered")
}

async fn scrape_ok(server: &TestServer) -> String {
    let resp = scrape(server, None).await;
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    resp.text().await.unwrap()
}

async fn expect_refused(resp: reqwest::Response) {
    let body: Value = expect_json(resp, 404).await;
    assert_eq!(body["type"], "error");
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn an_upload_moves_the_series_by_exactly_its_work() {
    let server = TestServer::start(|_| {}).await;
    let before = scrape_ok(&server).await;
    assert_eq!(sample(&before, "boxup_sessions_open", &[]), 0.0);

    // Three parts, the last one short.
    let data = data(3 * PART_SIZE as usize - 100, 7);
    let session = server
        .new_session(ALICE, "0", "big.bin", data.len() as u64)
        .await;
    let open = scrape_ok(&server).await;
    assert_eq!(sample(&open, "boxup_sessions_open", &[]), 1.0);
    server.finish_session(ALICE, &session, &data).await;
    let small = b"a small file";
    server.upload_file(ALICE, "0", "small.txt", small).await;
    expect_json(server.get(ALICE, "/2.0/files/123456").await, 404).await;

    let after = scrape_ok(&server).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    assert_eq!(delta("boxup_parts_stored_total", &[]), 3.0, "{after}");
    assert_eq!(
        delta("boxup_parts_stored_bytes_total", &[]),
        data.len() as f64
    );
    assert_eq!(delta("boxup_part_upload_duration_seconds_count", &[]), 3.0);
    assert_eq!(delta("boxup_commit_duration_seconds_count", &[]), 1.0);
    assert_eq!(sample(&after, "boxup_sessions_open", &[]), 0.0);

    let part_route = "/api/2.0/files/upload_sessions/{id}";
    let requests = |route: &str, method: &str, status: &str| {
        delta(
            "boxup_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(requests(part_route, "PUT", "200"), 3.0, "{after}");
    assert_eq!(
        requests("/api/2.0/files/upload_sessions", "POST", "201"),
        1.0
    );
    assert_eq!(
        requests(&format!("{part_route}/commit"), "POST", "201"),
        1.0
    );
    assert_eq!(requests("/api/2.0/files/content", "POST", "201"), 1.0);
    assert_eq!(requests("/2.0/files/{id}", "GET", "404"), 1.0);
    // The two earlier scrapes; this one is counted once it is sent.
    assert_eq!(requests("/metrics", "GET", "200"), 2.0);

    // Part bodies, byte for byte; the simple upload's multipart body holds
    // the file and more.
    let received = |route: &str| delta("boxup_http_request_body_bytes_total", &[("route", route)]);
    assert_eq!(received(part_route), data.len() as f64);
    assert!(received("/api/2.0/files/content") > small.len() as f64);
    let sent = |route: &str| delta("boxup_http_response_body_bytes_total", &[("route", route)]);
    assert!(sent(part_route) > 0.0);
    assert!(sent("/2.0/files/{id}") > 0.0);
    // No raw path (an id) ever becomes a label.
    assert!(!after.contains("123456"), "{after}");
    assert!(!after.contains(session["id"].as_str().unwrap()));
    server.stop().await;
}

#[tokio::test]
async fn a_configured_metrics_token_is_required() {
    let server = TestServer::start(|o| o.metrics_token = Some("scrape-secret-42".into())).await;
    expect_refused(scrape(&server, None).await).await;
    expect_refused(scrape(&server, Some("scrape-secret-4")).await).await;
    expect_refused(scrape(&server, Some("scrape-secret-420")).await).await;
    // A user's API token is not a metrics token.
    expect_refused(scrape(&server, Some(ALICE)).await).await;
    let resp = scrape(&server, Some("scrape-secret-42")).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("boxup_http_requests_total"), "{text}");
    // The four refusals, counted as 404s of the route.
    assert_eq!(
        sample(
            &text,
            "boxup_http_requests_total",
            &[("route", "/metrics"), ("status", "404")]
        ),
        4.0
    );
    server.stop().await;
}

#[tokio::test]
async fn without_a_token_only_a_direct_loopback_peer_may_scrape() {
    let server = TestServer::start(|_| {}).await;
    scrape_ok(&server).await;
    // Through a proxy on this machine: someone else's request.
    let forwarded = server
        .client
        .get(server.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    expect_refused(forwarded).await;
    // A user's token does not help.
    let resp = server
        .send(
            server
                .req(Method::GET, ALICE, "/metrics")
                .header("forwarded", "for=x"),
        )
        .await;
    expect_refused(resp).await;
    server.stop().await;

    // Served without the peer's address, nobody is known to be local.
    let server = TestServer::start_manual_sweep(|_| {}).await;
    expect_refused(scrape(&server, None).await).await;
    server.stop().await;
}

#[tokio::test]
async fn sweeper_work_and_empty_answers_are_counted() {
    let server = TestServer::start_manual_sweep(|_| {}).await;
    let data = data(3 * PART_SIZE as usize, 9);
    let session = server
        .new_session(ALICE, "0", "aborted.bin", data.len() as u64)
        .await;
    let url = endpoint(&session, "upload_part");
    for (offset, chunk) in chunks(&data, PART_SIZE).into_iter().take(2) {
        server
            .put_part_ok(ALICE, &url, offset, chunk, data.len() as u64)
            .await;
    }
    let abort = server.req_url(Method::DELETE, ALICE, &endpoint(&session, "abort"));
    expect_empty(server.send(abort).await, 204).await;
    let now = boxup_protocol::time::now_unix();
    let report = server
        .service
        .sweep_once(now, std::time::SystemTime::UNIX_EPOCH)
        .await
        .expect("sweep");
    assert_eq!(report.garbage_deleted, 2);

    // Served without a peer address, so read as the handler would.
    let text = server.service.scrape().await;
    assert_eq!(
        sample(&text, "boxup_sweeper_items_total", &[("kind", "garbage")]),
        2.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "boxup_sweeper_items_total", &[("kind", "orphans")]),
        0.0
    );
    assert_eq!(
        sample(
            &text,
            "boxup_parts_stored_total",
            &[("frontier", "in_stream")]
        ),
        2.0
    );
    assert_eq!(sample(&text, "boxup_store_errors_total", &[]), 0.0);
    // An answer without a body is counted at once.
    let aborted = [
        ("route", "/api/2.0/files/upload_sessions/{id}"),
        ("method", "DELETE"),
        ("status", "204"),
    ];
    assert_eq!(
        sample(&text, "boxup_http_requests_total", &aborted),
        1.0,
        "{text}"
    );
    server.stop().await;
}
