//! The harness of test binaries that need an outside server (PostgreSQL,
//! an S3-compatible store): the standard harness cannot decide at run time
//! that a test is skipped, so these use libtest-mimic and this module.
//!
//! Without the server, one line says why and every test is reported
//! *ignored*, never passed; with the binary's `BOXUP_REQUIRE_…` variable
//! set (CI sets it), every test fails with that line instead.
#![allow(dead_code)]

use std::future::Future;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};

/// A trial running `test` on a multi-threaded runtime of its own, as
/// `#[tokio::test(flavor = "multi_thread")]` would.
pub(crate) fn trial<F>(
    name: &str,
    workers: usize,
    test: impl FnOnce() -> F + Send + 'static,
) -> Trial
where
    F: Future<Output = ()>,
{
    Trial::test(name, move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .map_err(|e| Failed::from(format!("cannot start a runtime: {e}")))?
            .block_on(test());
        Ok(())
    })
}

/// Runs `trials`, or (when `server` says why there is none) reports them
/// ignored, or failed if the variable `require` is set to anything but 0.
pub(crate) fn run(trials: Vec<Trial>, server: Result<(), String>, require: &str) -> ExitCode {
    let args = Arguments::from_args();
    let trials = match server {
        Ok(()) => trials,
        Err(why) if std::env::var_os(require).is_some_and(|v| v != "0") => trials
            .into_iter()
            .map(|t| {
                let why = format!("{why} ({require} is set)");
                Trial::test(t.name(), move || Err(why.into()))
            })
            .collect(),
        Err(why) => {
            println!("{why}; these tests are ignored");
            trials
                .into_iter()
                .map(|t| t.with_ignored_flag(true))
                .collect()
        }
    };
    libtest_mimic::run(&args, trials).exit_code()
}
