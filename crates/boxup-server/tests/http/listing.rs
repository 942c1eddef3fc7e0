//! Folder listings: field selection, offset and marker paging, and
//! `GET /users/me` (docs/protocol.md §5.8, §5.12).

use std::collections::BTreeSet;

use crate::common::*;
use serde_json::{Value, json};

/// The fields a sync tool lists with.
const SYNC_FIELDS: &str = "type,id,sequence_id,etag,sha1,name,size,created_at,modified_at,\
content_created_at,content_modified_at,item_status,shared_link,owned_by";

async fn page(t: &TestServer, token: &str, path: &str) -> Value {
    expect_json(t.get(token, path).await, 200).await
}

fn ids(v: &Value) -> Vec<String> {
    v["entries"].as_array().unwrap().iter().map(id).collect()
}

#[tokio::test]
async fn entries_are_mini_by_default_and_carry_requested_fields() {
    let t = TestServer::start(|_| {}).await;
    let folder = t.new_folder(ALICE, "0", "f").await;
    let file = t.upload_file(ALICE, &id(&folder), "a.txt", b"hello").await;
    let mini = page(&t, ALICE, &format!("{API}/folders/{}/items", id(&folder))).await;
    let entry = &mini["entries"][0];
    assert_eq!((&entry["id"], &entry["sha1"]), (&file["id"], &file["sha1"]));
    for absent in ["size", "item_status", "modified_at", "parent"] {
        assert!(
            entry.get(absent).is_none(),
            "{absent} in a mini entry: {entry}"
        );
    }
    let url = format!(
        "{API}/folders/{}/items?fields={SYNC_FIELDS},bogus_field",
        id(&folder)
    );
    let full = page(&t, ALICE, &url).await;
    let entry = &full["entries"][0];
    assert_eq!(entry["item_status"], "active");
    assert_eq!(entry["size"], 5);
    assert_eq!(entry["content_modified_at"], file["content_modified_at"]);
    assert_eq!(entry["owned_by"]["login"], "alice");
    assert!(entry["shared_link"].is_null());
    assert!(entry.get("bogus_field").is_none());
    assert!(
        entry.get("path_collection").is_none(),
        "only what was asked"
    );
    // A folder entry and the folder itself honour fields the same way.
    let root = page(
        &t,
        ALICE,
        &format!("{API}/folders/0/items?fields=item_status,parent,path_collection"),
    )
    .await;
    let f = &root["entries"][0];
    assert_eq!(
        (&f["type"], &f["item_status"], &f["parent"]["id"]),
        (&json!("folder"), &json!("active"), &json!("0"))
    );
    assert_eq!(f["path_collection"]["total_count"], 1);
    let got = page(
        &t,
        ALICE,
        &format!("{API}/folders/{}?fields=name,size", id(&folder)),
    )
    .await;
    assert_eq!((&got["name"], &got["size"]), (&json!("f"), &json!(0)));
    assert!(got.get("item_collection").is_none(), "{got}");
    let got = page(
        &t,
        ALICE,
        &format!("{API}/files/{}?fields=extension,item_status", id(&file)),
    )
    .await;
    assert_eq!(
        (&got["extension"], &got["item_status"]),
        (&json!("txt"), &json!("active"))
    );
    assert!(got.get("size").is_none());
}

#[tokio::test]
async fn marker_paging_walks_every_item_once_despite_concurrent_changes() {
    let t = TestServer::start(|_| {}).await;
    let folder = t.new_folder(ALICE, "0", "many").await;
    let fid = id(&folder);
    let mut expected = BTreeSet::new();
    for i in 0..6 {
        expected.insert(id(&t.new_folder(ALICE, &fid, &format!("d{i:02}")).await));
        expected.insert(id(&t
            .upload_file(ALICE, &fid, &format!("f{i:02}"), b"x")
            .await));
    }
    let base = format!("{API}/folders/{fid}/items?usemarker=true&limit=4&fields=name");
    let mut seen = Vec::new();
    let mut url = base.clone();
    let mut pages = 0;
    loop {
        let p = page(&t, ALICE, &url).await;
        assert!(
            p.get("total_count").is_none() && p.get("offset").is_none(),
            "{p}"
        );
        assert_eq!(p["limit"], 4);
        seen.extend(ids(&p));
        pages += 1;
        if pages == 1 {
            // Between pages: an item before the cursor goes, one after it comes.
            let first = p["entries"][0].clone();
            expect_empty(
                t.delete(ALICE, &format!("{API}/folders/{}", id(&first)))
                    .await,
                204,
            )
            .await;
            expected.remove(&id(&first));
            expected.insert(id(&t.upload_file(ALICE, &fid, "zz-late", b"y").await));
        }
        match p["next_marker"].as_str() {
            Some(m) => url = format!("{base}&marker={m}"),
            None => break,
        }
        assert!(pages < 10, "paging must end");
    }
    let first_seen = seen[0].clone();
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no item twice: {seen:?}");
    let mut want = expected.clone();
    want.insert(first_seen);
    assert_eq!(
        unique, want,
        "every item that lived throughout, and the late one"
    );
    assert_eq!(pages, 4, "13 items in pages of 4");
}

