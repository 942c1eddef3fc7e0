//! `boxup download FILE_ID [-o PATH]`: resumable, verified downloads.
//!
//! Bytes go to `PATH.part`; only a complete file whose SHA-1 equals the
//! file's `sha1` is renamed to PATH, so PATH never holds a partial or
//! corrupt file. A re-run after Ctrl-C, a crash or a network failure
//! hashes what `PATH.part` holds and asks for the rest with
//! `Range: bytes=N-`, provided the journal says the part belongs to the
//! same file (id, sha1, size) as the server now has; otherwise the part is
//! discarded and the download starts over.
//!
//! Only a part file the journal records is ever deleted: a `PATH.part`
//! with no entry is someone else's file (or a download whose entry was
//! lost), and the command refuses to touch it. The entry is written once
//! the part file exists, so a destination that cannot be written leaves
//! no entry behind; if the state directory is unusable, the download goes
//! ahead with a warning that it is not resumable, as uploads do.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use boxup_client::{DownloadOptions, Error as ClientError, File};
use clap::Args;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::common::{
    Interrupted, OutputArgs, StateArgs, bytes, cancel_on_ctrl_c, command_line, print_json, seconds,
};
use super::conn::ConnArgs;
use super::journal::{DownloadEntry, Journal};
use super::progress::Reporter;

#[derive(Args, Debug)]
pub(crate) struct DownloadArgs {
    /// The file to download.
    pub file_id: String,
    /// Where to write it: a file, or a directory to put it in under its
    /// own name [default: its name, in the current directory]. An existing
    /// file is replaced once the download is complete and verified.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

pub(crate) async fn run(args: DownloadArgs) -> anyhow::Result<()> {
    let client = args.conn.client()?;
    let state_dir = args.state.dir()?;
    let journal = Journal::downloads(&state_dir);
    let reporter = Reporter::new(&args.out);
    let cancel = cancel_on_ctrl_c(&reporter);
    let started = Instant::now();
    let id = &args.file_id;
    let file = client
        .files()
        .get_file_by_id(id, None)
        .await
        .with_context(|| format!("download {id}"))?;
    let name = file.name.clone().unwrap_or_else(|| id.clone());
    let dest = destination(args.output.as_deref(), &name)?;
    let part = part_path(&dest);
    let key = Journal::download_key(&absolute(&dest));
    let size = file.size.unwrap_or(0);
    let wanted = DownloadEntry {
        file_id: file.id.clone(),
        sha1: file.sha1.clone(),
        size,
        path: dest.clone(),
    };
    if let Some(have) = part_len(&part)? {
        match journal.load::<DownloadEntry>(&key) {
            None => bail!(
                "{} exists and is not a partial download boxup started (the journal in \
                 {} has no entry for it); it was left alone: remove it, or pass -o PATH \
                 to download elsewhere",
                part.display(),
                state_dir.display()
            ),
            Some(prev) if prev == wanted && have <= size => {
                if have > 0 {
                    reporter.note(&format!(
                        "download {name}: resuming after {} of {}",
                        bytes(have),
                        bytes(size)
                    ));
                }
            }
            Some(_) => {
                // Ours, but of another version (or longer than the file).
                reporter.say(&format!(
                    "boxup: {} is not a partial download of this version of file {id}; \
                     starting over",
                    part.display()
                ));
                std::fs::remove_file(&part)
                    .with_context(|| format!("cannot remove {}", part.display()))?;
                journal.remove(&key);
            }
        }
    }

    let existing = match tokio::fs::File::open(&part).await {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", part.display())),
    };
    let writer = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&part)
        .await
        .with_context(|| format!("cannot write {}", part.display()))?;
    // Only now that the part file exists: an entry for a destination that
    // cannot be written would otherwise stay in the journal for ever.
    if let Err(e) = journal.save(&key, &wanted) {
        reporter.say(&format!(
            "boxup: warning: {e:#}; the download is not resumable"
        ));
    }
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, writer);
    let meter = reporter.start("download", &name, size);
    meter.set_resumed(std::fs::metadata(&part).map_or(0, |m| m.len()));
    let m = meter.clone();
    let mut options = DownloadOptions::default().on_progress(move |p| m.update(p.bytes_done));
    options.cancel = Some(cancel);
    options.file = Some(file.clone());
    let downloads = client.downloads();
    let result = match existing {
        Some(prefix) => {
            downloads
                .download_file_to(id, prefix, &mut writer, &options)
                .await
        }
        None => {
            downloads
                .download_file_to(id, tokio::io::empty(), &mut writer, &options)
                .await
        }
    };
    let done = match result {
        Ok(done) => done,
        Err(ClientError::Cancelled) => {
            meter.abandon();
            let kept = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
            reporter.say(&format!(
                "boxup: interrupted; {} of {name} are kept in {}.\n\
                 boxup: to continue, run the same command again:\n  {}",
                bytes(kept),
                part.display(),
                command_line(&[])
            ));
            return Err(Interrupted.into());
        }
        Err(e @ ClientError::Protocol(_)) if e.to_string().contains("sha1") => {
            meter.abandon();
            let _ = std::fs::remove_file(&part);
            journal.remove(&key);
            return Err(anyhow::Error::from(e).context(format!(
                "download {id}: verification failed, {} was deleted",
                part.display()
            )));
        }
        Err(e) => {
            meter.abandon();
            return Err(anyhow::Error::from(e).context(format!(
                "download {id} (the bytes so far are kept in {}: run the same command again \
                 to resume)",
                part.display()
            )));
        }
    };
    let mut writer = writer.into_inner();
    writer.flush().await?;
    writer.sync_all().await?;
    drop(writer);
    std::fs::rename(&part, &dest)
        .with_context(|| format!("cannot rename {} to {}", part.display(), dest.display()))?;
    journal.remove(&key);
    meter.finish(&format!(
        "done, {} in {}",
        bytes(size),
        seconds(meter.elapsed())
    ));
    report(&args, &reporter, &dest, &done.file, &done, started);
    Ok(())
}

