//! `boxup`: serve, upload and download through Box-compatible upload
//! sessions. `main` only parses arguments and maps errors to exit codes:
//! 0 success, 1 failure, 2 usage (clap's own errors and [`cmd::common::Usage`]),
//! 130 interrupted by Ctrl-C (the command has printed how to resume).
//! Each subcommand lives in `cmd/`.

mod cmd;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use cmd::common::{EXIT_INTERRUPTED, Interrupted, Usage, describe, errln};

#[derive(Parser)]
#[command(
    name = "boxup",
    version,
    about = "Box-compatible chunked uploads: server and tools",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (resumable)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a Box-compatible upload server (SQLite + local disk by default).
    Serve(cmd::serve::ServeArgs),
    /// Upload files: small ones directly, large ones through a resumable
    /// upload session.
    Upload(cmd::upload::UploadArgs),
    /// Download a file, resuming a partial download, and verify its SHA-1.
    Download(cmd::download::DownloadArgs),
    /// List a folder's items.
    Ls(cmd::items::LsArgs),
    /// Create a folder; prints its id.
    Mkdir(cmd::items::MkdirArgs),
    /// Delete files, or folders (-r: with everything in them).
    Rm(cmd::items::RmArgs),
    /// Move or rename a file or folder.
    Mv(cmd::tree::MoveArgs),
    /// Copy a file or folder on the server (no bytes are transferred).
    Cp(cmd::tree::CopyArgs),
    /// Inspect and repair upload sessions.
    Session(cmd::session::SessionArgs),
    /// Manage a deployment's users, quotas and access tokens.
    Admin(cmd::admin::AdminArgs),
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Serve(_) => "serve",
            Command::Upload(_) => "upload",
            Command::Download(_) => "download",
            Command::Ls(_) => "ls",
            Command::Mkdir(_) => "mkdir",
            Command::Rm(_) => "rm",
            Command::Mv(_) => "mv",
            Command::Cp(_) => "cp",
            Command::Session(_) => "session",
            Command::Admin(_) => "admin",
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let name = cli.command.name();
    // `serve` sets up its own logging; the client commands log in full
    // only when asked to, so progress output stays clean, and otherwise
    // show the client's warnings (retries) as one-line notices.
    if name != "serve" {
        if std::env::var_os("RUST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_writer(std::io::stderr)
                .init();
        } else {
            cmd::notices::install();
        }
    }
    if name == "serve" {
        cmd::memory::limit_arenas();
    }
    // Every metadata call of the embedded store runs on a blocking thread;
    // with hundreds of requests in flight, allow well over the default 512
    // before they would queue for a thread.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(2048)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("boxup: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => cmd::serve::run(args).await,
            Command::Upload(args) => cmd::upload::run(args).await,
            Command::Download(args) => cmd::download::run(args).await,
            Command::Ls(args) => cmd::items::ls(args).await,
            Command::Mkdir(args) => cmd::items::mkdir(args).await,
            Command::Rm(args) => cmd::items::rm(args).await,
            Command::Mv(args) => cmd::tree::mv(args).await,
            Command::Cp(args) => cmd::tree::cp(args).await,
            Command::Session(args) => cmd::session::run(args).await,
            Command::Admin(args) => cmd::admin::run(args).await,
        }
    });
    // Do not wait for a blocked stdin reader or signal task.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Interrupted>() => ExitCode::from(EXIT_INTERRUPTED),
        Err(e) => match e.downcast::<Usage>() {
            Ok(usage) => {
                let mut cli = Cli::command();
                cli.build();
                let sub = cli.find_subcommand_mut(name).expect("a known subcommand");
                sub.error(clap::error::ErrorKind::ValueValidation, usage.0)
                    .exit()
            }
            Err(e) => {
                errln!("boxup: {}", describe(&e));
                ExitCode::FAILURE
            }
        },
    }
}
