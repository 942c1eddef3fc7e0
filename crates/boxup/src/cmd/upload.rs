//! `boxup upload PATH...`: files below `--chunked-threshold` go up in one
//! multipart request, larger ones through an upload session (see
//! `chunked.rs`, which also makes them resumable).
//!
//! Files are uploaded one after another, each with its parts in parallel.
//! A failed file does not stop the others (except on 401: every file
//! would fail the same way), and the command fails at the end. A file
//! whose name is taken by a file with the same SHA-1 counts as uploaded
//! ("skipped"), so re-running an interrupted multi-file command does not
//! fail on the files that had already made it. With `--json`, every PATH
//! gets one object on stdout: the result, or `{"path", "error"}`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use boxup_client::{BoxClient, CancellationToken, Error as ClientError, File, UploadFileOptions};
use clap::Args;
use serde_json::json;

use super::chunked;
use super::common::{
    Interrupted, OutputArgs, StateArgs, Usage, bytes, cancel_on_ctrl_c, describe, errln,
    has_status, json_error, print_json, seconds,
};
use super::conn::ConnArgs;
use super::journal::{self, Journal, Target};
use super::progress::Reporter;

/// Box's direct uploads take at most 50 MiB; the body is built in memory.
const MAX_DIRECT: u64 = 50 * 1024 * 1024;

#[derive(Args, Debug)]
pub(crate) struct UploadArgs {
    /// The files to upload.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The folder to upload into.
    #[arg(
        long,
        value_name = "ID",
        default_value = "0",
        conflicts_with = "new_version"
    )]
    pub folder: String,
    /// The name on Box (one PATH only) [default: the file's name].
    #[arg(long)]
    pub name: Option<String>,
    /// Parts uploaded at once, per file.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Upload PATH as a new version of this file (one PATH only).
    #[arg(long, value_name = "FILE_ID")]
    pub new_version: Option<String>,
    /// Files of at least this many bytes use an upload session, smaller
    /// ones a direct upload (at most 50 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = 20_000_000,
          value_parser = clap::value_parser!(u64).range(0..=MAX_DIRECT))]
    pub chunked_threshold: u64,
    /// Discard the journaled session of an interrupted upload (aborting it
    /// on the server) and start over.
    #[arg(long)]
    pub restart: bool,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// What every file's upload needs.
pub(crate) struct Ctx {
    pub args: UploadArgs,
    pub client: BoxClient,
    pub target: Target,
    pub journal: Journal,
    pub reporter: Reporter,
    pub cancel: CancellationToken,
}

/// The outcome of one file.
pub(crate) struct Uploaded {
    pub file: File,
    pub method: &'static str,
    pub session_id: Option<String>,
    pub parts_total: Option<u64>,
    pub parts_resumed: u64,
    pub skipped: bool,
}

