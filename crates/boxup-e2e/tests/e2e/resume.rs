//! `resume_upload`: after a crash only the missing parts go up; parts on
//! the server are checked against the local bytes, never re-sent.

use std::sync::{Arc, Mutex};

use boxup_client::{ContentRange, Error, SessionRef, Sha1Digest, UploadOptions};
use boxup_e2e::server::PART;
use boxup_e2e::{FailAt, FaultProxy, TestServer, pattern, sha1_hex};
use boxup_server::ServiceConfig;

#[tokio::test]
async fn resume_after_a_crash_uploads_only_the_missing_parts() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let mgr = proxy.client().chunked_uploads();
    let data = pattern(10 * PART as usize + 99, 70);
    let total_parts = 11;

    // The "process" reads 6 parts, then dies once 3 of them are stored.
    let session = Arc::new(Mutex::new(None));
    let keep = session.clone();
    let options = UploadOptions::new()
        .with_parallelism(3)
        .on_session(move |s| *keep.lock().unwrap() = Some(s.clone()));
    let source = FailAt::new(data.clone(), 6 * PART as usize).after(proxy.stored_puts(3));
    let crash = mgr
        .upload_big_file_with(source, "crashed.bin", data.len() as u64, "0", &options)
        .await
        .unwrap_err();
    assert!(matches!(crash, Error::Source(_)), "{crash:?}");
    let session = session.lock().unwrap().clone().unwrap();

    let before = mgr
        .get_file_upload_session_parts(&session.id, None, None, None)
        .await
        .unwrap();
    let on_server = before.total_count as usize;
    assert!(
        (3..=6).contains(&on_server),
        "{on_server} parts survived the crash"
    );
    let started = std::time::Instant::now();

    let file = mgr
        .resume_upload(
            SessionRef::Id(session.id.clone()),
            &data[..],
            data.len() as u64,
            &UploadOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(server.download(&file.id).await, data);

    // What the resume found: its own listing, as the server answered it.
    let during: Vec<_> = proxy
        .log()
        .into_iter()
        .filter(|l| l.at >= started)
        .collect();
    let listing = during
        .iter()
        .filter(|l| l.seen.method == "GET" && l.seen.path.contains("/parts"))
        .min_by_key(|l| l.at)
        .expect("the resume listed the parts");
    let found: boxup_client::UploadParts =
        serde_json::from_slice(listing.upstream_body.as_ref().unwrap()).unwrap();
    assert!(found.total_count as usize >= on_server);
    let mut found: Vec<u64> = found.entries.iter().map(|p| p.offset).collect();
    let mut resumed: Vec<u64> = during
        .iter()
        .filter(|l| l.seen.is_put())
        .map(|p| p.seen.range_start().unwrap())
        .collect();
    assert_eq!(
        resumed.len(),
        total_parts - found.len(),
        "resume sent {resumed:?}, the server had {found:?}"
    );
    resumed.append(&mut found);
    resumed.sort();
    let every: Vec<u64> = (0..total_parts as u64).map(|i| i * PART).collect();
    assert_eq!(
        resumed, every,
        "each part exactly once: on the server or sent by the resume"
    );
}

#[tokio::test]
async fn resume_by_status_url_after_a_manual_partial_upload() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let mgr = proxy.client().chunked_uploads();
    let data = pattern(5 * PART as usize, 71);
    let session = mgr
        .create_file_upload_session("0", data.len() as u64, "manual.bin", None)
        .await
        .unwrap();
    for index in [0u64, 3] {
        let chunk = &data[(index * PART) as usize..((index + 1) * PART) as usize];
        let range = ContentRange::for_part(index * PART, PART, data.len() as u64).to_string();
        mgr.upload_file_part(
            &session.id,
            chunk.to_vec(),
            &Sha1Digest::of(chunk).to_digest_header(),
            &range,
            None,
        )
        .await
        .unwrap();
    }
    let puts_before = proxy.puts().len();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = progress.clone();
    let options =
        UploadOptions::new().on_progress(move |p| sink.lock().unwrap().push(p.bytes_done));
    let status_url = session.session_endpoints.unwrap().status.unwrap();
    let file = mgr
        .resume_upload(
            SessionRef::parse(&status_url),
            &data[..],
            data.len() as u64,
            &options,
        )
        .await
        .unwrap();
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    let mut sent: Vec<u64> = proxy.puts()[puts_before..]
        .iter()
        .map(|p| p.seen.range_start().unwrap())
        .collect();
    sent.sort();
    assert_eq!(sent, vec![PART, 2 * PART, 4 * PART]);
    assert_eq!(
        progress.lock().unwrap().last().copied(),
        Some(data.len() as u64)
    );
}

