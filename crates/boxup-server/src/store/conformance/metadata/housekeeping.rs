//! Conformance checks of deleting sessions and of housekeeping: expiry,
//! the garbage queue, known objects.

use super::*;

// ---- deleting sessions ----

pub async fn check_delete_session_open(store: &dyn MetadataStore) {
    let owner = user(store, "abort").await;
    let s = session(owner, to_file(FolderId::ROOT, "a.bin"), 15);
    let parts = session_with_parts(store, &s).await;
    store.delete_session(&s.id).await.unwrap();
    assert_eq!(store.get_session(&s.id).await.unwrap(), None);
    assert_eq!(store.get_part(&s.id, 0).await.unwrap(), None);
    assert_eq!(store.list_parts(&s.id, 0, 10).await.unwrap(), (0, vec![]));
    for p in &parts {
        assert!(
            in_garbage(store, &p.object_key).await,
            "{} not in garbage",
            p.object_key
        );
    }
    let e = err(store.delete_session(&s.id).await);
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    // A session without parts goes too.
    let empty = session(owner, to_file(FolderId::ROOT, "e.bin"), 15);
    store.create_session(&empty).await.unwrap();
    store.delete_session(&empty.id).await.unwrap();
    assert_eq!(store.get_session(&empty.id).await.unwrap(), None);
}

pub async fn check_delete_session_committed(store: &dyn MetadataStore) {
    let owner = user(store, "cleanup").await;
    let s = session(owner, to_file(FolderId::ROOT, "kept.bin"), 25);
    let parts = session_with_parts(store, &s).await;
    let file = store.commit_session(commit(&s, 4)).await.unwrap();
    store.delete_session(&s.id).await.unwrap();
    assert_eq!(store.get_session(&s.id).await.unwrap(), None);
    assert_eq!(
        store.get_file(owner, file.id).await.unwrap(),
        Some(file.clone())
    );
    assert_eq!(
        store.version_objects(file.version.id).await.unwrap(),
        part_objects(&parts)
    );
    for p in &parts {
        assert!(
            !in_garbage(store, &p.object_key).await,
            "{} in garbage",
            p.object_key
        );
        assert!(store.is_object_known(&p.object_key).await.unwrap());
    }
    let e = err(store.delete_session(&s.id).await);
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
}

// ---- housekeeping ----

pub async fn check_expire_sessions(store: &dyn MetadataStore) {
    let owner = user(store, "expiry").await;
    let expiring = |name: &str, expires_at| SessionRecord {
        expires_at,
        ..session(owner, to_file(FolderId::ROOT, name), 15)
    };
    let a = expiring("a", NOW - 10);
    let a_parts = session_with_parts(store, &a).await;
    let edge = expiring("edge", NOW);
    session_with_parts(store, &edge).await;
    let d = expiring("d", NOW - 20);
    session_with_parts(store, &d).await;
    let live = expiring("live", NOW + 1);
    let live_parts = session_with_parts(store, &live).await;
    let c = expiring("c", NOW - 10);
    let c_parts = session_with_parts(store, &c).await;
    let file = store.commit_session(commit(&c, 1)).await.unwrap();
    let done = expiring("done", NOW + 1);
    session_with_parts(store, &done).await;
    store.commit_session(commit(&done, 2)).await.unwrap();

    // a, edge and d expire; c (committed) goes; live and done stay.
    assert_eq!(store.expire_sessions(NOW, i64::MIN).await.unwrap(), 4);
    for s in [&a, &edge, &d] {
        assert_eq!(
            state(store, &s.id).await,
            Some(SessionState::Expired),
            "{}",
            s.id
        );
    }
    for p in &a_parts {
        assert!(in_garbage(store, &p.object_key).await);
    }
    assert_eq!(state(store, &c.id).await, None);
    assert_eq!(store.get_file(owner, file.id).await.unwrap(), Some(file));
    for p in &c_parts {
        assert!(!in_garbage(store, &p.object_key).await);
    }
    assert_eq!(state(store, &live.id).await, Some(SessionState::Open));
    assert_eq!(
        store.list_parts(&live.id, 0, 10).await.unwrap(),
        (2, live_parts.clone())
    );
    assert_eq!(state(store, &done.id).await, Some(SessionState::Committed));
    for p in &live_parts {
        assert!(!in_garbage(store, &p.object_key).await);
    }
    // Nothing more to do at the same time.
    assert_eq!(store.expire_sessions(NOW, i64::MIN).await.unwrap(), 0);
    // Expired sessions are forgotten once `expires_at <= forget_before`.
    assert_eq!(store.expire_sessions(NOW, NOW - 15).await.unwrap(), 1);
    assert_eq!(state(store, &d.id).await, None);
    assert_eq!(state(store, &a.id).await, Some(SessionState::Expired));
    assert_eq!(store.expire_sessions(NOW, NOW).await.unwrap(), 2);
    assert_eq!(state(store, &a.id).await, None);
    assert_eq!(state(store, &edge.id).await, None);
    // Later on, the live session expires and the committed one goes; a
    // session expired and forgotten in the same call counts once.
    assert_eq!(store.expire_sessions(NOW + 1, NOW + 1).await.unwrap(), 2);
    assert!(!matches!(
        state(store, &live.id).await,
        Some(SessionState::Open)
    ));
    assert_eq!(state(store, &done.id).await, None);
    for p in &live_parts {
        assert!(in_garbage(store, &p.object_key).await);
    }
}

