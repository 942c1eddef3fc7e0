//! The sweeper, driven through `sweep_once` (no background sweeper, no
//! sleeping): aborted and expired sessions lose their part objects, orphan
//! objects go after their grace period, and committed files keep theirs.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::common::*;
use reqwest::Method;

const TTL: i64 = 3600;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn set(files: Vec<PathBuf>) -> BTreeSet<PathBuf> {
    files.into_iter().collect()
}

/// Starts a session of 3 parts and uploads `uploaded` of them; returns the
/// session and the object files its parts created.
async fn partial_session(
    t: &TestServer,
    name: &str,
    uploaded: usize,
) -> (serde_json::Value, BTreeSet<PathBuf>) {
    let before = set(t.object_files());
    let bytes = data(3 * PART_SIZE as usize, name.len() as u64);
    let s = t.new_session(ALICE, "0", name, bytes.len() as u64).await;
    for (offset, chunk) in chunks(&bytes, PART_SIZE).into_iter().take(uploaded) {
        t.put_part_ok(
            ALICE,
            &endpoint(&s, "upload_part"),
            offset,
            chunk,
            bytes.len() as u64,
        )
        .await;
    }
    let created: BTreeSet<PathBuf> = set(t.object_files()).difference(&before).cloned().collect();
    assert_eq!(created.len(), uploaded, "one object per part: {created:?}");
    (s, created)
}

#[tokio::test]
async fn aborted_session_objects_are_deleted_by_a_sweep() {
    let t = TestServer::start_manual_sweep(|o| o.service.session_ttl_secs = TTL).await;
    let kept_bytes = data(2 * PART_SIZE as usize + 3, 5);
    let kept = t.session_upload(ALICE, "0", "kept.bin", &kept_bytes).await;
    let (s, objects) = partial_session(&t, "aborted.bin", 2).await;
    expect_empty(
        t.send(t.req_url(Method::DELETE, ALICE, &endpoint(&s, "abort")))
            .await,
        204,
    )
    .await;

    let report = t
        .service
        .sweep_once(now(), SystemTime::UNIX_EPOCH)
        .await
        .expect("sweep");
    assert_eq!(report.garbage_deleted, 2, "{report:?}");
    for o in &objects {
        assert!(!o.exists(), "{} survived the sweep", o.display());
    }
    assert_eq!(t.download(ALICE, &id(&kept)).await, kept_bytes);
    let again = t
        .service
        .sweep_once(now(), SystemTime::UNIX_EPOCH)
        .await
        .expect("sweep");
    assert_eq!(
        again.garbage_deleted, 0,
        "sweeping is idempotent: {again:?}"
    );
}

#[tokio::test]
async fn expired_open_session_answers_410_and_its_objects_are_swept() {
    let t = TestServer::start_manual_sweep(|o| o.service.session_ttl_secs = TTL).await;
    let committed_bytes = data(PART_SIZE as usize + 9, 6);
    let committed = t
        .session_upload(ALICE, "0", "committed.bin", &committed_bytes)
        .await;
    let (s, objects) = partial_session(&t, "stale.bin", 2).await;
    let path = TestServer::session_path(UPLOAD, &id(&s));
    expect_json(t.get(ALICE, &path).await, 200).await;

    // A sweep an hour and a second later: the session has expired.
    let later = now() + TTL + 1;
    let report = t
        .service
        .sweep_once(later, SystemTime::UNIX_EPOCH)
        .await
        .expect("sweep");
    assert!(report.sessions_changed >= 1, "{report:?}");
    assert_eq!(report.garbage_deleted, 2, "{report:?}");
    for o in &objects {
        assert!(!o.exists(), "{} survived the sweep", o.display());
    }
    expect_error(t.get(ALICE, &path).await, 410, "session_expired").await;
    let third = data(PART_SIZE as usize, 1);
    let r = t
        .put_part(ALICE, &t.url(&path), 2 * PART_SIZE, &third, 3 * PART_SIZE)
        .await;
    expect_error(r, 410, "session_expired").await;
    expect_error(
        t.get(ALICE, &format!("{path}/parts")).await,
        410,
        "session_expired",
    )
    .await;
    // The committed file's objects belong to its version and stay.
    assert_eq!(t.download(ALICE, &id(&committed)).await, committed_bytes);
}

#[tokio::test]
async fn lazily_expired_session_is_410_before_any_sweep() {
    let t = TestServer::start_manual_sweep(|o| o.service.session_ttl_secs = -1).await;
    let s = t.new_session(ALICE, "0", "born-expired.bin", 10).await;
    let path = TestServer::session_path(API, &id(&s));
    expect_error(t.get(ALICE, &path).await, 410, "session_expired").await;
    let r = t
        .put_part(ALICE, &endpoint(&s, "upload_part"), 0, b"0123456789", 10)
        .await;
    expect_error(r, 410, "session_expired").await;
    assert!(
        t.object_files().is_empty(),
        "an expired session stores nothing"
    );
}

