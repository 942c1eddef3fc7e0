//! The OpenAPI 3.1 document of the API, served at `GET /openapi.json`.
//!
//! It is generated from the handlers' `#[utoipa::path]` attributes and the
//! wire models' `ToSchema` derives (boxup-protocol's `openapi` feature), so
//! it changes with the code rather than drifting from it; the HTTP tests
//! check every route of `routes.rs` against it.
//!
//! It covers the `/2.0` API (also served under `/api/2.0`, not listed
//! twice), OAuth 2.0 for apps (`/oauth2/token`, `/oauth2/revoke`), signed
//! download links (`/downloads/{token}`), `/metrics`, `/healthz` and
//! itself. The page for people (`/`, `/web/…`) is not part of the API and
//! is left out.
//!
//! Every error answer refers to Box's error object, named `ClientError` as
//! in Box's own document, except the OAuth endpoints' 400 and 429, which
//! are OAuth's `OAuth2Error`; every operation also gets a `default` error answer, so a
//! client (or a fuzzer such as schemathesis) can validate any failure
//! against it. Operation ids follow Box's document (`get_files_id`), and
//! the answers that create a resource link to the operations on it
//! (links.rs).

mod links;

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use boxup_protocol::BoxError;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, ResponseBuilder, content::ContentBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{downloads, files, folders, metrics, oauth, routes, sessions};

/// A `multipart/form-data` upload body: `attributes` first, then the file.
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used; multipart.rs parses the body.
pub(super) struct UploadForm {
    /// JSON: `{"name": …, "parent": {"id": …}}` (`UploadAttributes`).
    #[schema(example = r#"{"name": "Contract.pdf", "parent": {"id": "0"}}"#)]
    attributes: String,
    /// The file's bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "boxup",
        description = "A Box-compatible chunked-upload API (docs/protocol.md). \
            Every `/2.0` route is also served under `/api/2.0` (not listed twice)."
    ),
    paths(
        sessions::create,
        sessions::create_for_version,
        sessions::get,
        sessions::upload_part,
        sessions::abort,
        sessions::list_parts,
        sessions::commit,
        sessions::plan,
        sessions::log_event,
        files::upload,
        files::preflight_new,
        files::upload_version,
        files::preflight_version,
        files::get,
        files::update,
        files::delete,
        files::copy,
        downloads::redirect,
        folders::create,
        folders::get,
        folders::update,
        folders::delete,
        folders::items,
        folders::copy,
        folders::me,
        downloads::by_link,
        oauth::token,
        oauth::revoke,
        metrics::scrape,
        routes::healthz,
        serve,
    ),
    components(schemas(BoxError, UploadForm)),
    modifiers(&Security),
)]
struct ApiDoc;

/// The bearer schemes, Box's operation ids and the shared error answers of
/// every operation.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "metricsToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The metrics token (`--metrics-token-file`); without one \
                         configured, only loopback peers may scrape",
                    ))
                    .build(),
            ),
        );
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                "ClientError",
                            ))))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("options", &mut item.options),
            ];
            for (method, op) in operations {
                let Some(op) = op else { continue };
                op.operation_id = Some(operation_id(method, path));
                let responses = &mut op.responses.responses;
                // The API's routes: the bearer token and its request budget.
                if path.starts_with("/2.0/") {
                    responses
                        .entry("401".to_owned())
                        .or_insert_with(|| error("No or an unknown bearer token"));
                    responses
                        .entry("429".to_owned())
                        .or_insert_with(|| error("The caller's request budget is spent"));
                }
                responses
                    .entry("default".to_owned())
                    .or_insert_with(|| error("Any other failure: Box's error object"));
            }
        }
    }
}

/// Box's operation id: the method, then the path without the API prefix,
/// `_`-separated (`GET /2.0/files/{id}/content`: `get_files_id_content`).
fn operation_id(method: &str, path: &str) -> String {
    let path = path.strip_prefix("/2.0").unwrap_or(path);
    let words = path
        .split(['/', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches(['{', '}']));
    std::iter::once(method)
        .chain(words)
        .collect::<Vec<_>>()
        .join("_")
}

/// The request fields that name an item, by schema.
const NAME_FIELDS: &[(&str, &str)] = &[
    ("CreateFolderRequest", "name"),
    ("UpdateItemRequest", "name"),
    ("CopyItemRequest", "name"),
    ("UploadAttributes", "name"),
    ("CreateUploadSessionRequest", "file_name"),
    ("CreateVersionUploadSessionRequest", "file_name"),
];

/// States the name rules (`service/names.rs`) on every request field that
/// names an item: 1 to 255 characters matching `NAME_PATTERN`. Added to
/// the JSON, from the rule's own constant, so the two cannot disagree.
fn name_rules(doc: &mut serde_json::Value) {
    for (schema, field) in NAME_FIELDS {
        let property = &mut doc["components"]["schemas"][*schema]["properties"][*field];
        assert!(property.is_object(), "{schema}.{field} is in the document");
        property["minLength"] = 1.into();
        property["maxLength"] = 255.into();
        property["pattern"] = crate::service::NAME_PATTERN.into();
    }
}

/// The document as JSON, built once.
pub(super) fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        links::add(&mut doc);
        name_rules(&mut doc);
        serde_json::to_string_pretty(&doc).expect("JSON serialises")
    })
}

/// `GET /openapi.json`: unauthenticated, like Box's published document.
#[utoipa::path(get, path = "/openapi.json", tag = "OpenAPI",
    responses((status = 200, description = "This document", content_type = "application/json",
        body = Object)),
    security(()))]
pub(super) async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}
