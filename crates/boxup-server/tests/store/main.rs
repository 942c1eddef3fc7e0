//! The storage backends, one test binary: the conformance suites stamped
//! against every implementation, plus what only one backend can show
//! (SQLite persistence, PostgreSQL replicas racing).

mod metadata_conformance;
mod part_store_conformance;
