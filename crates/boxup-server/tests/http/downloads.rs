//! Downloads as Box does them (docs/protocol.md §5.4): the authenticated
//! content URL answers 302 with a signed, expiring link that serves the
//! bytes, with `Range`, to whoever holds it; a link that is altered,
//! expired or not this server's is 403, one whose version is gone is 404.

use boxup_protocol::time::now_unix;
use boxup_server::service::{DownloadGrant, LinkSigner, LocalLinkSigner, SigningKey};
use boxup_server::store::{FileId, UserId, VersionId};
use reqwest::redirect::Policy;
use reqwest::{Client, Method};
use serde_json::json;

use crate::common::*;

/// A client that reports redirects instead of following them, as the
/// SDKs' `get_download_file_url` does.
fn no_redirects() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn location(t: &TestServer, path: &str) -> String {
    let r = no_redirects()
        .get(t.url(path))
        .bearer_auth(ALICE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302, "{path}");
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// The server's own signer, from the key in its data directory.
fn signer(t: &TestServer) -> LocalLinkSigner {
    let text = std::fs::read_to_string(t.data_dir.join("signing-key")).unwrap();
    LocalLinkSigner {
        key: SigningKey::from_hex(&text).unwrap(),
    }
}

#[tokio::test]
async fn content_redirects_to_a_link_that_serves_bytes_and_ranges_without_a_token() {
    let t = TestServer::start(|_| {}).await;
    let bytes = data(3 * PART_SIZE as usize + 11, 4);
    let file = t.session_upload(ALICE, "0", "big.bin", &bytes).await;
    let link = location(&t, &format!("{API}/files/{}/content", id(&file))).await;
    assert!(
        link.starts_with(&format!("{}/downloads/", t.base)),
        "{link}"
    );
    let plain = client();
    let whole = plain.get(&link).send().await.unwrap();
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(whole.bytes().await.unwrap(), bytes);
    let part = plain
        .get(&link)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status().as_u16(), 206);
    let total = bytes.len();
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{total}").as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), &bytes[100..200]);
    let bad = plain
        .get(&link)
        .header("range", format!("bytes={total}-"))
        .send()
        .await
        .unwrap();
    expect_error(bad, 416, "requested_range_not_satisfiable").await;
    // A client that follows redirects just gets the bytes, under both prefixes.
    assert_eq!(t.download(ALICE, &id(&file)).await, bytes);
    let via_upload = t
        .get(ALICE, &format!("{UPLOAD}/files/{}/content", id(&file)))
        .await;
    assert_eq!(via_upload.bytes().await.unwrap(), bytes);
}

#[tokio::test]
async fn an_old_version_keeps_its_own_link() {
    let t = TestServer::start(|_| {}).await;
    let first = t.upload_file(ALICE, "0", "v.txt", b"one").await;
    let fid = id(&first);
    let v1 = first["file_version"]["id"].as_str().unwrap().to_owned();
    let url = t.url(&format!("{UPLOAD}/files/{fid}/content"));
    assert!(
        t.multipart_post(ALICE, &url, &json!({}), b"two", None)
            .await
            .status()
            .is_success()
    );
    let old = location(&t, &format!("{API}/files/{fid}/content?version={v1}")).await;
    let new = location(&t, &format!("{API}/files/{fid}/content")).await;
    assert_eq!(
        client()
            .get(&old)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        "one"
    );
    assert_eq!(
        client()
            .get(&new)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        "two"
    );
    expect_error(
        t.get(ALICE, &format!("{API}/files/{fid}/content?version=99999"))
            .await,
        404,
        "not_found",
    )
    .await;
    // Once the file is deleted, its links find nothing.
    expect_empty(t.delete(ALICE, &format!("{API}/files/{fid}")).await, 204).await;
    expect_error(client().get(&new).send().await.unwrap(), 404, "not_found").await;
}

#[tokio::test]
async fn altered_expired_and_foreign_links_are_refused() {
    let t = TestServer::start(|_| {}).await;
    let file = t.upload_file(ALICE, "0", "s.txt", b"secret").await;
    let link = location(&t, &format!("{API}/files/{}/content", id(&file))).await;
    let token = link.rsplit('/').next().unwrap().to_owned();
    let mut altered = token.clone().into_bytes();
    altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    // A genuine grant, signed by another server's key.
    let me = expect_json(t.get(ALICE, &format!("{API}/users/me")).await, 200).await;
    let grant = DownloadGrant {
        user: UserId(id(&me).parse().unwrap()),
        file: FileId(id(&file).parse().unwrap()),
        version: VersionId(
            file["file_version"]["id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        ),
        not_before: now_unix() - 10,
        expires_at: now_unix() + 60,
    };
    let foreign = LocalLinkSigner {
        key: SigningKey::random(),
    }
    .url(&grant, &t.base);
    // The same grant, by this server's key, but expired.
    let expired = DownloadGrant {
        not_before: now_unix() - 600,
        expires_at: now_unix() - 300,
        ..grant
    };
    let expired = signer(&t).url(&expired, &t.base);
    for url in [
        format!("{}/downloads/{altered}", t.base),
        foreign,
        expired,
        format!("{}/downloads/x", t.base),
    ] {
        let e = expect_error(client().get(&url).send().await.unwrap(), 403, "forbidden").await;
        assert!(
            e["message"].as_str().unwrap().contains("download link"),
            "{e}"
        );
    }
    // This server's key over the same grant works: the refusals were real.
    let fresh = signer(&t).url(&grant, &t.base);
    assert_eq!(
        client()
            .get(&fresh)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        "secret"
    );
    // The content route itself still wants a token.
    let r = t
        .send(t.req(
            Method::GET,
            "wrong",
            &format!("{API}/files/{}/content", id(&file)),
        ))
        .await;
    expect_error(r, 401, "unauthorized").await;
}
