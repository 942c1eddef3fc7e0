//! A whole server with its part bytes in the object store: uploads,
//! commits and downloads over HTTP, presigned downloads of one-object
//! files, and an object store that goes away mid-upload.

use boxup_server::store::object::ObjectStorePartStore;
use boxup_server::store::{PartStore, list_all_older_than};
use futures::StreamExt;
use reqwest::Method;
use reqwest::redirect::Policy;
use serde_json::Value;

use super::common::*;
use super::forwarder::Forwarder;
use super::options;

/// A server on the test store, under a prefix of the test's own.
async fn server_on(prefix: &str, endpoint: Option<String>) -> TestServer {
    let mut s3 = options().expect("probed before any test runs");
    s3.url = format!("{}/{prefix}", s3.url.trim_end_matches('/'));
    if endpoint.is_some() {
        s3.endpoint = endpoint;
    }
    TestServer::start(|o| o.object_store = Some(s3)).await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Where `GET /files/{id}/content` sends the client.
async fn location(server: &TestServer, file_id: &str) -> String {
    let resp = no_redirects()
        .get(server.url(&format!("{API}/files/{file_id}/content")))
        .bearer_auth(ALICE)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    resp.headers()["location"].to_str().unwrap().to_owned()
}

pub(crate) async fn uploads_and_downloads_go_through_the_object_store() {
    let server = server_on("server-roundtrip", None).await;
    // Several parts: committed as a manifest of part objects, streamed
    // through boxup's own signed link.
    let data = data(3 * PART_SIZE as usize + 1000, 11);
    let file = server.session_upload(ALICE, "0", "big.bin", &data).await;
    assert_eq!(file["sha1"], sha1_hex(&data));
    let id = file["id"].as_str().unwrap();
    let link = location(&server, id).await;
    assert!(link.starts_with(&server.url("/downloads/")), "{link}");
    assert_eq!(server.download(ALICE, id).await, data);
    // A ranged read across a part boundary.
    let resp = server
        .send(
            server
                .req(Method::GET, ALICE, &format!("{API}/files/{id}/content"))
                .header(
                    "range",
                    format!("bytes={}-{}", PART_SIZE - 10, PART_SIZE + 9),
                ),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 206);
    let got = resp.bytes().await.unwrap();
    assert_eq!(
        &got[..],
        &data[PART_SIZE as usize - 10..PART_SIZE as usize + 10]
    );

    // One object (a simple upload): the client is sent to the store itself,
    // with a presigned URL that names the file as boxup would.
    let small = data[..5000].to_vec();
    let resp = server
        .simple_upload(ALICE, UPLOAD, "0", "naïve name.txt", &small)
        .await;
    let files: Value = resp.json().await.unwrap();
    let small_id = files["entries"][0]["id"].as_str().unwrap().to_owned();
    let link = location(&server, &small_id).await;
    let endpoint = options().unwrap().endpoint.unwrap();
    assert!(link.starts_with(&endpoint), "{link} is not on {endpoint}");
    let resp = client().get(&link).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename*=UTF-8''na%C3%AFve%20name.txt"
    );
    assert_eq!(resp.bytes().await.unwrap(), small);
    // Tampering with the signature is refused by the store.
    let forged = link.replacen("X-Amz-Signature=", "X-Amz-Signature=0", 1);
    let resp = client().get(&forged).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    server.stop().await;
}

/// Parts are PUT while the object store is unreachable: 503 with
/// `Retry-After` and Box's error object, nothing listed; once the store is
/// back, the same PUTs succeed and the file commits with the right SHA-1.
pub(crate) async fn an_unreachable_store_is_503_and_the_upload_completes_when_back() {
    let real = options().unwrap().endpoint.expect("a test endpoint");
    let real = real.trim_start_matches("http://").to_owned();
    let forwarder = Forwarder::start(&real).await;
    let server = server_on("server-outage", Some(forwarder.url())).await;
    server
        .upload_across_an_outage(forwarder.cut(), forwarder.restore(), &[])
        .await;
    server.stop().await;
    drop(forwarder);
}

/// Abort, file delete, replaced versions and orphans: after a sweep, the
/// store holds exactly the objects of what still exists.
pub(crate) async fn every_object_is_reclaimed() {
    let prefix = "server-reclaim";
    let server = server_on(prefix, None).await;
    let store = {
        let mut s3 = options().unwrap();
        s3.url = format!("{}/{prefix}", s3.url.trim_end_matches('/'));
        ObjectStorePartStore::s3(&s3).unwrap()
    };
    // A file of three parts, deleted.
    let gone = data(3 * PART_SIZE as usize, 21);
    let file = server.session_upload(ALICE, "0", "gone.bin", &gone).await;
    let resp = server
        .delete(ALICE, &format!("{API}/files/{}", id(&file)))
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    // A session with two parts, aborted.
    let aborted = data(3 * PART_SIZE as usize, 22);
    let session = server
        .new_session(ALICE, "0", "aborted.bin", aborted.len() as u64)
        .await;
    let url = endpoint(&session, "upload_part");
    for (offset, chunk) in chunks(&aborted, PART_SIZE).into_iter().take(2) {
        server
            .put_part_ok(ALICE, &url, offset, chunk, aborted.len() as u64)
            .await;
    }
    let resp = server
        .send(server.req_url(Method::DELETE, ALICE, &endpoint(&session, "abort")))
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    // A file replaced by a new version: only the new one's object stays.
    let kept = server
        .upload_file(ALICE, "0", "kept.txt", b"version one")
        .await;
    let resp = server
        .multipart_post(
            ALICE,
            &server.url(&format!("{UPLOAD}/files/{}/content", id(&kept))),
            &serde_json::json!({"name": "kept.txt"}),
            b"version two",
            None,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    // An orphan: bytes whose row never committed (a crash between the two).
    let orphan: boxup_server::store::ByteStream =
        futures::stream::iter([Ok(bytes::Bytes::from_static(b"orphan"))]).boxed();
    store.put("s/ORPHAN/000000-0", orphan).await.unwrap();

    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let now = chrono::Utc::now().timestamp();
    let report = server.service.sweep_once(now, later).await.unwrap();
    assert_eq!(report.orphans_deleted, 1, "{report:?}");
    let left = list_all_older_than(&store, later).await.unwrap();
    // Box keeps the previous version of a replaced file, as Box does: the
    // objects left are those of kept.txt's two versions.
    assert_eq!(left.len(), 2, "{left:?}");
    let resp = server
        .delete(ALICE, &format!("{API}/files/{}", id(&kept)))
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    server.service.sweep_once(now, later).await.unwrap();
    let left = list_all_older_than(&store, later).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
    server.stop().await;
}
