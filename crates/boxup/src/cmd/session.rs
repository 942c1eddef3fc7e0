//! `boxup session show|parts|commit|abort|list`: inspect and repair upload
//! sessions by hand.
//!
//! Each takes a session id or its status URL (`session_endpoints.status`);
//! the journal (state directory) is consulted to name the local file and
//! kept in step: `commit` and `abort` remove the session's entry.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, anyhow};
use boxup_client::{BoxClient, SessionRef, UploadOptions, UploadPart, UploadSession};
use clap::{Args, Subcommand};
use serde_json::json;

use super::common::{OutputArgs, StateArgs, bytes, errln, outln, print_json, seconds};
use super::conn::ConnArgs;
use super::journal::{Journal, UploadEntry};

#[derive(Args, Debug)]
pub(crate) struct SessionArgs {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Action {
    /// Show a session: size, parts done, expiry, endpoints, local file.
    Show(One),
    /// List the parts on the server: offset, size, SHA-1, part id.
    Parts(One),
    /// Finish a session from the local file: check the listed parts
    /// against it, upload any missing ones, commit.
    Commit(CommitArgs),
    /// Abort (delete) a session and its parts; forget its journal entry.
    Abort(One),
    /// List the sessions journaled in the state directory (no network).
    List(ListArgs),
}

#[derive(Args, Debug)]
pub(crate) struct One {
    /// The session id or status URL.
    #[arg(value_name = "ID")]
    pub session: String,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Args, Debug)]
pub(crate) struct CommitArgs {
    #[command(flatten)]
    pub one: One,
    /// The local file [default: the one journaled for this session].
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Parts uploaded at once, if any are missing.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub parallel: u16,
}

#[derive(Args, Debug)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub(crate) async fn run(args: SessionArgs) -> anyhow::Result<()> {
    match args.action {
        Action::Show(one) => show(one).await,
        Action::Parts(one) => parts(one).await,
        Action::Commit(c) => commit(c).await,
        Action::Abort(one) => abort(one).await,
        Action::List(l) => list(l),
    }
}

async fn get(client: &BoxClient, session: &str) -> anyhow::Result<UploadSession> {
    let mgr = client.chunked_uploads();
    let got = match SessionRef::parse(session) {
        SessionRef::Id(id) => mgr.get_file_upload_session_by_id(&id, None).await,
        SessionRef::Url(url) => mgr.get_file_upload_session_by_url(&url, None).await,
    };
    got.with_context(|| format!("session {session}"))
}

fn journaled(one: &One) -> anyhow::Result<(Journal, Vec<(String, UploadEntry)>)> {
    let journal = Journal::uploads(&one.state.dir()?);
    let found = journal.find_session(&one.session);
    Ok((journal, found))
}

async fn show(one: One) -> anyhow::Result<()> {
    let client = one.conn.client()?;
    let s = get(&client, &one.session).await?;
    let (_, found) = journaled(&one)?;
    let local = found.first().map(|(_, e)| e);
    if one.out.json {
        let mut v = serde_json::to_value(&s)?;
        v["local"] = serde_json::to_value(local)?;
        print_json(&v);
        return Ok(());
    }
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    outln!("session      {}", s.id);
    outln!(
        "parts        {}/{} processed, {} each",
        opt(s.num_parts_processed.map(|n| n.to_string())),
        opt(s.total_parts.map(|n| n.to_string())),
        opt(s.part_size.map(bytes))
    );
    outln!("expires      {}", opt(s.session_expires_at.clone()));
    if let Some(e) = &s.session_endpoints {
        outln!("status       {}", opt(e.status.clone()));
        outln!("commit       {}", opt(e.commit.clone()));
    }
    match local {
        Some(e) => outln!(
            "local file   {} ({}, to {} as {:?})",
            e.path.display(),
            bytes(e.size),
            e.target,
            e.name
        ),
        None => outln!("local file   - (not in the journal)"),
    }
    Ok(())
}