fn report(
    args: &DownloadArgs,
    reporter: &Reporter,
    dest: &Path,
    file: &File,
    done: &boxup_client::Downloaded,
    started: Instant,
) {
    if args.out.json {
        print_json(&json!({
            "id": file.id,
            "name": file.name,
            "size": file.size,
            "sha1": done.sha1.to_hex(),
            "path": dest,
            "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            "bytes_resumed": done.bytes_resumed,
            "bytes_downloaded": done.bytes_downloaded,
        }));
    } else {
        reporter.out(&format!(
            "file {} -> {} ({}, sha1 {} verified)",
            file.id,
            dest.display(),
            bytes(file.size.unwrap_or(0)),
            done.sha1
        ));
    }
}

/// The length of the part file, if there is one.
fn part_len(part: &Path) -> anyhow::Result<Option<u64>> {
    match std::fs::metadata(part) {
        Ok(m) if m.is_file() => Ok(Some(m.len())),
        Ok(_) => bail!("{} exists and is not a file; remove it", part.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot use {}", part.display())),
    }
}

/// `-o PATH`, `-o DIR` (then `DIR/NAME`, as cp does), or `./NAME`. The
/// name comes from the server, so only a plain file name is accepted from
/// it. A destination that cannot be written (a directory, or in a
/// directory that does not exist) is refused before anything is
/// downloaded.
fn destination(output: Option<&Path>, name: &str) -> anyhow::Result<PathBuf> {
    let dest = choose(output, name)?;
    if dest.is_dir() {
        bail!(
            "{} is a directory; pass -o PATH to download elsewhere",
            dest.display()
        );
    }
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        bail!(
            "cannot write {}: {} is not a directory",
            dest.display(),
            parent.display()
        );
    }
    Ok(dest)
}

fn choose(output: Option<&Path>, name: &str) -> anyhow::Result<PathBuf> {
    let safe = || -> anyhow::Result<PathBuf> {
        let plain = Path::new(name)
            .file_name()
            .map(|n| n == name)
            .unwrap_or(false);
        if !plain || name == "." || name == ".." {
            bail!("the file's name {name:?} is not usable as a file name; pass -o PATH");
        }
        Ok(PathBuf::from(name))
    };
    match output {
        Some(dir) if dir.is_dir() => Ok(dir.join(safe()?)),
        Some(path) if path.as_os_str().as_encoded_bytes().ends_with(b"/") => {
            bail!("{}: no such directory", path.display())
        }
        Some(path) => Ok(path.to_path_buf()),
        None => safe(),
    }
}

fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// `path` made absolute without requiring it to exist.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        assert_eq!(destination(None, "a.iso").unwrap(), PathBuf::from("a.iso"));
        assert!(destination(None, "../a").is_err());
        assert!(destination(None, "..").is_err());
        assert!(destination(None, "/etc/passwd").is_err());
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            destination(Some(dir.path()), "a.iso").unwrap(),
            dir.path().join("a.iso")
        );
        let file = dir.path().join("x.bin");
        assert_eq!(destination(Some(&file), "a.iso").unwrap(), file);
        assert_eq!(part_path(&file), dir.path().join("x.bin.part"));
        assert!(destination(Some(&dir.path().join("new/")), "a").is_err());
        assert!(destination(Some(&dir.path().join("new/a")), "a").is_err());
        std::fs::create_dir(dir.path().join("a.iso")).unwrap();
        assert!(destination(Some(dir.path()), "a.iso").is_err());
    }
}