#[tokio::test]
async fn a_part_that_differs_from_the_local_bytes_is_an_error_not_a_reupload() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let mgr = proxy.client().chunked_uploads();
    let data = pattern(4 * PART as usize, 72);
    let session = mgr
        .create_file_upload_session("0", data.len() as u64, "mismatch.bin", None)
        .await
        .unwrap();
    // Part 1 on the server holds other bytes than the local file.
    let other = pattern(PART as usize, 999);
    let range = ContentRange::for_part(PART, PART, data.len() as u64).to_string();
    let stored = mgr
        .upload_file_part(
            &session.id,
            other.clone(),
            &Sha1Digest::of(&other).to_digest_header(),
            &range,
            None,
        )
        .await
        .unwrap();
    let puts_before = proxy.puts().len();
    let err = mgr
        .resume_upload(
            &session,
            &data[..],
            data.len() as u64,
            &UploadOptions::new().with_parallelism(1),
        )
        .await
        .unwrap_err();
    match &err {
        Error::ResumeMismatch {
            part_id,
            offset,
            remote_sha1,
            local_sha1,
            ..
        } => {
            assert_eq!(part_id, &stored.part.part_id);
            assert_eq!(*offset, PART);
            assert_eq!(remote_sha1, &sha1_hex(&other));
            assert_eq!(
                local_sha1,
                &sha1_hex(&data[PART as usize..2 * PART as usize])
            );
        }
        e => panic!("expected a resume mismatch, got {e:?}"),
    }
    assert!(
        proxy.puts()[puts_before..]
            .iter()
            .all(|p| p.seen.range_start() != Some(PART)),
        "the mismatching part was re-sent"
    );
    let parts = mgr
        .get_file_upload_session_parts(&session.id, None, None, None)
        .await
        .unwrap();
    let part1 = parts.entries.iter().find(|p| p.offset == PART).unwrap();
    assert_eq!(part1, &stored.part);
}

#[tokio::test]
async fn resuming_a_committed_session_sends_nothing_and_returns_the_file() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let mgr = proxy.client().chunked_uploads();
    let data = pattern(3 * PART as usize, 73);
    let session = Arc::new(Mutex::new(None));
    let keep = session.clone();
    let options =
        UploadOptions::new().on_session(move |s| *keep.lock().unwrap() = Some(s.id.clone()));
    let file = mgr
        .upload_big_file_with(&data[..], "done.bin", data.len() as u64, "0", &options)
        .await
        .unwrap();
    let id = session.lock().unwrap().clone().unwrap();
    let puts_before = proxy.puts().len();
    let again = mgr
        .resume_upload(
            SessionRef::Id(id),
            &data[..],
            data.len() as u64,
            &UploadOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(again.id, file.id);
    assert_eq!(again.sha1, file.sha1);
    assert_eq!(proxy.puts().len(), puts_before);
}

#[tokio::test]
async fn resume_with_a_file_of_another_size_is_refused() {
    let server = TestServer::start_small().await;
    let mgr = server.client().chunked_uploads();
    let session = mgr
        .create_file_upload_session("0", 4 * PART, "sized.bin", None)
        .await
        .unwrap();
    let data = pattern(6 * PART as usize, 74);
    let err = mgr
        .resume_upload(
            &session,
            &data[..],
            data.len() as u64,
            &UploadOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("4 parts")),
        "{err:?}"
    );
}

/// The part size of the paging test: 1 KiB, so that a session of more
/// than 2,000 parts (three pages of the 1,000-part listing) stays small.
const TINY: u64 = 1024;

/// Parts in the paging test: pages of 1,000, 1,000 and 100.
const MANY: u64 = 2100;

/// Parts stored before the resume: the listing ends on the third page.
const STORED: u64 = 2050;

#[tokio::test]
async fn resume_walks_every_page_of_a_session_of_2100_parts() {
    let server = TestServer::start(ServiceConfig {
        min_chunked_size: 1,
        part_size: Some(TINY),
        ..ServiceConfig::default()
    })
    .await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let mgr = proxy.client().chunked_uploads();
    let data = pattern((MANY * TINY - 37) as usize, 75);

    // A first run stores parts 0..2050, then its source fails.
    let session = Arc::new(Mutex::new(None));
    let keep = session.clone();
    let options = UploadOptions::new()
        .with_parallelism(8)
        .on_session(move |s| *keep.lock().unwrap() = Some(s.clone()));
    let source = FailAt::new(data.clone(), (STORED * TINY) as usize)
        .after(proxy.stored_puts(STORED as usize));
    let crash = mgr
        .upload_big_file_with(source, "pages.bin", data.len() as u64, "0", &options)
        .await
        .unwrap_err();
    assert!(matches!(crash, Error::Source(_)), "{crash:?}");
    let session = session.lock().unwrap().clone().unwrap();
    assert_eq!(session.total_parts, Some(MANY as u32));

    // A local file differing in part 2010, which only the listing's third
    // page holds: found, and nothing is sent.
    let mut changed = data.clone();
    changed[(2010 * TINY) as usize + 5] ^= 0xff;
    let puts_before = proxy.puts().len();
    let err = mgr
        .resume_upload(
            &session,
            &changed[..],
            data.len() as u64,
            &UploadOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResumeMismatch { offset, .. } if offset == 2010 * TINY),
        "{err:?}"
    );
    assert_eq!(proxy.puts().len(), puts_before, "parts were sent");

    // The right file: only the 50 missing parts go up.
    let log_before = proxy.log().len();
    let file = mgr
        .resume_upload(
            &session,
            &data[..],
            data.len() as u64,
            &UploadOptions::new().with_parallelism(8),
        )
        .await
        .unwrap();
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(server.download(&file.id).await, data);
    let during = &proxy.log()[log_before..];
    let mut sent: Vec<u64> = during
        .iter()
        .filter(|l| l.seen.is_put())
        .map(|l| l.seen.range_start().unwrap() / TINY)
        .collect();
    sent.sort();
    assert_eq!(sent, (STORED..MANY).collect::<Vec<_>>());
    // The resume's listing and the final one each walk all three pages.
    let listings: Vec<&str> = during
        .iter()
        .filter(|l| l.seen.path.contains("/parts"))
        .map(|l| l.seen.path.split_once('?').map_or("", |(_, q)| q))
        .collect();
    let pages = [
        "offset=0&limit=1000",
        "offset=1000&limit=1000",
        "offset=2000&limit=1000",
    ];
    assert_eq!(listings, [pages, pages].concat());
}
