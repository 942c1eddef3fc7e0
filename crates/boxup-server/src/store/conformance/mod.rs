//! Conformance suites: one `pub async fn check_*` per contract clause,
//! stamped into one `#[tokio::test]` per check per backend by the macros
//! [`metadata_conformance!`](crate::metadata_conformance) and
//! [`part_store_conformance!`](crate::part_store_conformance).

pub mod metadata;
pub mod parts;
