//! `GET /openapi.json`: the generated OpenAPI 3.1 document matches the
//! router. Every path routes.rs serves (`boxup_server::http::route_paths`)
//! but the page's is documented, and nothing else; every documented
//! operation reaches a handler (no 404 "No such endpoint", no 405); and
//! every method the document leaves out of a documented path is one the
//! router refuses (405), so a route added to the router without its
//! `#[utoipa::path]` fails here. The links lead to documented operations.

use std::collections::{BTreeSet, HashSet};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::*;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "options"];

/// The page for people: routed, deliberately not in the document.
fn is_page(path: &str) -> bool {
    path == "/" || path.starts_with("/web/")
}

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

/// Every operation: (path, method, operation object).
fn each_operation(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, methods) in operations(doc) {
        for m in methods {
            let op = doc["paths"][&path][&m].clone();
            all.push((path.clone(), m, op));
        }
    }
    all
}

#[tokio::test]
async fn document_is_openapi_3_1_with_box_schema_names() {
    let server = TestServer::start(|_| {}).await;
    let doc = document(&server).await;
    let version = doc["openapi"].as_str().expect("openapi");
    assert!(version.starts_with("3.1."), "{version}");
    let description = doc["info"]["description"].as_str().expect("description");
    assert!(description.contains("/api/2.0"), "{description}");
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
        "AccessToken",
        "OAuth2Error",
        "PostOAuth2Token",
        "PostOAuth2Revoke",
    ] {
        assert!(schemas.contains_key(name), "no schema {name}");
    }
    // Item names in requests carry the server's rules (which the cases
    // schemathesis generates from this document then follow).
    let folder_name = &schemas["CreateFolderRequest"]["properties"]["name"];
    assert_eq!(
        (&folder_name["minLength"], &folder_name["maxLength"]),
        (&Value::from(1), &Value::from(255)),
        "{folder_name}"
    );
    assert_eq!(
        folder_name["pattern"],
        boxup_server::service::NAME_PATTERN,
        "{folder_name}"
    );
    let session_name = &schemas["CreateUploadSessionRequest"]["properties"]["file_name"];
    assert_eq!(session_name["pattern"], boxup_server::service::NAME_PATTERN);
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["scheme"], "bearer", "{bearer}");
    let mut ids = HashSet::new();
    for (path, m, op) in each_operation(&doc) {
        // Box's operation ids, each once.
        let id = op["operationId"].as_str().expect("operationId");
        assert!(id.starts_with(&format!("{m}_")), "{m} {path}: {id}");
        assert!(ids.insert(id.to_owned()), "{id} twice");
        // The API needs the bearer token; OAuth, download links, liveness
        // and this document need none.
        let security = &op["security"];
        if path.starts_with("/2.0/") {
            assert!(security[0].get("bearer").is_some(), "{m} {path}");
        } else if path == "/metrics" {
            assert!(security[0].get("metricsToken").is_some(), "{m} {path}");
        } else {
            assert_eq!(security, &serde_json::json!([{}]), "{m} {path}");
        }
        // Every error answer is Box's error object, but OAuth's 400 and 429.
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with(['1', '2', '3']) {
                continue;
            }
            let oauth = path.starts_with("/oauth2/") && (status == "400" || status == "429");
            let want = if oauth { "OAuth2Error" } else { "ClientError" };
            let schema = &response["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(
                schema,
                &format!("#/components/schemas/{want}"),
                "{m} {path} {status}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let server = TestServer::start(|_| {}).await;
    let doc = document(&server).await;
    let documented = operations(&doc);
    let mut want: Vec<String> = boxup_server::http::route_paths()
        .into_iter()
        .filter(|p| !is_page(p))
        .collect();
    want.sort();
    let mut got: Vec<String> = documented.iter().map(|(p, _)| p.clone()).collect();
    got.sort();
    assert_eq!(got, want, "the document's paths differ from routes.rs");

    for (path, methods) in &documented {
        let concrete = path.replace("{id}", "123").replace("{token}", "123");
        for m in METHODS {
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let r = server.send(server.req(method, ALICE, &concrete)).await;
            let status = r.status();
            // `/metrics` answers text; everything else JSON or nothing.
            let text = r.text().await.expect("a body");
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if methods.contains(m) {
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{m} {path}: {text}");
                assert!(
                    !(status == StatusCode::NOT_FOUND && body["message"] == "No such endpoint"),
                    "{m} {path} is documented but not routed"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{m} {path} is routed but not documented: {text}"
                );
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn links_lead_to_documented_operations_and_their_parameters() {
    let server = TestServer::start(|_| {}).await;
    let doc = document(&server).await;
    let all = each_operation(&doc);
    let by_id = |id: &str| {
        all.iter()
            .find(|(_, _, op)| op["operationId"] == id)
            .map(|(_, _, op)| op.clone())
    };
    let mut count = 0;
    for (path, m, op) in &all {
        for (status, response) in op["responses"].as_object().unwrap() {
            let Some(links) = response.get("links").and_then(Value::as_object) else {
                continue;
            };
            for (name, link) in links {
                count += 1;
                let to = link["operationId"].as_str().expect("operationId");
                assert_eq!(name, to, "{m} {path} {status}");
                let target = by_id(to).unwrap_or_else(|| panic!("{m} {path}: no {to}"));
                let params: Vec<&str> = target["parameters"]
                    .as_array()
                    .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
                    .unwrap_or_default();
                for (param, value) in link["parameters"].as_object().into_iter().flatten() {
                    assert!(params.contains(&param.as_str()), "{to} has no {param}");
                    assert!(value.as_str().unwrap().starts_with("$response."));
                }
                if link.get("requestBody").is_some() {
                    assert!(target.get("requestBody").is_some(), "{to} takes no body");
                }
            }
        }
    }
    // Sessions (2 × 7), files (4 × 8), folders (2 × 5 + 2 × 3), the redirect.
    assert_eq!(count, 14 + 32 + 16 + 1);
    server.stop().await;
}
