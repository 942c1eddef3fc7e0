//! `boxup admin` against the data directory of a running `boxup serve`:
//! a user with a quota, a token that signs in as that user (shown once,
//! listed without its secret), a quota the server enforces, and expiry and
//! revocation taking effect on the very next request.

use std::path::Path;
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::cli_support::{Run, Server, clean, within};

async fn admin(data_dir: &Path, args: &[&str]) -> Run {
    let mut cmd = clean(Command::new(env!("CARGO_BIN_EXE_boxup")));
    cmd.arg("admin")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = within("boxup admin", cmd.output())
        .await
        .expect("run boxup admin");
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn me(server: &Server, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/2.0/users/me", server.origin))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn users_tokens_and_quotas_from_the_admin_cli() {
    let server = Server::start(Some("static-token")).await;
    let dir = &server.data_dir;

    let added = admin(dir, &["user", "add", "carol@example.com", "--quota", "1MB"])
        .await
        .ok();
    assert!(
        added.stdout.contains("carol@example.com\t1000000\t0\t"),
        "{}",
        added.stdout
    );
    // Adding her again without --quota keeps it; with one, sets it.
    let again = admin(dir, &["user", "add", "carol@example.com"]).await.ok();
    assert!(
        again.stdout.contains("carol@example.com\t1000000\t0\t"),
        "{}",
        again.stdout
    );
    let raised = admin(dir, &["user", "add", "carol@example.com", "--quota", "2MB"])
        .await
        .ok();
    assert!(
        raised.stdout.contains("carol@example.com\t2000000\t0\t"),
        "{}",
        raised.stdout
    );
    let back = admin(dir, &["user", "quota", "carol@example.com", "1MB"])
        .await
        .ok();
    assert!(
        back.stdout.contains("carol@example.com\t1000000\t0\t"),
        "{}",
        back.stdout
    );

    let created = admin(
        dir,
        &["token", "create", "carol@example.com", "--label", "laptop"],
    )
    .await
    .ok();
    let secret = created.stdout.trim().to_owned();
    assert!(
        secret.starts_with("bxp_") && secret.len() > 40,
        "{secret:?}"
    );
    let id = created
        .stderr
        .split_whitespace()
        .find(|w| w.starts_with("tok_"))
        .expect("the token's id")
        .to_owned();

    // The token signs in as carol, whose quota the server reports.
    let resp = me(&server, &secret).await;
    assert_eq!(resp.status(), 200);
    let user: Value = resp.json().await.unwrap();
    assert_eq!(user["login"], "carol@example.com");
    assert_eq!(user["space_amount"], 1_000_000);
    assert_eq!(user["space_used"], 0);

    // Listed by id and label, never with its secret.
    let listed = admin(dir, &["token", "list", "carol@example.com"])
        .await
        .ok();
    assert!(
        listed.stdout.contains(&id) && listed.stdout.contains("laptop"),
        "{}",
        listed.stdout
    );
    assert!(!listed.stdout.contains(&secret));

    // A session for more than the quota leaves is refused up front.
    let over = reqwest::Client::new()
        .post(format!("{}/2.0/files/upload_sessions", server.origin))
        .bearer_auth(&secret)
        .json(&json!({"folder_id": "0", "file_size": 1_000_001, "file_name": "big.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 403);
    let err: Value = over.json().await.unwrap();
    assert_eq!(err["code"], "storage_limit_exceeded", "{err}");

    // Expired by the operator: the next request is 401; given a later
    // deadline, or none, it works again until then.
    let expired = admin(dir, &["token", "expire", &id]).await.ok();
    assert!(expired.stderr.contains(", expires "), "{}", expired.stderr);
    assert_eq!(me(&server, &secret).await.status(), 401);
    admin(dir, &["token", "expire", &id, "--in", "1h"])
        .await
        .ok();
    assert_eq!(me(&server, &secret).await.status(), 200);
    let listed = admin(dir, &["token", "list"]).await.ok();
    let line = listed.stdout.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(!line.contains("\tnever\t"), "{line}");
    admin(dir, &["token", "expire", &id, "--never"]).await.ok();
    let listed = admin(dir, &["token", "list"]).await.ok();
    let line = listed.stdout.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(line.contains("\tnever\t"), "{line}");
    assert_eq!(me(&server, &secret).await.status(), 200);
    let unknown = admin(dir, &["token", "expire", "tok_000000000000"]).await;
    assert_eq!(unknown.code(), Some(1), "{unknown:?}");

    // Revoked: the next request is 401, with Box's WWW-Authenticate.
    admin(dir, &["token", "revoke", &id]).await.ok();
    let resp = me(&server, &secret).await;
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token"),
        "{:?}",
        resp.headers()
    );
    let again = admin(dir, &["token", "revoke", &id]).await;
    assert_eq!(again.code(), Some(1), "{again:?}");

    // A token whose lifetime is over is refused the same way.
    let expired = admin(
        dir,
        &["token", "create", "carol@example.com", "--expires", "0s"],
    )
    .await
    .ok();
    assert_eq!(me(&server, expired.stdout.trim()).await.status(), 401);
    // The static token of the command line still works beside them.
    assert_eq!(me(&server, "static-token").await.status(), 200);

    let unknown = admin(dir, &["token", "create", "nobody"]).await;
    assert_eq!(unknown.code(), Some(1));
    assert!(
        unknown.stderr.contains("no user with login \"nobody\""),
        "{}",
        unknown.stderr
    );
}
