//! Uploads through an upload session, resumable across runs.
//!
//! The session is journaled (`journal.rs`) from the moment it exists, via
//! `UploadOptions::on_session`, so even a SIGKILL right after the first
//! part leaves enough on disk to continue. A re-run of the same command:
//! - finds the entry and, if the file's size and mtime are unchanged,
//!   calls `resume_upload`, which lists the parts on the server, checks
//!   each against the local bytes and uploads only the missing ones;
//! - starts over (saying so on stderr) when the session is gone (404) or
//!   expired (410), or when its parts do not match the local file;
//! - discards the entry (aborting the session) when the file changed or
//!   `--restart` is given.
//!
//! A file written to while it is being uploaded must not be committed:
//! the session would hold a mix of old and new bytes under a SHA-1 the
//! local file no longer has. So once every byte has been read and sent
//! (the progress callback reaches the size, before the commit), the file
//! is stat'ed again; if its size or mtime moved, the upload is stopped,
//! the session aborted and its entry dropped. A change in the short gap
//! between that check and the commit is caught by a last check after it,
//! which fails the file all the same (the commit cannot be undone).
//!
//! The entry is removed once the commit succeeded. If the process dies
//! between the commit and that removal, the next run resumes a committed
//! session, which uploads nothing and returns the file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use boxup_client::{
    CancellationToken, CommitAttributes, CommitOptions, Error as ClientError, SessionRef,
    UploadOptions, UploadSession,
};

use super::common::{bytes, command_line, seconds};
use super::journal::{Target, UploadEntry};
use super::upload::{Ctx, Uploaded};

pub(crate) async fn upload(
    ctx: &Ctx,
    path: &Path,
    name: &str,
    size: u64,
    mtime_ns: u64,
    modified: &str,
) -> anyhow::Result<Uploaded> {
    let upload_url = ctx.client.base_urls().upload_url.clone();
    let key = super::journal::Journal::upload_key(path, &ctx.target, &upload_url, name);
    let template = UploadEntry {
        path: path.to_path_buf(),
        size,
        mtime_ns,
        name: name.to_owned(),
        target: ctx.target.clone(),
        upload_url,
        session_id: String::new(),
        session_endpoints: None,
        part_size: None,
        total_parts: None,
        session_expires_at: None,
    };
    let attempt = Attempt {
        ctx,
        key: &key,
        template: &template,
        modified,
    };
    if let Some(prev) = ctx.journal.load::<UploadEntry>(&key) {
        let changed = prev.size != size || prev.mtime_ns != mtime_ns;
        if ctx.args.restart || changed {
            let why = if changed {
                format!("{} changed since the interrupted upload", path.display())
            } else {
                "--restart".to_owned()
            };
            discard(ctx, &key, &prev, &why).await;
        } else {
            match attempt.run(Some(&prev)).await {
                Err(e) if restartable(&e) => {
                    let why = format!("cannot resume ({})", super::common::describe(&e));
                    discard(ctx, &key, &prev, &why).await;
                }
                other => return other,
            }
        }
    }
    attempt.run(None).await
}

/// Errors after which resuming is pointless but starting over may work.
fn restartable(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<ClientError>())
        .any(|e| {
            matches!(
                e,
                ClientError::ResumeMismatch { .. } | ClientError::InvalidInput(_)
            ) || matches!(e.status(), Some(404 | 410))
        })
}

/// Aborts the journaled session (best effort) and forgets it.
async fn discard(ctx: &Ctx, key: &str, prev: &UploadEntry, why: &str) {
    ctx.reporter.say(&format!(
        "boxup: {why}: discarding session {} and starting over",
        prev.session_id
    ));
    abort(ctx, prev).await;
    ctx.journal.remove(key);
}

