//! Every chunked-upload operation, by id and by URL, against the real
//! server, driven by hand the way the official SDKs' manual-flow tests do.

use boxup_client::{
    BoxClient, CommitAttributes, CommitOptions, ContentRange, HeaderMap, Sha1Digest, UploadPart,
    UploadPartPlan, UploadSession,
};
use boxup_e2e::server::PART;
use boxup_e2e::{TestServer, pattern, sha1_hex};

/// Uploads every part of `data` into `session` by id (or by URL) and
/// returns the echoed parts in order.
async fn upload_parts(
    client: &BoxClient,
    session: &UploadSession,
    data: &[u8],
    by_url: bool,
) -> Vec<UploadPart> {
    let mgr = client.chunked_uploads();
    let part_size = session.part_size.unwrap() as usize;
    let mut parts = Vec::new();
    for (i, chunk) in data.chunks(part_size).enumerate() {
        let offset = (i * part_size) as u64;
        let digest = Sha1Digest::of(chunk).to_digest_header();
        let range =
            ContentRange::for_part(offset, chunk.len() as u64, data.len() as u64).to_string();
        let body = bytes::Bytes::copy_from_slice(chunk);
        let uploaded = if by_url {
            let url = session
                .session_endpoints
                .as_ref()
                .unwrap()
                .upload_part
                .as_deref()
                .unwrap();
            mgr.upload_file_part_by_url(url, body, &digest, &range, None)
                .await
        } else {
            mgr.upload_file_part(&session.id, body, &digest, &range, None)
                .await
        }
        .expect("part upload");
        assert_eq!(uploaded.part.offset, offset);
        assert_eq!(uploaded.part.size, chunk.len() as u64);
        assert_eq!(
            uploaded.part.sha1.as_deref(),
            Some(sha1_hex(chunk).as_str())
        );
        parts.push(uploaded.part);
    }
    parts
}

fn whole_digest(data: &[u8]) -> String {
    Sha1Digest::of(data).to_digest_header()
}

