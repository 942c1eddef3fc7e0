//! Unit tests of `http.rs`: `Retry-After` parsing, error bodies, part
//! timeouts, retry delays and decode errors.

use super::*;

#[test]
fn retry_after_seconds_and_fractions() {
    let mut h = HeaderMap::new();
    assert_eq!(parse_retry_after(&h), None);
    h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
    assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(3)));
    h.insert(RETRY_AFTER, HeaderValue::from_static("0.25"));
    assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(250)));
    h.insert(
        RETRY_AFTER,
        HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    assert_eq!(parse_retry_after(&h), None);
    h.insert(RETRY_AFTER, HeaderValue::from_static("-1"));
    assert_eq!(parse_retry_after(&h), None);
}

#[test]
fn error_bodies_parse_or_synthesise() {
    let body = br#"{"type":"error","status":409,"code":"item_name_in_use","message":"taken","request_id":"r1","x":[]}"#;
    let e = api_error("POST u".into(), StatusCode::CONFLICT, None, body);
    assert_eq!(e.code(), Some("item_name_in_use"));
    assert_eq!(e.request_id(), Some("r1"));

    let e = api_error("GET u".into(), StatusCode::UNAUTHORIZED, None, b"");
    assert_eq!(
        (e.status(), e.code(), e.message()),
        (Some(401), Some("unauthorized"), Some("Unauthorized"))
    );

    let e = api_error(
        "PUT u".into(),
        StatusCode::SERVICE_UNAVAILABLE,
        Some(Duration::from_secs(2)),
        b"<html>down</html>",
    );
    assert_eq!(e.code(), Some("service_unavailable"));
    assert_eq!(e.message(), Some("<html>down</html>"));
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));

    let e = api_error(
        "GET u".into(),
        StatusCode::TOO_MANY_REQUESTS,
        None,
        br#"{"code":"rate_limit_exceeded"}"#,
    );
    assert_eq!(
        (e.status(), e.code()),
        (Some(429), Some("rate_limit_exceeded"))
    );
}

#[test]
fn the_http_status_wins_over_the_bodys() {
    // A 503 whose body claims 400 is still a (retryable) 503, and a 400
    // claiming 503 is final; the body's other fields are kept.
    let body = br#"{"type":"error","status":400,"code":"c","message":"m","request_id":"r"}"#;
    let e = api_error("PUT u".into(), StatusCode::SERVICE_UNAVAILABLE, None, body);
    assert_eq!(
        (e.status(), e.code(), e.request_id()),
        (Some(503), Some("c"), Some("r"))
    );
    assert!(e.is_retryable());
    let body = br#"{"type":"error","status":503,"code":"bad_digest","message":"m"}"#;
    let e = api_error("PUT u".into(), StatusCode::BAD_REQUEST, None, body);
    assert_eq!((e.status(), e.code()), (Some(400), Some("bad_digest")));
    assert!(!e.is_retryable());
}

#[test]
fn part_timeouts_grow_with_the_part() {
    let ten = Some(Duration::from_secs(10));
    assert_eq!(part_attempt_timeout(ten, 1024), ten);
    // 8 MiB at 32 KiB/s is 256 s.
    assert_eq!(
        part_attempt_timeout(ten, 8 << 20),
        Some(Duration::from_secs(256))
    );
    assert_eq!(part_attempt_timeout(None, 8 << 20), None);
}

#[test]
fn retry_after_gets_a_little_random_extra() {
    let retry = RetryConfig {
        min_delay: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(5),
        ..RetryConfig::default()
    };
    let limited = |secs: u64| Error::Api {
        request: "GET u".into(),
        error: Box::new(BoxError::new(429, "rate_limit_exceeded", "m")),
        retry_after: Some(Duration::from_secs(secs)),
    };
    let computed = Duration::from_millis(7);
    let delays: Vec<Duration> = (0..50)
        .map(|_| retry_delay(&retry, &limited(2), computed))
        .collect();
    assert!(
        delays
            .iter()
            .all(|d| (Duration::from_secs(2)..Duration::from_millis(2200)).contains(d)),
        "{delays:?}"
    );
    assert!(
        delays.iter().any(|d| *d != delays[0]),
        "no jitter: {delays:?}"
    );
    // Capped at max_retry_after, before the extra.
    let capped = retry_delay(&retry, &limited(600), computed);
    assert!((Duration::from_secs(5)..Duration::from_millis(5500)).contains(&capped));
    // Without Retry-After the backoff's delay stands; jitter off means none.
    assert_eq!(retry_delay(&retry, &Error::Cancelled, computed), computed);
    let exact = RetryConfig {
        jitter: false,
        ..retry.clone()
    };
    assert_eq!(
        retry_delay(&exact, &limited(2), computed),
        Duration::from_secs(2)
    );
}

#[test]
fn decode_errors_name_the_model_and_the_field() {
    let reply = Reply {
        status: StatusCode::OK,
        body: Bytes::from_static(br#"{"id":12}"#),
        request: "GET u".into(),
    };
    let err = reply
        .json::<boxup_protocol::UploadSession>("UploadSession")
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("UploadSession") && text.contains("invalid type"),
        "{text}"
    );
    assert!(!err.is_retryable());
}
