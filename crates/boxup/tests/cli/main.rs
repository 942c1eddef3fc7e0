//! The `boxup` binary as a user runs it, one test binary: transfers,
//! resume after an interruption, errors and hints, downloads.

mod cli_support;

mod admin;

mod download;
mod errors;
mod hints;
mod midway;
mod resume;
mod serve_config;
mod serve_logs;
mod serve_shutdown;
mod serve_tls;
mod transfer;
mod tree;