pub async fn check_garbage_forget(store: &dyn MetadataStore) {
    let owner = user(store, "garbage").await;
    let s = session(owner, to_file(FolderId::ROOT, "g.bin"), 25);
    let parts = session_with_parts(store, &s).await;
    store.delete_session(&s.id).await.unwrap();
    let keys: Vec<String> = parts.iter().map(|p| p.object_key.clone()).collect();
    let all = store.garbage(u64::MAX).await.unwrap();
    for k in &keys {
        assert!(all.contains(k), "{k} not in garbage");
    }
    assert_eq!(store.garbage(2).await.unwrap().len(), 2);
    assert_eq!(store.garbage(0).await.unwrap(), Vec::<String>::new());
    store.forget_garbage(&keys[..2]).await.unwrap();
    let all = store.garbage(u64::MAX).await.unwrap();
    assert!(!all.contains(&keys[0]) && !all.contains(&keys[1]));
    assert!(all.contains(&keys[2]));
    assert!(!store.is_object_known(&keys[0]).await.unwrap());
    assert!(store.is_object_known(&keys[2]).await.unwrap());
    // Forgetting unknown or already forgotten keys is fine.
    let again = vec![keys[0].clone(), keys[2].clone(), key("never")];
    store.forget_garbage(&again).await.unwrap();
    assert!(!in_garbage(store, &keys[2]).await);
    assert!(!store.is_object_known(&keys[2]).await.unwrap());
}

pub async fn check_is_object_known(store: &dyn MetadataStore) {
    let owner = user(store, "known").await;
    assert!(!store.is_object_known(&key("unknown")).await.unwrap());
    let s = session(owner, to_file(FolderId::ROOT, "k.bin"), 5);
    store.create_session(&s).await.unwrap();
    let p = part(&s, 0);
    assert!(!store.is_object_known(&p.object_key).await.unwrap());
    store.insert_part(&p).await.unwrap();
    assert!(store.is_object_known(&p.object_key).await.unwrap());
    let file = store.commit_session(commit(&s, 1)).await.unwrap();
    store.delete_session(&s.id).await.unwrap();
    // Now only the version names it.
    assert!(store.is_object_known(&p.object_key).await.unwrap());
    assert!(!in_garbage(store, &p.object_key).await);
    store
        .delete_file(owner, file.id, &delete_if(None))
        .await
        .unwrap();
    // Now only the garbage queue names it.
    assert!(store.is_object_known(&p.object_key).await.unwrap());
    store
        .forget_garbage(std::slice::from_ref(&p.object_key))
        .await
        .unwrap();
    assert!(!store.is_object_known(&p.object_key).await.unwrap());
    // A simple upload's objects are known through the version.
    let new = new_file(owner, FolderId::ROOT, "simple");
    store.write_file(new.clone()).await.unwrap();
    for o in &new.content.objects {
        assert!(store.is_object_known(&o.key).await.unwrap());
    }
}
