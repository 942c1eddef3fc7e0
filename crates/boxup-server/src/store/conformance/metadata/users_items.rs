//! Conformance checks of users, folders and items.

use futures::future::join_all;

use super::*;

// ---- users ----

pub async fn check_ensure_user_idempotent(store: &dyn MetadataStore) {
    let login = format!("idem-{}@example.com", random_hex(12));
    let a = store.ensure_user(&login, "Ada").await.unwrap();
    assert_eq!((a.login.as_str(), a.name.as_str()), (login.as_str(), "Ada"));
    assert!(a.id.0 > 0, "user ids are positive: {}", a.id);
    let again = store.ensure_user(&login, "Ada").await.unwrap();
    assert_eq!(again, a);
    let other = store
        .ensure_user(&format!("other-{}", random_hex(12)), "Bob")
        .await
        .unwrap();
    assert_ne!(other.id, a.id);
    assert_eq!(store.get_user(a.id).await.unwrap(), Some(a));
    assert_eq!(store.get_user(other.id).await.unwrap(), Some(other));
    assert_eq!(store.get_user(UserId(MISSING)).await.unwrap(), None);
}

pub async fn check_ensure_user_concurrent(store: &dyn MetadataStore) {
    let login = format!("race-{}@example.com", random_hex(12));
    let users = join_all((0..8).map(|_| store.ensure_user(&login, "Racer"))).await;
    let first = users[0].as_ref().unwrap().clone();
    for u in users {
        assert_eq!(u.unwrap(), first);
    }
}

// ---- folders and items ----

pub async fn check_folder_create_get(store: &dyn MetadataStore) {
    let owner = user(store, "folders").await;
    let f = store
        .create_folder(new_folder(owner, FolderId::ROOT, "Photos 2024"))
        .await
        .unwrap();
    assert_ne!(f.id, FolderId::ROOT);
    assert_eq!(
        (f.owner_id, f.parent_id, f.name.as_str()),
        (owner, FolderId::ROOT, "Photos 2024")
    );
    assert_eq!((f.created_at, f.modified_at), (NOW, NOW));
    assert_eq!(
        store.get_folder(owner, f.id).await.unwrap(),
        Some(f.clone())
    );
    let child = store
        .create_folder(new_folder(owner, f.id, "Summer"))
        .await
        .unwrap();
    assert_ne!(child.id, f.id);
    let got = store.get_folder(owner, child.id).await.unwrap().unwrap();
    assert_eq!(got.parent_id, f.id);
    assert_eq!(store.get_folder(owner, FolderId::ROOT).await.unwrap(), None);
    assert_eq!(
        store.get_folder(owner, FolderId(MISSING)).await.unwrap(),
        None
    );
}

pub async fn check_list_items_order_and_paging(store: &dyn MetadataStore) {
    let owner = user(store, "list").await;
    let parent = store
        .create_folder(new_folder(owner, FolderId::ROOT, "list"))
        .await
        .unwrap();
    let mut folders = Vec::new();
    for name in ["gamma", "Bravo", "alpha"] {
        folders.push(
            store
                .create_folder(new_folder(owner, parent.id, name))
                .await
                .unwrap(),
        );
    }
    let mut files = Vec::new();
    for name in ["delta.txt", "Alpha.txt"] {
        files.push(
            store
                .write_file(new_file(owner, parent.id, name))
                .await
                .unwrap(),
        );
    }
    // Folders first, then files, each by name compared case-insensitively.
    let expected = vec![
        folder_ref(&folders[2]),
        folder_ref(&folders[1]),
        folder_ref(&folders[0]),
        file_ref(&files[1]),
        file_ref(&files[0]),
    ];
    assert_eq!(
        listed(store, owner, parent.id, 0, 100).await,
        (5, expected.clone())
    );
    assert_eq!(
        listed(store, owner, parent.id, 2, 2).await,
        (5, expected[2..4].to_vec())
    );
    assert_eq!(
        listed(store, owner, parent.id, 4, 10).await,
        (5, expected[4..].to_vec())
    );
    assert_eq!(listed(store, owner, parent.id, 5, 10).await, (5, vec![]));
    assert_eq!(listed(store, owner, parent.id, 0, 0).await, (5, vec![]));
    // The root holds only `list`; an empty folder lists nothing.
    assert_eq!(
        listed(store, owner, FolderId::ROOT, 0, 100).await,
        (1, vec![folder_ref(&parent)])
    );
    assert_eq!(
        listed(store, owner, folders[0].id, 0, 100).await,
        (0, vec![])
    );
}

