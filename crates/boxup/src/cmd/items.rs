//! `boxup ls`, `boxup mkdir` and `boxup rm`: the folder and file calls an
//! uploader needs around its uploads (where to put them, what is there,
//! cleaning up).

use anyhow::Context;
use clap::Args;
use serde_json::json;

use super::common::{OutputArgs, bytes, errln, outln, print_json};
use super::conn::ConnArgs;

#[derive(Args, Debug)]
pub(crate) struct LsArgs {
    /// The folder to list ("0" is the root).
    #[arg(default_value = "0", value_name = "FOLDER_ID")]
    pub folder_id: String,
    /// Items fetched per request; the listing pages through markers, so
    /// it neither skips nor repeats items that change meanwhile.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub page_size: u64,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Args, Debug)]
pub(crate) struct MkdirArgs {
    /// The new folder's name.
    pub name: String,
    /// The folder to create it in.
    #[arg(long, value_name = "ID", default_value = "0")]
    pub parent: String,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Args, Debug)]
pub(crate) struct RmArgs {
    /// The files to delete (folders with --folder or -r).
    #[arg(required = true, value_name = "ID")]
    pub file_ids: Vec<String>,
    /// The ids are folders; each must be empty unless -r is given.
    #[arg(long)]
    pub folder: bool,
    /// The ids are folders, deleted with everything in them.
    #[arg(short = 'r', long)]
    pub recursive: bool,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// One line per item: `TYPE ID SIZE NAME` (folders have no size), sorted
/// as the server sorts (folders first, then by name).
pub(crate) async fn ls(args: LsArgs) -> anyhow::Result<()> {
    let client = args.conn.client()?;
    let items = client
        .folders()
        .walk_folder_items(&args.folder_id, args.page_size)
        .await
        .with_context(|| format!("ls {}", args.folder_id))?;
    let id_width = items.iter().map(|i| i.id.len()).max().unwrap_or(0);
    for item in items {
        let name = item.name.clone().unwrap_or_default();
        if args.out.json {
            print_json(&json!({
                "type": item.kind,
                "id": item.id,
                "name": name,
                "size": item.size,
                "sha1": item.sha1,
            }));
        } else {
            let size = match (item.kind.as_str(), item.size) {
                ("file", Some(s)) => bytes(s),
                _ => "-".to_owned(),
            };
            outln!("{:<6} {:>id_width$} {size:>11}  {name}", item.kind, item.id);
        }
    }
    Ok(())
}

pub(crate) async fn mkdir(args: MkdirArgs) -> anyhow::Result<()> {
    let client = args.conn.client()?;
    let folder = client
        .folders()
        .create_folder(&args.name, &args.parent, None)
        .await
        .with_context(|| format!("mkdir {}", args.name))?;
    if args.out.json {
        print_json(&json!({
            "type": "folder",
            "id": folder.id,
            "name": folder.name,
            "parent_id": args.parent,
        }));
    } else {
        outln!("{}", folder.id);
    }
    Ok(())
}

/// Deletes each file (or folder); all are tried, and the command fails if
/// any failed.
pub(crate) async fn rm(args: RmArgs) -> anyhow::Result<()> {
    let client = args.conn.client()?;
    let folders = args.folder || args.recursive;
    let kind = if folders { "folder" } else { "file" };
    let mut failed: Option<anyhow::Error> = None;
    let total = args.file_ids.len();
    for id in &args.file_ids {
        let deleted = if folders {
            client
                .folders()
                .delete_folder_by_id(id, args.recursive, None)
                .await
        } else {
            client.files().delete_file_by_id(id, None).await
        };
        match deleted {
            Ok(()) if args.out.json => {
                print_json(&json!({"type": kind, "id": id, "deleted": true}))
            }
            Ok(()) => outln!("deleted {kind} {id}"),
            Err(e) => {
                let e = anyhow::Error::from(e).context(format!("rm {id}"));
                if total > 1 {
                    errln!("boxup: {}", super::common::describe(&e));
                }
                failed = Some(e);
            }
        }
    }
    match failed {
        Some(e) if total == 1 => Err(e),
        Some(_) => Err(anyhow::anyhow!("some {kind}s could not be deleted")),
        None => Ok(()),
    }
}
