//! Crash safety of `boxup serve`: SIGKILL the real binary while parts are
//! being uploaded (or after a commit), restart it on the same data
//! directory, and check that
//! - every part the server acknowledged with 200 is listed, unchanged;
//! - no part is listed whose body never finished arriving;
//! - the listed bytes are intact: finishing the upload, committing with the
//!   whole-file SHA-1 and downloading gives back the original file;
//! - a committed file survives the kill.
//!
//! The kill moments are reached by waiting for acknowledgements or for held
//! request bodies to have been drained, never by sleeping.

pub(crate) mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::Poll;

use boxup_protocol::UploadPart;
use futures::StreamExt;
use futures::channel::{mpsc as fmpsc, oneshot};
use support::{
    Api, Fixture, PART_SIZE, Server, assert_part_matches, assert_same_bytes, part_range,
    random_bytes, total_parts, within,
};
use tokio::sync::mpsc;

/// 24 MiB and a bit: 25 parts, the last one short.
const FILE_SIZE: usize = 24 * (1 << 20) + 12_345;
/// Concurrent PUTs.
const WORKERS: usize = 8;

/// What the client saw before and around the kill.
struct Outcome {
    /// Parts answered 200, by index, as the server described them.
    acked: BTreeMap<u32, UploadPart>,
    /// PUTs that ended in a transport error (the server died under them).
    failed: usize,
}

/// Uploads every part of `data` from `WORKERS` tasks and SIGKILLs the
/// server as soon as `kill_after` parts have been acknowledged; returns
/// once every task has stopped.
async fn upload_then_kill(
    server: Server,
    session: &str,
    data: Arc<Vec<u8>>,
    kill_after: usize,
) -> Outcome {
    let next = Arc::new(AtomicU32::new(0));
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<(u32, Option<UploadPart>)>();
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let (api, data, next, ack_tx) = (server.api(), data.clone(), next.clone(), ack_tx.clone());
        let session = session.to_owned();
        tasks.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= total_parts(&data) {
                    return;
                }
                let body = reqwest::Body::from(data[part_range(&data, index)].to_vec());
                let sent = api.put_request(&session, &data, index, body).send().await;
                let res = match sent {
                    Ok(res) => res,
                    Err(_) => {
                        let _ = ack_tx.send((index, None));
                        return;
                    }
                };
                // A live server answers 200; a dead one answers nothing.
                assert_eq!(res.status(), 200, "PUT part {index} before the kill");
                // A 200 whose body was cut off by the kill is not counted.
                let part = res.json::<boxup_protocol::UploadedPart>().await.ok();
                if ack_tx.send((index, part.map(|p| p.part))).is_err() {
                    return;
                }
            }
        }));
    }
    drop(ack_tx);

    let mut outcome = Outcome {
        acked: BTreeMap::new(),
        failed: 0,
    };
    let record = |outcome: &mut Outcome, (index, part): (u32, Option<UploadPart>)| match part {
        Some(part) => {
            assert_part_matches(&part, &data, index);
            outcome.acked.insert(index, part);
        }
        None => outcome.failed += 1,
    };
    while outcome.acked.len() < kill_after {
        let ack = within("acknowledgements", ack_rx.recv()).await;
        let ack = ack.unwrap_or_else(|| {
            panic!("all PUTs ended before {kill_after} acks:\n{}", server.log())
        });
        record(&mut outcome, ack);
    }
    server.kill().await;
    // Answers already on their way still count as acknowledged.
    while let Some(ack) = within("PUTs ending after the kill", ack_rx.recv()).await {
        record(&mut outcome, ack);
    }
    for task in tasks {
        within("worker", task).await.expect("a worker panicked");
    }
    outcome
}