async fn list_parts(client: &BoxClient, s: &UploadSession) -> anyhow::Result<Vec<UploadPart>> {
    let mgr = client.chunked_uploads();
    let url = s
        .session_endpoints
        .as_ref()
        .and_then(|e| e.list_parts.clone());
    let mut parts: Vec<UploadPart> = Vec::new();
    loop {
        let offset = Some(parts.len() as u64);
        let page = match &url {
            Some(u) => {
                mgr.get_file_upload_session_parts_by_url(u, offset, Some(1000), None)
                    .await?
            }
            None => {
                mgr.get_file_upload_session_parts(&s.id, offset, Some(1000), None)
                    .await?
            }
        };
        let got = page.entries.len();
        parts.extend(page.entries);
        if got == 0 || parts.len() as u64 >= page.total_count {
            parts.sort_by_key(|p| p.offset);
            return Ok(parts);
        }
    }
}

async fn parts(one: One) -> anyhow::Result<()> {
    let client = one.conn.client()?;
    let s = get(&client, &one.session).await?;
    let parts = list_parts(&client, &s)
        .await
        .with_context(|| format!("parts of session {}", one.session))?;
    for p in &parts {
        if one.out.json {
            print_json(&serde_json::to_value(p)?);
        } else {
            let sha1 = p.sha1.as_deref().unwrap_or("-");
            outln!("{:>14} {:>11} {sha1} {}", p.offset, p.size, p.part_id);
        }
    }
    if !one.out.json {
        let total = s.total_parts.map_or("?".into(), |t| t.to_string());
        errln!("{} of {total} parts uploaded", parts.len());
    }
    Ok(())
}

async fn commit(args: CommitArgs) -> anyhow::Result<()> {
    let one = &args.one;
    let client = one.conn.client()?;
    let (journal, found) = journaled(one)?;
    let path = match (&args.path, found.first()) {
        (Some(p), _) => p.clone(),
        (None, Some((_, e))) => e.path.clone(),
        (None, None) => {
            return Err(super::common::Usage(format!(
                "session {} is not in the journal: give the local file as PATH",
                one.session
            ))
            .into());
        }
    };
    let started = Instant::now();
    let source = tokio::fs::File::open(&path)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    let size = source.metadata().await?.len();
    let options = UploadOptions::new().with_parallelism(args.parallel.into());
    let file = client
        .chunked_uploads()
        .resume_upload(SessionRef::parse(&one.session), source, size, &options)
        .await
        .with_context(|| format!("commit session {} from {}", one.session, path.display()))?;
    for (key, _) in &found {
        journal.remove(key);
    }
    let sha1 = file.sha1.clone().unwrap_or_default();
    if one.out.json {
        print_json(&json!({
            "id": file.id, "name": file.name, "size": file.size, "sha1": sha1,
            "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        }));
    } else {
        outln!(
            "committed session {} -> file {} ({}, sha1 {sha1}) in {}",
            one.session,
            file.id,
            bytes(file.size.unwrap_or(0)),
            seconds(started.elapsed())
        );
    }
    Ok(())
}

async fn abort(one: One) -> anyhow::Result<()> {
    let client = one.conn.client()?;
    let mgr = client.chunked_uploads();
    let done = match SessionRef::parse(&one.session) {
        SessionRef::Id(id) => mgr.delete_file_upload_session_by_id(&id, None).await,
        SessionRef::Url(url) => mgr.delete_file_upload_session_by_url(&url, None).await,
    };
    done.with_context(|| format!("abort session {}", one.session))?;
    let (journal, found) = journaled(&one)?;
    for (key, _) in &found {
        journal.remove(key);
    }
    if one.out.json {
        print_json(&json!({"session": one.session, "aborted": true}));
    } else {
        outln!("aborted session {}", one.session);
    }
    Ok(())
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let journal = Journal::uploads(&args.state.dir()?);
    let entries = journal.all::<UploadEntry>();
    if entries.is_empty() && !args.out.json {
        errln!("no interrupted uploads in {}", args.state.dir()?.display());
    }
    for (_, e) in entries {
        if args.out.json {
            print_json(&serde_json::to_value(&e).map_err(|e| anyhow!(e))?);
        } else {
            outln!(
                "{}  {}  {} -> {} as {:?}",
                e.session_id,
                bytes(e.size),
                e.path.display(),
                e.target,
                e.name
            );
        }
    }
    Ok(())
}
