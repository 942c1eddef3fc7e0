//! Conformance checks of committing an upload session.

use futures::future::join_all;

use super::*;

pub async fn check_commit_new_file(store: &dyn MetadataStore) {
    let owner = user(store, "commitfile").await;
    let folder = store
        .create_folder(new_folder(owner, FolderId::ROOT, "uploads"))
        .await
        .unwrap();
    let s = session(owner, to_file(folder.id, "Big.bin"), 25);
    let parts = session_with_parts(store, &s).await;
    let attributes = FileAttributes {
        content_modified_at: Some(NOW - 5),
        ..FileAttributes::default()
    };
    let c = commit_as(&s, 77, owner, attributes, Preconditions::default());
    let file = store.commit_session(c.clone()).await.unwrap();
    assert_eq!((file.owner_id, file.parent_id), (owner, folder.id));
    assert_eq!((file.name.as_str(), file.etag), ("Big.bin", 0));
    assert_eq!(
        (file.version.size, file.version.sha1.clone()),
        (25, sha(77))
    );
    assert_eq!((file.version.file_id, file.created_at), (file.id, NOW + 1));
    assert_eq!(file.content_modified_at, NOW - 5);
    assert_eq!(
        store.get_file(owner, file.id).await.unwrap(),
        Some(file.clone())
    );
    assert_eq!(
        store.version_objects(file.version.id).await.unwrap(),
        part_objects(&parts)
    );
    let after = store.get_session(&s.id).await.unwrap().unwrap();
    assert_eq!(after.state, SessionState::Committed);
    assert_eq!(
        after.committed,
        Some(CommittedVersion {
            file_id: file.id,
            version_id: file.version.id
        })
    );
    assert_eq!(after.num_parts, 3);
    // Parts stay listable after the commit (until the session goes).
    assert_eq!(
        store.list_parts(&s.id, 0, 10).await.unwrap(),
        (3, parts.clone())
    );
    assert_eq!(
        store
            .find_by_name(owner, folder.id, "BIG.BIN")
            .await
            .unwrap(),
        Some(file_ref(&file))
    );
    let e = err(store.commit_session(c).await);
    assert!(
        matches!(e, StoreError::SessionNotOpen(SessionState::Committed)),
        "{e:?}"
    );
    assert_eq!(listed(store, owner, folder.id, 0, 10).await.0, 1);
    for p in &parts {
        assert!(!in_garbage(store, &p.object_key).await);
    }
}

pub async fn check_commit_new_version(store: &dyn MetadataStore) {
    let owner = user(store, "commitversion").await;
    let f = store
        .write_file(new_file(owner, FolderId::ROOT, "report.txt"))
        .await
        .unwrap();
    let target = SessionTarget::NewVersion {
        file_id: f.id,
        name: Some("report-v2.txt".into()),
    };
    let s = session(owner, target, 15);
    let parts = session_with_parts(store, &s).await;
    let c = commit_as(
        &s,
        2,
        owner,
        FileAttributes::default(),
        Preconditions::if_match(Some(0)),
    );
    let v2 = store.commit_session(c).await.unwrap();
    assert_eq!(
        (v2.id, v2.etag, v2.name.as_str()),
        (f.id, 1, "report-v2.txt")
    );
    assert_ne!(v2.version.id, f.version.id);
    assert_eq!((v2.version.size, v2.version.sha1.clone()), (15, sha(2)));
    assert_eq!(v2.modified_at, NOW + 1);
    assert_eq!(
        store.version_objects(v2.version.id).await.unwrap(),
        part_objects(&parts)
    );
    assert_eq!(
        store.get_version(owner, f.id, f.version.id).await.unwrap(),
        Some(f.version.clone())
    );
    let after = store.get_session(&s.id).await.unwrap().unwrap();
    assert_eq!(after.state, SessionState::Committed);
    assert_eq!(
        after.committed,
        Some(CommittedVersion {
            file_id: f.id,
            version_id: v2.version.id
        })
    );
    // Without a name the file keeps its name; If-None-Match on another etag passes.
    let s2 = session(
        owner,
        SessionTarget::NewVersion {
            file_id: f.id,
            name: None,
        },
        5,
    );
    session_with_parts(store, &s2).await;
    let none_match = Preconditions {
        if_match: None,
        if_none_match: Some(NoneMatch::parse("\"0\"")),
    };
    let c2 = commit_as(&s2, 3, owner, FileAttributes::default(), none_match);
    let v3 = store.commit_session(c2).await.unwrap();
    assert_eq!((v3.etag, v3.name.as_str()), (2, "report-v2.txt"));
    assert_eq!(store.get_file(owner, f.id).await.unwrap(), Some(v3));
}

pub async fn check_commit_preconditions(store: &dyn MetadataStore) {
    let owner = user(store, "precondition").await;
    let f = store
        .write_file(new_file(owner, FolderId::ROOT, "p.txt"))
        .await
        .unwrap();
    let s = session(
        owner,
        SessionTarget::NewVersion {
            file_id: f.id,
            name: None,
        },
        5,
    );
    session_with_parts(store, &s).await;
    let failing = [
        (Some(5), None),
        (None, Some("0")),
        (Some(0), Some("0")),
        (None, Some("*")),
        (None, Some("\"3\", W/\"0\"")),
    ];
    for (if_match, if_none_match) in failing {
        let preconditions = Preconditions {
            if_match,
            if_none_match: if_none_match.map(NoneMatch::parse),
        };
        let c = commit_as(&s, 2, owner, FileAttributes::default(), preconditions);
        let e = err(store.commit_session(c).await);
        assert!(
            matches!(e, StoreError::PreconditionFailed),
            "{if_match:?} {if_none_match:?}: {e:?}"
        );
        assert_eq!(state(store, &s.id).await, Some(SessionState::Open));
        assert_eq!(store.get_file(owner, f.id).await.unwrap(), Some(f.clone()));
    }
    let both = Preconditions {
        if_match: Some(0),
        if_none_match: Some(NoneMatch::parse("\"7\", \"8\"")),
    };
    let c = commit_as(&s, 2, owner, FileAttributes::default(), both);
    assert_eq!(store.commit_session(c).await.unwrap().etag, 1);
}

