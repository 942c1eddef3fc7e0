//! What bob tries against alice's items in the isolation test: alice's
//! items, bob's own, and every request bob can make naming them.

use crate::common::*;
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// Alice's items.
pub(crate) struct Alice {
    pub(crate) folder: Value,
    pub(crate) file: Value,
    pub(crate) file_bytes: Vec<u8>,
    pub(crate) committed: Value,
    pub(crate) committed_bytes: Vec<u8>,
    pub(crate) session: Value,
    pub(crate) part: Value,
    pub(crate) session_bytes: Vec<u8>,
}

pub(crate) async fn setup(t: &TestServer) -> Alice {
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
pub(crate) struct Bob {
    pub(crate) file: String,
    pub(crate) folder: String,
}

/// Every request bob can make against ids (file, folder, session),
/// under one prefix.
pub(crate) async fn attempts(
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
