//! The OpenAPI 3.1 document of the API, served at `GET /openapi.json`.
//!
//! It is generated from the handlers' `#[utoipa::path]` attributes and the
//! wire models' `ToSchema` derives (boxup-protocol's `openapi` feature), so
//! it changes with the code rather than drifting from it; the HTTP tests
//! check every route of `routes.rs` against it. Every error answer refers to
//! Box's error object, named `ClientError` as in Box's own document, and
//! every operation also gets a `default` error answer, so a client (or a
//! fuzzer such as schemathesis) can validate any failure against it.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use boxup_protocol::BoxError;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, ResponseBuilder, content::ContentBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{downloads, files, folders, sessions};

/// A `multipart/form-data` upload body: `attributes` first, then the file.
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used; multipart.rs parses the body.
pub(super) struct UploadForm {
    /// JSON: `{"name": …, "parent": {"id": …}}` (`UploadAttributes`).
    attributes: String,
    /// The file's bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "boxup",
        description = "A Box-compatible chunked-upload API (docs/protocol.md)."
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
    ),
    components(schemas(BoxError, UploadForm)),
    modifiers(&Security),
)]
struct ApiDoc;

/// The bearer scheme, and the shared error answers of every operation.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
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
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
            ];
            for op in operations.into_iter().flatten() {
                let responses = &mut op.responses.responses;
                if op.security.is_some() {
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

/// The document as JSON, built once.
pub(super) fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    })
}

/// `GET /openapi.json`: unauthenticated, like Box's published document.
pub(super) async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}
