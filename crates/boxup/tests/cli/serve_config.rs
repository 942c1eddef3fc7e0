//! `boxup serve --config FILE` on the real binary: a file's settings apply
//! under real `BOXUP_*` variables, which apply under flags (the banner
//! shows which won), `BOXUP_CONFIG` names the file too, and a bad file is
//! a usage error (exit 2) naming the key and the file before anything is
//! created.

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::cli_support::{clean, within};

fn serve(config: &Path) -> Command {
    let mut cmd = clean(Command::new(env!("CARGO_BIN_EXE_boxup")));
    cmd.arg("serve")
        .env("BOXUP_CONFIG", config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// The banner of a server started by `cmd`, up to its `part bytes:` line;
/// the server is then stopped.
async fn banner(mut cmd: Command) -> Vec<String> {
    let mut child = cmd.spawn().expect("spawn boxup serve");
    let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains("part bytes:")) {
        let line = within("the banner", out.next_line()).await.expect("stdout");
        lines.push(line.unwrap_or_else(|| panic!("the banner ended: {lines:?}")));
    }
    child.kill().await.expect("stop the server");
    lines
}

fn has(banner: &[String], text: &str) -> bool {
    banner.iter().any(|l| l.contains(text))
}

#[tokio::test]
async fn the_file_under_variables_under_flags() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-file");
    let config = dir.path().join("boxup.toml");
    std::fs::write(
        &config,
        format!(
            "bind = \"127.0.0.1:0\"\ndata_dir = {:?}\npublic_url = \"http://file.example\"\n\
             tokens = [\"t=alice\"]\nsession_ttl = \"1d\"\n",
            data.to_str().unwrap()
        ),
    )
    .unwrap();

    let b = banner(serve(&config)).await;
    assert!(has(&b, "API base:    http://file.example/2.0"), "{b:?}");
    assert!(
        has(&b, &format!("config file: {}", config.display())),
        "{b:?}"
    );
    assert!(has(&b, &data.join("parts").display().to_string()), "{b:?}");

    let mut cmd = serve(&config);
    cmd.env("BOXUP_PUBLIC_URL", "http://env.example");
    let b = banner(cmd).await;
    assert!(has(&b, "API base:    http://env.example/2.0"), "{b:?}");

    let mut cmd = serve(&config);
    cmd.env("BOXUP_PUBLIC_URL", "http://env.example")
        .args(["--public-url", "http://flag.example"]);
    let b = banner(cmd).await;
    assert!(has(&b, "API base:    http://flag.example/2.0"), "{b:?}");
    assert!(has(&b, &data.join("parts").display().to_string()), "{b:?}");
}

#[tokio::test]
async fn a_bad_file_is_a_usage_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("boxup.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nbnid = \"0.0.0.0:80\"\n",
            data.to_str().unwrap()
        ),
    )
    .unwrap();
    let mut cmd = serve(&config);
    cmd.stderr(Stdio::piped());
    let out = within("boxup serve", cmd.output()).await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "unknown key \"bnid\" in {} (known keys: bind, ",
        config.display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(!data.exists(), "nothing is created");
}
