//! The files, folders and direct-upload operations of `boxup-client`
//! (`files()`, `folders()`, `uploads()`) against the real server: what the
//! `boxup` CLI's `upload` (small files), `ls`, `mkdir` and `rm` rely on.

use std::sync::{Arc, Mutex};

use boxup_client::UploadFileOptions;
use boxup_e2e::{Action, FaultProxy, TestServer, pattern, sha1_hex};

#[tokio::test]
async fn direct_upload_creates_the_file_and_reports_progress() {
    let server = TestServer::start_small().await;
    let client = server.client();
    let data = pattern(300_000, 1);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let mut options = UploadFileOptions::default().on_progress(move |p| {
        assert_eq!(p.total_bytes, 300_000);
        s.lock().unwrap().push(p.bytes_done);
    });
    options.content_modified_at = Some("2024-01-02T03:04:05Z".into());
    let file = client
        .uploads()
        .upload_file(&data[..], "small.bin", data.len() as u64, "0", &options)
        .await
        .unwrap();
    assert_eq!(file.name.as_deref(), Some("small.bin"));
    assert_eq!(file.size, Some(300_000));
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(
        file.content_modified_at.as_deref(),
        Some("2024-01-02T03:04:05Z")
    );
    assert_eq!(server.download(&file.id).await, data);

    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "non-decreasing: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&300_000));

    let got = client.files().get_file_by_id(&file.id, None).await.unwrap();
    assert_eq!((got.id, got.sha1), (file.id, file.sha1));
}

#[tokio::test]
async fn a_taken_name_is_409_naming_the_existing_file() {
    let server = TestServer::start_small().await;
    let uploads = server.client().uploads();
    let opts = UploadFileOptions::default();
    let first = uploads
        .upload_file(&b"one"[..], "a.txt", 3, "0", &opts)
        .await
        .unwrap();
    let err = uploads
        .upload_file(&b"two"[..], "a.txt", 3, "0", &opts)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), Some("item_name_in_use"))
    );
    assert!(err.request_id().is_some());
    let conflict = &err.context_info().unwrap()["conflicts"];
    assert_eq!(conflict["id"], first.id.as_str());
    assert_eq!(conflict["sha1"], sha1_hex(b"one"));
}

#[tokio::test]
async fn new_versions_keep_the_id_and_may_rename() {
    let server = TestServer::start_small().await;
    let uploads = server.client().uploads();
    let opts = UploadFileOptions::default();
    let v1 = uploads
        .upload_file(&b"v1"[..], "doc.txt", 2, "0", &opts)
        .await
        .unwrap();
    let v2 = uploads
        .upload_file_version(&b"second"[..], &v1.id, 6, Some("doc2.txt"), &opts)
        .await
        .unwrap();
    assert_eq!(v2.id, v1.id);
    assert_eq!(v2.name.as_deref(), Some("doc2.txt"));
    assert_eq!(v2.sha1.as_deref(), Some(sha1_hex(b"second").as_str()));
    assert_ne!(v2.file_version, v1.file_version);
    // If-Match on a stale etag is refused.
    let stale = UploadFileOptions {
        if_match: v1.etag.clone(),
        ..UploadFileOptions::default()
    };
    let err = uploads
        .upload_file_version(&b"third"[..], &v1.id, 5, None, &stale)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(412), "{err:?}");
}

#[tokio::test]
async fn sources_of_the_wrong_size_are_refused_before_sending() {
    let server = TestServer::start_small().await;
    let uploads = server.client().uploads();
    let opts = UploadFileOptions::default();
    let short = uploads.upload_file(&b"abc"[..], "s", 4, "0", &opts).await;
    assert!(
        matches!(short, Err(boxup_client::Error::SourceTooShort { .. })),
        "{short:?}"
    );
    let long = uploads.upload_file(&b"abcde"[..], "l", 4, "0", &opts).await;
    assert!(
        matches!(long, Err(boxup_client::Error::SourceTooLong { .. })),
        "{long:?}"
    );
    let items = server
        .client()
        .folders()
        .get_all_folder_items("0")
        .await
        .unwrap();
    assert!(items.is_empty(), "nothing was created: {items:?}");
}

#[tokio::test]
async fn a_direct_upload_answered_503_is_sent_again() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::start(server.addr, |seen| {
        if seen.method == "POST" && seen.path.contains("/files/content") && seen.nth == 1 {
            Action::status(503)
        } else {
            Action::Forward
        }
    })
    .await;
    let data = pattern(70_000, 2);
    let file = proxy
        .client()
        .uploads()
        .upload_file(
            &data[..],
            "retry.bin",
            70_000,
            "0",
            &UploadFileOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(server.download(&file.id).await, data);
    let posts: Vec<_> = proxy
        .log()
        .into_iter()
        .filter(|l| l.seen.method == "POST")
        .collect();
    assert_eq!(posts.len(), 2, "one 503, one retry");
    let md5 = posts[1]
        .headers
        .get("content-md5")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(md5, sha1_hex(&data), "Content-MD5 carries the SHA-1");
}

#[tokio::test]
async fn folders_are_created_listed_page_by_page_and_files_deleted() {
    let server = TestServer::start_small().await;
    let client = server.client();
    let folders = client.folders();
    let photos = folders.create_folder("photos", "0", None).await.unwrap();
    assert_eq!(photos.name.as_deref(), Some("photos"));
    let dup = folders
        .create_folder("photos", "0", None)
        .await
        .unwrap_err();
    assert_eq!(dup.status(), Some(409));
    let opts = UploadFileOptions::default();
    let mut ids = Vec::new();
    for name in ["c", "a", "b"] {
        let f = client
            .uploads()
            .upload_file(name.as_bytes(), name, 1, &photos.id, &opts)
            .await
            .unwrap();
        ids.push(f.id);
    }
    let page = folders
        .get_folder_items(&photos.id, Some(1), Some(1), None)
        .await
        .unwrap();
    assert_eq!(page.total_count, 3);
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].name.as_deref(), Some("b"));
    let all = folders.get_all_folder_items(&photos.id).await.unwrap();
    let names: Vec<_> = all.iter().map(|i| i.name.clone().unwrap()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(all.iter().all(|i| i.size == Some(1) && i.sha1.is_some()));
    let root = folders.get_folder_by_id("0", None).await.unwrap();
    assert_eq!(root.id, "0");

    client
        .files()
        .delete_file_by_id(&ids[0], None)
        .await
        .unwrap();
    let err = client
        .files()
        .get_file_by_id(&ids[0], None)
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(404), Some("not_found")));
    assert_eq!(
        folders
            .get_all_folder_items(&photos.id)
            .await
            .unwrap()
            .len(),
        2
    );
    let missing = folders
        .get_folder_items("999999", None, None, None)
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404));
}
