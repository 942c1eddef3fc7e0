//! Races of the folder tree across replicas: a recursive delete against
//! inserts into the doomed subtree, and two folders moved into each other.
//! Whatever the interleaving, no item is left whose parent is gone, and no
//! cycle is ever made.

use boxup_server::service::tree_policy::{self, ItemUpdate};

use crate::pg_support::*;

/// Every file and folder of `owner` whose parent is neither the root nor
/// an existing folder: must always be none.
async fn orphans(guard: &SchemaGuard, owner: UserId) -> i64 {
    let store = guard.store(1).await;
    let mut pending = vec![FolderId::ROOT];
    let mut reachable = 0;
    while let Some(folder) = pending.pop() {
        let (_, items) = listed(&store, owner, folder, 0, 10_000).await;
        for item in items {
            reachable += 1;
            if let ItemId::Folder(f) = item.id {
                pending.push(f);
            }
        }
    }
    // Items of the owner in the database but not reachable from the root.
    let mut conn = guard.raw().await;
    let total: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM folders WHERE owner_id = $1) \
              + (SELECT count(*) FROM files WHERE owner_id = $1)",
    )
    .bind(owner.0)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    store.close().await;
    total - reachable
}

pub(crate) async fn a_recursive_delete_racing_inserts_leaves_no_orphans() {
    let guard = SchemaGuard::new(17).await;
    let stores = replicas(&guard, 6).await;
    let owner = user(&stores[0], "rmrf@example.com").await;
    for round in 0..4 {
        let top = stores[0]
            .create_folder(folder(owner, FolderId::ROOT, &format!("top{round}")))
            .await
            .unwrap();
        let sub = stores[0]
            .create_folder(folder(owner, top.id, "sub"))
            .await
            .unwrap();
        let delete = stores[0].delete_folder(
            owner,
            top.id,
            true,
            tree_policy::delete_folder(Preconditions::default()),
        );
        let inserts = stores[1..].iter().enumerate().map(|(i, st)| async move {
            if i % 2 == 0 {
                st.write_file(file(
                    owner,
                    sub.id,
                    &format!("f{i}"),
                    &format!("k{round}-{i}"),
                ))
                .await
                .map(drop)
            } else {
                st.create_folder(folder(owner, sub.id, &format!("d{i}")))
                    .await
                    .map(drop)
            }
        });
        let (deleted, inserted) = futures::join!(delete, join_all(inserts));
        deleted.unwrap();
        for r in inserted {
            match r {
                Ok(()) | Err(StoreError::ParentNotFound) => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!(orphans(&guard, owner).await, 0, "round {round}");
    }
}

pub(crate) async fn crossing_folder_moves_never_make_a_cycle() {
    let guard = SchemaGuard::new(17).await;
    let stores = replicas(&guard, 2).await;
    let owner = user(&stores[0], "cross@example.com").await;
    for round in 0..6 {
        let a = stores[0]
            .create_folder(folder(owner, FolderId::ROOT, &format!("a{round}")))
            .await
            .unwrap();
        let b = stores[0]
            .create_folder(folder(owner, FolderId::ROOT, &format!("b{round}")))
            .await
            .unwrap();
        let into = |parent: FolderId| {
            let update = ItemUpdate {
                parent_id: Some(parent),
                ..ItemUpdate::default()
            };
            tree_policy::update_folder(update, Preconditions::default(), NOW)
        };
        let (ab, ba) = futures::join!(
            stores[0].update_folder(owner, a.id, into(b.id)),
            stores[1].update_folder(owner, b.id, into(a.id)),
        );
        let moved = [ab.is_ok(), ba.is_ok()];
        assert_eq!(moved.iter().filter(|m| **m).count(), 1, "{ab:?} {ba:?}");
        for r in [ab, ba] {
            if let Err(e) = r {
                assert!(matches!(e, StoreError::FolderCycle), "{e:?}");
            }
        }
        assert_eq!(orphans(&guard, owner).await, 0, "round {round}");
    }
}

pub(crate) async fn a_copy_racing_the_delete_of_its_source_keeps_its_bytes() {
    let guard = SchemaGuard::new(17).await;
    let stores = replicas(&guard, 4).await;
    let owner = user(&stores[0], "cprace@example.com").await;
    for round in 0..8 {
        let source = stores[0]
            .write_file(file(
                owner,
                FolderId::ROOT,
                &format!("src{round}"),
                &format!("obj{round}"),
            ))
            .await
            .unwrap();
        let keys: Vec<String> = stores[0]
            .version_objects(source.version.id)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect();
        let copies = stores[1..3].iter().enumerate().map(|(i, st)| {
            st.copy_file(FileCopy {
                owner_id: owner,
                source: source.id,
                parent_id: FolderId::ROOT,
                decide: tree_policy::copy_file(Some(format!("copy{round}-{i}")), NOW),
            })
        });
        let decide = policy::delete_file(Preconditions::default());
        let delete = stores[3].delete_file(owner, source.id, &decide);
        let (copies, deleted) = futures::join!(join_all(copies), delete);
        deleted.unwrap();
        let made: Vec<_> = copies
            .into_iter()
            .filter_map(|r| match r {
                Ok(f) => Some(f),
                Err(StoreError::NotFound) => None,
                Err(e) => panic!("unexpected {e:?}"),
            })
            .collect();
        let garbage = stores[0].garbage(u64::MAX).await.unwrap();
        for key in &keys {
            // Queued for deletion exactly when no copy survived to use it.
            assert_eq!(
                garbage.contains(key),
                made.is_empty(),
                "round {round}: {key}"
            );
        }
        for copy in made {
            let objects = stores[0].version_objects(copy.version.id).await.unwrap();
            assert_eq!(objects.into_iter().map(|o| o.key).collect::<Vec<_>>(), keys);
        }
    }
}
