//! The storage backends, one test binary: the conformance suites stamped
//! against every implementation, plus what only one backend can show
//! (SQLite persistence, PostgreSQL replicas racing).

mod pg_support;

mod metadata_conformance;
mod metadata_conformance_postgres;
mod part_store_conformance;
mod postgres_races;
