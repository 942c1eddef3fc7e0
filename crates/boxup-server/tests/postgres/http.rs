//! The whole HTTP protocol over PostgreSQL metadata (`--database-url`):
//! an upload session from create to download, a name conflict, and user
//! isolation, in a fresh database dropped at the end.
//!
//! Needs the server at `BOXUP_TEST_DATABASE_URL` (see `main.rs` for what
//! happens without one).

use crate::common::*;
use crate::forwarder::Forwarder;
use crate::pg_support::{database_url, unreachable_server};
use reqwest::{Method, Url};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

async fn admin() -> PgConnection {
    PgConnection::connect(&database_url())
        .await
        .unwrap_or_else(|e| unreachable_server(e))
}

/// A fresh database; returns its name and URL.
async fn fresh_database() -> (String, String) {
    let name = format!("boxup_http_{}", hex::encode(rand::random::<[u8; 6]>()));
    let sql = format!("CREATE DATABASE \"{name}\"");
    sqlx::query(AssertSqlSafe(sql))
        .execute(&mut admin().await)
        .await
        .unwrap();
    let mut url = Url::parse(&database_url()).unwrap();
    url.set_path(&format!("/{name}"));
    (name, url.to_string())
}

async fn drop_database(name: &str) {
    let sql = format!("DROP DATABASE \"{name}\" WITH (FORCE)");
    sqlx::query(AssertSqlSafe(sql))
        .execute(&mut admin().await)
        .await
        .unwrap();
}

pub(crate) async fn sessions_files_and_isolation_over_postgres() {
    let (db, url) = fresh_database().await;
    let t = TestServer::start(|o| o.database_url = Some(url)).await;
    let folder = t.new_folder(ALICE, "0", "pg").await;
    let data = data(3 * PART_SIZE as usize + 17, 81);
    let file = t
        .session_upload(ALICE, &id(&folder), "over-pg.bin", &data)
        .await;
    assert_eq!(file["sha1"], sha1_hex(&data));
    assert_eq!(file["size"], data.len());
    assert_eq!(t.download(ALICE, &id(&file)).await, data);
    let items = t.items(ALICE, &id(&folder)).await;
    assert_eq!(items["total_count"], 1);
    assert_eq!(items["entries"][0]["id"], file["id"]);

    let r = t
        .create_session(
            ALICE,
            UPLOAD,
            &id(&folder),
            "OVER-PG.bin",
            data.len() as u64,
        )
        .await;
    expect_error(r, 409, "item_name_in_use").await;
    let path = format!("{API}/files/{}", id(&file));
    expect_error(t.get(BOB, &path).await, 404, "not_found").await;
    let s = t.new_session(ALICE, "0", "other.bin", 10).await;
    let status = TestServer::session_path(UPLOAD, &id(&s));
    expect_error(t.get(BOB, &status).await, 404, "not_found").await;
    expect_json(t.send(t.req(Method::GET, ALICE, &status)).await, 200).await;

    t.stop().await;
    drop_database(&db).await;
}

/// The database goes away mid-upload: requests answer 503 with
/// `Retry-After` and Box's error object, nothing is half-listed, and once
/// it is back the same requests succeed and the file commits. The
/// failures show in `/metrics`.
pub(crate) async fn an_unreachable_database_is_503_and_the_upload_completes_when_back() {
    let (db, url) = fresh_database().await;
    let mut url = Url::parse(&url).unwrap();
    let target = format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    );
    let forwarder = Forwarder::start(&target).await;
    url.set_port(Some(forwarder.addr().port())).unwrap();
    let t = TestServer::start(|o| o.database_url = Some(url.to_string())).await;
    // Reads fail too: every request needs the database.
    let read = format!("{API}/folders/0");
    t.upload_across_an_outage(forwarder.cut(), forwarder.restore(), &[&read])
        .await;
    // The refused requests were counted as the metadata store's failures
    // (at least the part and the read that answered 503).
    let scrape = t.send(t.client.get(t.url("/metrics"))).await;
    let text = scrape.text().await.unwrap();
    let unavailable: f64 = text
        .lines()
        .filter(|l| {
            l.starts_with("boxup_store_errors_total{")
                && l.contains(r#"store="metadata""#)
                && l.contains(r#"kind="unavailable""#)
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert!(unavailable >= 2.0, "{text}");
    t.stop().await;
    drop(forwarder);
    drop_database(&db).await;
}
