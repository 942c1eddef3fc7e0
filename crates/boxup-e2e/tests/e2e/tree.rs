//! The client's update, copy, folder-delete, marker-listing and
//! current-user calls against the real server: what `boxup mv`, `cp`,
//! `rm -r` and `ls` rely on.

use boxup_client::UploadFileOptions;
use boxup_client::boxup_protocol::{CopyItemRequest, ParentRef, UpdateItemRequest};
use boxup_e2e::{TestServer, pattern};

fn parent(id: &str) -> Option<ParentRef> {
    Some(ParentRef { id: id.to_owned() })
}

#[tokio::test]
async fn files_and_folders_are_updated_copied_and_deleted() {
    let server = TestServer::start_small().await;
    let client = server.client();
    let dir = client
        .folders()
        .create_folder("dir", "0", None)
        .await
        .unwrap();
    let data = pattern(5000, 3);
    let file = client
        .uploads()
        .upload_file(
            &data[..],
            "a.bin",
            5000,
            &dir.id,
            &UploadFileOptions::default(),
        )
        .await
        .unwrap();
    let update = UpdateItemRequest {
        name: Some("b.bin".into()),
        parent: parent("0"),
        content_modified_at: Some("2023-03-04T05:06:07Z".into()),
        ..UpdateItemRequest::default()
    };
    let moved = client
        .files()
        .update_file_by_id(&file.id, &update, None)
        .await
        .unwrap();
    assert_eq!(moved.name.as_deref(), Some("b.bin"));
    assert_eq!(moved.parent.map(|p| p.id).as_deref(), Some("0"));
    assert_eq!(
        moved.content_modified_at.as_deref(),
        Some("2023-03-04T05:06:07Z")
    );
    let copy = CopyItemRequest {
        parent: ParentRef { id: dir.id.clone() },
        name: None,
    };
    let copied = client
        .files()
        .copy_file(&file.id, &copy, None)
        .await
        .unwrap();
    assert_ne!(copied.id, file.id);
    assert_eq!(server.download(&copied.id).await, data);
    let err = client
        .files()
        .copy_file(&file.id, &copy, None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), Some("item_name_in_use"))
    );
    let tree = CopyItemRequest {
        parent: ParentRef { id: "0".into() },
        name: Some("dir2".into()),
    };
    let dir2 = client
        .folders()
        .copy_folder(&dir.id, &tree, None)
        .await
        .unwrap();
    let inside = client
        .folders()
        .get_all_folder_items(&dir2.id)
        .await
        .unwrap();
    assert_eq!(inside.len(), 1);
    assert_eq!(inside[0].name.as_deref(), Some("b.bin"));
    let err = client
        .folders()
        .delete_folder_by_id(&dir.id, false, None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("folder_not_empty"))
    );
    client
        .folders()
        .delete_folder_by_id(&dir.id, true, None)
        .await
        .unwrap();
    let rename = UpdateItemRequest {
        name: Some("renamed".into()),
        ..UpdateItemRequest::default()
    };
    let renamed = client
        .folders()
        .update_folder_by_id(&dir2.id, &rename, None)
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("renamed"));
    let root = client.folders().get_all_folder_items("0").await.unwrap();
    let names: Vec<_> = root.iter().filter_map(|i| i.name.as_deref()).collect();
    assert_eq!(names, ["renamed", "b.bin"]);
}

#[tokio::test]
async fn markers_walk_a_folder_and_users_me_counts_its_bytes() {
    let server = TestServer::start_small().await;
    let client = server.client();
    let before = client.get_user_me().await.unwrap();
    assert_eq!(before.space_used, Some(0));
    let mut want = Vec::new();
    for i in 0..5 {
        let name = format!("f{i}");
        client
            .uploads()
            .upload_file(&b"12345"[..], &name, 5, "0", &UploadFileOptions::default())
            .await
            .unwrap();
        want.push(name);
    }
    let walked = client.folders().walk_folder_items("0", 2).await.unwrap();
    let names: Vec<_> = walked.iter().filter_map(|i| i.name.clone()).collect();
    assert_eq!(names, want);
    assert!(walked.iter().all(|i| i.size == Some(5)));
    let page = client
        .folders()
        .get_folder_items_by_marker("0", None, Some(2), None)
        .await
        .unwrap();
    let next = page.next_marker.expect("more pages follow");
    let err = client
        .folders()
        .get_folder_items_by_marker("0", Some(&format!("{next}x")), Some(2), None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("invalid_marker"))
    );
    let after = client.get_user_me().await.unwrap();
    assert_eq!(after.space_used, Some(25));
    assert_eq!(
        after.login.as_deref(),
        Some(before.login.as_deref().unwrap())
    );
}
