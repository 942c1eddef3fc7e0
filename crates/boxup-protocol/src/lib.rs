//! Box chunked-upload wire protocol: the JSON models, the `Content-Range` and
//! `Digest` header grammar, and Box's error object.
//!
//! This crate does no I/O. It is shared by the server (which renders these
//! types) and the client (which parses them), so that both ends agree on one
//! definition of every shape in docs/protocol.md. Optional fields are `Option`s
//! with `#[serde(default)]`: the server always emits them (as `null` when
//! absent, as Box does) and the client tolerates their absence and any
//! unknown field, while a field of the wrong JSON type is still an error.

#![warn(missing_docs)]

pub mod error;
pub mod headers;
pub mod models;
pub mod time;

pub use error::{BoxError, ErrorCode, ErrorKind, HELP_URL};
pub use headers::{ContentRange, HeaderError, Sha1Digest};
pub use models::*;
