//! Files (docs/protocol.md §5.2–5.7): metadata, delete, download with ranges and
//! versions, multipart upload, new versions and preflight.

use crate::common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn get_file_and_if_none_match_304() {
    let t = TestServer::start(|_| {}).await;
    for prefix in PREFIXES {
        let bytes = data(123, prefix.len() as u64);
        let file = t
            .upload_file(ALICE, "0", &format!("meta{}.txt", prefix.len()), &bytes)
            .await;
        let path = format!("{prefix}/files/{}", id(&file));
        let got = expect_json(t.get(ALICE, &path).await, 200).await;
        assert_eq!(got["type"], "file");
        assert_eq!(got["id"], file["id"]);
        assert_eq!(got["size"], 123);
        assert_eq!(got["sha1"], sha1_hex(&bytes));
        assert_eq!(got["parent"]["id"], "0");
        assert_eq!(got["path_collection"]["entries"][0]["id"], "0");
        assert_eq!(got["item_status"], "active");
        let etag = got["etag"].as_str().expect("etag is a string").to_owned();
        for tag in [
            etag.clone(),
            format!("\"{etag}\""),
            format!("W/\"{etag}\""),
            format!("\"999\", \"{etag}\""),
            "*".to_owned(),
        ] {
            let r = t
                .send(
                    t.req(Method::GET, ALICE, &path)
                        .header("if-none-match", tag),
                )
                .await;
            expect_empty(r, 304).await;
        }
        let r = t
            .send(
                t.req(Method::GET, ALICE, &path)
                    .header("if-none-match", "\"999\""),
            )
            .await;
        assert_eq!(expect_json(r, 200).await["id"], file["id"]);
    }
}

#[tokio::test]
async fn delete_file_204_then_404_and_if_match_mismatch_412() {
    let t = TestServer::start(|_| {}).await;
    for prefix in PREFIXES {
        let file = t
            .upload_file(ALICE, "0", &format!("del{}.txt", prefix.len()), b"bye")
            .await;
        let path = format!("{prefix}/files/{}", id(&file));
        let stale = t
            .send(
                t.req(Method::DELETE, ALICE, &path)
                    .header("if-match", "\"12345\""),
            )
            .await;
        expect_error(stale, 412, "precondition_failed").await;
        expect_json(t.get(ALICE, &path).await, 200).await;
        let etag = file["etag"].as_str().unwrap();
        expect_empty(
            t.send(t.req(Method::DELETE, ALICE, &path).header("if-match", etag))
                .await,
            204,
        )
        .await;
        expect_error(t.get(ALICE, &path).await, 404, "not_found").await;
        expect_error(
            t.get(ALICE, &format!("{path}/content")).await,
            404,
            "not_found",
        )
        .await;
        expect_error(t.delete(ALICE, &path).await, 404, "not_found").await;
        // `If-Match: *` holds for any existing file.
        let other = t
            .upload_file(ALICE, "0", &format!("any{}.txt", prefix.len()), b"x")
            .await;
        let path = format!("{prefix}/files/{}", id(&other));
        expect_empty(
            t.send(t.req(Method::DELETE, ALICE, &path).header("if-match", "*"))
                .await,
            204,
        )
        .await;
    }
    assert_eq!(t.items(ALICE, "0").await["total_count"], 0);
}

#[tokio::test]
async fn download_whole_and_ranges() {
    let t = TestServer::start(|_| {}).await;
    let bytes = data(3 * PART_SIZE as usize + 17, 9);
    let total = bytes.len() as u64;
    let file = t.session_upload(ALICE, "0", "ranged.bin", &bytes).await;
    let path = format!("{API}/files/{}/content", id(&file));

    let whole = t.get(ALICE, &path).await;
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(whole.headers()["content-type"], "application/octet-stream");
    assert_eq!(whole.bytes().await.unwrap().to_vec(), bytes);

    let p = PART_SIZE;
    let cases = [
        ("bytes=0-9".to_owned(), 0, 9),
        (format!("bytes={}-{}", p - 5, p + 4), p - 5, p + 4),
        (format!("bytes={}-{}", p, 3 * p + 5), p, 3 * p + 5),
        ("bytes=-10".to_owned(), total - 10, total - 1),
        (format!("bytes={}-", total - 3), total - 3, total - 1),
        (format!("bytes=5-{}", total + 100), 5, total - 1),
    ];
    for prefix in PREFIXES {
        let path = format!("{prefix}/files/{}/content", id(&file));
        for (range, first, last) in &cases {
            let r = t
                .send(t.req(Method::GET, ALICE, &path).header("range", range))
                .await;
            assert_eq!(r.status().as_u16(), 206, "{range}");
            let cr = r.headers()["content-range"].to_str().unwrap().to_owned();
            assert_eq!(cr, format!("bytes {first}-{last}/{total}"), "{range}");
            let body = r.bytes().await.unwrap();
            assert_eq!(
                &body[..],
                &bytes[*first as usize..=*last as usize],
                "{range}"
            );
        }
        for bad in [
            format!("bytes={total}-"),
            format!("bytes={}-{}", total + 1, total + 5),
        ] {
            let r = t
                .send(t.req(Method::GET, ALICE, &path).header("range", &bad))
                .await;
            expect_error(r, 416, "requested_range_not_satisfiable").await;
        }
    }
}

