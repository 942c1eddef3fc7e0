//! `/oauth2/token` and `/oauth2/revoke` on the wire: the client
//! credentials grant for an app added through `Admin`, OAuth's error shape
//! for every refusal, expiry of what it issues, and revocation.

use boxup_server::admin::Admin;
use serde_json::Value;

use crate::common::*;

async fn form(s: &TestServer, path: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let resp = s.send(s.client.post(s.url(path)).form(fields)).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn client_credentials_grant_issues_tokens_that_expire_and_can_be_revoked() {
    let s = TestServer::start(|o| o.service.oauth_token_ttl_secs = 3600).await;
    let admin = Admin::open(&s.data_dir, None).await.unwrap();
    admin.add_user("svc", None, None).await.unwrap();
    let app = admin.add_app("ingest", "svc", None).await.unwrap();
    let (id, secret) = (app.app.client_id.as_str(), app.client_secret.as_str());
    let user_id = app.user.id.to_string();

    let grant = [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
        ("box_subject_type", "enterprise"),
        ("box_subject_id", "1"),
    ];
    let (status, token) = form(&s, "/oauth2/token", &grant).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["expires_in"], 3600);
    let access = token["access_token"].as_str().unwrap().to_owned();
    let me = expect_json(s.get(&access, "/2.0/users/me").await, 200).await;
    assert_eq!(me["login"], "svc");

    // The user subject works for the app's own user only.
    let mut as_user = grant;
    as_user[3] = ("box_subject_type", "user");
    as_user[4] = ("box_subject_id", &user_id);
    assert_eq!(form(&s, "/oauth2/token", &as_user).await.0, 200);
    as_user[4] = ("box_subject_id", "12345");
    let (status, err) = form(&s, "/oauth2/token", &as_user).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Revoked through the endpoint: refused on the next request.
    let revoke = [
        ("client_id", id),
        ("client_secret", secret),
        ("token", &access),
    ];
    assert_eq!(form(&s, "/oauth2/revoke", &revoke).await.0, 200);
    assert_eq!(s.get(&access, "/2.0/users/me").await.status(), 401);
    s.stop().await;

    // A server whose tokens live no time at all: refused at once.
    let s = TestServer::start(|o| o.service.oauth_token_ttl_secs = 0).await;
    let admin = Admin::open(&s.data_dir, None).await.unwrap();
    admin.add_user("svc", None, None).await.unwrap();
    let app = admin.add_app("ingest", "svc", None).await.unwrap();
    let grant = [
        ("grant_type", "client_credentials"),
        ("client_id", app.app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
        ("box_subject_type", "enterprise"),
        ("box_subject_id", "1"),
    ];
    let (_, token) = form(&s, "/oauth2/token", &grant).await;
    let expired = s
        .get(token["access_token"].as_str().unwrap(), "/2.0/users/me")
        .await;
    assert_eq!(expired.status(), 401);
    s.stop().await;
}

#[tokio::test]
async fn refusals_use_oauth_error_shape() {
    let s = TestServer::start(|_| {}).await;
    let admin = Admin::open(&s.data_dir, None).await.unwrap();
    admin.add_user("svc", None, None).await.unwrap();
    let app = admin.add_app("ingest", "svc", None).await.unwrap();
    let id = app.app.client_id.as_str();
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[], "invalid_request"),
        (&[("grant_type", "password")], "unsupported_grant_type"),
        (
            &[("grant_type", "client_credentials"), ("client_id", id)],
            "invalid_request",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", "nope"),
            ],
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "unknown"),
                ("client_secret", "x"),
            ],
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("client_id", id),
                ("client_secret", app.client_secret.as_str()),
                ("assertion", "not.a.jwt"),
            ],
            "invalid_grant",
        ),
    ];
    for (fields, code) in cases {
        let (status, err) = form(&s, "/oauth2/token", fields).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (400, Some(code)),
            "{fields:?}: {err}"
        );
        assert!(err["error_description"].is_string(), "{err}");
    }
    s.stop().await;
}

fn grant<'a>(client_id: &'a str, secret: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("box_subject_type", "enterprise"),
        ("box_subject_id", "1"),
    ]
}

/// Each app has a budget of grants, spent by every secret the server does
/// not recognise, right or wrong; over it, 429 in OAuth's shape with
/// `Retry-After`. A secret that passed before is recognised without
/// spending it, so a stranger who knows the client id cannot lock the app
/// out; another app keeps its own budget; a made-up client id is refused
/// as before.
#[tokio::test]
async fn grants_over_an_apps_budget_answer_429_with_retry_after() {
    let s = TestServer::start(|o| {
        o.service.oauth_grant_limit = boxup_server::http::RateLimit::new(0.01, Some(3)).unwrap()
    })
    .await;
    let admin = Admin::open(&s.data_dir, None).await.unwrap();
    admin.add_user("svc", None, None).await.unwrap();
    let (a, b) = (
        admin.add_app("a", "svc", None).await.unwrap(),
        admin.add_app("b", "svc", None).await.unwrap(),
    );
    let (a_id, a_secret) = (a.app.client_id.as_str(), a.client_secret.as_str());
    let (b_id, b_secret) = (b.app.client_id.as_str(), b.client_secret.as_str());

    // The budget of 3: the right secret, then two wrong ones.
    let started = std::time::Instant::now();
    assert_eq!(
        form(&s, "/oauth2/token", &grant(a_id, a_secret)).await.0,
        200
    );
    for _ in 0..2 {
        let (status, err) = form(&s, "/oauth2/token", &grant(a_id, "wrong")).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (400, Some("invalid_client"))
        );
    }

    let over = s
        .send(
            s.client
                .post(s.url("/oauth2/token"))
                .form(&grant(a_id, "wrong again")),
        )
        .await;
    assert_eq!(over.status(), 429);
    let retry_after: u64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // One grant every 100 s, the first spent at `started` at the latest.
    let earliest = 100 - started.elapsed().as_secs().min(100);
    assert!(
        (earliest..=100).contains(&retry_after),
        "{retry_after} not in {earliest}..=100"
    );
    let err: Value = over.json().await.unwrap();
    assert_eq!(err["error"], "rate_limit_exceeded", "{err}");
    assert!(err["error_description"].is_string(), "{err}");

    // The app's own secret still works, over budget.
    assert_eq!(
        form(&s, "/oauth2/token", &grant(a_id, a_secret)).await.0,
        200
    );

    assert_eq!(
        form(&s, "/oauth2/token", &grant(b_id, b_secret)).await.0,
        200
    );
    let (status, err) = form(&s, "/oauth2/token", &grant("no-such-app", "x")).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_client"))
    );
    s.stop().await;
}