/// Aborts a session on the server, best effort.
async fn abort(ctx: &Ctx, prev: &UploadEntry) {
    let mgr = ctx.client.chunked_uploads();
    let abort = prev
        .session_endpoints
        .as_ref()
        .and_then(|e| e.abort.clone());
    let _ = match abort {
        Some(url) => mgr.delete_file_upload_session_by_url(&url, None).await,
        None => {
            mgr.delete_file_upload_session_by_id(&prev.session_id, None)
                .await
        }
    };
}

struct Attempt<'a> {
    ctx: &'a Ctx,
    key: &'a str,
    template: &'a UploadEntry,
    modified: &'a str,
}

impl Attempt<'_> {
    /// One upload: into a new session, or resuming `resume`.
    async fn run(&self, resume: Option<&UploadEntry>) -> anyhow::Result<Uploaded> {
        let ctx = self.ctx;
        let (name, size) = (self.template.name.as_str(), self.template.size);
        let meter = ctx.reporter.start("upload", name, size);
        let seen: Arc<Mutex<Option<UploadSession>>> = Arc::default();
        let on_session = {
            let (journal, key, template) = (
                ctx.journal.clone(),
                self.key.to_owned(),
                self.template.clone(),
            );
            let (meter, seen, reporter) = (meter.clone(), seen.clone(), ctx.reporter.clone());
            let resuming = resume.is_some();
            move |s: &UploadSession| {
                if let Err(e) = journal.save(&key, &template.with_session(s)) {
                    reporter.say(&format!(
                        "boxup: warning: {e:#}; the upload is not resumable"
                    ));
                }
                let part_size = s.part_size.unwrap_or(0);
                let total = s.total_parts.unwrap_or(0);
                let done = if resuming {
                    s.num_parts_processed.unwrap_or(0)
                } else {
                    0
                };
                meter.set_parts(part_size, (u64::from(done) * part_size).min(template.size));
                let what = match resuming {
                    true => format!("resuming session {}: {done}/{total} parts", s.id),
                    false => format!("session {}: {total} parts", s.id),
                };
                reporter.note(&format!(
                    "upload {}: {what} of {}",
                    template.name,
                    bytes(part_size)
                ));
                *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(s.clone());
            }
        };
        let watch = Arc::new(Watch {
            path: self.template.path.clone(),
            stat: (size, self.template.mtime_ns),
            stop: ctx.cancel.child_token(),
            checked: AtomicBool::new(false),
            changed: AtomicBool::new(false),
        });
        let (m, w) = (meter.clone(), watch.clone());
        let options = UploadOptions::new()
            .with_parallelism(ctx.args.parallel.into())
            .on_progress(move |p| {
                m.update(p.bytes_done);
                if p.bytes_done >= p.total_bytes {
                    w.check_once();
                }
            })
            .on_session(on_session)
            .with_cancellation(watch.stop.clone())
            .with_commit_options(CommitOptions {
                attributes: Some(CommitAttributes {
                    content_modified_at: Some(self.modified.to_owned()),
                    ..CommitAttributes::default()
                }),
                ..CommitOptions::default()
            });
        let source = tokio::fs::File::open(&self.template.path)
            .await
            .with_context(|| format!("cannot open {}", self.template.path.display()))?;
        let mgr = ctx.client.chunked_uploads();
        let upload = async {
            match (resume, &ctx.target) {
                (Some(prev), _) => {
                    let session = SessionRef::parse(&prev.session_ref());
                    mgr.resume_upload(session, source, size, &options).await
                }
                (None, Target::Folder(folder)) => {
                    mgr.upload_big_file_with(source, name, size, folder, &options)
                        .await
                }
                (None, Target::NewVersion(id)) => {
                    let rename = ctx.args.name.as_deref();
                    mgr.upload_big_file_version(source, id, size, rename, &options)
                        .await
                }
            }
        };
        // The pipeline stops on the token by itself; this also covers the
        // calls around it (create, get, list, commit).
        let result = tokio::select! {
            () = ctx.cancel.cancelled() => Err(ClientError::Cancelled),
            r = upload => r,
        };
        let session = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if watch.changed.load(Ordering::SeqCst) || (result.is_ok() && watch.changed_now()) {
            meter.abandon();
            return Err(self.changed(session.as_ref(), result.ok()).await);
        }
        let Some(session) = session else {
            meter.abandon();
            if matches!(result, Err(ClientError::Cancelled)) {
                match resume {
                    Some(prev) => say_resumable(ctx, name, &prev.session_id),
                    None => ctx
                        .reporter
                        .say("boxup: interrupted before a session existed; nothing to resume"),
                }
                return Err(super::common::Interrupted.into());
            }
            return Err(result.err().map_or_else(
                || anyhow::anyhow!("the upload ended without a session"),
                anyhow::Error::from,
            ));
        };
        match result {
            Ok(file) => {
                ctx.journal.remove(self.key);
                meter.finish(&format!(
                    "done, {} in {}, file {}",
                    bytes(size),
                    seconds(meter.elapsed()),
                    file.id
                ));
                let parts_resumed = match resume {
                    Some(_) => u64::from(session.num_parts_processed.unwrap_or(0)),
                    None => 0,
                };
                Ok(Uploaded {
                    file,
                    method: "chunked",
                    session_id: Some(session.id.clone()),
                    parts_total: session.total_parts.map(u64::from),
                    parts_resumed,
                    skipped: false,
                })
            }
            Err(ClientError::Cancelled) => {
                meter.abandon();
                say_resumable(ctx, name, &session.id);
                Err(super::common::Interrupted.into())
            }
            Err(e) => {
                meter.abandon();
                let e = anyhow::Error::from(e);
                if !restartable(&e) {
                    ctx.reporter.say(&format!(
                        "boxup: session {} of {name} is kept: run the same command again \
                         to resume it",
                        session.id
                    ));
                }
                Err(e)
            }
        }
    }
}

