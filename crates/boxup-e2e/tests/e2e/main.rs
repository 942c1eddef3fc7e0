//! `boxup-client` against a real in-process server, one test binary: every
//! operation, faults injected by a proxy, resume, cancellation and token
//! refresh.

mod common;

mod big_file;
mod big_file_cancel;
mod downloads;
mod errors;
mod faults_commit;
mod faults_parts;
mod files_folders;
mod operations;
mod resume;
mod token_refresh;
mod tree;
