//! End-to-end harness for `boxup-client` against the real boxup server.
//!
//! The tests in `tests/` start a [`TestServer`] (the real server, in
//! process, on an ephemeral port, with its SQLite and disk stores in a
//! temporary directory) and drive it with the client, sometimes through a
//! [`FaultProxy`] that answers chosen requests with errors, drops
//! connections or loses responses after the server stored the data. No
//! part of the protocol is mocked: every answer the client checks comes
//! from the server, or from the proxy standing in for a broken network.
//!
//! `src/bin/client-bench.rs` is the 1 GiB throughput benchmark.

pub mod data;
pub mod proxy;
pub mod server;

pub use data::{Counted, FailAt, pattern, sha1_hex};
pub use proxy::{Action, FaultProxy, Logged, Rewrite, Seen};
pub use server::{TEST_TOKEN, TestServer, fast_retry};
