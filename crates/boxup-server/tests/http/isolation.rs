//! Users are isolated: bob gets 404 (never 403) on every route that names
//! one of alice's items, exactly as for an id that does not exist, and
//! his attempts change nothing of alice's.

use crate::common::*;
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// Alice's items.
struct Alice {
    folder: Value,
    file: Value,
    file_bytes: Vec<u8>,
    committed: Value,
    committed_bytes: Vec<u8>,
    session: Value,
    part: Value,
    session_bytes: Vec<u8>,
}

async fn setup(t: &TestServer) -> Alice {
    let folder = t.new_folder(ALICE, "0", "private").await;
    let file_bytes = data(300, 1);
    let file = t
        .upload_file(ALICE, &id(&folder), "secret.txt", &file_bytes)
        .await;
    let committed_bytes = data(PART_SIZE as usize + 50, 2);
    let committed = t
        .session_upload(ALICE, &id(&folder), "big.bin", &committed_bytes)
        .await;
    let session_bytes = data(2 * PART_SIZE as usize, 3);
    let session = t
        .new_session(
            ALICE,
            &id(&folder),
            "pending.bin",
            session_bytes.len() as u64,
        )
        .await;
    let part = t
        .put_part_ok(
            ALICE,
            &endpoint(&session, "upload_part"),
            0,
            &session_bytes[..PART_SIZE as usize],
            session_bytes.len() as u64,
        )
        .await;
    Alice {
        folder,
        file,
        file_bytes,
        committed,
        committed_bytes,
        session,
        part,
        session_bytes,
    }
}

/// Bob's own items, which he tries to put into alice's folder.
struct Bob {
    file: String,
    folder: String,
}

/// Every request bob can make against ids (file, folder, session),
/// under one prefix.
async fn attempts(
    t: &TestServer,
    prefix: &str,
    file: &str,
    folder: &str,
    sid: &str,
    a: &Alice,
    bob: &Bob,
) -> Vec<(String, Response)> {
    let mut out = Vec::new();
    let total = a.session_bytes.len() as u64;
    let s = TestServer::session_path(prefix, sid);
    let multipart_to = |url: String, attrs: Value| async move {
        let (ct, body) = multipart(&attrs.to_string(), b"bob was here", false);
        t.send(
            t.req(Method::POST, BOB, &url)
                .header("content-type", ct)
                .body(body),
        )
        .await
    };
    let second = &a.session_bytes[PART_SIZE as usize..];
    let parts = vec![a.part.clone()];
    let put = |path: String, body: Value| async move {
        t.send(t.req(Method::PUT, BOB, &path).json(&body)).await
    };
    let into = json!({"parent": {"id": folder}});
    let to_bobs_root = json!({"parent": {"id": "0"}, "name": "stolen"});
    let reqs: Vec<(&str, Response)> = vec![
        (
            "GET file",
            t.get(BOB, &format!("{prefix}/files/{file}")).await,
        ),
        (
            "DELETE file",
            t.delete(BOB, &format!("{prefix}/files/{file}")).await,
        ),
        (
            "download",
            t.get(BOB, &format!("{prefix}/files/{file}/content")).await,
        ),
        (
            "new version",
            multipart_to(format!("{prefix}/files/{file}/content"), json!({})).await,
        ),
        (
            "preflight version",
            t.send(
                t.req(
                    Method::OPTIONS,
                    BOB,
                    &format!("{prefix}/files/{file}/content"),
                )
                .json(&json!({"size": 3})),
            )
            .await,
        ),
        (
            "version session",
            t.post_json(
                BOB,
                &format!("{prefix}/files/{file}/upload_sessions"),
                &json!({"file_size": 10}),
            )
            .await,
        ),
        ("GET session", t.get(BOB, &s).await),
        (
            "PUT part",
            t.put_part(BOB, &t.url(&s), PART_SIZE, second, total).await,
        ),
        (
            "PUT same part",
            t.put_part(
                BOB,
                &t.url(&s),
                0,
                &a.session_bytes[..PART_SIZE as usize],
                total,
            )
            .await,
        ),
        ("list parts", t.get(BOB, &format!("{s}/parts")).await),
        (
            "commit",
            t.commit(
                BOB,
                &t.url(&format!("{s}/commit")),
                &parts,
                &a.session_bytes,
            )
            .await,
        ),
        (
            "log",
            t.post_json(BOB, &format!("{s}/log"), &json!({})).await,
        ),
        (
            "plan",
            t.post_json(BOB, &format!("{s}/plan"), &json!({"parts": []}))
                .await,
        ),
        ("DELETE session", t.delete(BOB, &s).await),
        (
            "GET folder",
            t.get(BOB, &format!("{prefix}/folders/{folder}")).await,
        ),
        (
            "folder items",
            t.get(BOB, &format!("{prefix}/folders/{folder}/items"))
                .await,
        ),
        (
            "folder in folder",
            t.post_json(
                BOB,
                &format!("{prefix}/folders"),
                &json!({"name": "bob", "parent": {"id": folder}}),
            )
            .await,
        ),
        (
            "session in folder",
            t.create_session(BOB, prefix, folder, "bob.bin", 10).await,
        ),
        (
            "upload in folder",
            t.simple_upload(BOB, prefix, folder, "bob.txt", b"bob")
                .await,
        ),
        (
            "PUT file",
            put(format!("{prefix}/files/{file}"), json!({"name": "mine"})).await,
        ),
        (
            "copy file",
            t.post_json(BOB, &format!("{prefix}/files/{file}/copy"), &to_bobs_root)
                .await,
        ),
        (
            "PUT folder",
            put(
                format!("{prefix}/folders/{folder}"),
                json!({"name": "mine"}),
            )
            .await,
        ),
        (
            "DELETE folder",
            t.delete(BOB, &format!("{prefix}/folders/{folder}?recursive=true"))
                .await,
        ),
        (
            "copy folder",
            t.post_json(
                BOB,
                &format!("{prefix}/folders/{folder}/copy"),
                &to_bobs_root,
            )
            .await,
        ),
        (
            "move file in folder",
            put(format!("{prefix}/files/{}", bob.file), into.clone()).await,
        ),
        (
            "move folder in folder",
            put(format!("{prefix}/folders/{}", bob.folder), into.clone()).await,
        ),
        (
            "copy file in folder",
            t.post_json(BOB, &format!("{prefix}/files/{}/copy", bob.file), &into)
                .await,
        ),
        (
            "copy folder in folder",
            t.post_json(BOB, &format!("{prefix}/folders/{}/copy", bob.folder), &into)
                .await,
        ),
        (
            "preflight in folder",
            t.send(
                t.req(Method::OPTIONS, BOB, &format!("{prefix}/files/content"))
                    .json(&json!({"name": "bob", "size": 3, "parent": {"id": folder}})),
            )
            .await,
        ),
    ];
    for (what, r) in reqs {
        out.push((format!("{prefix} {what}"), r));
    }
    out
}

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