/// After a restart: checks the listed parts against what the client saw,
/// re-uploads every listed part identically (200, same part), uploads the
/// missing ones, commits and compares the download with `data`.
async fn recover_and_finish(
    server: &Server,
    session: &str,
    data: &[u8],
    acked: &BTreeMap<u32, UploadPart>,
    unfinished: &BTreeSet<u32>,
) {
    let listed = server.list_parts(session).await;
    let mut by_index = BTreeMap::new();
    for part in &listed {
        assert_eq!(
            part.offset % PART_SIZE,
            0,
            "listed part off the grid: {part:?}"
        );
        let index = (part.offset / PART_SIZE) as u32;
        assert!(
            index < total_parts(data),
            "listed part past the end: {part:?}"
        );
        // Listed means complete: the right size and the right SHA-1.
        assert_part_matches(part, data, index);
        assert!(
            by_index.insert(index, part.clone()).is_none(),
            "part {index} listed twice"
        );
    }
    for (index, part) in acked {
        assert_eq!(
            by_index.get(index),
            Some(part),
            "acknowledged part {index} lost by the kill"
        );
    }
    for index in unfinished {
        assert!(
            !by_index.contains_key(index),
            "part {index} listed although its body never ended"
        );
    }
    let status = server.session_status(session).await;
    assert_eq!(
        status.num_parts_processed,
        Some(listed.len() as u32),
        "num_parts_processed after restart"
    );

    // Identical re-uploads (a client retrying after the crash) answer 200
    // with the stored part. Retried on a lost answer only: see
    // `retry_onto_a_stored_part_is_judged_by_its_body`.
    let mut lost = 0;
    for (&index, part) in &by_index {
        let mut attempts = 0;
        let again = loop {
            attempts += 1;
            match server.try_put_part(session, data, index).await {
                Ok(again) => break again,
                Err(e) if attempts < 5 => lost += usize::from(e.is_request() || e.is_body()),
                Err(e) => {
                    panic!("identical re-upload of part {index}: no answer in 5 tries: {e:?}")
                }
            }
        };
        assert_eq!(&again, part, "identical re-upload of listed part {index}");
    }
    if lost > 0 {
        eprintln!(
            "{lost} of {} identical re-uploads got no answer (retried)",
            by_index.len()
        );
    }
    for index in (0..total_parts(data)).filter(|i| !by_index.contains_key(i)) {
        server.put_part(session, data, index).await;
    }
    let parts = server.list_parts(session).await;
    assert_eq!(parts.len() as u32, total_parts(data));
    for (index, part) in parts.iter().enumerate() {
        assert_part_matches(part, data, index as u32);
    }
    let file = server.commit(session, &parts, data).await;
    assert_same_bytes(&server.download(&file.id).await, data);
}

