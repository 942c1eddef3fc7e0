//! boxup-server: a self-hostable, Box-compatible chunked-upload server.
//!
//! Layers, top to bottom (each depends only on the ones below it):
//! - [`http`]: axum routes (one table in `http/routes.rs`) and thin handlers
//!   that parse, call the service and render;
//! - [`service`]: every protocol rule (session state machine, part grid,
//!   digests, the hash frontier, commit, expiry);
//! - [`store`]: the `MetadataStore` and `PartStore` traits and their
//!   backends (SQLite and local disk for the embedded default).

pub mod admin;
pub mod error;
pub mod http;
pub mod metrics;
pub mod rate_limit;
pub mod server;
pub mod service;
pub mod store;

pub use error::{ApiError, ApiResult};
pub use http::{AppState, CONTENT_SECURITY_POLICY, PeerAddr, router};
pub use server::{Server, ServerOptions};
pub use service::{Caller, Origin, ServiceConfig, UploadService};

/// The cores this process may use (2 if the platform cannot tell): what
/// the server's pools and slots are sized by.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