#[tokio::test]
async fn new_version_by_multipart_and_download_of_an_older_version() {
    let t = TestServer::start(|_| {}).await;
    for prefix in PREFIXES {
        let v1 = data(500, 1 + prefix.len() as u64);
        let v2 = data(700, 2 + prefix.len() as u64);
        let file = t
            .upload_file(ALICE, "0", &format!("versions{}.txt", prefix.len()), &v1)
            .await;
        let fid = id(&file);
        let url = t.url(&format!("{prefix}/files/{fid}/content"));
        let r = t
            .multipart_post(ALICE, &url, &json!({}), &v2, Some(&sha1_hex(&v2)))
            .await;
        let status = r.status().as_u16();
        assert!(status == 200 || status == 201, "new version: {status}");
        let files = expect_json(r, status).await;
        let updated = &files["entries"][0];
        assert_eq!(updated["id"], fid.as_str());
        assert_eq!(updated["sha1"], sha1_hex(&v2));
        assert_ne!(updated["file_version"]["id"], file["file_version"]["id"]);
        assert_ne!(updated["etag"], file["etag"]);
        assert_eq!(t.download(ALICE, &fid).await, v2);
        let old = t
            .get(
                ALICE,
                &format!(
                    "{prefix}/files/{fid}/content?version={}",
                    id(&file["file_version"])
                ),
            )
            .await;
        assert_eq!(old.status().as_u16(), 200);
        assert_eq!(old.bytes().await.unwrap().to_vec(), v1);
        let r = t
            .get(
                ALICE,
                &format!("{prefix}/files/{fid}/content?version=987654321"),
            )
            .await;
        expect_error(r, 404, "not_found").await;
        // A stale If-Match on a new version → 412, nothing changes.
        let (ct, body) = multipart("{}", b"v3", false);
        let rb = t
            .req_url(Method::POST, ALICE, &url)
            .header("content-type", ct)
            .header("if-match", "\"77\"")
            .body(body);
        expect_error(t.send(rb).await, 412, "precondition_failed").await;
        assert_eq!(t.download(ALICE, &fid).await, v2);
    }
}

#[tokio::test]
async fn multipart_upload_201_digest_order_and_conflicts() {
    let t = TestServer::start(|_| {}).await;
    let bytes = data(4000, 77);
    let url = t.url(&format!("{UPLOAD}/files/content"));
    let attrs = json!({"name": "a.txt", "parent": {"id": "0"}, "content_modified_at": "2017-04-08T00:58:08Z"});
    let r = t
        .multipart_post(ALICE, &url, &attrs, &bytes, Some(&sha1_hex(&bytes)))
        .await;
    let files = expect_json(r, 201).await;
    assert_eq!(files["total_count"], 1);
    let file = &files["entries"][0];
    assert_eq!(
        (file["name"].as_str(), file["size"].as_u64()),
        (Some("a.txt"), Some(4000))
    );
    assert_eq!(file["sha1"], sha1_hex(&bytes));
    assert_eq!(file["content_modified_at"], "2017-04-08T00:58:08Z");
    assert_eq!(t.download(ALICE, &id(file)).await, bytes);

    let attrs = json!({"name": "b.txt", "parent": {"id": "0"}});
    let r = t
        .multipart_post(ALICE, &url, &attrs, &bytes, Some(&sha1_hex(b"other")))
        .await;
    expect_error(r, 400, "bad_digest").await;

    let (ct, body) = multipart(&attrs.to_string(), &bytes, true);
    let r = t
        .send(
            t.req_url(Method::POST, ALICE, &url)
                .header("content-type", ct)
                .body(body),
        )
        .await;
    expect_error(r, 400, "metadata_after_file_contents").await;

    for name in ["a.txt", "A.TXT"] {
        let attrs = json!({"name": name, "parent": {"id": "0"}});
        let r = t.multipart_post(ALICE, &url, &attrs, b"dup", None).await;
        let e = expect_error(r, 409, "item_name_in_use").await;
        let conflicts = &e["context_info"]["conflicts"];
        assert!(conflicts.is_object(), "file conflicts are one object: {e}");
        assert_eq!(conflicts["id"], file["id"]);
        assert_eq!(conflicts["type"], "file");
    }
    let items = t.items(ALICE, "0").await;
    assert_eq!(
        items["total_count"], 1,
        "failed uploads leave nothing: {items}"
    );
    assert_eq!(t.download(ALICE, &id(file)).await, bytes);
}