#[tokio::test]
async fn offset_paging_and_markers_of_others_are_refused() {
    let t = TestServer::start(|_| {}).await;
    let a = t.new_folder(ALICE, "0", "a").await;
    let b = t.new_folder(ALICE, "0", "b").await;
    for i in 0..3 {
        t.upload_file(ALICE, &id(&a), &format!("{i}"), b"x").await;
    }
    let p = page(
        &t,
        ALICE,
        &format!("{API}/folders/{}/items?offset=1&limit=1", id(&a)),
    )
    .await;
    assert_eq!(
        (&p["total_count"], &p["offset"], &p["limit"]),
        (&json!(3), &json!(1), &json!(1))
    );
    assert_eq!(p["entries"][0]["name"], "1");
    assert!(p.get("next_marker").is_none());
    let first = page(
        &t,
        ALICE,
        &format!("{API}/folders/{}/items?usemarker=true&limit=1", id(&a)),
    )
    .await;
    let marker = first["next_marker"].as_str().unwrap().to_owned();
    let next = page(
        &t,
        ALICE,
        &format!(
            "{API}/folders/{}/items?usemarker=true&marker={marker}",
            id(&a)
        ),
    )
    .await;
    assert_eq!(ids(&next).len(), 2);
    assert!(next["next_marker"].is_null());
    // The marker is bound to its folder and user, and cannot be altered.
    let mut tampered = marker.clone().into_bytes();
    tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (token, folder, m) in [
        (ALICE, id(&b), marker.as_str()),
        (ALICE, id(&a), tampered.as_str()),
        (ALICE, id(&a), "garbage"),
        (BOB, "0".to_owned(), marker.as_str()),
    ] {
        let url = format!("{API}/folders/{folder}/items?usemarker=true&marker={m}");
        expect_error(t.get(token, &url).await, 400, "invalid_marker").await;
    }
    expect_error(
        t.get(ALICE, &format!("{API}/folders/{}/items?limit=x", id(&a)))
            .await,
        400,
        "invalid_limit",
    )
    .await;
}

#[tokio::test]
async fn users_me_reports_space_used_by_every_version() {
    let t = TestServer::start(|_| {}).await;
    let me = page(&t, ALICE, &format!("{API}/users/me")).await;
    assert_eq!(
        (&me["type"], &me["login"], &me["space_used"]),
        (&json!("user"), &json!("alice"), &json!(0))
    );
    assert!(me["space_amount"].as_u64().unwrap() > 1 << 40);
    assert!(me["max_upload_size"].as_u64().unwrap() > 0);
    let f = t.upload_file(ALICE, "0", "a", &data(1000, 1)).await;
    let url = t.url(&format!("{UPLOAD}/files/{}/content", id(&f)));
    let r = t
        .multipart_post(ALICE, &url, &json!({}), &data(300, 2), None)
        .await;
    assert!(r.status().is_success());
    t.upload_file(BOB, "0", "b", &data(77, 3)).await;
    let me = page(&t, ALICE, &format!("{UPLOAD}/users/me")).await;
    assert_eq!(me["space_used"], 1300);
    assert_eq!(
        page(&t, BOB, &format!("{API}/users/me")).await["space_used"],
        77
    );
    expect_error(
        t.get("nobody", &format!("{API}/users/me")).await,
        401,
        "unauthorized",
    )
    .await;
}