pub async fn check_commit_name_conflict(store: &dyn MetadataStore) {
    let owner = user(store, "commitclash").await;
    let s = session(owner, to_file(FolderId::ROOT, "Clash.txt"), 15);
    let parts = session_with_parts(store, &s).await;
    // An item took the name after the session was created.
    let taken = store
        .create_folder(new_folder(owner, FolderId::ROOT, "clash.TXT"))
        .await
        .unwrap();
    let e = err(store.commit_session(commit(&s, 1)).await);
    assert!(
        matches!(&e, StoreError::NameInUse(c) if *c == folder_ref(&taken)),
        "{e:?}"
    );
    let after = store.get_session(&s.id).await.unwrap().unwrap();
    assert_eq!(
        (after.state, after.committed, after.num_parts),
        (SessionState::Open, None, 2)
    );
    assert_eq!(store.list_parts(&s.id, 0, 10).await.unwrap(), (2, parts));
    assert_eq!(listed(store, owner, FolderId::ROOT, 0, 10).await.0, 1);
    // A new version whose new name clashes with a sibling.
    let a = store
        .write_file(new_file(owner, FolderId::ROOT, "a.txt"))
        .await
        .unwrap();
    let b = store
        .write_file(new_file(owner, FolderId::ROOT, "b.txt"))
        .await
        .unwrap();
    let target = SessionTarget::NewVersion {
        file_id: a.id,
        name: Some("B.txt".into()),
    };
    let s2 = session(owner, target, 5);
    session_with_parts(store, &s2).await;
    let e = err(store.commit_session(commit(&s2, 2)).await);
    assert!(
        matches!(&e, StoreError::NameInUse(c) if *c == file_ref(&b)),
        "{e:?}"
    );
    assert_eq!(store.get_file(owner, a.id).await.unwrap(), Some(a));
    assert_eq!(state(store, &s2.id).await, Some(SessionState::Open));
}

pub async fn check_commit_rejected(store: &dyn MetadataStore) {
    let owner = user(store, "commitreject").await;
    let stranger = user(store, "commitstranger").await;
    let unknown = session(owner, to_file(FolderId::ROOT, "u.bin"), 5);
    let e = err(store.commit_session(commit(&unknown, 1)).await);
    assert!(matches!(e, StoreError::NotFound), "unknown: {e:?}");

    // Another owner's session is not found, and stays open.
    let s = session(owner, to_file(FolderId::ROOT, "mine.bin"), 5);
    session_with_parts(store, &s).await;
    let foreign = commit_as(
        &s,
        1,
        stranger,
        FileAttributes::default(),
        Preconditions::default(),
    );
    let e = err(store.commit_session(foreign).await);
    assert!(matches!(e, StoreError::NotFound), "foreign: {e:?}");
    assert_eq!(state(store, &s.id).await, Some(SessionState::Open));
    assert_eq!(listed(store, stranger, FolderId::ROOT, 0, 10).await.0, 0);

    let expired = SessionRecord {
        expires_at: NOW - 1,
        ..session(owner, to_file(FolderId::ROOT, "late.bin"), 5)
    };
    session_with_parts(store, &expired).await;
    store.expire_sessions(NOW, i64::MIN).await.unwrap();
    let e = err(store.commit_session(commit(&expired, 1)).await);
    assert!(
        matches!(e, StoreError::SessionNotOpen(SessionState::Expired)),
        "{e:?}"
    );

    let orphan = session(owner, to_file(FolderId(MISSING), "orphan.bin"), 5);
    session_with_parts(store, &orphan).await;
    let e = err(store.commit_session(commit(&orphan, 1)).await);
    assert!(matches!(e, StoreError::ParentNotFound), "{e:?}");

    let f = store
        .write_file(new_file(owner, FolderId::ROOT, "doomed"))
        .await
        .unwrap();
    let target = SessionTarget::NewVersion {
        file_id: f.id,
        name: None,
    };
    let late = session(owner, target, 5);
    session_with_parts(store, &late).await;
    store
        .delete_file(owner, f.id, &delete_if(None))
        .await
        .unwrap();
    let e = err(store.commit_session(commit(&late, 1)).await);
    assert!(matches!(e, StoreError::NotFound), "deleted file: {e:?}");
    assert_eq!(state(store, &late.id).await, Some(SessionState::Open));
    assert_eq!(listed(store, owner, FolderId::ROOT, 0, 10).await.0, 0);
}

pub async fn check_concurrent_commit(store: &dyn MetadataStore) {
    let owner = user(store, "commitrace").await;
    let s = session(owner, to_file(FolderId::ROOT, "race.bin"), 25);
    let parts = session_with_parts(store, &s).await;
    let results = join_all((0..6).map(|_| store.commit_session(commit(&s, 5)))).await;
    let mut files = Vec::new();
    for r in results {
        match r {
            Ok(f) => files.push(f),
            Err(StoreError::SessionNotOpen(SessionState::Committed)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(files.len(), 1, "exactly one commit wins");
    let (total, items) = listed(store, owner, FolderId::ROOT, 0, 10).await;
    assert_eq!((total, items), (1, vec![file_ref(&files[0])]));
    assert_eq!(
        store.version_objects(files[0].version.id).await.unwrap(),
        part_objects(&parts)
    );
}