#[tokio::test]
async fn preflight_returns_a_working_upload_url_and_checks_name_and_size() {
    let t = TestServer::start(|_| {}).await;
    for (n, prefix) in PREFIXES.iter().enumerate() {
        let name = format!("pre-{n}.bin");
        let bytes = data(321, n as u64);
        let body = json!({"name": name, "size": bytes.len(), "parent": {"id": "0"}});
        let r = t
            .send(
                t.req(Method::OPTIONS, ALICE, &format!("{prefix}/files/content"))
                    .json(&body),
            )
            .await;
        let pre = expect_json(r, 200).await;
        let upload_url = pre["upload_url"].as_str().expect("upload_url").to_owned();
        assert!(
            upload_url.starts_with("http://127.0.0.1:"),
            "absolute: {upload_url}"
        );
        assert!(upload_url.contains("/files/content"), "{upload_url}");
        let attrs = json!({"name": name, "parent": {"id": "0"}, "size": bytes.len()});
        let files = expect_json(
            t.multipart_post(ALICE, &upload_url, &attrs, &bytes, None)
                .await,
            201,
        )
        .await;
        let fid = id(&files["entries"][0]);
        assert_eq!(t.download(ALICE, &fid).await, bytes);

        let r = t
            .send(
                t.req(Method::OPTIONS, ALICE, &format!("{prefix}/files/content"))
                    .json(&body),
            )
            .await;
        let e = expect_error(r, 409, "item_name_in_use").await;
        assert_eq!(e["context_info"]["conflicts"]["id"], fid.as_str());
        let bad = json!({"name": "other", "size": -1, "parent": {"id": "0"}});
        let r = t
            .send(
                t.req(Method::OPTIONS, ALICE, &format!("{prefix}/files/content"))
                    .json(&bad),
            )
            .await;
        expect_error_any(r, 400).await;

        // Preflight of a new version, then upload to the returned URL.
        let vbody = json!({"name": name, "size": 5});
        let r = t
            .send(
                t.req(
                    Method::OPTIONS,
                    ALICE,
                    &format!("{prefix}/files/{fid}/content"),
                )
                .json(&vbody),
            )
            .await;
        let url = expect_json(r, 200).await["upload_url"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            url.starts_with("http") && url.contains(&format!("/files/{fid}/content")),
            "{url}"
        );
        let r = t
            .multipart_post(ALICE, &url, &json!({}), b"new!!", None)
            .await;
        assert!(r.status().is_success(), "{}", r.status());
        assert_eq!(t.download(ALICE, &fid).await, b"new!!");
    }
}

#[tokio::test]
async fn empty_files_fields_query_and_matching_if_match() {
    let t = TestServer::start(|_| {}).await;
    let attrs = json!({"name": "empty", "parent": {"id": "0"}});
    let url = t.url(&format!("{UPLOAD}/files/content?fields=id,name,sha1"));
    let files = expect_json(t.multipart_post(ALICE, &url, &attrs, b"", None).await, 201).await;
    let f = &files["entries"][0];
    // `fields` is honoured: the mini form plus what was asked, no `size`.
    assert_eq!(f["sha1"], "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_eq!(f["name"], "empty");
    assert!(f.get("size").is_none(), "{f}");
    assert_eq!(t.download(ALICE, &id(f)).await, b"");
    let r = t
        .send(
            t.req(
                Method::GET,
                ALICE,
                &format!("{API}/files/{}/content", id(f)),
            )
            .header("range", "bytes=0-0"),
        )
        .await;
    expect_error(r, 416, "requested_range_not_satisfiable").await;
    let r = t
        .get(ALICE, &format!("{API}/files/{}?fields=name,size", id(f)))
        .await;
    assert_eq!(expect_json(r, 200).await["id"], f["id"]);

    let (ct, body) = multipart("{}", b"filled", false);
    let etag = f["etag"].as_str().unwrap();
    let rb = t
        .req(
            Method::POST,
            ALICE,
            &format!("{UPLOAD}/files/{}/content", id(f)),
        )
        .header("content-type", ct)
        .header("if-match", etag)
        .body(body);
    let r = t.send(rb).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(t.download(ALICE, &id(f)).await, b"filled");
}
