//! `GET /openapi.json`: the generated OpenAPI 3.1 document matches the
//! router. Every `/2.0` route (listed here as in routes.rs) is documented
//! with its methods; every documented operation reaches a handler (no 404
//! "No such endpoint", no 405); and every method the document leaves out of
//! a documented path is one the router refuses (405), so a route added to
//! the router without its `#[utoipa::path]` fails here.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::*;

/// Every route of routes.rs's `api()` under `/2.0`, with its methods.
const API_ROUTES: &[(&str, &[&str])] = &[
    ("/2.0/files/upload_sessions", &["post"]),
    ("/2.0/files/{id}/upload_sessions", &["post"]),
    ("/2.0/files/upload_sessions/{id}", &["get", "put", "delete"]),
    ("/2.0/files/upload_sessions/{id}/parts", &["get"]),
    ("/2.0/files/upload_sessions/{id}/commit", &["post"]),
    ("/2.0/files/upload_sessions/{id}/log", &["post"]),
    ("/2.0/files/upload_sessions/{id}/plan", &["post"]),
    ("/2.0/files/content", &["post", "options"]),
    ("/2.0/files/{id}/content", &["get", "post", "options"]),
    ("/2.0/files/{id}", &["get", "put", "delete"]),
    ("/2.0/files/{id}/copy", &["post"]),
    ("/2.0/folders", &["post"]),
    ("/2.0/folders/{id}", &["get", "put", "delete"]),
    ("/2.0/folders/{id}/items", &["get"]),
    ("/2.0/folders/{id}/copy", &["post"]),
    ("/2.0/users/me", &["get"]),
];

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "options"];

async fn document(server: &TestServer) -> Value {
    // Unauthenticated.
    let r = server
        .send(server.client.get(server.url("/openapi.json")))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{ct}");
    r.json().await.expect("the document is JSON")
}

/// The documented operations: path → methods.
fn operations(doc: &Value) -> Vec<(String, BTreeSet<String>)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .map(|(path, item)| {
            let methods = METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| m.to_string())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

#[tokio::test]
async fn document_is_openapi_3_1_with_box_schema_names() {
    let server = TestServer::start(|_| {}).await;
    let doc = document(&server).await;
    let version = doc["openapi"].as_str().expect("openapi");
    assert!(version.starts_with("3.1."), "{version}");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "UploadSession",
        "UploadPart",
        "UploadParts",
        "UploadedPart",
        "File",
        "Files",
        "Folder",
        "Items",
        "User",
        "ClientError",
    ] {
        assert!(schemas.contains_key(name), "no schema {name}");
    }
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["scheme"], "bearer", "{bearer}");
    // Every error answer of every operation is Box's error object, and
    // every operation needs the bearer token.
    for (path, methods) in operations(&doc) {
        for m in methods {
            let op = &doc["paths"][&path][&m];
            assert!(op["security"][0].get("bearer").is_some(), "{m} {path}");
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with(['1', '2', '3']) {
                    continue;
                }
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/ClientError",
                    "{m} {path} {status}"
                );
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let server = TestServer::start(|_| {}).await;
    let doc = document(&server).await;
    let documented = operations(&doc);
    let listed: Vec<(String, BTreeSet<String>)> = API_ROUTES
        .iter()
        .map(|(p, ms)| (p.to_string(), ms.iter().map(|m| m.to_string()).collect()))
        .collect();
    let mut want = listed.clone();
    want.sort();
    let mut got = documented.clone();
    got.sort();
    assert_eq!(got, want, "the document's operations differ from routes.rs");

    for (path, methods) in &documented {
        let concrete = path.replace("{id}", "123");
        for m in METHODS {
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let r = server.send(server.req(method, ALICE, &concrete)).await;
            let status = r.status();
            let body: Value = r.json().await.expect("Box's error object or JSON");
            if methods.contains(m) {
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{m} {path}: {body}");
                assert!(
                    !(status == StatusCode::NOT_FOUND && body["message"] == "No such endpoint"),
                    "{m} {path} is documented but not routed"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{m} {path} is routed but not documented: {body}"
                );
            }
        }
    }
    server.stop().await;
}
