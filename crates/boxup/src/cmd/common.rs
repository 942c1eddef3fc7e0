//! What the client subcommands share: output flags, the state directory,
//! Ctrl-C handling, the two error kinds `main` maps to exit codes 2 and
//! 130, and the one-line rendering of any error (Box's code, message and
//! request id included).

use std::path::PathBuf;
use std::time::Duration;

use boxup_client::{CancellationToken, Error as ClientError};
use clap::Args;

use super::progress::Reporter;

/// A mistake in the command line found after parsing: exit code 2.
#[derive(Debug)]
pub(crate) struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Stopped by Ctrl-C; the command already said how to resume: exit 130.
#[derive(Debug)]
pub(crate) struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// Exit code of an interrupted command (128 + SIGINT, as shells report).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// Print one JSON object per result on stdout (progress stays on stderr).
    #[arg(long)]
    pub json: bool,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct StateArgs {
    /// Where interrupted uploads and downloads are journaled [default: the
    /// platform's state directory, e.g. ~/.local/state/boxup].
    #[arg(long, env = "BOXUP_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

impl StateArgs {
    pub(crate) fn dir(&self) -> Result<PathBuf, Usage> {
        if let Some(d) = &self.state_dir {
            return Ok(d.clone());
        }
        let dirs = directories::ProjectDirs::from("", "", "boxup").ok_or_else(|| {
            Usage(
                "no home directory to keep state in: pass --state-dir or set BOXUP_STATE_DIR"
                    .into(),
            )
        })?;
        Ok(dirs
            .state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf())
    }
}

/// A token cancelled by the first Ctrl-C; a second one exits at once (the
/// journal is already on disk, so nothing is lost either way).
pub(crate) fn cancel_on_ctrl_c(reporter: &Reporter) -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    let reporter = reporter.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        reporter.say("boxup: interrupting (press Ctrl-C again to quit at once)");
        t.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(EXIT_INTERRUPTED.into());
        }
    });
    token
}

/// The whole error chain on one line. A Box error shows as
/// `STATUS CODE: MESSAGE (request id ID)`, without the request URL noise.
pub(crate) fn describe(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = match cause.downcast_ref::<ClientError>() {
            Some(e) => client_error(e),
            None => cause.to_string(),
        };
        let duplicate = parts.last().is_some_and(|last| last.ends_with(&text));
        if !duplicate {
            parts.push(text);
        }
        if cause.downcast_ref::<ClientError>().is_some() {
            break;
        }
    }
    parts.join(": ").replace('\n', " ")
}

fn client_error(e: &ClientError) -> String {
    if let ClientError::Http { request, source } = e {
        // reqwest's own text only repeats the URL; the root cause says why.
        let mut root: &dyn std::error::Error = source;
        while let Some(next) = root.source() {
            root = next;
        }
        return format!("{request} failed: {root}");
    }
    let Some(b) = e.box_error() else {
        return e.to_string();
    };
    let mut s = format!("{} {}: {}", b.status, b.code, b.message);
    if let Some(id) = &b.request_id {
        s.push_str(&format!(" (request id {id})"));
    }
    if b.status == 401 {
        s.push_str(" - check the token (--token / BOX_TOKEN)");
    }
    if let Some(hint) = conflict_hint(e) {
        s.push_str(&format!(" ({hint})"));
    }
    s
}

/// For a 409 `item_name_in_use`: which item holds the name, from
/// `context_info.conflicts` (an object for files, an array for folders),
/// and for a file how to upload over it.
fn conflict_hint(e: &ClientError) -> Option<String> {
    if e.code() != Some("item_name_in_use") {
        return None;
    }
    let conflicts = e.context_info()?.get("conflicts")?;
    let item = match conflicts {
        serde_json::Value::Array(a) => a.first()?,
        other => other,
    };
    let kind = item.get("type")?.as_str()?;
    let id = item.get("id")?.as_str()?;
    let named = match item.get("name").and_then(|n| n.as_str()) {
        Some(name) => format!("an item named {name:?} exists"),
        None => "an item with that name exists".to_owned(),
    };
    Some(match kind {
        "file" => {
            format!("{named}: file {id}; pass --new-version {id} to upload a new version of it")
        }
        kind => format!("{named}: {kind} {id}"),
    })
}

