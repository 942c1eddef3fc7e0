//! The document's links: which value of which answer names the resource
//! other operations act on (an upload session's `id`, a file's, a folder's,
//! a download link's token). A client can follow them; schemathesis's
//! stateful phase chains its requests with them, so that they reach real
//! sessions, files and folders rather than random ids.
//!
//! Operations are named by their `operationId` (see `operation_id` in
//! mod.rs); a link is named after the operation it leads to. They are added
//! to the document as JSON: utoipa 5.5's `Link` serialises its fields in
//! snake case (`operation_id`), which no OpenAPI reader understands.

use serde_json::{Map, Value, json};

/// What acts on an upload session, given its id as `id`.
const SESSION_OPS: &[&str] = &[
    "get_files_upload_sessions_id",
    "put_files_upload_sessions_id",
    "delete_files_upload_sessions_id",
    "get_files_upload_sessions_id_parts",
    "post_files_upload_sessions_id_commit",
    "post_files_upload_sessions_id_plan",
    "post_files_upload_sessions_id_log",
];

/// What acts on a file, given its id as `id`.
const FILE_OPS: &[&str] = &[
    "get_files_id",
    "put_files_id",
    "delete_files_id",
    "post_files_id_copy",
    "get_files_id_content",
    "post_files_id_content",
    "options_files_id_content",
    "post_files_id_upload_sessions",
];

/// What acts on a folder, given its id as `id`.
const FOLDER_OPS: &[&str] = &[
    "get_folders_id",
    "put_folders_id",
    "delete_folders_id",
    "get_folders_id_items",
    "post_folders_id_copy",
];

/// Where answers carry a resource's id: (operation, status, expression).
const SESSIONS_FROM: &[(&str, &str, &str)] = &[
    ("post_files_upload_sessions", "201", "$response.body#/id"),
    ("post_files_id_upload_sessions", "201", "$response.body#/id"),
];
const FILES_FROM: &[(&str, &str, &str)] = &[
    ("post_files_content", "201", "$response.body#/entries/0/id"),
    (
        "post_files_id_content",
        "200",
        "$response.body#/entries/0/id",
    ),
    (
        "post_files_upload_sessions_id_commit",
        "201",
        "$response.body#/entries/0/id",
    ),
    ("post_files_id_copy", "201", "$response.body#/id"),
];
const FOLDERS_FROM: &[(&str, &str, &str)] = &[
    ("post_folders", "201", "$response.body#/id"),
    ("post_folders_id_copy", "201", "$response.body#/id"),
];

/// Adds every link to `doc`. Panics on an operation or answer the document
/// does not have (the OpenAPI test serves the document, so it fails there).
pub(super) fn add(doc: &mut Value) {
    let groups = [
        (SESSIONS_FROM, SESSION_OPS),
        (FILES_FROM, FILE_OPS),
        (FOLDERS_FROM, FOLDER_OPS),
    ];
    for (sources, targets) in groups {
        for &(from, status, id) in sources {
            for &to in targets {
                link(doc, from, status, to, &[("id", id)], None);
            }
        }
    }
    // A new folder is a parent for new items.
    for &(from, status, id) in FOLDERS_FROM {
        let parent = json!({"parent": {"id": id}});
        link(doc, from, status, "post_folders", &[], Some(parent.clone()));
        link(
            doc,
            from,
            status,
            "options_files_content",
            &[],
            Some(parent),
        );
        let folder = json!({"folder_id": id});
        link(
            doc,
            from,
            status,
            "post_files_upload_sessions",
            &[],
            Some(folder),
        );
    }
    // The redirect's Location is the signed download link.
    let token = "$response.header.Location#regex:/downloads/([^?#]+)";
    link(
        doc,
        "get_files_id_content",
        "302",
        "get_downloads_token",
        &[("token", token)],
        None,
    );
}

fn link(
    doc: &mut Value,
    from: &str,
    status: &str,
    to: &str,
    parameters: &[(&str, &str)],
    body: Option<Value>,
) {
    let mut built = Map::new();
    built.insert("operationId".into(), to.into());
    if !parameters.is_empty() {
        let parameters = parameters
            .iter()
            .map(|&(k, v)| (k.to_owned(), Value::from(v)));
        built.insert("parameters".into(), parameters.collect());
    }
    if let Some(body) = body {
        built.insert("requestBody".into(), body);
    }
    let operation = doc["paths"]
        .as_object_mut()
        .expect("paths")
        .values_mut()
        .flat_map(|item| item.as_object_mut().expect("a path item").values_mut())
        .find(|op| op["operationId"] == from)
        .unwrap_or_else(|| panic!("no operation {from}"));
    let response = operation["responses"]
        .get_mut(status)
        .unwrap_or_else(|| panic!("{from} has no {status} answer"));
    let links = response
        .as_object_mut()
        .expect("a response")
        .entry("links")
        .or_insert_with(|| json!({}));
    links[to] = Value::Object(built);
}
