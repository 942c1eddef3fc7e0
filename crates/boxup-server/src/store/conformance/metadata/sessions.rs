//! Conformance checks of upload sessions and their parts.

use futures::future::join_all;

use super::*;

pub async fn check_session_create_get(store: &dyn MetadataStore) {
    let owner = user(store, "sessions").await;
    // num_parts, frontier and committed are ignored on create.
    let given = SessionRecord {
        num_parts: 5,
        frontier: Frontier {
            offset: 10,
            state: vec![1, 2, 3],
        },
        committed: Some(CommittedVersion {
            file_id: FileId(1),
            version_id: VersionId(2),
        }),
        ..session(owner, to_file(FolderId::ROOT, "new.bin"), 25)
    };
    store.create_session(&given).await.unwrap();
    let expected = SessionRecord {
        num_parts: 0,
        frontier: Frontier::default(),
        committed: None,
        ..given.clone()
    };
    assert_eq!(store.get_session(&given.id).await.unwrap(), Some(expected));
    let file = store
        .write_file(new_file(owner, FolderId::ROOT, "old.bin"))
        .await
        .unwrap();
    for name in [None, Some("renamed.bin".to_owned())] {
        let target = SessionTarget::NewVersion {
            file_id: file.id,
            name,
        };
        let s = session(owner, target, 1);
        store.create_session(&s).await.unwrap();
        assert_eq!(store.get_session(&s.id).await.unwrap(), Some(s));
    }
    assert_eq!(
        store
            .get_session(&SessionId(random_hex(32).to_uppercase()))
            .await
            .unwrap(),
        None
    );
}

pub async fn check_insert_part_existing(store: &dyn MetadataStore) {
    let owner = user(store, "parts").await;
    let s = session(owner, to_file(FolderId::ROOT, "p.bin"), 25);
    store.create_session(&s).await.unwrap();
    let p0 = part(&s, 0);
    assert_eq!(store.insert_part(&p0).await.unwrap(), PartInsert::Inserted);
    // Another part at the same index: the original row is kept and returned.
    let dup = PartRecord {
        part_id: "DEADBEEF".into(),
        sha1: sha(999),
        object_key: key("dup"),
        ..p0.clone()
    };
    assert_eq!(
        store.insert_part(&dup).await.unwrap(),
        PartInsert::Existing(p0.clone())
    );
    assert_eq!(store.get_part(&s.id, 0).await.unwrap(), Some(p0.clone()));
    assert!(!is_known(store, &dup.object_key).await);
    assert_eq!(
        store.get_session(&s.id).await.unwrap().unwrap().num_parts,
        1
    );
    let p2 = part(&s, 2);
    assert_eq!(store.insert_part(&p2).await.unwrap(), PartInsert::Inserted);
    assert_eq!(
        store.get_session(&s.id).await.unwrap().unwrap().num_parts,
        2
    );
    assert_eq!(store.get_part(&s.id, 2).await.unwrap(), Some(p2));
    assert_eq!(store.get_part(&s.id, 1).await.unwrap(), None);
}

pub async fn check_list_parts_paging(store: &dyn MetadataStore) {
    let owner = user(store, "listparts").await;
    let s = session(owner, to_file(FolderId::ROOT, "l.bin"), 45);
    store.create_session(&s).await.unwrap();
    let parts: Vec<_> = (0..5).map(|i| part(&s, i)).collect();
    for i in [3, 0, 4, 2, 1] {
        store.insert_part(&parts[i]).await.unwrap();
    }
    let other = session(owner, to_file(FolderId::ROOT, "o.bin"), 5);
    session_with_parts(store, &other).await;
    assert_eq!(
        store.list_parts(&s.id, 0, 100).await.unwrap(),
        (5, parts.clone())
    );
    assert_eq!(
        store.list_parts(&s.id, 1, 2).await.unwrap(),
        (5, parts[1..3].to_vec())
    );
    assert_eq!(
        store.list_parts(&s.id, 3, 100).await.unwrap(),
        (5, parts[3..].to_vec())
    );
    assert_eq!(store.list_parts(&s.id, 5, 10).await.unwrap(), (5, vec![]));
    assert_eq!(store.list_parts(&s.id, 0, 0).await.unwrap(), (5, vec![]));
    assert_eq!(store.list_parts(&other.id, 0, 10).await.unwrap().0, 1);
}

pub async fn check_insert_part_rejected(store: &dyn MetadataStore) {
    let owner = user(store, "rejected").await;
    let unknown = session(owner, to_file(FolderId::ROOT, "u.bin"), 5);
    let e = err(store.insert_part(&part(&unknown, 0)).await);
    assert!(matches!(e, StoreError::NotFound), "unknown: {e:?}");

    let committed = session(owner, to_file(FolderId::ROOT, "c.bin"), 5);
    session_with_parts(store, &committed).await;
    store.commit_session(commit(&committed, 1)).await.unwrap();
    let e = err(store.insert_part(&part(&committed, 0)).await);
    assert!(
        matches!(e, StoreError::SessionNotOpen(SessionState::Committed)),
        "{e:?}"
    );

    let expired = SessionRecord {
        expires_at: NOW - 1,
        ..session(owner, to_file(FolderId::ROOT, "e.bin"), 25)
    };
    store.create_session(&expired).await.unwrap();
    store.expire_sessions(NOW, i64::MIN).await.unwrap();
    let e = err(store.insert_part(&part(&expired, 0)).await);
    assert!(
        matches!(e, StoreError::SessionNotOpen(SessionState::Expired)),
        "{e:?}"
    );

    let deleted = session(owner, to_file(FolderId::ROOT, "d.bin"), 25);
    store.create_session(&deleted).await.unwrap();
    store.delete_session(&deleted.id).await.unwrap();
    let e = err(store.insert_part(&part(&deleted, 0)).await);
    assert!(matches!(e, StoreError::NotFound), "deleted: {e:?}");
    assert_eq!(store.get_part(&deleted.id, 0).await.unwrap(), None);
}

