//! Unit tests of `pipeline.rs`: echo and conflict checks, resume
//! verification, reading and hashing, the end-of-source probe and the
//! part-count cap.

use super::*;
use boxup_protocol::BoxError;

fn part(offset: u64, size: u64, sha1: &Sha1Digest) -> UploadPart {
    UploadPart {
        part_id: "P".into(),
        offset,
        size,
        sha1: Some(sha1.to_hex()),
    }
}

#[test]
fn echo_check_catches_each_field() {
    let d = Sha1Digest::of(b"abc");
    assert!(check_echo(&part(8, 3, &d), 8, 3, &d).is_ok());
    assert!(check_echo(&part(0, 3, &d), 8, 3, &d).is_err());
    assert!(check_echo(&part(8, 4, &d), 8, 3, &d).is_err());
    assert!(check_echo(&part(8, 3, &Sha1Digest::of(b"abd")), 8, 3, &d).is_err());
    let mut no_sha = part(8, 3, &d);
    no_sha.sha1 = None;
    assert!(check_echo(&no_sha, 8, 3, &d).is_err());
}

#[test]
fn only_an_identical_conflict_counts_as_success() {
    let d = Sha1Digest::of(b"abc");
    let conflict = |p: &UploadPart| {
        let mut e = BoxError::new(416, "range_overlaps_existing_part", "overlap");
        e.context_info = Some(serde_json::json!({ "conflicting_part": p }));
        Error::Api {
            request: "PUT u".into(),
            error: Box::new(e),
            retry_after: None,
        }
    };
    assert!(identical_conflict(&conflict(&part(8, 3, &d)), 8, 3, &d).is_some());
    let other = Sha1Digest::of(b"xyz");
    assert!(identical_conflict(&conflict(&part(8, 3, &other)), 8, 3, &d).is_none());
    assert!(identical_conflict(&conflict(&part(0, 3, &d)), 8, 3, &d).is_none());
}

#[test]
fn resume_verification_reports_both_sides() {
    let local = Sha1Digest::of(b"local");
    let remote = part(16, 5, &Sha1Digest::of(b"other"));
    let err = verify_existing(&remote, 16, 5, &local).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("offset 16") && text.contains(&local.to_hex()),
        "{text}"
    );
    assert!(verify_existing(&part(16, 5, &local), 16, 5, &local).is_ok());
}

#[tokio::test]
async fn reading_hashes_each_part_and_the_whole() {
    let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let mut src = &data[..];
    let mut whole = Sha1::new();
    let (a, da) = read_part(&mut src, 0, 600, 1000, &mut whole).await.unwrap();
    let (b, db) = read_part(&mut src, 600, 400, 1000, &mut whole)
        .await
        .unwrap();
    assert_eq!((a.len(), b.len()), (600, 400));
    assert_eq!(da, Sha1Digest::of(&data[..600]));
    assert_eq!(db, Sha1Digest::of(&data[600..]));
    assert_eq!(Sha1Digest(whole.finalize().into()), Sha1Digest::of(&data));
    assert!(
        check_exhausted(&mut src, 1000, END_PROBE_WAIT)
            .await
            .is_ok()
    );

    let mut short = &data[..10];
    let err = read_part(&mut short, 0, 20, 20, &mut Sha1::new())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::SourceTooShort {
            expected: 20,
            actual: 10
        }
    ));
    let mut long = &data[..];
    assert!(matches!(
        check_exhausted(&mut long, 0, END_PROBE_WAIT).await,
        Err(Error::SourceTooLong { expected: 0 })
    ));
}

#[tokio::test]
async fn the_end_probe_never_hangs_nor_eats_bytes() {
    use tokio::io::AsyncWriteExt;
    // A pipe whose writer stays open: no end, no byte. It passes after
    // the wait instead of hanging.
    let (mut writer, mut reader) = tokio::io::duplex(64);
    let wait = Duration::from_millis(50);
    let probed = tokio::time::timeout(
        Duration::from_secs(10),
        check_exhausted(&mut reader, 8, wait),
    )
    .await
    .expect("the probe hung");
    assert!(probed.is_ok());
    // The abandoned probe took nothing: what is written next is read
    // whole, and a byte beyond the declared size is an error.
    writer.write_all(b"xyz").await.unwrap();
    let mut rest = [0u8; 3];
    reader.read_exact(&mut rest).await.unwrap();
    assert_eq!(&rest, b"xyz");
    writer.write_all(b"!").await.unwrap();
    assert!(matches!(
        check_exhausted(&mut reader, 8, wait).await,
        Err(Error::SourceTooLong { expected: 8 })
    ));
    // A writer that closes is an end.
    drop(writer);
    assert!(check_exhausted(&mut reader, 8, wait).await.is_ok());
}

fn session(part_size: u64, total_parts: Option<u32>) -> UploadSession {
    serde_json::from_value(serde_json::json!({
        "id": "S",
        "type": "upload_session",
        "part_size": part_size,
        "total_parts": total_parts,
    }))
    .unwrap()
}

#[test]
fn a_part_size_needing_too_many_parts_is_refused() {
    let url = Url::parse("http://h/u").unwrap();
    // A tiny part size for a huge file: refused before any allocation.
    let err = Plan::for_session(&session(1, None), 1 << 60, url.clone())
        .err()
        .unwrap();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("1152921504606846976 parts")),
        "{err:?}"
    );
    let err = Plan::for_session(
        &session(1, Some(u32::MAX)),
        u64::from(u32::MAX),
        url.clone(),
    )
    .err()
    .unwrap();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    // Exactly the cap is fine; one more is not.
    let plan = Plan::for_session(&session(1024, None), MAX_PARTS * 1024, url.clone()).unwrap();
    assert_eq!(plan.total_parts, MAX_PARTS);
    assert!(Plan::for_session(&session(1024, None), MAX_PARTS * 1024 + 1, url.clone()).is_err());
    // Box's largest grid (128 MiB parts) for 5 TB files is fine.
    let plan =
        Plan::for_session(&session(128 << 20, None), 5_000_000_000_000, url.clone()).unwrap();
    assert_eq!(plan.total_parts, 37_253);
    // A wrong file size for the session's total_parts is the caller's
    // mistake, reported as such even when the size is absurd.
    let err = Plan::for_session(&session(1024, Some(4)), 1 << 60, url)
        .err()
        .unwrap();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
}
