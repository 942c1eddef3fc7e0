//! Checks of connection setup that only this module can see.

use super::conn::Durability;
use super::*;
use rusqlite::TransactionBehavior;

fn pragma(store: &SqliteMetadataStore, name: &str) -> String {
    let conn = store.conn.lock().unwrap();
    conn.query_row(&format!("PRAGMA {name}"), [], |r| {
        r.get::<_, rusqlite::types::Value>(0)
    })
    .map(|v| format!("{v:?}"))
    .unwrap()
}

#[test]
fn open_sets_durability_pragmas_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let store = SqliteMetadataStore::open(&path).unwrap();
    assert_eq!(pragma(&store, "journal_mode"), r#"Text("wal")"#);
    // synchronous: 2 = FULL.
    assert_eq!(pragma(&store, "synchronous"), "Integer(2)");
    assert_eq!(pragma(&store, "foreign_keys"), "Integer(1)");
    assert_eq!(pragma(&store, "busy_timeout"), "Integer(10000)");
    assert_eq!(
        pragma(&store, "user_version"),
        format!("Integer({})", schema::CURRENT_VERSION)
    );
    drop(store);
    // Reopening an up-to-date database runs no migration (it would fail on
    // the existing tables).
    let store = SqliteMetadataStore::open(&path).unwrap();
    assert_eq!(
        pragma(&store, "user_version"),
        format!("Integer({})", schema::CURRENT_VERSION)
    );
}

#[test]
fn foreign_keys_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteMetadataStore::open(&dir.path().join("fk.db")).unwrap();
    let conn = store.conn.lock().unwrap();
    // A version of a missing file is refused.
    let orphan = conn.execute(
        "INSERT INTO file_versions (id, file_id, size, sha1, created_at) VALUES (1, 2, 0, '', 0)",
        [],
    );
    assert!(orphan.is_err(), "foreign keys are enforced");
}

#[tokio::test]
async fn a_relaxed_frontier_write_restores_full_sync_even_when_it_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteMetadataStore::open(&dir.path().join("f.db")).unwrap();
    let to = Frontier {
        offset: 10,
        state: vec![1, 2, 3],
    };
    let missing = store
        .advance_frontier(&SessionId::from("NO-SUCH-SESSION"), 0, &to)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    // synchronous: 2 = FULL, so the next part row is fsynced again.
    assert_eq!(pragma(&store, "synchronous"), "Integer(2)");
    let seen = store
        .with_conn_sync(TransactionBehavior::Immediate, Durability::Relaxed, |tx| {
            Ok(tx.query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))?)
        })
        .await
        .unwrap();
    assert_eq!(seen, 1, "inside a relaxed write: NORMAL");
    assert_eq!(pragma(&store, "synchronous"), "Integer(2)");
}

/// Reads go to read-only connections: they see every write that returned
/// before them, and they do not wait while the writer is busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_see_earlier_writes_and_do_not_wait_for_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteMetadataStore::open(&dir.path().join("r.db")).unwrap();
    let user = store.ensure_user("reader", "Reader").await.unwrap();
    assert_eq!(store.get_user(user.id).await.unwrap(), Some(user.clone()));

    // Hold the writer (as a long write would) while reading.
    let writer = Arc::clone(&store.conn);
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let _guard = writer.lock().unwrap();
        held_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    held_rx.recv().unwrap();
    // Were reads queued behind the writer, this would wait until the
    // deadline (a generous bound, not a timing: the read needs no lock).
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(30), store.get_user(user.id)).await;
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    let read = read.expect("a read waited for the writer");
    assert_eq!(read.unwrap(), Some(user));
    // A write through a reader is refused by SQLite itself.
    let refused = store
        .read(|tx| Ok(tx.execute("DELETE FROM users", [])?))
        .await;
    assert!(refused.is_err(), "readers are read-only: {refused:?}");
}
