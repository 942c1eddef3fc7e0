//! Races between replicas (separate pools on one database) against
//! `PostgresMetadataStore`: first row wins, one commit wins, names stay
//! unique, and the sweepers' `SKIP LOCKED` never waits on another replica.

use crate::pg_support::*;

pub(crate) async fn insert_part_race_across_replicas_first_row_wins() {
    let guard = SchemaGuard::new(17).await;
    let stores = replicas(&guard, 8).await;
    let owner = user(&stores[0], "parts@example.com").await;
    let s = session(owner, "race.bin", 3, NOW + 100);
    stores[0].create_session(&s).await.unwrap();
    let tries: Vec<_> = (0..8).map(|i| part(&s, 1, &format!("try{i}"))).collect();
    let results = join_all(stores.iter().zip(&tries).map(|(st, p)| st.insert_part(p))).await;
    let stored = stores[0].get_part(&s.id, 1).await.unwrap().unwrap();
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
    let after = stores[7].get_session(&s.id).await.unwrap().unwrap();
    assert_eq!(after.num_parts, 1);
    assert_eq!(stores[3].list_parts(&s.id, 0, 10).await.unwrap().0, 1);
}

pub(crate) async fn folder_create_race_across_replicas_has_one_winner() {
    let guard = SchemaGuard::new(17).await;
    let stores = replicas(&guard, 8).await;
    let owner = user(&stores[0], "names@example.com").await;
    let parent = stores[0]
        .create_folder(folder(owner, FolderId::ROOT, "parent"))
        .await
        .unwrap();
    for parent in [FolderId::ROOT, parent.id] {
        let names = ["Shared", "SHARED", "shared", "sHaReD"];
        let results = join_all(
            stores
                .iter()
                .enumerate()
                .map(|(i, st)| st.create_folder(folder(owner, parent, names[i % names.len()]))),
        )
        .await;
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        let winner = ItemRef {
            id: ItemId::Folder(winners[0].id),
            name: winners[0].name.clone(),
            etag: 0,
            version: None,
        };
        for r in &results {
            match r {
                Ok(f) => assert_eq!(ItemId::Folder(f.id), winner.id),
                Err(StoreError::NameInUse(item)) => assert_eq!(*item, winner),
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        let listed = listed(&stores[5], owner, parent, 0, 10).await;
        let expected = if parent == FolderId::ROOT { 2 } else { 1 };
        assert_eq!(listed.0, expected, "{listed:?}");
    }
}

pub(crate) async fn file_and_folder_race_across_replicas_has_one_winner() {
    let guard = SchemaGuard::new(17).await;
    let stores = replicas(&guard, 8).await;
    let owner = user(&stores[0], "mixed@example.com").await;
    let results = join_all(stores.iter().enumerate().map(|(i, st)| async move {
        if i % 2 == 0 {
            st.create_folder(folder(owner, FolderId::ROOT, "Mixed"))
                .await
                .map(|f| ItemId::Folder(f.id))
        } else {
            st.write_file(file(owner, FolderId::ROOT, "MIXED", &format!("obj/m{i}")))
                .await
                .map(|f| ItemId::File(f.id))
        }
    }))
    .await;
    let winners: Vec<ItemId> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for r in &results {
        match r {
            Ok(_) => {}
            Err(StoreError::NameInUse(item)) => assert_eq!(item.id, winners[0]),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let (total, items) = listed(&stores[1], owner, FolderId::ROOT, 0, 10).await;
    assert_eq!((total, items[0].id), (1, winners[0]));
}

pub(crate) async fn commit_race_across_replicas_has_one_winner() {
    let guard = SchemaGuard::new(5).await;
    let stores = replicas(&guard, 2).await;
    let owner = user(&stores[0], "commit@example.com").await;
    let s = session(owner, "once.bin", 2, NOW + 100);
    stores[0].create_session(&s).await.unwrap();
    for i in 0..2 {
        stores[1].insert_part(&part(&s, i, "c")).await.unwrap();
    }
    let (a, b) = futures::join!(
        stores[0].commit_session(commit(&s)),
        stores[1].commit_session(commit(&s))
    );
    let (winner, loser) = match (a, b) {
        (Ok(f), Err(e)) | (Err(e), Ok(f)) => (f, e),
        other => panic!("exactly one commit must win: {other:?}"),
    };
    assert!(
        matches!(loser, StoreError::SessionNotOpen(SessionState::Committed)),
        "{loser:?}"
    );
    let (total, items) = listed(&stores[0], owner, FolderId::ROOT, 0, 10).await;
    assert_eq!((total, items[0].id), (1, ItemId::File(winner.id)));
    let after = stores[1].get_session(&s.id).await.unwrap().unwrap();
    let committed = after.committed.expect("the session records its commit");
    assert_eq!(
        (committed.file_id, committed.version_id),
        (winner.id, winner.version.id)
    );
}

pub(crate) async fn a_part_racing_a_commit_is_in_the_version_or_refused() {
    let guard = SchemaGuard::new(5).await;
    let stores = replicas(&guard, 2).await;
    let owner = user(&stores[0], "late@example.com").await;
    let (mut landed, mut refused) = (0, 0);
    for round in 0..12 {
        let s = session(owner, &format!("r{round}.bin"), 3, NOW + 100);
        stores[0].create_session(&s).await.unwrap();
        for i in [0, 2] {
            stores[0].insert_part(&part(&s, i, "early")).await.unwrap();
        }
        let late = part(&s, 1, "late");
        let (committed, inserted) = futures::join!(
            stores[0].commit_session(commit(&s)),
            stores[1].insert_part(&late)
        );
        let committed = committed.unwrap();
        let keys: Vec<String> = stores[1]
            .version_objects(committed.version.id)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect();
        match inserted {
            Ok(PartInsert::Inserted) => {
                landed += 1;
                assert_eq!(keys.len(), 3);
                assert!(keys.contains(&late.object_key));
            }
            Err(StoreError::SessionNotOpen(SessionState::Committed)) => {
                refused += 1;
                assert_eq!(keys.len(), 2);
                assert_eq!(stores[0].get_part(&s.id, 1).await.unwrap(), None);
            }
            other => panic!("unexpected {other:?}"),
        }
        let after = stores[1].get_session(&s.id).await.unwrap().unwrap();
        assert_eq!(after.num_parts as usize, keys.len());
    }
    assert_eq!(landed + refused, 12);
}

// ---- locks held elsewhere ----

pub(crate) async fn sweepers_skip_what_another_transaction_holds() {
    let guard = SchemaGuard::new(6).await;
    let store = guard.store(4).await;
    let owner = user(&store, "sweep@example.com").await;
    let held = session(owner, "held.bin", 1, NOW - 10);
    let free = session(owner, "free.bin", 1, NOW - 10);
    for s in [&held, &free] {
        store.create_session(s).await.unwrap();
        store.insert_part(&part(s, 0, "sweep")).await.unwrap();
    }
    // Another replica is mid-transaction on `held`.
    let mut other = guard.raw().await;
    let mut tx = other.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE")
        .bind(&held.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let swept = tokio::time::timeout(LOCK_WAIT, store.expire_sessions(NOW, i64::MIN))
        .await
        .expect("expire_sessions does not wait for a held session");
    assert_eq!(swept.unwrap(), 1);
    let state = |id: SessionId| {
        let store = store.clone();
        async move { store.get_session(&id).await.unwrap().map(|s| s.state) }
    };
    assert_eq!(state(free.id.clone()).await, Some(SessionState::Expired));
    assert_eq!(state(held.id.clone()).await, Some(SessionState::Open));
    // The garbage queue now holds the free session's part; a key held by
    // another transaction is skipped, not waited for.
    let keys = store.garbage(u64::MAX).await.unwrap();
    assert_eq!(keys.len(), 1);
    sqlx::query("SELECT 1 FROM garbage WHERE key = $1 FOR UPDATE")
        .bind(&keys[0])
        .execute(&mut *tx)
        .await
        .unwrap();
    let seen = tokio::time::timeout(LOCK_WAIT, store.garbage(u64::MAX))
        .await
        .expect("garbage does not wait for a held key");
    assert_eq!(seen.unwrap(), Vec::<String>::new());
    tx.rollback().await.unwrap();
    // Released: the next sweep takes what was skipped.
    assert_eq!(store.expire_sessions(NOW, i64::MIN).await.unwrap(), 1);
    assert_eq!(state(held.id.clone()).await, Some(SessionState::Expired));
    assert_eq!(store.garbage(u64::MAX).await.unwrap().len(), 2);
}

pub(crate) async fn a_name_taken_behind_the_lock_is_still_name_in_use() {
    // A writer that skips the name lock (here: plain SQL) and has not
    // committed yet: the store's check cannot see its row, its insert
    // waits on the unique index, and once the writer commits, the
    // violation is retried into `NameInUse` with the writer's row.
    let guard = SchemaGuard::new(5).await;
    let app = format!("boxup-test-{:08x}", rand::random::<u32>());
    let sep = if guard.url.contains('?') { '&' } else { '?' };
    let store = guard
        .store_at(&format!("{}{sep}application_name={app}", guard.url), 2)
        .await;
    let owner = user(&store, "backstop@example.com").await;
    let mut writer = guard.raw().await;
    let mut tx = writer.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO folders (id, owner_id, parent_id, name, name_key, created_at, modified_at) \
         VALUES (42, $1, 0, 'Taken', 'taken', 0, 0)",
    )
    .bind(owner)
    .execute(&mut *tx)
    .await
    .unwrap();
    let racing = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .create_folder(folder(owner, FolderId::ROOT, "TAKEN"))
                .await
        }
    });
    // Wait until the store's insert waits on the writer's transaction.
    let mut watcher = guard.raw().await;
    tokio::time::timeout(LOCK_WAIT, async {
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = $1 AND wait_event_type = 'Lock'",
            )
            .bind(&app)
            .fetch_one(&mut watcher)
            .await
            .unwrap();
            if waiting > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the store's insert waits on the writer");
    tx.commit().await.unwrap();
    let e = tokio::time::timeout(LOCK_WAIT, racing)
        .await
        .expect("the store finishes once the writer committed")
        .unwrap()
        .expect_err("the name is taken");
    let taken = ItemRef {
        id: ItemId::Folder(FolderId(42)),
        name: "Taken".into(),
        etag: 0,
        version: None,
    };
    assert!(
        matches!(&e, StoreError::NameInUse(item) if *item == taken),
        "{e:?}"
    );
    assert_eq!(listed(&store, owner, FolderId::ROOT, 0, 10).await.0, 1);
}