/// A failed transfer as the `error` member of its `--json` object: Box's
/// status, code, message and request id when the server refused, else
/// just the message.
pub(crate) fn json_error(err: &anyhow::Error) -> serde_json::Value {
    let api = err
        .chain()
        .filter_map(|c| c.downcast_ref::<ClientError>())
        .find_map(|e| e.box_error());
    match api {
        Some(b) => serde_json::json!({
            "status": b.status,
            "code": b.code,
            "message": b.message,
            "request_id": b.request_id,
            "description": describe(err),
        }),
        None => serde_json::json!({ "message": describe(err) }),
    }
}

/// Whether the error (anywhere in its chain) is Box's error with `status`.
pub(crate) fn has_status(err: &anyhow::Error, status: u16) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<ClientError>()
            .is_some_and(|e| e.status() == Some(status))
    })
}

/// This process's command line, ready to paste, with a `--token` value
/// hidden and the flags in `omit` (value-less ones such as `--restart`,
/// which would discard what the command is meant to continue) left out.
pub(crate) fn command_line(omit: &[&str]) -> String {
    let mut out = Vec::new();
    let mut hide_next = false;
    for arg in std::env::args() {
        if !hide_next && omit.contains(&arg.as_str()) {
            continue;
        }
        if hide_next {
            out.push("***".to_owned());
            hide_next = false;
            continue;
        }
        if arg == "--token" {
            hide_next = true;
        }
        if arg.starts_with("--token=") {
            out.push("--token=***".to_owned());
            continue;
        }
        out.push(shell_quote(&arg));
    }
    out.join(" ")
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@,+%".contains(&b));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// `12.3 MiB`.
pub(crate) fn bytes(n: u64) -> String {
    indicatif::HumanBytes(n).to_string()
}

/// `1.25 s`.
pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Prints one JSON object as a line on stdout.
pub(crate) fn print_json(value: &serde_json::Value) {
    stdout_line(&value.to_string());
}

/// `println!` through [`stdout_line`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cmd::common::stdout_line(&format!($($arg)*))
    };
}
pub(crate) use outln;

/// `eprintln!` through [`stderr_line`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cmd::common::stderr_line(&format!($($arg)*))
    };
}
pub(crate) use errln;

/// Prints a line on stderr, ignoring errors: progress and notes are not
/// worth dying for, and `eprintln!` panics when stderr is closed
/// (`boxup upload f 2>&1 | head -2`), turning a committed upload into
/// exit 101.
pub(crate) fn stderr_line(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}").and_then(|()| err.flush());
}

/// Prints a line on stdout. A reader that went away (`boxup ls | head`)
/// ends the command quietly, as SIGPIPE ends Unix tools; Rust ignores
/// SIGPIPE (sockets rely on that), so `println!` would panic instead.
pub(crate) fn stdout_line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxup_client::BoxError;

    #[test]
    fn box_errors_show_code_message_and_request_id_on_one_line() {
        let mut b = BoxError::new(401, "unauthorized", "The access token is invalid");
        b.request_id = Some("abc123".into());
        let e = ClientError::Api {
            request: "GET http://x/2.0/folders/0/items".into(),
            error: Box::new(b),
            retry_after: None,
        };
        let err = anyhow::Error::new(e).context("ls 0");
        let line = describe(&err);
        assert_eq!(
            line,
            "ls 0: 401 unauthorized: The access token is invalid (request id abc123) \
             - check the token (--token / BOX_TOKEN)"
        );
        assert!(has_status(&err, 401));
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("big.iso"), "big.iso");
        assert_eq!(shell_quote("my file"), "'my file'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn name_conflicts_name_the_holder() {
        let mut b = BoxError::new(
            409,
            "item_name_in_use",
            "Item with the same name already exists",
        );
        b.context_info = Some(serde_json::json!({
            "conflicts": {"type": "file", "id": "123", "name": "a.bin"}
        }));
        let e = ClientError::Api {
            request: "POST x".into(),
            error: Box::new(b),
            retry_after: None,
        };
        let line = describe(&anyhow::Error::new(e));
        assert!(
            line.ends_with(
                "(an item named \"a.bin\" exists: file 123; pass --new-version 123 to \
                 upload a new version of it)"
            ),
            "{line}"
        );
    }
}
