//! A server behind boxup-e2e's `FaultProxy` that drops every attempt at
//! part 5 mid-request while a flag is set, so a test can act on a CLI
//! upload (`--parallel 1`, 1 MiB parts) at a known point: once its
//! progress line shows 5 parts sent and the server has stored 5 parts, the
//! server holds exactly parts 0-4 and no other part can arrive until the
//! flag is cleared.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use boxup_e2e::{Action, FaultProxy, Seen};

use super::{Cli, MIB, Server, Watched, parts_of, within};

const PART: u64 = MIB as u64;

/// A server behind a proxy that blocks part 5 while `block` is set.
pub async fn blocked_setup() -> (Server, FaultProxy, Arc<AtomicBool>, Cli) {
    let server = Server::start(Some(super::TOKEN)).await;
    let block = Arc::new(AtomicBool::new(true));
    let b = block.clone();
    let rule = move |seen: &Seen| {
        if seen.is_put() && seen.range_start() == Some(5 * PART) && b.load(Ordering::SeqCst) {
            Action::DropMidRequest
        } else {
            Action::Forward
        }
    };
    let proxy = FaultProxy::start(server.addr, rule).await;
    let cli = Cli::new(&proxy.origin());
    (server, proxy, block, cli)
}

const UPLOAD: [&str; 4] = ["--parallel", "1", "--json", "--chunked-threshold"];

/// `upload PATH --parallel 1 --json --chunked-threshold 1048576`.
pub fn upload_args(path: &Path) -> Vec<&str> {
    let mut args = vec!["upload", path.to_str().expect("utf-8 path")];
    args.extend_from_slice(&UPLOAD);
    args.push("1048576");
    args
}

/// Starts `boxup ARGS` (an upload of a 20 MiB file) and returns once
/// parts 0-4 are stored and the progress line says 5 parts were sent.
pub async fn upload_until_part_5(cli: &Cli, proxy: &FaultProxy, args: &[&str]) -> Watched {
    let mut w = Watched::spawn(cli.command(args));
    let line = w
        .wait_line("a progress line with 5 parts sent", |l| {
            parts_of(l).is_some_and(|(sent, _)| sent >= 5)
        })
        .await;
    assert_eq!(parts_of(&line), Some((5, 20)), "{line}");
    within("5 parts stored", proxy.stored_puts(5)).await;
    w
}
