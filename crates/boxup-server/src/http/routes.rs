//! Every route, in one table. Each API route is served under both `/2.0`
//! and `/api/2.0` (docs/protocol.md §1.2): SDK generations disagree on where the
//! prefix goes, and users point both base URLs at one origin.
//!
//! The tables are built through [`Routes`], which remembers each path, so
//! that [`route_paths`] can list them for the OpenAPI test (a route added here
//! without its `#[utoipa::path]` fails it).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use boxup_protocol::ErrorKind;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::normalize_path::NormalizePath;

use super::{
    AppState, access, cors, downloads, drain, files, folders, metrics, oauth, openapi, request_id,
    sessions, web,
};
use crate::error::ApiError;

/// The largest commit or plan body: room for `MAX_PARTS` parts in verbose JSON.
const COMMIT_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The prefixes the API routes are served under; the first is the one the
/// OpenAPI document describes.
const API_PREFIXES: [&str; 2] = ["/2.0", "/api/2.0"];

/// A router that remembers the paths of its routes.
struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    fn new() -> Self {
        Routes {
            router: Router::new(),
            paths: Vec::new(),
        }
    }

    fn route(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Self {
        self.paths.push(path);
        self.router = self.router.route(path, methods);
        self
    }
}

/// Every path the router serves, API routes under their first prefix only
/// (the others serve the same routes): what the OpenAPI test checks the
/// document against.
pub fn route_paths() -> Vec<String> {
    let api = api().paths.into_iter();
    let api = api.map(|p| format!("{}{p}", API_PREFIXES[0]));
    api.chain(unprefixed().paths.into_iter().map(str::to_owned))
        .collect()
}

/// The API, served under each of [`API_PREFIXES`].
fn api() -> Routes {
    Routes::new()
        // Upload sessions (upload host).
        .route("/files/upload_sessions", post(sessions::create))
        .route(
            "/files/{id}/upload_sessions",
            post(sessions::create_for_version),
        )
        .route(
            "/files/upload_sessions/{id}",
            get(sessions::get)
                .put(sessions::upload_part)
                .delete(sessions::abort),
        )
        .route(
            "/files/upload_sessions/{id}/parts",
            get(sessions::list_parts),
        )
        .route(
            "/files/upload_sessions/{id}/commit",
            // A commit lists every part: ~160 bytes each, up to MAX_PARTS.
            post(sessions::commit).layer(DefaultBodyLimit::max(COMMIT_BODY_LIMIT)),
        )
        .route("/files/upload_sessions/{id}/log", post(sessions::log_event))
        .route(
            "/files/upload_sessions/{id}/plan",
            // A plan lists every part: ~200 bytes each, up to MAX_PARTS.
            post(sessions::plan).layer(DefaultBodyLimit::max(COMMIT_BODY_LIMIT)),
        )
        // Files.
        .route(
            "/files/content",
            post(files::upload).options(files::preflight_new),
        )
        .route(
            "/files/{id}/content",
            get(downloads::redirect)
                .post(files::upload_version)
                .options(files::preflight_version),
        )
        .route(
            "/files/{id}",
            get(files::get).put(files::update).delete(files::delete),
        )
        .route("/files/{id}/copy", post(files::copy))
        // Folders.
        .route("/folders", post(folders::create))
        .route(
            "/folders/{id}",
            get(folders::get)
                .put(folders::update)
                .delete(folders::delete),
        )
        .route("/folders/{id}/items", get(folders::items))
        .route("/folders/{id}/copy", post(folders::copy))
        // Users.
        .route("/users/me", get(folders::me))
}

/// The routes outside the API prefixes.
fn unprefixed() -> Routes {
    Routes::new()
        // Signed download links: no bearer token (docs/protocol.md §5.4).
        .route("/downloads/{token}", get(downloads::by_link))
        .route("/healthz", get(healthz).options(healthz))
        // The OpenAPI 3.1 document of these routes (http/openapi/).
        .route("/openapi.json", get(openapi::serve))
        // OAuth 2.0 for apps (no prefix and no bearer token, as at Box).
        .route("/oauth2/token", post(oauth::token))
        .route("/oauth2/revoke", post(oauth::revoke))
        // Prometheus; token or loopback only (http/metrics.rs).
        .route("/metrics", get(metrics::scrape))
        // The page for people (crate boxup-web); not in the OpenAPI document.
        .route("/", get(web::index))
        .route("/web/dev-token", post(web::dev_token))
        .route("/web/{name}", get(web::asset))
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let cors_origins = state.cors_origins.clone();
    let series = state.service.metrics().clone();
    let api = api().router.method_not_allowed_fallback(method_not_allowed);
    let routes = API_PREFIXES
        .into_iter()
        .fold(unprefixed().router, |routes, prefix| {
            routes.nest(prefix, api.clone())
        })
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Inside routing, where the matched route template is known.
        .layer(middleware::from_fn(access::note_route))
        .with_state(state);
    // Box answers a path with a trailing slash as the path without it
    // (clients send `OPTIONS /2.0/files/content/`): trim it before routing.
    let app = Router::new()
        .fallback_service(NormalizePath::trim_trailing_slash(routes))
        // Part and file bodies are streamed and bounded by the service;
        // small JSON bodies keep axum's default limit via `SmallBody`.
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(middleware::from_fn(drain::drain_unread_body))
        .layer(CatchPanicLayer::custom(panic_to_error));
    // Outside the panic catcher, so that a page can read every answer; a
    // no-op without `--cors-origin`.
    cors::wrap(app, cors_origins)
        // Outermost, so that every answer (a panic's too) carries the id.
        .layer(middleware::from_fn_with_state(series, request_id::tag))
}

/// Liveness for load balancers. Deliberately unauthenticated: it reveals
/// nothing but that the process answers.
#[utoipa::path(method(get, options), path = "/healthz", tag = "Operations",
    responses((status = 200, description = "The process answers: `{\"status\": \"ok\"}`",
        content_type = "application/json", body = Object)),
    security(()))]
pub(super) async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

/// A panic is a bug, but the client still gets Box's error object.
fn panic_to_error(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    ApiError::internal("a request handler panicked").into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorKind::NotFound, "No such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorKind::MethodNotAllowed, "Method Not Allowed")
}
