//! `boxup mv`, `boxup cp`, `boxup rm -r` and `boxup ls` paging by marker,
//! against the real `boxup serve` binary.

use crate::cli_support::{Cli, Server, sha1_hex};

/// `boxup ls FOLDER --json`: the names, in order.
async fn names(cli: &Cli, folder: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["ls", folder, "--json"];
    args.extend_from_slice(extra);
    cli.run(&args)
        .await
        .ok()
        .json_lines()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn mkdir(cli: &Cli, name: &str, parent: &str) -> String {
    cli.run(&["mkdir", name, "--parent", parent])
        .await
        .ok()
        .stdout
        .trim()
        .to_owned()
}

#[tokio::test]
async fn files_and_folders_move_copy_and_go() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let dir = mkdir(&cli, "dir", "0").await;
    let (path, bytes) = cli.file("a.bin", 3 * 1024 * 1024 + 7, 9);
    let up = cli.upload(&path, &["--folder", &dir]).await;
    let file = up["id"].as_str().unwrap().to_owned();

    // Rename and move in one go.
    let moved = cli
        .run(&["mv", &file, "--to", "0", "--name", "b.bin", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(
        (&moved["id"], &moved["name"]),
        (&up["id"], &serde_json::json!("b.bin"))
    );
    assert_eq!(names(&cli, "0", &[]).await, ["dir", "b.bin"]);
    // A copy of the file and of the folder.
    let copy = cli
        .run(&["cp", &file, "--to", &dir, "--json"])
        .await
        .ok()
        .json();
    let copy_id = copy["id"].as_str().unwrap().to_owned();
    assert_ne!(copy_id, file);
    let got = cli
        .run(&["download", &copy_id, "-o", "copy.bin", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(got["sha1"], sha1_hex(&bytes));
    let dir2 = cli
        .run(&[
            "cp", &dir, "--folder", "--to", "0", "--name", "dir2", "--json",
        ])
        .await
        .ok()
        .json();
    let dir2 = dir2["id"].as_str().unwrap().to_owned();
    assert_eq!(names(&cli, &dir2, &[]).await, ["b.bin"]);
    // A clash is Box's error, and the exit status says so.
    let clash = cli.run(&["mv", &dir2, "--folder", "--name", "DIR"]).await;
    assert_ne!(clash.code(), Some(0));
    assert!(clash.stderr.contains("item_name_in_use"), "{clash:#?}");
    let usage = cli.run(&["mv", &file]).await;
    assert_eq!(usage.code(), Some(2), "{usage:#?}");

    // A folder with things in it goes only with -r.
    let refused = cli.run(&["rm", "--folder", &dir]).await;
    assert_ne!(refused.code(), Some(0));
    assert!(refused.stderr.contains("folder_not_empty"), "{refused:#?}");
    cli.run(&["rm", "-r", &dir, &dir2]).await.ok();
    assert_eq!(names(&cli, "0", &[]).await, ["b.bin"]);
    let gone = cli.run(&["download", &copy_id, "-o", "x"]).await;
    assert_ne!(gone.code(), Some(0));
}

#[tokio::test]
async fn ls_pages_through_markers() {
    let server = Server::start(Some(crate::cli_support::TOKEN)).await;
    let cli = Cli::new(&server.origin);
    let dir = mkdir(&cli, "many", "0").await;
    let mut want = Vec::new();
    for i in 0..7 {
        let name = format!("sub{i}");
        mkdir(&cli, &name, &dir).await;
        want.push(name);
    }
    assert_eq!(names(&cli, &dir, &["--page-size", "2"]).await, want);
    assert_eq!(names(&cli, &dir, &[]).await, want);
    let bad = cli.run(&["ls", &dir, "--page-size", "0"]).await;
    assert_eq!(bad.code(), Some(2));
}
