//! The metadata conformance suite against `SqliteMetadataStore`, plus what
//! is specific to SQLite: persistence across a restart, the id range, the
//! schema version.

use boxup_server::service::policy::{self, FileAttributes};
use boxup_server::store::sqlite::SqliteMetadataStore;
use boxup_server::store::{
    FileChange, FileWrite, FolderId, Frontier, ID_MAX, ID_MIN, MetadataStore, NewContent,
    NewFolder, ObjectRef, PartInsert, PartRecord, SessionId, SessionRecord, SessionState,
    SessionTarget,
};
use tempfile::TempDir;

/// A fresh database in its own temp dir; the dir is the guard that keeps
/// the file alive until the test ends.
async fn sqlite_store() -> (SqliteMetadataStore, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteMetadataStore::open(&dir.path().join("meta.db")).expect("open store");
    (store, dir)
}

boxup_server::metadata_conformance!(sqlite_store());

const NOW: i64 = 1_700_000_000;

#[tokio::test]
async fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested.db");
    let store = SqliteMetadataStore::open(&path).expect("open");
    let user = store.ensure_user("persist@example.com", "P").await.unwrap();
    let folder = store
        .create_folder(NewFolder {
            owner_id: user.id,
            parent_id: FolderId::ROOT,
            name: "Kept".into(),
            now: NOW,
        })
        .await
        .unwrap();
    let objects = vec![ObjectRef {
        key: "obj/1".into(),
        offset: 0,
        size: 3,
    }];
    let file = store
        .write_file(FileChange {
            owner_id: user.id,
            write: FileWrite::Create {
                parent_id: folder.id,
                values: policy::new_file("f.txt", &FileAttributes::default(), NOW),
            },
            content: NewContent {
                size: 3,
                sha1: "a".repeat(40),
                objects: objects.clone(),
            },
        })
        .await
        .unwrap();
    let session = SessionRecord {
        id: SessionId("0123456789ABCDEF0123456789ABCDEF".into()),
        owner_id: user.id,
        target: SessionTarget::NewFile {
            folder_id: folder.id,
            name: "big.bin".into(),
        },
        file_size: 20,
        part_size: 10,
        total_parts: 2,
        num_parts: 0,
        state: SessionState::Open,
        created_at: NOW,
        expires_at: NOW + 100,
        frontier: Frontier::default(),
        committed: None,
    };
    store.create_session(&session).await.unwrap();
    let part = PartRecord {
        session_id: session.id.clone(),
        index: 0,
        part_id: "0000ABCD".into(),
        offset: 0,
        size: 10,
        sha1: "b".repeat(40),
        object_key: "part/0".into(),
    };
    assert_eq!(
        store.insert_part(&part).await.unwrap(),
        PartInsert::Inserted
    );
    let frontier = Frontier {
        offset: 10,
        state: vec![9; 100],
    };
    assert!(
        store
            .advance_frontier(&session.id, 0, &frontier)
            .await
            .unwrap()
    );
    let clone = store.clone();
    drop(store);
    drop(clone);

    let store = SqliteMetadataStore::open(&path).expect("reopen");
    assert_eq!(store.get_user(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(
        store.get_folder(user.id, folder.id).await.unwrap(),
        Some(folder)
    );
    assert_eq!(
        store.get_file(user.id, file.id).await.unwrap(),
        Some(file.clone())
    );
    assert_eq!(
        store.version_objects(file.version.id).await.unwrap(),
        objects
    );
    let reloaded = store.get_session(&session.id).await.unwrap().unwrap();
    assert_eq!((reloaded.num_parts, reloaded.frontier), (1, frontier));
    assert_eq!(store.get_part(&session.id, 0).await.unwrap(), Some(part));
    // Ids stay unique after a restart: the same login is the same user.
    let again = store.ensure_user("persist@example.com", "P").await.unwrap();
    assert_eq!(again, user);
}

#[tokio::test]
async fn ids_are_random_twelve_digit_numbers() {
    let (store, _dir) = sqlite_store().await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let user = store
            .ensure_user(&format!("user{i}@example.com"), "U")
            .await
            .unwrap();
        let folder = store
            .create_folder(NewFolder {
                owner_id: user.id,
                parent_id: FolderId::ROOT,
                name: "f".into(),
                now: NOW,
            })
            .await
            .unwrap();
        ids.push(user.id.0);
        ids.push(folder.id.0);
    }
    assert!(
        ids.iter().all(|id| (ID_MIN..=ID_MAX).contains(id)),
        "{ids:?}"
    );
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "ids are distinct");
    // Not sequential: consecutive users are not neighbours.
    let neighbours = ids.windows(3).filter(|w| (w[2] - w[0]).abs() <= 2).count();
    assert!(neighbours < 3, "ids look sequential: {ids:?}");
}

#[tokio::test]
async fn refuses_a_database_from_a_newer_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("future.db");
    drop(SqliteMetadataStore::open(&path).expect("open"));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let err = SqliteMetadataStore::open(&path).expect_err("a newer schema is refused");
    assert!(err.to_string().contains("999"), "{err}");
}

#[tokio::test]
async fn open_sets_wal_and_schema_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pragmas.db");
    let store = SqliteMetadataStore::open(&path).expect("open");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(version >= 1);
    drop(store);
}