#[tokio::test]
async fn old_orphan_objects_are_removed_and_committed_objects_stay() {
    let t = TestServer::start_manual_sweep(|o| o.service.session_ttl_secs = TTL).await;
    let simple = t
        .upload_file(ALICE, "0", "simple.txt", b"simple bytes")
        .await;
    let chunked_bytes = data(2 * PART_SIZE as usize + 1, 7);
    let chunked = t
        .session_upload(ALICE, "0", "chunked.bin", &chunked_bytes)
        .await;
    let (open, open_objects) = partial_session(&t, "open.bin", 1).await;
    let known = set(t.object_files());
    assert_eq!(known.len(), 1 + 3 + 1, "{known:?}");

    let objects = t.data_dir.join("parts").join("objects");
    let orphan_dir = objects.join("s").join("0123456789ABCDEF0123456789ABCDEF");
    std::fs::create_dir_all(&orphan_dir).unwrap();
    let old_orphan = orphan_dir.join("000003-DEADBEEF");
    let top_orphan = objects.join("stray-object");
    let fresh_orphan = objects.join("f").join("FRESHFRESHFRESH0");
    let two_hours_ago = SystemTime::now() - Duration::from_secs(2 * 3600);
    for p in [&old_orphan, &top_orphan, &fresh_orphan] {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"orphaned bytes").unwrap();
    }
    for p in [&old_orphan, &top_orphan] {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    // Every known object is old as well: only being unknown makes an orphan.
    for p in &known {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }

    let cutoff = SystemTime::now() - Duration::from_secs(3600);
    let report = t.service.sweep_once(now(), cutoff).await.expect("sweep");
    assert_eq!(report.orphans_deleted, 2, "{report:?}");
    assert!(
        !old_orphan.exists() && !top_orphan.exists(),
        "old orphans are removed"
    );
    assert!(
        fresh_orphan.exists(),
        "an object younger than the cutoff may still be in flight"
    );
    assert_eq!(
        set(t.object_files()),
        known
            .iter()
            .cloned()
            .chain([fresh_orphan.clone()])
            .collect()
    );

    assert_eq!(t.download(ALICE, &id(&simple)).await, b"simple bytes");
    assert_eq!(t.download(ALICE, &id(&chunked)).await, chunked_bytes);
    // The open session's part survived and the session still completes.
    assert!(open_objects.iter().all(|o| o.exists()));
    let bytes = data(3 * PART_SIZE as usize, "open.bin".len() as u64);
    let mut parts = vec![];
    let listed = expect_json(
        t.send(t.req_url(Method::GET, ALICE, &endpoint(&open, "list_parts")))
            .await,
        200,
    )
    .await;
    parts.push(listed["entries"][0].clone());
    for (offset, chunk) in chunks(&bytes, PART_SIZE).into_iter().skip(1) {
        parts.push(
            t.put_part_ok(
                ALICE,
                &endpoint(&open, "upload_part"),
                offset,
                chunk,
                bytes.len() as u64,
            )
            .await,
        );
    }
    let files = expect_json(
        t.commit(ALICE, &endpoint(&open, "commit"), &parts, &bytes)
            .await,
        201,
    )
    .await;
    assert_eq!(t.download(ALICE, &id(&files["entries"][0])).await, bytes);
}

#[tokio::test]
async fn deleting_a_committed_session_or_a_file_is_safe_for_sweeping() {
    let t = TestServer::start_manual_sweep(|o| o.service.session_ttl_secs = TTL).await;
    let bytes = data(2 * PART_SIZE as usize + 10, 8);
    let s = t
        .new_session(ALICE, "0", "done.bin", bytes.len() as u64)
        .await;
    let file = t.finish_session(ALICE, &s, &bytes).await;
    expect_empty(
        t.send(t.req_url(Method::DELETE, ALICE, &endpoint(&s, "abort")))
            .await,
        204,
    )
    .await;
    let gone = t
        .upload_file(ALICE, "0", "gone.txt", b"to be deleted")
        .await;
    let before = t.object_files().len();
    expect_empty(
        t.delete(ALICE, &format!("{API}/files/{}", id(&gone))).await,
        204,
    )
    .await;

    let report = t
        .service
        .sweep_once(now() + TTL + 1, SystemTime::UNIX_EPOCH)
        .await
        .expect("sweep");
    assert_eq!(
        report.garbage_deleted, 1,
        "only the deleted file's object: {report:?}"
    );
    assert_eq!(t.object_files().len(), before - 1);
    assert_eq!(
        t.download(ALICE, &id(&file)).await,
        bytes,
        "a forgotten session leaves its file intact"
    );
}
