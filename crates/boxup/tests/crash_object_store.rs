//! The crash tests of `crash.rs` with part bytes in an S3-compatible
//! object store (Garage in CI, through `tests/garage/run.sh`): a SIGKILL
//! at any of those moments loses no acknowledged part and no committed
//! file there either.
//!
//! Like every test that needs an outside server, these have a harness of
//! their own: without a store each is reported *ignored* with one line
//! saying why, never passed; with `BOXUP_REQUIRE_S3=1` (CI) a missing
//! store fails them.

#[path = "crash.rs"]
mod crash;
#[path = "../../boxup-server/tests/gated/mod.rs"]
mod gated;

use std::process::ExitCode;

use crash::support::Fixture;

fn main() -> ExitCode {
    let store = std::env::var("BOXUP_TEST_S3_URL").map(drop).map_err(|_| {
        "no S3-compatible server: BOXUP_TEST_S3_URL is not set \
         (run these tests through tests/garage/run.sh)"
            .to_owned()
    });
    let trials = vec![
        gated::trial("kill_right_after_the_first_ack", 4, || {
            crash::kill_after_acks(Fixture::on_object_store(), 1, 11)
        }),
        gated::trial("kill_halfway_through_the_parts", 4, || {
            crash::kill_after_acks(Fixture::on_object_store(), 12, 12)
        }),
        gated::trial("kill_while_every_put_is_mid_body", 4, || {
            crash::every_put_mid_body(Fixture::on_object_store())
        }),
        gated::trial("committed_file_survives_a_kill", 4, || {
            crash::commit_then_kill(Fixture::on_object_store())
        }),
    ];
    gated::run(trials, store, "BOXUP_REQUIRE_S3")
}
