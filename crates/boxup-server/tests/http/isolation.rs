//! Users are isolated: bob gets 404 (never 403) on every route that names
//! one of alice's items, exactly as for an id that does not exist, and
//! his attempts change nothing of alice's.

use crate::common::*;
use crate::isolation_attempts::{Bob, attempts, setup};
use reqwest::Response;

/// `(what, status, code)` of each attempt.
async fn outcomes(list: Vec<(String, Response)>) -> Vec<(String, u16, String)> {
    let mut out = Vec::new();
    for (what, r) in list {
        let status = r.status().as_u16();
        let v = expect_error_any(r, status).await;
        out.push((what, status, v["code"].as_str().unwrap().to_owned()));
    }
    out
}

#[tokio::test]
async fn bob_gets_404_on_every_route_naming_alices_items() {
    let t = TestServer::start(|_| {}).await;
    let a = setup(&t).await;
    let (file, folder, sid) = (id(&a.file), id(&a.folder), id(&a.session));
    let committed_sid_file = id(&a.committed);
    let bob = Bob {
        file: id(&t.upload_file(BOB, "0", "bob.txt", b"bob's").await),
        folder: id(&t.new_folder(BOB, "0", "bob's").await),
    };
    for prefix in PREFIXES {
        let real = outcomes(attempts(&t, prefix, &file, &folder, &sid, &a, &bob).await).await;
        // The same requests with ids that exist for nobody.
        let ghost = outcomes(
            attempts(
                &t,
                prefix,
                "88888888",
                "77777777",
                "0123456789ABCDEF0123456789ABCDEF",
                &a,
                &bob,
            )
            .await,
        )
        .await;
        for ((what, status, code), (_, g_status, g_code)) in real.iter().zip(&ghost) {
            assert_eq!(
                *status, 404,
                "{what}: bob must get 404, got {status} {code}"
            );
            assert_eq!(
                (status, code),
                (g_status, g_code),
                "{what}: alice's item must look like a missing one"
            );
            let by_id = !what.ends_with("in folder");
            if by_id {
                assert_eq!(code, "not_found", "{what}");
            } else {
                assert!(
                    code == "not_found" || code == "invalid_parameter",
                    "{what}: {code}"
                );
            }
        }
        // The committed file too.
        expect_error(
            t.get(BOB, &format!("{prefix}/files/{committed_sid_file}"))
                .await,
            404,
            "not_found",
        )
        .await;
        expect_error(
            t.get(BOB, &format!("{prefix}/files/{committed_sid_file}/content"))
                .await,
            404,
            "not_found",
        )
        .await;
    }

    // Nothing of alice's changed.
    let f = expect_json(t.get(ALICE, &format!("{API}/files/{file}")).await, 200).await;
    assert_eq!(
        (&f["etag"], &f["file_version"], &f["name"]),
        (&a.file["etag"], &a.file["file_version"], &a.file["name"])
    );
    assert_eq!(t.download(ALICE, &file).await, a.file_bytes);
    let c = expect_json(
        t.get(ALICE, &format!("{API}/files/{}", id(&a.committed)))
            .await,
        200,
    )
    .await;
    assert_eq!(c["etag"], a.committed["etag"]);
    assert_eq!(
        t.download(ALICE, &id(&a.committed)).await,
        a.committed_bytes
    );
    let items = t.items(ALICE, &folder).await;
    let mut names: Vec<&str> = items["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["big.bin", "secret.txt"], "bob added nothing");
    let status = expect_json(
        t.get(ALICE, &TestServer::session_path(UPLOAD, &sid)).await,
        200,
    )
    .await;
    assert_eq!(status["num_parts_processed"], 1);
    let listed = expect_json(
        t.get(
            ALICE,
            &format!("{}/parts", TestServer::session_path(UPLOAD, &sid)),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(listed["total_count"], 1);
    assert_eq!(listed["entries"][0], a.part);
    let mut bobs: Vec<String> = t.items(BOB, "0").await["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    bobs.sort();
    let mut own = vec![bob.file.clone(), bob.folder.clone()];
    own.sort();
    assert_eq!(bobs, own, "bob's root holds only his own items");
    assert_eq!(
        expect_json(t.get(ALICE, &format!("{API}/folders/{folder}")).await, 200).await["name"],
        a.folder["name"]
    );

    // Alice's session still completes.
    let second = &a.session_bytes[PART_SIZE as usize..];
    let p2 = t
        .put_part_ok(
            ALICE,
            &endpoint(&a.session, "upload_part"),
            PART_SIZE,
            second,
            a.session_bytes.len() as u64,
        )
        .await;
    let r = t
        .commit(
            ALICE,
            &endpoint(&a.session, "commit"),
            &[a.part.clone(), p2],
            &a.session_bytes,
        )
        .await;
    let done = expect_json(r, 201).await;
    assert_eq!(
        t.download(ALICE, &id(&done["entries"][0])).await,
        a.session_bytes
    );
}

#[tokio::test]
async fn each_user_has_an_own_root_and_names_do_not_collide() {
    let t = TestServer::start(|_| {}).await;
    let a = t.upload_file(ALICE, "0", "same.txt", b"alice").await;
    let b = t.upload_file(BOB, "0", "same.txt", b"bob").await;
    assert_ne!(a["id"], b["id"]);
    assert_eq!(t.download(ALICE, &id(&a)).await, b"alice");
    assert_eq!(t.download(BOB, &id(&b)).await, b"bob");
    for (token, file) in [(ALICE, &a), (BOB, &b)] {
        let root = expect_json(t.get(token, &format!("{API}/folders/0")).await, 200).await;
        assert_eq!(root["item_collection"]["total_count"], 1);
        assert_eq!(root["item_collection"]["entries"][0]["id"], file["id"]);
    }
    assert_ne!(
        expect_json(t.get(ALICE, &format!("{API}/folders/0")).await, 200).await["owned_by"]["id"],
        expect_json(t.get(BOB, &format!("{API}/folders/0")).await, 200).await["owned_by"]["id"],
    );
}