pub async fn check_name_conflict_case_insensitive(store: &dyn MetadataStore) {
    let owner = user(store, "conflict").await;
    let docs = store
        .create_folder(new_folder(owner, FolderId::ROOT, "Docs"))
        .await
        .unwrap();
    let report = store
        .write_file(new_file(owner, FolderId::ROOT, "Report.PDF"))
        .await
        .unwrap();
    let cases: [(&str, ItemRef); 3] = [
        ("docs", folder_ref(&docs)),
        ("DOCS", folder_ref(&docs)),
        ("report.pdf", file_ref(&report)),
    ];
    for (name, conflict) in cases {
        let e = err(store
            .create_folder(new_folder(owner, FolderId::ROOT, name))
            .await);
        assert!(
            matches!(&e, StoreError::NameInUse(c) if *c == conflict),
            "{name}: {e:?}"
        );
        let e = err(store
            .write_file(new_file(owner, FolderId::ROOT, name))
            .await);
        assert!(
            matches!(&e, StoreError::NameInUse(c) if *c == conflict),
            "{name}: {e:?}"
        );
    }
    let ete = store
        .create_folder(new_folder(owner, FolderId::ROOT, "ÉTÉ"))
        .await
        .unwrap();
    let e = err(store
        .write_file(new_file(owner, FolderId::ROOT, "été"))
        .await);
    assert!(
        matches!(&e, StoreError::NameInUse(c) if *c == folder_ref(&ete)),
        "{e:?}"
    );
    // The same name elsewhere, or a different name, is fine.
    store
        .write_file(new_file(owner, docs.id, "report.pdf"))
        .await
        .unwrap();
    store
        .create_folder(new_folder(owner, docs.id, "DOCS"))
        .await
        .unwrap();
    store
        .write_file(new_file(owner, FolderId::ROOT, "Report.PDF.bak"))
        .await
        .unwrap();
    assert_eq!(listed(store, owner, FolderId::ROOT, 0, 100).await.0, 4);
}

pub async fn check_find_by_name(store: &dyn MetadataStore) {
    let owner = user(store, "find").await;
    let docs = store
        .create_folder(new_folder(owner, FolderId::ROOT, "Docs"))
        .await
        .unwrap();
    let file = store
        .write_file(new_file(owner, docs.id, "Notes.md"))
        .await
        .unwrap();
    let find = |parent, name: &'static str| store.find_by_name(owner, parent, name);
    assert_eq!(
        find(FolderId::ROOT, "dOCS").await.unwrap(),
        Some(folder_ref(&docs))
    );
    assert_eq!(
        find(docs.id, "NOTES.MD").await.unwrap(),
        Some(file_ref(&file))
    );
    assert_eq!(find(FolderId::ROOT, "Notes.md").await.unwrap(), None);
    assert_eq!(find(docs.id, "Notes").await.unwrap(), None);
    assert_eq!(find(FolderId(MISSING), "Docs").await.unwrap(), None);
}

pub async fn check_parent_not_found(store: &dyn MetadataStore) {
    let owner = user(store, "parent").await;
    let stranger = user(store, "stranger").await;
    let foreign = store
        .create_folder(new_folder(stranger, FolderId::ROOT, "theirs"))
        .await
        .unwrap();
    let file = store
        .write_file(new_file(owner, FolderId::ROOT, "a-file"))
        .await
        .unwrap();
    // Unknown ids, another user's folder, and a file's id are not parents.
    for parent in [FolderId(MISSING), foreign.id, FolderId(file.id.0)] {
        let e = err(store.create_folder(new_folder(owner, parent, "x")).await);
        assert!(matches!(e, StoreError::ParentNotFound), "{parent}: {e:?}");
        let e = err(store.write_file(new_file(owner, parent, "x")).await);
        assert!(matches!(e, StoreError::ParentNotFound), "{parent}: {e:?}");
    }
    assert_eq!(listed(store, owner, FolderId::ROOT, 0, 10).await.0, 1);
    assert_eq!(listed(store, stranger, foreign.id, 0, 10).await.0, 0);
}

pub async fn check_owner_scoping(store: &dyn MetadataStore) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let folder = store
        .create_folder(new_folder(a, FolderId::ROOT, "private"))
        .await
        .unwrap();
    let file = store
        .write_file(new_file(a, folder.id, "secret.txt"))
        .await
        .unwrap();
    assert_eq!(store.get_folder(b, folder.id).await.unwrap(), None);
    assert_eq!(store.get_file(b, file.id).await.unwrap(), None);
    assert_eq!(
        store
            .get_version(b, file.id, file.version.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_by_name(b, FolderId::ROOT, "private")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_by_name(b, folder.id, "secret.txt")
            .await
            .unwrap(),
        None
    );
    assert_eq!(listed(store, b, FolderId::ROOT, 0, 10).await, (0, vec![]));
    assert_eq!(listed(store, b, folder.id, 0, 10).await, (0, vec![]));
    let e = err(store.write_file(new_version(b, file.id, None, 2)).await);
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    let e = err(store.delete_file(b, file.id, &delete_if(None)).await);
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    // B's own namespace is separate: the same name is free in B's root.
    store
        .create_folder(new_folder(b, FolderId::ROOT, "private"))
        .await
        .unwrap();
    assert_eq!(store.get_file(a, file.id).await.unwrap(), Some(file));
}
