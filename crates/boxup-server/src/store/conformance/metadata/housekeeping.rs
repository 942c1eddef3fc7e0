//! Conformance checks of deleting sessions and of housekeeping: expiry,
//! the garbage queue, known objects, leases.

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
        assert!(is_known(store, &p.object_key).await);
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

    // Open means open and not past `expires_at` (for `/metrics`).
    assert_eq!(store.count_open_sessions(NOW).await.unwrap(), 1);
    assert_eq!(store.count_open_sessions(NOW - 15).await.unwrap(), 3);
    // a, edge and d expire; c (committed) goes; live and done stay.
    assert_eq!(store.expire_sessions(NOW, i64::MIN).await.unwrap(), 4);
    assert_eq!(store.count_open_sessions(NOW).await.unwrap(), 1);
    assert_eq!(store.count_open_sessions(NOW - 15).await.unwrap(), 1);
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
    assert!(!is_known(store, &keys[0]).await);
    assert!(is_known(store, &keys[2]).await);
    // Forgetting unknown or already forgotten keys is fine.
    let again = vec![keys[0].clone(), keys[2].clone(), key("never")];
    store.forget_garbage(&again).await.unwrap();
    assert!(!in_garbage(store, &keys[2]).await);
    assert!(!is_known(store, &keys[2]).await);
}

pub async fn check_is_object_known(store: &dyn MetadataStore) {
    let owner = user(store, "known").await;
    assert!(!is_known(store, &key("unknown")).await);
    let s = session(owner, to_file(FolderId::ROOT, "k.bin"), 5);
    store.create_session(&s).await.unwrap();
    let p = part(&s, 0);
    assert!(!is_known(store, &p.object_key).await);
    store.insert_part(&p).await.unwrap();
    assert!(is_known(store, &p.object_key).await);
    let file = store.commit_session(commit(&s, 1)).await.unwrap();
    store.delete_session(&s.id).await.unwrap();
    // Now only the version names it.
    assert!(is_known(store, &p.object_key).await);
    assert!(!in_garbage(store, &p.object_key).await);
    store
        .delete_file(owner, file.id, &delete_if(None))
        .await
        .unwrap();
    // Now only the garbage queue names it.
    assert!(is_known(store, &p.object_key).await);
    store
        .forget_garbage(std::slice::from_ref(&p.object_key))
        .await
        .unwrap();
    assert!(!is_known(store, &p.object_key).await);
    // A simple upload's objects are known through the version.
    let new = new_file(owner, FolderId::ROOT, "simple");
    store.write_file(new.clone()).await.unwrap();
    for o in &new.content.objects {
        assert!(is_known(store, &o.key).await);
    }
}

pub async fn check_unknown_objects_in_one_page(store: &dyn MetadataStore) {
    let owner = user(store, "page-of-keys").await;
    let s = session(owner, to_file(FolderId::ROOT, "p.bin"), 15);
    let parts = session_with_parts(store, &s).await;
    assert!(store.unknown_objects(&[]).await.unwrap().is_empty());
    // Known and unknown keys interleaved: the unknown ones come back, in
    // the order asked, each once.
    let asked = vec![
        key("z-first"),
        parts[0].object_key.clone(),
        key("a-second"),
        parts[1].object_key.clone(),
        key("m-third"),
    ];
    assert_eq!(
        store.unknown_objects(&asked).await.unwrap(),
        vec![asked[0].clone(), asked[2].clone(), asked[4].clone()]
    );
    // A large page is still one call.
    let many: Vec<String> = (0..2000).map(|i| key(&format!("bulk-{i:05}"))).collect();
    assert_eq!(store.unknown_objects(&many).await.unwrap(), many);
}

pub async fn check_leases(store: &dyn MetadataStore) {
    let name = format!("sweeper-{}", key("lease"));
    let (a, b) = ("replica-a", "replica-b");
    assert!(store.try_lease(&name, a, 1000, 60).await.unwrap());
    // While a's lease runs, b cannot take it; a can renew it.
    assert!(!store.try_lease(&name, b, 1059, 60).await.unwrap());
    assert!(store.try_lease(&name, a, 1050, 60).await.unwrap());
    assert!(!store.try_lease(&name, b, 1109, 60).await.unwrap());
    // Once it ran out (renewed until 1110), b takes it and a is refused.
    assert!(store.try_lease(&name, b, 1110, 60).await.unwrap());
    assert!(!store.try_lease(&name, a, 1111, 60).await.unwrap());
    // Leases of other names are independent.
    let other = format!("{name}-other");
    assert!(store.try_lease(&other, a, 1111, 60).await.unwrap());
    // Of replicas racing for a free lease, exactly one wins.
    let race = format!("{name}-race");
    let holders: Vec<String> = (0..8).map(|i| format!("racer-{i}")).collect();
    let tries = holders.iter().map(|h| store.try_lease(&race, h, 2000, 60));
    let won = futures::future::join_all(tries).await;
    assert_eq!(won.iter().filter(|w| *w.as_ref().unwrap()).count(), 1);
}