pub(crate) async fn run(args: UploadArgs) -> anyhow::Result<()> {
    if args.paths.len() > 1 && (args.name.is_some() || args.new_version.is_some()) {
        return Err(Usage("--name and --new-version take exactly one PATH".into()).into());
    }
    let client = args.conn.client()?;
    let journal = Journal::uploads(&args.state.dir()?);
    let target = match &args.new_version {
        Some(id) => Target::NewVersion(id.clone()),
        None => Target::Folder(args.folder.clone()),
    };
    let reporter = Reporter::new(&args.output);
    let ctx = Ctx {
        cancel: cancel_on_ctrl_c(&reporter),
        reporter,
        args,
        client,
        target,
        journal,
    };
    let total = ctx.args.paths.len();
    let mut failed = 0;
    for path in &ctx.args.paths {
        let started = Instant::now();
        let result = upload_path(&ctx, path)
            .await
            .with_context(|| format!("upload {}", path.display()));
        match result {
            Ok(done) => report(&ctx, path, &done, started),
            Err(e) if e.is::<Interrupted>() => return Err(e),
            Err(e) => {
                if ctx.args.output.json {
                    print_json(&json!({ "path": path, "error": json_error(&e) }));
                }
                if total == 1 {
                    return Err(e);
                }
                errln!("boxup: {}", describe(&e));
                failed += 1;
                if has_status(&e, 401) {
                    break;
                }
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(anyhow!("{n} of {total} uploads failed")),
    }
}

async fn upload_path(ctx: &Ctx, path: &Path) -> anyhow::Result<Uploaded> {
    let canonical =
        std::fs::canonicalize(path).with_context(|| format!("cannot open {}", path.display()))?;
    if !std::fs::metadata(&canonical)?.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    let (size, mtime_ns) = journal::stat(&canonical)?;
    // The name the user typed, as cp and rsync do: a symlink is uploaded
    // under its own name, not its target's. `.` or `dir/..` have none, so
    // the canonical path names those.
    let name = match &ctx.args.name {
        Some(n) => n.clone(),
        None => path
            .file_name()
            .or_else(|| canonical.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| anyhow!("{} has no file name", path.display()))?,
    };
    let modified = boxup_protocol::time::format_unix((mtime_ns / 1_000_000_000) as i64);
    let result = if size < ctx.args.chunked_threshold {
        direct(ctx, &canonical, &name, size, &modified).await
    } else {
        chunked::upload(ctx, &canonical, &name, size, mtime_ns, &modified).await
    };
    match result {
        Err(e) => match identical_conflict(&e, &canonical).await {
            Some(mut file) => {
                file.size = Some(size);
                file.name.get_or_insert(name);
                ctx.reporter.note(&format!(
                    "upload {}: file {} has the same name and SHA-1: already uploaded, skipped",
                    path.display(),
                    file.id
                ));
                Ok(Uploaded {
                    file,
                    method: "none",
                    session_id: None,
                    parts_total: None,
                    parts_resumed: 0,
                    skipped: true,
                })
            }
            None => Err(e),
        },
        ok => ok,
    }
}

async fn direct(
    ctx: &Ctx,
    path: &Path,
    name: &str,
    size: u64,
    modified: &str,
) -> anyhow::Result<Uploaded> {
    let meter = ctx.reporter.start("upload", name, size);
    let m = meter.clone();
    let mut options = UploadFileOptions::default().on_progress(move |p| m.update(p.bytes_done));
    options.content_modified_at = Some(modified.to_owned());
    let source = tokio::fs::File::open(path).await?;
    let uploads = ctx.client.uploads();
    let upload = async {
        match &ctx.target {
            Target::Folder(folder) => {
                uploads
                    .upload_file(source, name, size, folder, &options)
                    .await
            }
            Target::NewVersion(id) => {
                let rename = ctx.args.name.as_deref();
                uploads
                    .upload_file_version(source, id, size, rename, &options)
                    .await
            }
        }
    };
    let result = tokio::select! {
        () = ctx.cancel.cancelled() => {
            meter.abandon();
            ctx.reporter.note(&format!(
                "boxup: interrupted: {name} was not uploaded (direct uploads are all or \
                 nothing); run the same command again to upload it"
            ));
            return Err(Interrupted.into());
        }
        r = upload => r,
    };
    match result {
        Ok(file) => {
            meter.finish(&format!(
                "done, {} in {}",
                bytes(size),
                seconds(meter.elapsed())
            ));
            Ok(Uploaded {
                file,
                method: "direct",
                session_id: None,
                parts_total: None,
                parts_resumed: 0,
                skipped: false,
            })
        }
        Err(e) => {
            meter.abandon();
            Err(e.into())
        }
    }
}

/// A 409 `item_name_in_use` whose conflicting file has the local file's
/// SHA-1: the upload already happened (an earlier run). Returns that file.
async fn identical_conflict(err: &anyhow::Error, path: &Path) -> Option<File> {
    let e = err.chain().find_map(|c| c.downcast_ref::<ClientError>())?;
    if e.code() != Some("item_name_in_use") {
        return None;
    }
    let conflicts = e.context_info()?.get("conflicts")?;
    let conflict = match conflicts {
        serde_json::Value::Array(a) => a.first()?,
        other => other,
    };
    let file: File = serde_json::from_value(conflict.clone()).ok()?;
    let remote = file.sha1.clone()?;
    let path = path.to_path_buf();
    let local = tokio::task::spawn_blocking(move || sha1_of(&path))
        .await
        .ok()?
        .ok()?;
    remote.eq_ignore_ascii_case(&local).then_some(file)
}

fn sha1_of(path: &Path) -> std::io::Result<String> {
    use sha1::{Digest, Sha1};
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha1::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(boxup_client::Sha1Digest(h.finalize().into()).to_hex());
        }
        h.update(&buf[..n]);
    }
}

fn report(ctx: &Ctx, path: &Path, done: &Uploaded, started: Instant) {
    let f = &done.file;
    let size = f.size.unwrap_or(0);
    let name = f.name.clone().unwrap_or_default();
    let sha1 = f.sha1.clone().unwrap_or_default();
    let uploaded = done
        .parts_total
        .map(|t| t.saturating_sub(done.parts_resumed));
    if ctx.args.output.json {
        print_json(&json!({
            "path": path,
            "id": f.id,
            "name": name,
            "size": size,
            "sha1": sha1,
            "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            "method": done.method,
            "skipped": done.skipped,
            "session_id": done.session_id,
            "parts_total": done.parts_total,
            "parts_resumed": done.parts_resumed,
            "parts_uploaded": uploaded,
        }));
        return;
    }
    let how = if done.skipped {
        " already there (same SHA-1), skipped".to_owned()
    } else if done.parts_resumed > 0 {
        format!(
            ", resumed: {} parts were already uploaded",
            done.parts_resumed
        )
    } else {
        String::new()
    };
    ctx.reporter.out(&format!(
        "{} -> file {} {name:?} ({}, sha1 {sha1}){how}",
        path.display(),
        f.id,
        bytes(size)
    ));
}