#[tokio::test]
async fn manual_flow_by_id() {
    let server = TestServer::start_small().await;
    let client = server.client();
    let mgr = client.chunked_uploads();
    let data = pattern(3 * PART as usize + 1000, 1);

    let session = mgr
        .create_file_upload_session("0", data.len() as u64, "by-id.bin", None)
        .await
        .unwrap();
    assert_eq!(session.kind, "upload_session");
    assert_eq!(session.part_size, Some(PART));
    assert_eq!(session.total_parts, Some(4));
    assert_eq!(session.num_parts_processed, Some(0));
    let endpoints = session.session_endpoints.clone().unwrap();
    assert!(endpoints.upload_part.unwrap().starts_with(&format!(
        "{}/api/2.0/files/upload_sessions/",
        server.origin()
    )));

    let parts = upload_parts(&client, &session, &data, false).await;

    let status = mgr
        .get_file_upload_session_by_id(&session.id, None)
        .await
        .unwrap();
    assert_eq!(status.id, session.id);
    assert_eq!(status.num_parts_processed, Some(4));

    let all = mgr
        .get_file_upload_session_parts(&session.id, None, None, None)
        .await
        .unwrap();
    assert_eq!(all.total_count, 4);
    assert_eq!(all.entries, parts);
    let page = mgr
        .get_file_upload_session_parts(&session.id, Some(1), Some(2), None)
        .await
        .unwrap();
    assert_eq!(
        (page.total_count, page.offset, page.limit),
        (4, Some(1), Some(2))
    );
    assert_eq!(page.entries, parts[1..3].to_vec());

    let files = mgr
        .create_file_upload_session_commit(
            &session.id,
            &parts,
            &whole_digest(&data),
            &CommitOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(files.total_count, 1);
    let file = &files.entries[0];
    assert_eq!(file.name.as_deref(), Some("by-id.bin"));
    assert_eq!(file.size, Some(data.len() as u64));
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(file.parent.as_ref().map(|p| p.id.as_str()), Some("0"));
    assert_eq!(server.download(&file.id).await, data);

    // The SDK tests delete the session after the commit; the file stays.
    mgr.delete_file_upload_session_by_id(&session.id, None)
        .await
        .unwrap();
    let gone = mgr
        .get_file_upload_session_by_id(&session.id, None)
        .await
        .unwrap_err();
    assert_eq!(gone.status(), Some(404));
    assert_eq!(server.get_file(&file.id).await.id, file.id);
}

#[tokio::test]
async fn manual_flow_by_url() {
    let server = TestServer::start_small().await;
    let client = server.client();
    let mgr = client.chunked_uploads();
    let data = pattern(2 * PART as usize, 2);

    let session = mgr
        .create_file_upload_session("0", data.len() as u64, "by-url.bin", None)
        .await
        .unwrap();
    let ep = session.session_endpoints.clone().unwrap();
    let parts = upload_parts(&client, &session, &data, true).await;

    let status = mgr
        .get_file_upload_session_by_url(ep.status.as_deref().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(
        (status.id.as_str(), status.num_parts_processed),
        (session.id.as_str(), Some(2))
    );

    let list_url = ep.list_parts.as_deref().unwrap();
    let listed = mgr
        .get_file_upload_session_parts_by_url(list_url, None, None, None)
        .await
        .unwrap();
    assert_eq!(listed.entries, parts);
    let second = mgr
        .get_file_upload_session_parts_by_url(list_url, Some(1), Some(1), None)
        .await
        .unwrap();
    assert_eq!(second.entries, vec![parts[1].clone()]);

    let files = mgr
        .create_file_upload_session_commit_by_url(
            ep.commit.as_deref().unwrap(),
            &parts,
            &whole_digest(&data),
            &CommitOptions::default(),
        )
        .await
        .unwrap();
    let file = &files.entries[0];
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(server.download(&file.id).await, data);

    mgr.delete_file_upload_session_by_url(ep.abort.as_deref().unwrap(), None)
        .await
        .unwrap();
    let gone = mgr
        .get_file_upload_session_by_url(ep.status.as_deref().unwrap(), None)
        .await
        .unwrap_err();
    assert_eq!((gone.status(), gone.code()), (Some(404), Some("not_found")));
}

#[tokio::test]
async fn new_version_session_with_rename_attributes_and_if_match() {
    let server = TestServer::start_small().await;
    let client = server.client();
    let mgr = client.chunked_uploads();
    let v1 = pattern(PART as usize + 10, 3);
    let first = mgr
        .upload_big_file(&v1[..], "doc.bin", v1.len() as u64, "0")
        .await
        .unwrap();

    let v2 = pattern(2 * PART as usize + 7, 4);
    let session = mgr
        .create_file_upload_session_for_existing_file(
            &first.id,
            v2.len() as u64,
            Some("doc-v2.bin"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(session.total_parts, Some(3));
    let parts = upload_parts(&client, &session, &v2, true).await;
    let options = CommitOptions {
        if_match: first.etag.clone(),
        attributes: Some(CommitAttributes {
            content_modified_at: Some("2017-04-08T00:58:08Z".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let files = mgr
        .create_file_upload_session_commit(&session.id, &parts, &whole_digest(&v2), &options)
        .await
        .unwrap();
    let second = &files.entries[0];
    assert_eq!(second.id, first.id);
    assert_eq!(second.name.as_deref(), Some("doc-v2.bin"));
    assert_ne!(
        second.file_version.as_ref().unwrap().id,
        first.file_version.as_ref().unwrap().id
    );
    assert_ne!(second.etag, first.etag);
    assert_eq!(second.sha1.as_deref(), Some(sha1_hex(&v2).as_str()));
    assert_eq!(
        second.content_modified_at.as_deref(),
        Some("2017-04-08T00:58:08Z")
    );
    assert_eq!(server.download(&first.id).await, v2);
}

#[tokio::test]
async fn abort_by_id_and_by_url_discards_the_session() {
    let server = TestServer::start_small().await;
    let client = server.client();
    let mgr = client.chunked_uploads();
    let data = pattern(2 * PART as usize, 5);
    for by_url in [false, true] {
        let name = format!("aborted-{by_url}.bin");
        let session = mgr
            .create_file_upload_session("0", data.len() as u64, &name, None)
            .await
            .unwrap();
        let chunk = &data[..PART as usize];
        let range = ContentRange::for_part(0, PART, data.len() as u64).to_string();
        mgr.upload_file_part(
            &session.id,
            chunk.to_vec(),
            &Sha1Digest::of(chunk).to_digest_header(),
            &range,
            None,
        )
        .await
        .unwrap();
        if by_url {
            let abort = session
                .session_endpoints
                .as_ref()
                .unwrap()
                .abort
                .clone()
                .unwrap();
            mgr.delete_file_upload_session_by_url(&abort, None)
                .await
                .unwrap();
        } else {
            mgr.delete_file_upload_session_by_id(&session.id, None)
                .await
                .unwrap();
        }
        let get = mgr
            .get_file_upload_session_by_id(&session.id, None)
            .await
            .unwrap_err();
        assert_eq!(get.code(), Some("not_found"));
        let list = mgr
            .get_file_upload_session_parts(&session.id, None, None, None)
            .await
            .unwrap_err();
        assert_eq!(list.status(), Some(404));
        // The name is free again: nothing was committed.
        let again = mgr
            .create_file_upload_session("0", data.len() as u64, &name, None)
            .await;
        assert!(again.is_ok(), "{again:?}");
    }
}

#[tokio::test]
async fn extra_headers_are_sent_and_override_the_clients_own() {
    let server = TestServer::start_small().await;
    let mgr = server.client().chunked_uploads();
    let mut headers = HeaderMap::new();
    headers.insert("authorization", "Bearer not-the-token".parse().unwrap());
    let err = mgr
        .create_file_upload_session("0", 10, "x.bin", Some(&headers))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(!err.is_retryable());
    // Without them the same call succeeds.
    assert!(
        mgr.create_file_upload_session("0", 10, "x.bin", None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_upload_plan_by_id_and_by_url_lists_every_part_as_a_miss() {
    let server = TestServer::start_small().await;
    let mgr = server.client().chunked_uploads();
    let data = pattern(2 * PART as usize + 3, 4);
    let session = mgr
        .create_file_upload_session("0", data.len() as u64, "planned.bin", None)
        .await
        .unwrap();
    let planned: Vec<UploadPartPlan> = data
        .chunks(PART as usize)
        .enumerate()
        .map(|(i, chunk)| UploadPartPlan {
            offset: i as u64 * PART,
            size: chunk.len() as u64,
            sha512: format!("{:0128x}", i),
        })
        .collect();
    let plan_url = session.session_endpoints.clone().unwrap().plan.unwrap();
    let by_url = mgr
        .create_file_upload_session_plan_by_url(&plan_url, planned.clone(), None)
        .await
        .unwrap();
    let by_id = mgr
        .create_file_upload_session_plan(&session.id, planned.clone(), None)
        .await
        .unwrap();
    for plan in [by_url, by_id] {
        assert_eq!(plan.upload_session_id, session.id);
        assert!(plan.hits.is_empty());
        assert_eq!(plan.misses, planned);
    }
    let err = mgr
        .create_file_upload_session_plan("F971964745A5CD0C001BBE4E58196BFD", Vec::new(), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
}
