//! Checks of listings by marker, updates, copies, folder deletes and
//! `space_used`.

use super::*;
use crate::service::tree_policy::{self, ItemUpdate};

fn update(name: Option<&str>, parent: Option<FolderId>) -> ItemUpdate {
    ItemUpdate {
        name: name.map(str::to_owned),
        parent_id: parent,
        ..ItemUpdate::default()
    }
}

async fn keys_of(store: &dyn MetadataStore, f: &FileRecord) -> Vec<String> {
    let objects = store.version_objects(f.version.id).await.unwrap();
    objects.into_iter().map(|o| o.key).collect()
}

pub async fn check_list_items_by_marker(store: &dyn MetadataStore) {
    let owner = user(store, "marker").await;
    let parent = store
        .create_folder(new_folder(owner, FolderId::ROOT, "m"))
        .await
        .unwrap();
    for name in ["b", "A", "c"] {
        store
            .create_folder(new_folder(owner, parent.id, name))
            .await
            .unwrap();
        store
            .write_file(new_file(owner, parent.id, &format!("{name}.txt")))
            .await
            .unwrap();
    }
    let (_, all) = listed(store, owner, parent.id, 0, 100).await;
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = ItemsPage::After { after, limit: 2 };
        let chunk = store.list_items(owner, parent.id, page).await.unwrap();
        assert_eq!(chunk.total, 6);
        if chunk.items.is_empty() {
            break;
        }
        assert!(chunk.items.len() <= 2);
        after = chunk.items.last().map(ItemRecord::cursor);
        walked.extend(chunk.items.iter().map(ItemRecord::brief));
    }
    assert_eq!(walked, all, "a walk by marker is the offset listing");
    let names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["A", "b", "c", "A.txt", "b.txt", "c.txt"]);
    // Full records: a file entry carries its version.
    let chunk = store
        .list_items(
            owner,
            parent.id,
            ItemsPage::Offset {
                offset: 3,
                limit: 1,
            },
        )
        .await
        .unwrap();
    match &chunk.items[..] {
        [ItemRecord::File(f)] => assert_eq!((f.name.as_str(), f.version.size), ("A.txt", 7)),
        other => panic!("expected one file, got {other:?}"),
    }
}

pub async fn check_update_file(store: &dyn MetadataStore) {
    let owner = user(store, "upd").await;
    let dest = store
        .create_folder(new_folder(owner, FolderId::ROOT, "dest"))
        .await
        .unwrap();
    let file = store
        .write_file(new_file(owner, FolderId::ROOT, "a.txt"))
        .await
        .unwrap();
    let other = store
        .write_file(new_file(owner, dest.id, "taken"))
        .await
        .unwrap();
    let decide = |name, parent| {
        tree_policy::update_file(update(name, parent), Preconditions::default(), NOW + 5)
    };
    let e = err(store
        .update_file(owner, file.id, decide(Some("TAKEN"), Some(dest.id)))
        .await);
    assert!(
        matches!(&e, StoreError::NameInUse(i) if i.id == ItemId::File(other.id)),
        "{e:?}"
    );
    let e = err(store
        .update_file(owner, file.id, decide(None, Some(FolderId(MISSING))))
        .await);
    assert!(matches!(e, StoreError::ParentNotFound), "{e:?}");
    let stranger = user(store, "upd-other").await;
    let e = err(store
        .update_file(stranger, file.id, decide(None, None))
        .await);
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    let moved = store
        .update_file(owner, file.id, decide(Some("b.txt"), Some(dest.id)))
        .await
        .unwrap();
    assert_eq!((moved.parent_id, moved.name.as_str()), (dest.id, "b.txt"));
    assert_eq!((moved.etag, moved.modified_at), (file.etag + 1, NOW + 5));
    assert_eq!(moved.version, file.version, "an update is not a version");
    assert_eq!(store.get_file(owner, file.id).await.unwrap(), Some(moved));
    // Renaming to its own name in another case is no conflict.
    store
        .update_file(owner, file.id, decide(Some("B.TXT"), None))
        .await
        .unwrap();
}

