//! Parts arriving in parallel and out of order, a race on one range, and
//! many sessions committed at once (docs/protocol.md §2.2).

use std::sync::Arc;

use crate::common::*;
use futures::StreamExt;
use futures::future::join_all;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use tokio::sync::Barrier;

/// PUTs one part with a given client (its own connection pool).
async fn put_with(
    client: &Client,
    url: &str,
    offset: u64,
    bytes: &[u8],
    total: u64,
) -> (u16, Value) {
    let resp = client
        .request(Method::PUT, url)
        .bearer_auth(ALICE)
        .header("digest", format!("sha={}", sha1_b64(bytes)))
        .header(
            "content-range",
            content_range(offset, bytes.len() as u64, total),
        )
        .body(bytes.to_vec())
        .send()
        .await
        .expect("answered");
    let resp = no_5xx(resp).await;
    let status = resp.status().as_u16();
    (status, expect_json(resp, status).await)
}

/// A fixed shuffle of `0..n` (a multiplicative permutation).
fn shuffled(n: usize) -> Vec<usize> {
    let step = (1..n)
        .rev()
        .find(|s| gcd(*s, n) == 1 && *s > n / 2)
        .unwrap_or(1);
    (0..n).map(|i| (i * step + 5) % n).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_shuffled_parts_and_a_race_on_one_range() {
    let t = TestServer::start(|_| {}).await;
    const PARTS: usize = 24;
    const RACED: usize = 11;
    let base = data(PARTS * PART_SIZE as usize - 1000, 1);
    let total = base.len() as u64;
    let s = t.new_session(ALICE, "0", "parallel.bin", total).await;
    assert_eq!(s["total_parts"], PARTS);
    let url = endpoint(&s, "upload_part");
    let range = RACED * PART_SIZE as usize..(RACED + 1) * PART_SIZE as usize;
    let variants = [data(PART_SIZE as usize, 100), data(PART_SIZE as usize, 200)];

    let order: Vec<usize> = shuffled(PARTS)
        .into_iter()
        .filter(|i| *i != RACED)
        .collect();
    assert_eq!(order.len(), PARTS - 1);
    let barrier = Arc::new(Barrier::new(10));
    let uploaders = (0..8).map(|c| {
        let mine: Vec<usize> = order.iter().copied().skip(c).step_by(8).collect();
        let (barrier, url, base) = (barrier.clone(), url.clone(), &base);
        async move {
            let client = client();
            barrier.wait().await;
            let mut statuses = Vec::new();
            for i in mine {
                let offset = i as u64 * PART_SIZE;
                let end = (offset + PART_SIZE).min(total) as usize;
                statuses.push(
                    put_with(&client, &url, offset, &base[offset as usize..end], total).await,
                );
            }
            statuses
        }
    });
    let racers = variants.iter().map(|bytes| {
        let (barrier, url) = (barrier.clone(), url.clone());
        async move {
            let client = client();
            barrier.wait().await;
            put_with(&client, &url, RACED as u64 * PART_SIZE, bytes, total).await
        }
    });
    let (uploaded, raced) = tokio::join!(join_all(uploaders), join_all(racers));
    for (status, v) in uploaded.iter().flatten() {
        assert_eq!(*status, 200, "{v}");
    }

    let winners: Vec<usize> = (0..2).filter(|i| raced[*i].0 == 200).collect();
    assert_eq!(winners.len(), 1, "exactly one racer wins: {raced:?}");
    let (w, l) = (winners[0], 1 - winners[0]);
    assert_eq!(raced[l].0, 416, "{:?}", raced[l]);
    let loser = &raced[l].1;
    assert_error_shape(loser, 416);
    assert_eq!(loser["code"], "range_overlaps_existing_part");
    let winner_part = &raced[w].1["part"];
    assert_eq!(winner_part["sha1"], sha1_hex(&variants[w]));
    assert_eq!(
        loser["context_info"]["conflicting_part"]["sha1"],
        sha1_hex(&variants[w])
    );
    assert_eq!(
        loser["context_info"]["conflicting_part"]["part_id"],
        winner_part["part_id"]
    );

    let mut expected = base.clone();
    expected[range.clone()].copy_from_slice(&variants[w]);
    let listed = expect_json(
        t.get(
            ALICE,
            &format!(
                "{}/parts?limit=1000",
                TestServer::session_path(UPLOAD, &id(&s))
            ),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(listed["total_count"], PARTS);
    let entries = listed["entries"].as_array().unwrap();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["offset"], i as u64 * PART_SIZE, "sorted by offset");
        let end = ((i + 1) * PART_SIZE as usize).min(expected.len());
        assert_eq!(
            e["sha1"],
            sha1_hex(&expected[i * PART_SIZE as usize..end]),
            "part {i}"
        );
    }
    let status = expect_json(
        t.get(ALICE, &TestServer::session_path(UPLOAD, &id(&s)))
            .await,
        200,
    )
    .await;
    assert_eq!(status["num_parts_processed"], PARTS);

    // The loser's bytes do not make the file; the winner's do.
    let mut losing = base.clone();
    losing[range].copy_from_slice(&variants[l]);
    let commit_url = endpoint(&s, "commit");
    let r = t.commit(ALICE, &commit_url, entries, &losing).await;
    expect_error(r, 400, "digest_mismatch").await;
    let files = expect_json(t.commit(ALICE, &commit_url, entries, &expected).await, 201).await;
    let file = &files["entries"][0];
    assert_eq!(file["sha1"], sha1_hex(&expected));
    assert_eq!(t.download(ALICE, &id(file)).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sessions_upload_and_commit_concurrently() {
    const SMALL_PART: u64 = 1024;
    const SESSIONS: usize = 120;
    let t = TestServer::start(|o| o.service.part_size = Some(SMALL_PART)).await;
    let folders = [
        t.new_folder(ALICE, "0", "a").await,
        t.new_folder(ALICE, "0", "b").await,
    ];
    let barrier = Arc::new(Barrier::new(SESSIONS));
    let runs = (0..SESSIONS).map(|i| {
        let (t, barrier) = (&t, barrier.clone());
        let folder = id(&folders[i % 2]);
        async move {
            let bytes = data(2 * SMALL_PART as usize + 1 + i * 7, 1000 + i as u64);
            let name = format!("file-{i:03}.bin");
            let total = bytes.len() as u64;
            barrier.wait().await;
            let s = t.new_session(ALICE, &folder, &name, total).await;
            assert_eq!(s["total_parts"], 3);
            let url = endpoint(&s, "upload_part");
            let pieces = chunks(&bytes, SMALL_PART);
            // Parts of one session in flight at once, last first.
            let puts = pieces
                .iter()
                .rev()
                .map(|(offset, chunk)| t.put_part_ok(ALICE, &url, *offset, chunk, total));
            let mut parts: Vec<Value> = join_all(puts).await;
            parts.reverse();
            for ((offset, chunk), p) in pieces.iter().zip(&parts) {
                assert_eq!(
                    (p["offset"].as_u64(), &p["sha1"]),
                    (Some(*offset), &json!(sha1_hex(chunk)))
                );
            }
            let files = expect_json(
                t.commit(ALICE, &endpoint(&s, "commit"), &parts, &bytes)
                    .await,
                201,
            )
            .await;
            let file = files["entries"][0].clone();
            assert_eq!(file["name"], name.as_str());
            assert_eq!(file["parent"]["id"], folder.as_str());
            assert_eq!(t.download(ALICE, &id(&file)).await, bytes, "{name}");
            id(&file)
        }
    });
    let mut ids = join_all(runs).await;
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), SESSIONS, "every commit made its own file");
    for f in &folders {
        assert_eq!(t.items(ALICE, &id(f)).await["total_count"], SESSIONS / 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_retries_and_racing_commits_are_idempotent() {
    let t = TestServer::start(|_| {}).await;
    let bytes = data(2 * PART_SIZE as usize + 5, 77);
    let total = bytes.len() as u64;
    let s = t.new_session(ALICE, "0", "retried.bin", total).await;
    let url = endpoint(&s, "upload_part");
    let pieces = chunks(&bytes, PART_SIZE);
    // Each part sent 4 times at once, as an over-eager retry would.
    let puts = pieces.iter().flat_map(|(offset, chunk)| {
        let url = url.clone();
        (0..4).map(move |_| {
            let url = url.clone();
            async move { put_with(&client(), &url, *offset, chunk, total).await }
        })
    });
    let answers = join_all(puts).await;
    let mut parts = Vec::new();
    for group in answers.chunks(4) {
        for (status, v) in group {
            assert_eq!(*status, 200, "an identical retry is a 200: {v}");
            assert_eq!(
                v["part"], group[0].1["part"],
                "every retry gets the stored part"
            );
        }
        parts.push(group[0].1["part"].clone());
    }
    let status = expect_json(
        t.get(ALICE, &TestServer::session_path(UPLOAD, &id(&s)))
            .await,
        200,
    )
    .await;
    assert_eq!(status["num_parts_processed"], 3);

    let commit_url = endpoint(&s, "commit");
    let commits = (0..3).map(|_| t.commit(ALICE, &commit_url, &parts, &bytes));
    let mut files = Vec::new();
    for r in join_all(commits).await {
        files.push(expect_json(r, 201).await["entries"][0].clone());
    }
    for f in &files {
        assert_eq!(f["id"], files[0]["id"]);
        assert_eq!(f["file_version"]["id"], files[0]["file_version"]["id"]);
    }
    assert_eq!(
        t.items(ALICE, "0").await["total_count"],
        1,
        "one file, however many commits"
    );
    assert_eq!(t.download(ALICE, &id(&files[0])).await, bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_upload_racing_an_abort_gets_404_and_leaves_no_object() {
    let t = TestServer::start(|_| {}).await;
    let bytes = data(2 * PART_SIZE as usize, 78);
    let total = bytes.len() as u64;
    let s = t.new_session(ALICE, "0", "racing-abort.bin", total).await;
    let part = bytes[..PART_SIZE as usize].to_vec();
    let (first, rest) = (part[..1000].to_vec(), part[1000..].to_vec());
    let (release, gate) = tokio::sync::oneshot::channel::<()>();
    // The body's second half is held back until the abort has answered.
    let body = futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(
        futures::stream::once(async move {
            let _ = gate.await;
            Ok(rest)
        }),
    );
    let put = t
        .req_url(Method::PUT, ALICE, &endpoint(&s, "upload_part"))
        .header("digest", format!("sha={}", sha1_b64(&part)))
        .header("content-range", content_range(0, PART_SIZE, total))
        .body(reqwest::Body::wrap_stream(body));
    let abort = async {
        let r = t
            .send(t.req_url(Method::DELETE, ALICE, &endpoint(&s, "abort")))
            .await;
        let _ = release.send(());
        r
    };
    let (put, abort) = tokio::join!(t.send(put), abort);
    expect_empty(abort, 204).await;
    expect_error(put, 404, "not_found").await;
    let r = t
        .get(ALICE, &TestServer::session_path(UPLOAD, &id(&s)))
        .await;
    expect_error(r, 404, "not_found").await;
    assert!(
        t.object_files().is_empty(),
        "the rejected part was discarded"
    );
    let tmp = walk(&t.data_dir.join("parts").join("tmp"));
    assert!(tmp.is_empty(), "no temporary file is left: {tmp:?}");
}
