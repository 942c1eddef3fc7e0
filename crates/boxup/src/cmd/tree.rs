//! `boxup mv` and `boxup cp`: move, rename and copy files and folders on
//! the server, without moving bytes through the client (a copy shares the
//! original's stored bytes).

use anyhow::Context;
use boxup_client::boxup_protocol::{CopyItemRequest, ParentRef, UpdateItemRequest};
use clap::Args;
use serde_json::json;

use super::common::{OutputArgs, outln, print_json};
use super::conn::ConnArgs;

#[derive(Args, Debug)]
pub(crate) struct MoveArgs {
    /// The file (or, with --folder, the folder) to move or rename.
    #[arg(value_name = "ID")]
    pub id: String,
    /// The folder to move it into ("0" is the root); omitted: it stays.
    #[arg(long, value_name = "FOLDER_ID")]
    pub to: Option<String>,
    /// Its new name; omitted: it keeps its name.
    #[arg(long)]
    pub name: Option<String>,
    /// ID is a folder.
    #[arg(long)]
    pub folder: bool,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Args, Debug)]
pub(crate) struct CopyArgs {
    /// The file (or, with --folder, the folder and all it holds) to copy.
    #[arg(value_name = "ID")]
    pub id: String,
    /// The folder to copy it into ("0" is the root).
    #[arg(long, value_name = "FOLDER_ID")]
    pub to: String,
    /// The copy's name; omitted: the original's.
    #[arg(long)]
    pub name: Option<String>,
    /// ID is a folder.
    #[arg(long)]
    pub folder: bool,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// Prints the moved or copied item: `TYPE ID NAME` (or JSON).
fn report(json_out: bool, kind: &str, id: &str, name: Option<&str>, parent: Option<&str>) {
    let name = name.unwrap_or_default();
    if json_out {
        print_json(&json!({"type": kind, "id": id, "name": name, "parent_id": parent}));
    } else {
        outln!("{kind} {id} {name}");
    }
}

pub(crate) async fn mv(args: MoveArgs) -> anyhow::Result<()> {
    if args.to.is_none() && args.name.is_none() {
        return Err(
            super::common::Usage("mv needs --to FOLDER_ID, --name NAME or both".into()).into(),
        );
    }
    let client = args.conn.client()?;
    let update = UpdateItemRequest {
        name: args.name.clone(),
        parent: args.to.clone().map(|id| ParentRef { id }),
        ..UpdateItemRequest::default()
    };
    let what = || format!("mv {}", args.id);
    if args.folder {
        let f = client
            .folders()
            .update_folder_by_id(&args.id, &update, None)
            .await
            .with_context(what)?;
        let parent = f.parent.as_ref().map(|p| p.id.as_str());
        report(args.out.json, "folder", &f.id, f.name.as_deref(), parent);
    } else {
        let f = client
            .files()
            .update_file_by_id(&args.id, &update, None)
            .await
            .with_context(what)?;
        let parent = f.parent.as_ref().map(|p| p.id.as_str());
        report(args.out.json, "file", &f.id, f.name.as_deref(), parent);
    }
    Ok(())
}

pub(crate) async fn cp(args: CopyArgs) -> anyhow::Result<()> {
    let client = args.conn.client()?;
    let copy = CopyItemRequest {
        parent: ParentRef {
            id: args.to.clone(),
        },
        name: args.name.clone(),
    };
    let what = || format!("cp {}", args.id);
    if args.folder {
        let f = client
            .folders()
            .copy_folder(&args.id, &copy, None)
            .await
            .with_context(what)?;
        report(
            args.out.json,
            "folder",
            &f.id,
            f.name.as_deref(),
            Some(&args.to),
        );
    } else {
        let f = client
            .files()
            .copy_file(&args.id, &copy, None)
            .await
            .with_context(what)?;
        report(
            args.out.json,
            "file",
            &f.id,
            f.name.as_deref(),
            Some(&args.to),
        );
    }
    Ok(())
}