pub async fn check_update_folder_and_cycles(store: &dyn MetadataStore) {
    let owner = user(store, "cycle").await;
    let top = store
        .create_folder(new_folder(owner, FolderId::ROOT, "top"))
        .await
        .unwrap();
    let mid = store
        .create_folder(new_folder(owner, top.id, "mid"))
        .await
        .unwrap();
    let decide = |name, parent| {
        tree_policy::update_folder(update(name, parent), Preconditions::default(), NOW + 5)
    };
    for target in [top.id, mid.id] {
        let e = err(store
            .update_folder(owner, top.id, decide(None, Some(target)))
            .await);
        assert!(matches!(e, StoreError::FolderCycle), "{e:?}");
    }
    let moved = store
        .update_folder(owner, mid.id, decide(Some("Mid"), Some(FolderId::ROOT)))
        .await
        .unwrap();
    assert_eq!(
        (moved.parent_id, moved.name.as_str(), moved.etag),
        (FolderId::ROOT, "Mid", 1)
    );
    let e = err(store
        .update_folder(owner, mid.id, decide(Some("TOP"), None))
        .await);
    assert!(
        matches!(&e, StoreError::NameInUse(i) if i.id == ItemId::Folder(top.id)),
        "{e:?}"
    );
    // Now `top` may go inside `mid`.
    let inside = store
        .update_folder(owner, top.id, decide(None, Some(mid.id)))
        .await
        .unwrap();
    assert_eq!(inside.parent_id, mid.id);
    assert_eq!(store.get_folder(owner, top.id).await.unwrap(), Some(inside));
}

pub async fn check_delete_folder(store: &dyn MetadataStore) {
    let owner = user(store, "rmdir").await;
    let top = store
        .create_folder(new_folder(owner, FolderId::ROOT, "top"))
        .await
        .unwrap();
    let sub = store
        .create_folder(new_folder(owner, top.id, "sub"))
        .await
        .unwrap();
    let file = store
        .write_file(new_file(owner, sub.id, "f"))
        .await
        .unwrap();
    let keys = keys_of(store, &file).await;
    let decide = || tree_policy::delete_folder(Preconditions::default());
    let e = err(store.delete_folder(owner, top.id, false, decide()).await);
    assert!(matches!(e, StoreError::FolderNotEmpty), "{e:?}");
    let stale = tree_policy::delete_folder(Preconditions::if_match(Some(top.etag + 1)));
    let e = err(store.delete_folder(owner, top.id, true, stale).await);
    assert!(matches!(e, StoreError::PreconditionFailed), "{e:?}");
    for key in &keys {
        assert!(!in_garbage(store, key).await);
    }
    store
        .delete_folder(owner, top.id, true, decide())
        .await
        .unwrap();
    assert_eq!(store.get_folder(owner, sub.id).await.unwrap(), None);
    assert_eq!(store.get_file(owner, file.id).await.unwrap(), None);
    for key in &keys {
        assert!(in_garbage(store, key).await, "{key} is garbage");
    }
    let e = err(store.delete_folder(owner, top.id, true, decide()).await);
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    let empty = store
        .create_folder(new_folder(owner, FolderId::ROOT, "empty"))
        .await
        .unwrap();
    store
        .delete_folder(owner, empty.id, false, decide())
        .await
        .unwrap();
    assert_eq!(listed(store, owner, FolderId::ROOT, 0, 10).await.0, 0);
}