/// Whether the file being uploaded still has the size and mtime it had
/// when the upload began.
struct Watch {
    path: PathBuf,
    stat: (u64, u64),
    /// Stops the upload (a child of the Ctrl-C token).
    stop: CancellationToken,
    checked: AtomicBool,
    changed: AtomicBool,
}

impl Watch {
    /// The file's stat now differs from the one the upload began with
    /// (an unreadable file counts as changed).
    fn changed_now(&self) -> bool {
        super::journal::stat(&self.path).map_or(true, |now| now != self.stat)
    }

    /// Called once every byte is sent, before the commit: stops the
    /// upload if the file changed.
    fn check_once(&self) {
        if !self.checked.swap(true, Ordering::SeqCst) && self.changed_now() {
            self.changed.store(true, Ordering::SeqCst);
            self.stop.cancel();
        }
    }
}

impl Attempt<'_> {
    /// The file changed during the upload: abort the session (unless it
    /// was committed), forget it, and say so.
    async fn changed(
        &self,
        session: Option<&UploadSession>,
        committed: Option<boxup_client::File>,
    ) -> anyhow::Error {
        let ctx = self.ctx;
        if let (Some(s), None) = (session, &committed) {
            let entry = self.template.with_session(s);
            abort(ctx, &entry).await;
        }
        ctx.journal.remove(self.key);
        let path = self.template.path.display();
        match committed {
            None => anyhow::anyhow!(
                "{path} changed while uploading; run again to upload its current content"
            ),
            Some(f) => anyhow::anyhow!(
                "{path} changed while uploading, just before the commit: file {} may not \
                 match it; run again to upload its current content",
                f.id
            ),
        }
    }
}

/// How to continue an interrupted upload.
fn say_resumable(ctx: &Ctx, name: &str, session: &str) {
    ctx.reporter.say(&format!(
        "boxup: interrupted; the upload of {name} is resumable (session {session}).\n\
         boxup: to continue, run the same command again:\n  {}\n\
         boxup: (add --restart to start over instead)",
        command_line(&["--restart"])
    ));
}