/// SIGKILL once `kill_after` parts are acknowledged, restart, finish.
pub(crate) async fn kill_after_acks(fx: Fixture, kill_after: usize, seed: u64) {
    let data = Arc::new(random_bytes(FILE_SIZE, seed));
    let server = fx.start().await;
    let session = server.create_session(FILE_SIZE, "crash.bin").await.id;
    let outcome = upload_then_kill(server, &session, data.clone(), kill_after).await;
    assert!(outcome.acked.len() >= kill_after);
    eprintln!(
        "kill after {kill_after} acks: {} acknowledged, {} PUTs cut off",
        outcome.acked.len(),
        outcome.failed
    );

    let server = fx.start().await;
    recover_and_finish(&server, &session, &data, &outcome.acked, &BTreeSet::new()).await;
    server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_right_after_the_first_ack() {
    kill_after_acks(Fixture::new(), 1, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_halfway_through_the_parts() {
    kill_after_acks(Fixture::new(), 12, 2).await;
}

/// A request body fed from a channel. `drained` fires the first time the
/// body is polled with nothing left to give after `prefix` bytes: the HTTP
/// client has taken the whole prefix and waits for more.
fn held_body(
    prefix: &[u8],
    drained: oneshot::Sender<()>,
) -> (reqwest::Body, fmpsc::UnboundedSender<Vec<u8>>) {
    let (tx, mut rx) = fmpsc::unbounded::<Vec<u8>>();
    for chunk in prefix.chunks(64 << 10) {
        tx.unbounded_send(chunk.to_vec()).expect("receiver alive");
    }
    let want = prefix.len();
    let mut given = 0;
    let mut drained = Some(drained);
    let stream = futures::stream::poll_fn(move |cx| match rx.poll_next_unpin(cx) {
        Poll::Ready(Some(chunk)) => {
            given += chunk.len();
            Poll::Ready(Some(Ok::<_, std::io::Error>(chunk)))
        }
        Poll::Ready(None) => Poll::Ready(None),
        Poll::Pending => {
            if given == want
                && let Some(tx) = drained.take()
            {
                let _ = tx.send(());
            }
            Poll::Pending
        }
    });
    (reqwest::Body::wrap_stream(stream), tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_while_every_put_is_mid_body() {
    every_put_mid_body(Fixture::new()).await;
}

/// SIGKILL while eight PUTs are stalled mid-body, restart, finish.
pub(crate) async fn every_put_mid_body(fx: Fixture) {
    let data = random_bytes(FILE_SIZE, 3);
    let server = fx.start().await;
    let session = server.create_session(FILE_SIZE, "held.bin").await.id;

    // Four parts land first.
    let mut acked = BTreeMap::new();
    for index in 0..4 {
        acked.insert(index, server.put_part(&session, &data, index).await);
    }
    // Eight more start and stall: part 4+i has sent (i+1)/9 of its bytes,
    // and the last one all but its final byte.
    let held: Vec<u32> = (4..4 + WORKERS as u32).collect();
    let mut feeds = Vec::new();
    let mut drained = Vec::new();
    let mut puts = Vec::new();
    for (i, &index) in held.iter().enumerate() {
        let part = &data[part_range(&data, index)];
        let sent = if i + 1 == held.len() {
            part.len() - 1
        } else {
            part.len() * (i + 1) / 9
        };
        let (tx, rx) = oneshot::channel();
        let (body, feed) = held_body(&part[..sent], tx);
        feeds.push(feed);
        drained.push(rx);
        let request = server.put_request(&session, &data, index, body);
        puts.push(tokio::spawn(async move {
            request.send().await.map(|r| r.status())
        }));
    }
    for rx in drained {
        within("held bodies drained", rx)
            .await
            .expect("body dropped before being drained");
    }
    server.kill().await;
    for (put, index) in puts.into_iter().zip(&held) {
        let result = within("held PUT", put).await.expect("PUT task");
        assert!(
            result.is_err(),
            "held PUT of part {index} got an answer: {result:?}"
        );
    }
    drop(feeds);

    let server = fx.start().await;
    let unfinished = held.iter().copied().collect();
    recover_and_finish(&server, &session, &data, &acked, &unfinished).await;
    server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn committed_file_survives_a_kill() {
    commit_then_kill(Fixture::new()).await;
}

/// SIGKILL right after a commit, restart, download.
pub(crate) async fn commit_then_kill(fx: Fixture) {
    let data = Arc::new(random_bytes(FILE_SIZE, 4));
    let server = fx.start().await;
    let session = server.create_session(FILE_SIZE, "kept.bin").await.id;
    let uploads = (0..total_parts(&data)).map(|index| {
        let (api, data, session): (Api, _, _) = (server.api(), data.clone(), session.clone());
        tokio::spawn(async move { api.put_part(&session, &data, index).await })
    });
    let mut parts = Vec::new();
    for upload in futures::future::join_all(uploads).await {
        parts.push(upload.expect("upload task"));
    }
    let file = server.commit(&session, &parts, &data).await;
    server.kill().await;

    let server = fx.start().await;
    assert_same_bytes(&server.download(&file.id).await, &data);
    // The commit is still replayable: a retry gets the same file back.
    let again = server.commit(&session, &parts, &data).await;
    assert_eq!(again.id, file.id, "repeated commit after restart");
    server.kill().await;
}

/// A PUT onto a stored range must be judged by its body: docs/protocol.md §4.6
/// answers 200 only for a *byte-identical* part, and checks the body
/// against `Digest` (step 4) before the overlap rule (step 5). Here the
/// body is corrupt but the headers are those of the stored part.
///
/// boxup answers 200 from the headers alone, before reading the body; hyper
/// then closes the connection on the unread body (RST), and the client
/// often loses even that 200. That is why `recover_and_finish` has to retry
/// identical re-uploads that got no answer.
#[tokio::test]
async fn retry_onto_a_stored_part_is_judged_by_its_body() {
    let fx = Fixture::new();
    let data = random_bytes(FILE_SIZE, 5);
    let server = fx.start().await;
    let session = server.create_session(FILE_SIZE, "retry.bin").await.id;
    let stored = server.put_part(&session, &data, 0).await;
    let mut corrupt = data[part_range(&data, 0)].to_vec();
    corrupt[1000] ^= 0xff;
    let res = server
        .put_request(&session, &data, 0, corrupt.into())
        .send()
        .await;
    let res = res.expect("an answer, not a reset connection");
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    assert!(
        status == 400 || status == 416,
        "corrupt retry answered {status}: {text}"
    );
    assert_eq!(server.list_parts(&session).await, vec![stored]);
    server.kill().await;
}
