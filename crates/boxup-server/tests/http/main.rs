//! The server over HTTP, one test binary: each module is one subject
//! (routes, the error catalogue by route, isolation between users,
//! concurrency, housekeeping), all against a real `Server` on loopback.

mod common;

mod compat;
mod concurrency;
mod copies;
mod downloads;
mod errors;
mod errors_commit;
mod errors_create;
mod errors_parts;
mod files;
mod folders;
mod isolation;
mod isolation_attempts;
mod listing;
mod metrics;
mod oauth;
mod openapi;
mod page;
mod plan;
mod quotas;
mod rate_limit;
mod replays;
mod sessions;
mod sessions_lifecycle;
mod sweeper;
mod tree;