pub async fn check_concurrent_insert_part(store: &dyn MetadataStore) {
    let owner = user(store, "partrace").await;
    let s = session(owner, to_file(FolderId::ROOT, "r.bin"), 25);
    store.create_session(&s).await.unwrap();
    let tries: Vec<_> = (0..8).map(|_| part(&s, 1)).collect();
    let results = join_all(tries.iter().map(|p| store.insert_part(p))).await;
    let stored = store.get_part(&s.id, 1).await.unwrap().unwrap();
    assert!(tries.contains(&stored));
    let mut inserted = 0;
    for (p, r) in tries.iter().zip(results) {
        match r.unwrap() {
            PartInsert::Inserted => {
                inserted += 1;
                assert_eq!(*p, stored);
            }
            PartInsert::Existing(existing) => assert_eq!(existing, stored),
        }
    }
    assert_eq!(inserted, 1);
    assert_eq!(
        store.get_session(&s.id).await.unwrap().unwrap().num_parts,
        1
    );
}

pub async fn check_advance_frontier_cas(store: &dyn MetadataStore) {
    let owner = user(store, "frontier").await;
    let s = session(owner, to_file(FolderId::ROOT, "f.bin"), 25);
    store.create_session(&s).await.unwrap();
    let at = |offset, state: &[u8]| Frontier {
        offset,
        state: state.to_vec(),
    };
    assert!(
        store
            .advance_frontier(&s.id, 0, &at(10, b"ten"))
            .await
            .unwrap()
    );
    let got = store.get_session(&s.id).await.unwrap().unwrap().frontier;
    assert_eq!(got, at(10, b"ten"));
    // A stale `from` changes nothing.
    assert!(
        !store
            .advance_frontier(&s.id, 0, &at(20, b"stale"))
            .await
            .unwrap()
    );
    let got = store.get_session(&s.id).await.unwrap().unwrap().frontier;
    assert_eq!(got, at(10, b"ten"));
    // Two racers from the same offset: exactly one wins.
    let results = join_all([
        store.advance_frontier(&s.id, 10, &at(20, b"a")),
        store.advance_frontier(&s.id, 10, &at(20, b"b")),
    ])
    .await;
    let wins: Vec<bool> = results.into_iter().map(Result::unwrap).collect();
    let got = store.get_session(&s.id).await.unwrap().unwrap().frontier;
    let winner = if wins[0] { at(20, b"a") } else { at(20, b"b") };
    assert_eq!(got, winner);
    assert_eq!(wins.iter().filter(|w| **w).count(), 1);
}

/// A part hashed in-stream goes in with the frontier it moves to, in one
/// step; the frontier moves only from where the part starts. The
/// frontier's next step sees the session and the part at its frontier.
pub async fn check_insert_hashed_part_and_frontier_step(store: &dyn MetadataStore) {
    let owner = user(store, "hashed").await;
    let s = session(owner, to_file(FolderId::ROOT, "h.bin"), 25);
    store.create_session(&s).await.unwrap();
    let at = |offset, state: &[u8]| Frontier {
        offset,
        state: state.to_vec(),
    };
    let step = |id: SessionId| async move { store.frontier_step(&id).await.unwrap() };
    let (got, next) = step(s.id.clone()).await.expect("the session exists");
    assert_eq!((got.frontier.offset, next), (0, None));

    let p0 = part(&s, 0);
    let inserted = store.insert_hashed_part(&p0, &at(10, b"h0")).await.unwrap();
    assert_eq!(inserted, PartInsert::Inserted);
    let got = store.get_session(&s.id).await.unwrap().unwrap();
    assert_eq!((got.frontier, got.num_parts), (at(10, b"h0"), 1));
    assert_eq!(store.get_part(&s.id, 0).await.unwrap(), Some(p0.clone()));

    // The part at the frontier, once stored, is the next step's.
    let (_, next) = step(s.id.clone()).await.unwrap();
    assert_eq!(next, None);
    let p1 = part(&s, 1);
    store.insert_part(&p1).await.unwrap();
    let (got, next) = step(s.id.clone()).await.unwrap();
    assert_eq!((got.frontier.offset, next), (10, Some(p1)));

    // A taken index keeps its row and moves nothing.
    let dup = PartRecord {
        part_id: "DEADBEEF".into(),
        ..p0.clone()
    };
    let inserted = store
        .insert_hashed_part(&dup, &at(10, b"dup"))
        .await
        .unwrap();
    assert_eq!(inserted, PartInsert::Existing(p0));
    // A part that does not start at the frontier goes in; the frontier,
    // elsewhere, stays.
    let p2 = part(&s, 2);
    let inserted = store.insert_hashed_part(&p2, &at(25, b"h2")).await.unwrap();
    assert_eq!(inserted, PartInsert::Inserted);
    let got = store.get_session(&s.id).await.unwrap().unwrap();
    assert_eq!((got.frontier, got.num_parts), (at(10, b"h0"), 3));

    // At the end of the file there is no next part; no session, no step.
    assert!(
        store
            .advance_frontier(&s.id, 10, &at(25, b"end"))
            .await
            .unwrap()
    );
    let (got, next) = step(s.id.clone()).await.unwrap();
    assert_eq!((got.frontier.offset, next), (25, None));
    assert!(
        step(SessionId(random_hex(32).to_uppercase()))
            .await
            .is_none()
    );
}
