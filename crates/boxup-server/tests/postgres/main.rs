//! Everything that needs PostgreSQL, in one test binary with a harness of
//! its own (libtest-mimic), so that a missing server is reported honestly.
//!
//! Why its own harness: the standard one cannot decide at run time that a
//! test is skipped. Without a server, these tests would have to fail (and
//! a newcomer without PostgreSQL sees a red suite) or return early and
//! count as passed (a lie). Here `main` first tries the server at
//! `BOXUP_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`):
//! - reachable: every test runs;
//! - unreachable: one line says which URL was tried and how to start a
//!   server, and every test is reported *ignored*, never passed;
//! - unreachable with `BOXUP_REQUIRE_POSTGRES=1` (CI sets it): every test
//!   fails with that line, so CI can never pass without running them.

#[path = "../http/common/mod.rs"]
mod common;
#[path = "../support/forwarder.rs"]
mod forwarder;
#[path = "../gated/mod.rs"]
mod gated;
mod http;
mod pg_support;
mod races;
mod store;
mod tree_races;

use std::future::Future;
use std::process::ExitCode;

use boxup_server::store::conformance::metadata;
use libtest_mimic::Trial;

/// A trial on a 4-worker runtime.
fn trial<F>(name: &str, test: impl FnOnce() -> F + Send + 'static) -> Trial
where
    F: Future<Output = ()>,
{
    gated::trial(name, 4, test)
}

macro_rules! trials {
    ($($test:path),* $(,)?) => {
        vec![$(trial(stringify!($test), || $test())),*]
    };
}

fn all_trials() -> Vec<Trial> {
    let mut trials: Vec<Trial> = metadata::checks()
        .into_iter()
        .map(|(name, check)| {
            trial(&format!("conformance::{name}"), move || async move {
                let (store, _guard) = pg_support::pg_store().await;
                check(&store).await;
            })
        })
        .collect();
    trials.extend(trials![
        store::data_survives_dropping_the_pool_and_reconnecting,
        store::eight_replicas_starting_at_once_migrate_once,
        store::refuses_a_database_from_a_newer_schema,
        store::connection_failures_are_backend_errors,
        store::odd_schema_names_are_quoted_and_debug_shows_no_password,
        races::insert_part_race_across_replicas_first_row_wins,
        races::folder_create_race_across_replicas_has_one_winner,
        races::file_and_folder_race_across_replicas_has_one_winner,
        races::commit_race_across_replicas_has_one_winner,
        races::a_part_racing_a_commit_is_in_the_version_or_refused,
        races::sweepers_skip_what_another_transaction_holds,
        races::a_name_taken_behind_the_lock_is_still_name_in_use,
        tree_races::a_recursive_delete_racing_inserts_leaves_no_orphans,
        tree_races::crossing_folder_moves_never_make_a_cycle,
        tree_races::a_copy_racing_the_delete_of_its_source_keeps_its_bytes,
        http::sessions_files_and_isolation_over_postgres,
        http::an_unreachable_database_is_503_and_the_upload_completes_when_back,
    ]);
    trials
}

fn main() -> ExitCode {
    gated::run(all_trials(), pg_support::probe(), "BOXUP_REQUIRE_POSTGRES")
}