pub async fn check_copy_file_shares_objects(store: &dyn MetadataStore) {
    let owner = user(store, "cp").await;
    let file = store
        .write_file(new_file(owner, FolderId::ROOT, "a"))
        .await
        .unwrap();
    let copy = |parent, name: Option<&str>| FileCopy {
        owner_id: owner,
        source: file.id,
        parent_id: parent,
        decide: tree_policy::copy_file(name.map(str::to_owned), NOW + 9),
    };
    let e = err(store.copy_file(copy(FolderId::ROOT, None)).await);
    assert!(matches!(e, StoreError::NameInUse(_)), "{e:?}");
    let e = err(store.copy_file(copy(FolderId(MISSING), None)).await);
    assert!(matches!(e, StoreError::ParentNotFound), "{e:?}");
    let b = store
        .copy_file(copy(FolderId::ROOT, Some("b")))
        .await
        .unwrap();
    assert_ne!((b.id, b.version.id), (file.id, file.version.id));
    assert_eq!((b.etag, b.created_at, b.version.size), (0, NOW + 9, 7));
    assert_eq!(b.version.sha1, file.version.sha1);
    let keys = keys_of(store, &file).await;
    assert_eq!(
        keys_of(store, &b).await,
        keys,
        "the copy shares the objects"
    );
    let delete = policy::delete_file(Preconditions::default());
    store.delete_file(owner, file.id, &delete).await.unwrap();
    for key in &keys {
        assert!(!in_garbage(store, key).await, "{key} is still used");
        assert!(is_known(store, key).await);
    }
    store.delete_file(owner, b.id, &delete).await.unwrap();
    for key in &keys {
        assert!(in_garbage(store, key).await, "{key} is garbage at last");
    }
}

pub async fn check_copy_folder_tree(store: &dyn MetadataStore) {
    let owner = user(store, "cptree").await;
    let top = store
        .create_folder(new_folder(owner, FolderId::ROOT, "top"))
        .await
        .unwrap();
    let sub = store
        .create_folder(new_folder(owner, top.id, "sub"))
        .await
        .unwrap();
    let file = store
        .write_file(new_file(owner, sub.id, "f"))
        .await
        .unwrap();
    let copy = |parent, name: &str| FolderCopy {
        owner_id: owner,
        source: top.id,
        parent_id: parent,
        top: tree_policy::copy_folder(Some(name.to_owned()), NOW + 3),
        rules: tree_policy::copy_rules(NOW + 3),
    };
    for inside in [top.id, sub.id] {
        let e = err(store.copy_folder(copy(inside, "x")).await);
        assert!(matches!(e, StoreError::FolderCycle), "{e:?}");
    }
    let e = err(store.copy_folder(copy(FolderId::ROOT, "TOP")).await);
    assert!(matches!(e, StoreError::NameInUse(_)), "{e:?}");
    let made = store
        .copy_folder(copy(FolderId::ROOT, "top2"))
        .await
        .unwrap();
    assert_eq!(
        (made.name.as_str(), made.parent_id),
        ("top2", FolderId::ROOT)
    );
    let (_, level1) = listed(store, owner, made.id, 0, 10).await;
    assert_eq!(level1.len(), 1);
    assert_eq!(level1[0].name, "sub");
    let ItemId::Folder(sub2) = level1[0].id else {
        panic!("expected a folder: {level1:?}")
    };
    assert_ne!(sub2, sub.id);
    let (_, level2) = listed(store, owner, sub2, 0, 10).await;
    let ItemId::File(f2) = level2[0].id else {
        panic!("expected a file: {level2:?}")
    };
    let f2 = store.get_file(owner, f2).await.unwrap().unwrap();
    assert_eq!((f2.name.as_str(), f2.etag), ("f", 0));
    assert_eq!(keys_of(store, &f2).await, keys_of(store, &file).await);
    // The original tree is as it was.
    assert_eq!(listed(store, owner, sub.id, 0, 10).await.0, 1);
}

pub async fn check_space_used(store: &dyn MetadataStore) {
    let owner = user(store, "space").await;
    assert_eq!(store.space_used(owner).await.unwrap(), 0);
    let file = store
        .write_file(new_file(owner, FolderId::ROOT, "a"))
        .await
        .unwrap();
    store
        .write_file(new_version(owner, file.id, None, 2))
        .await
        .unwrap();
    let other = user(store, "space-other").await;
    store
        .write_file(new_file(other, FolderId::ROOT, "b"))
        .await
        .unwrap();
    assert_eq!(
        store.space_used(owner).await.unwrap(),
        12,
        "both versions: 7 and 5"
    );
    assert_eq!(store.space_used(other).await.unwrap(), 7);
}
