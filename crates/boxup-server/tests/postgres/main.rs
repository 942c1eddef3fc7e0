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
mod http;
mod pg_support;
mod races;
mod store;
mod tree_races;

use std::future::Future;
use std::process::ExitCode;

use boxup_server::store::conformance::metadata;
use libtest_mimic::{Arguments, Failed, Trial};

/// A trial running `test` on a multi-threaded runtime of its own, as
/// `#[tokio::test(flavor = "multi_thread")]` would.
fn trial<F>(name: &str, test: impl FnOnce() -> F + Send + 'static) -> Trial
where
    F: Future<Output = ()>,
{
    Trial::test(name, move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .map_err(|e| Failed::from(format!("cannot start a runtime: {e}")))?
            .block_on(test());
        Ok(())
    })
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
    ]);
    trials
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let mut trials = all_trials();
    if let Err(why) = pg_support::probe() {
        if std::env::var_os("BOXUP_REQUIRE_POSTGRES").is_some_and(|v| v != "0") {
            trials = trials
                .into_iter()
                .map(|t| {
                    let why = why.clone();
                    Trial::test(t.name(), move || {
                        Err(format!("{why} (BOXUP_REQUIRE_POSTGRES is set)").into())
                    })
                })
                .collect();
        } else {
            println!("{why}; these tests are ignored");
            trials = trials
                .into_iter()
                .map(|t| t.with_ignored_flag(true))
                .collect();
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}
