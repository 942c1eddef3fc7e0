//! Conformance checks of files and their versions.

use futures::future::join_all;

use super::*;

pub async fn check_create_file_and_objects(store: &dyn MetadataStore) {
    let owner = user(store, "files").await;
    let folder = store
        .create_folder(new_folder(owner, FolderId::ROOT, "dir"))
        .await
        .unwrap();
    let attributes = FileAttributes {
        description: Some("notes".into()),
        content_created_at: Some(NOW - 100),
        content_modified_at: Some(NOW - 50),
    };
    let new = FileChange {
        content: content(&[10, 10, 5], 7),
        ..new_file_with(owner, folder.id, "data.bin", &attributes)
    };
    let f = store.write_file(new.clone()).await.unwrap();
    assert_eq!(
        (f.owner_id, f.parent_id, f.name.as_str()),
        (owner, folder.id, "data.bin")
    );
    assert_eq!((f.description.as_str(), f.etag), ("notes", 0));
    assert_eq!((f.created_at, f.modified_at), (NOW, NOW));
    assert_eq!(
        (f.content_created_at, f.content_modified_at),
        (NOW - 100, NOW - 50)
    );
    assert_eq!(f.version.file_id, f.id);
    assert_eq!(
        (f.version.size, f.version.sha1.as_str()),
        (25, sha(7).as_str())
    );
    assert_eq!(f.version.created_at, NOW);
    assert_eq!(store.get_file(owner, f.id).await.unwrap(), Some(f.clone()));
    assert_eq!(
        store.get_version(owner, f.id, f.version.id).await.unwrap(),
        Some(f.version.clone())
    );
    assert_eq!(
        store
            .get_version(owner, FileId(MISSING), f.version.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .get_version(owner, f.id, VersionId(MISSING))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.version_objects(f.version.id).await.unwrap(),
        new.content.objects
    );
    // An empty file has no objects.
    let empty = FileChange {
        content: content(&[], 0),
        ..new_file(owner, folder.id, "empty")
    };
    let e = store.write_file(empty).await.unwrap();
    assert_eq!(e.version.size, 0);
    assert_eq!(store.version_objects(e.version.id).await.unwrap(), vec![]);
}

pub async fn check_add_version(store: &dyn MetadataStore) {
    let owner = user(store, "versions").await;
    let first = new_file(owner, FolderId::ROOT, "doc.txt");
    let f = store.write_file(first.clone()).await.unwrap();
    let attributes = FileAttributes {
        description: Some("v2".into()),
        ..FileAttributes::default()
    };
    let second = version_change(owner, f.id, None, attributes, Some(0), 2);
    let v2 = store.write_file(second.clone()).await.unwrap();
    assert_eq!((v2.id, v2.etag, v2.name.as_str()), (f.id, 1, "doc.txt"));
    assert_ne!(v2.version.id, f.version.id);
    assert_eq!((v2.version.size, v2.version.sha1.clone()), (5, sha(2)));
    assert_eq!((v2.created_at, v2.modified_at), (NOW, NOW + 10));
    assert_eq!(v2.description, "v2");
    assert_eq!(store.get_file(owner, f.id).await.unwrap(), Some(v2.clone()));
    // Old versions stay readable.
    assert_eq!(
        store.get_version(owner, f.id, f.version.id).await.unwrap(),
        Some(f.version.clone())
    );
    assert_eq!(
        store.version_objects(f.version.id).await.unwrap(),
        first.content.objects
    );
    assert_eq!(
        store.version_objects(v2.version.id).await.unwrap(),
        second.content.objects
    );
    // A stale If-Match changes nothing.
    let e = err(store.write_file(new_version(owner, f.id, Some(0), 3)).await);
    assert!(matches!(e, StoreError::PreconditionFailed), "{e:?}");
    assert_eq!(store.get_file(owner, f.id).await.unwrap(), Some(v2));
    let v3 = store
        .write_file(new_version(owner, f.id, None, 4))
        .await
        .unwrap();
    assert_eq!(v3.etag, 2);
    assert_eq!(
        store
            .find_by_name(owner, FolderId::ROOT, "DOC.TXT")
            .await
            .unwrap(),
        Some(file_ref(&v3))
    );
    let e = err(store
        .write_file(new_version(owner, FileId(MISSING), None, 5))
        .await);
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
}

pub async fn check_add_version_rename(store: &dyn MetadataStore) {
    let owner = user(store, "rename").await;
    let a = store
        .write_file(new_file(owner, FolderId::ROOT, "a.txt"))
        .await
        .unwrap();
    let b = store
        .write_file(new_file(owner, FolderId::ROOT, "b.txt"))
        .await
        .unwrap();
    let dir = store
        .create_folder(new_folder(owner, FolderId::ROOT, "dir"))
        .await
        .unwrap();
    let renamed =
        |name: &str| version_change(owner, a.id, Some(name), FileAttributes::default(), None, 9);
    for (name, conflict) in [("B.TXT", file_ref(&b)), ("Dir", folder_ref(&dir))] {
        let e = err(store.write_file(renamed(name)).await);
        assert!(
            matches!(&e, StoreError::NameInUse(c) if *c == conflict),
            "{name}: {e:?}"
        );
    }
    assert_eq!(store.get_file(owner, a.id).await.unwrap(), Some(a.clone()));
    // Its own name in another case is not a conflict.
    let same = store.write_file(renamed("A.TXT")).await.unwrap();
    assert_eq!((same.name.as_str(), same.etag), ("A.TXT", 1));
    let moved = store.write_file(renamed("c.txt")).await.unwrap();
    assert_eq!((moved.name.as_str(), moved.etag), ("c.txt", 2));
    assert_eq!(
        store
            .find_by_name(owner, FolderId::ROOT, "a.txt")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_by_name(owner, FolderId::ROOT, "C.txt")
            .await
            .unwrap(),
        Some(file_ref(&moved))
    );
}

pub async fn check_delete_file_garbage(store: &dyn MetadataStore) {
    let owner = user(store, "delete").await;
    let first = new_file(owner, FolderId::ROOT, "gone.txt");
    let f = store.write_file(first.clone()).await.unwrap();
    let second = new_version(owner, f.id, None, 2);
    let v2 = store.write_file(second.clone()).await.unwrap();
    let e = err(store.delete_file(owner, f.id, &delete_if(Some(0))).await);
    assert!(matches!(e, StoreError::PreconditionFailed), "{e:?}");
    assert!(store.get_file(owner, f.id).await.unwrap().is_some());
    store
        .delete_file(owner, f.id, &delete_if(Some(1)))
        .await
        .unwrap();
    assert_eq!(store.get_file(owner, f.id).await.unwrap(), None);
    assert_eq!(
        store.get_version(owner, f.id, f.version.id).await.unwrap(),
        None
    );
    assert_eq!(
        store.get_version(owner, f.id, v2.version.id).await.unwrap(),
        None
    );
    for o in first.content.objects.iter().chain(&second.content.objects) {
        assert!(in_garbage(store, &o.key).await, "{} not in garbage", o.key);
        assert!(is_known(store, &o.key).await);
    }
    let e = err(store.delete_file(owner, f.id, &delete_if(None)).await);
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    // The name is free again.
    store
        .create_folder(new_folder(owner, FolderId::ROOT, "GONE.txt"))
        .await
        .unwrap();
    let other = store
        .write_file(new_file(owner, FolderId::ROOT, "x"))
        .await
        .unwrap();
    store
        .delete_file(owner, other.id, &delete_if(None))
        .await
        .unwrap();
    assert_eq!(listed(store, owner, FolderId::ROOT, 0, 10).await.0, 1);
}

pub async fn check_concurrent_create_same_name(store: &dyn MetadataStore) {
    let owner = user(store, "race").await;
    let folders = (0..4).map(|i| {
        let name = if i % 2 == 0 { "Race" } else { "RACE" };
        store.create_folder(new_folder(owner, FolderId::ROOT, name))
    });
    let files = (0..4).map(|_| store.write_file(new_file(owner, FolderId::ROOT, "race")));
    let (folders, files) = futures::join!(join_all(folders), join_all(files));
    let mut winners: Vec<ItemRef> = folders.iter().flatten().map(folder_ref).collect();
    winners.extend(files.iter().flatten().map(file_ref));
    assert_eq!(winners.len(), 1, "exactly one create wins: {winners:?}");
    let errors = folders.into_iter().filter_map(Result::err);
    for e in errors.chain(files.into_iter().filter_map(Result::err)) {
        assert!(
            matches!(&e, StoreError::NameInUse(c) if *c == winners[0]),
            "{e:?}"
        );
    }
    assert_eq!(
        listed(store, owner, FolderId::ROOT, 0, 10).await,
        (1, winners)
    );
}
