//! The config file of `boxup serve`: precedence (file < env < flag), the
//! errors that name the key and the file, and every flag accepted as a key
//! (the example in docs/cli.md sets every one of them).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, Command, CommandFactory};

use super::*;

/// `boxup serve ARGS --config <a file holding TOML>`, with `tweak` applied
/// to the `serve` command first.
fn serve_with(
    toml: &str,
    args: &[&str],
    tweak: impl FnOnce(Command) -> Command,
) -> Result<ArgMatches, clap::Error> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("boxup.toml");
    std::fs::write(&file, toml).unwrap();
    let cmd = crate::Cli::command().mut_subcommand(SUBCOMMAND, tweak);
    let mut argv: Vec<OsString> = vec!["boxup".into(), "serve".into()];
    argv.extend(args.iter().map(OsString::from));
    argv.push("--config".into());
    argv.push(file.into());
    matches_with_config(cmd, argv).map(|m| m.subcommand_matches(SUBCOMMAND).unwrap().clone())
}

fn serve(toml: &str, args: &[&str]) -> Result<ArgMatches, clap::Error> {
    serve_with(toml, args, |c| c)
}

fn error(toml: &str) -> String {
    serve(toml, &[]).expect_err("a bad config file").to_string()
}

fn string(m: &ArgMatches, id: &str) -> Option<String> {
    m.get_one::<String>(id).cloned()
}

#[test]
fn file_fills_in_what_no_flag_gives_and_a_flag_wins() {
    let file = r#"
        data_dir = "/srv/boxup"
        public_url = "https://file.example"
        min_chunked_size = 1048576
        session_ttl = "12h"
        tokens = ["a=alice", "b=bob"]
        storage = "s3://bucket"
        s3_presigned_downloads = false
    "#;
    let m = serve(file, &[]).unwrap();
    assert_eq!(
        m.get_one::<PathBuf>("data_dir").unwrap(),
        &PathBuf::from("/srv/boxup")
    );
    assert_eq!(
        string(&m, "public_url").as_deref(),
        Some("https://file.example")
    );
    assert_eq!(m.get_one::<u64>("min_chunked_size"), Some(&1_048_576));
    assert_eq!(
        m.get_one::<Duration>("session_ttl"),
        Some(&Duration::from_secs(12 * 3600))
    );
    let tokens: Vec<&String> = m.get_many::<String>("tokens").unwrap().collect();
    assert_eq!(tokens, ["a=alice", "b=bob"]);
    assert_eq!(m.get_one::<bool>("s3_presigned_downloads"), Some(&false));
    // Untouched by the file: the built-in default.
    assert_eq!(
        m.get_one::<Duration>("sweep_every"),
        Some(&Duration::from_secs(60))
    );

    let m = serve(
        file,
        &["--public-url", "https://flag.example", "--token", "c=carol"],
    )
    .unwrap();
    assert_eq!(
        string(&m, "public_url").as_deref(),
        Some("https://flag.example")
    );
    let tokens: Vec<&String> = m.get_many::<String>("tokens").unwrap().collect();
    assert_eq!(
        tokens,
        ["c=carol"],
        "a repeated flag replaces the file's list"
    );
    assert_eq!(
        m.get_one::<PathBuf>("data_dir").unwrap(),
        &PathBuf::from("/srv/boxup")
    );
}

#[test]
fn an_environment_variable_beats_the_file_and_a_flag_beats_both() {
    // `public_url` read from PATH, a variable every process has, stands
    // for BOXUP_PUBLIC_URL: tests must not set variables of their process.
    let path = std::env::var("PATH").expect("PATH is set");
    let from_path = |c: Command| c.mut_arg("public_url", |a| a.env("PATH"));
    let file = "public_url = \"https://file.example\"\nbind = \"127.0.0.1:9000\"";
    let m = serve_with(file, &[], from_path).unwrap();
    assert_eq!(string(&m, "public_url"), Some(path));
    assert_eq!(
        m.get_one::<std::net::SocketAddr>("bind").unwrap().port(),
        9000
    );
    let m = serve_with(file, &["--public-url", "https://flag.example"], from_path).unwrap();
    assert_eq!(
        string(&m, "public_url").as_deref(),
        Some("https://flag.example")
    );
}

#[test]
fn unknown_keys_are_named_with_the_file_and_the_known_keys() {
    let e = error("bnid = \"0.0.0.0:80\"");
    assert!(e.contains("unknown key \"bnid\" in "), "{e}");
    assert!(e.contains("boxup.toml (known keys: "), "{e}");
    assert!(e.contains("bind, data_dir, "), "{e}");
    // `config` itself is no key of the file; nor are tables.
    assert!(error("config = \"other.toml\"").contains("unknown key \"config\""));
    assert!(error("[s3]\nendpoint = \"x\"").contains("unknown key \"s3\""));
}

#[test]
fn a_value_of_the_wrong_type_names_the_key() {
    let e = error("min_chunked_size = \"big\"");
    assert!(e.contains("key \"min_chunked_size\" in "), "{e}");
    assert!(e.contains("must be an integer, not string"), "{e}");
    let e = error("tokens = \"a=alice\"");
    assert!(
        e.contains("key \"tokens\"") && e.contains("must be an array of strings"),
        "{e}"
    );
    let e = error("s3_path_style = \"yes\"");
    assert!(e.contains("must be a boolean, not string"), "{e}");
    let e = error("bind = 8080");
    assert!(
        e.contains("key \"bind\"") && e.contains("must be a string, not integer"),
        "{e}"
    );
}

#[test]
fn values_go_through_the_flags_own_parsers() {
    let e = error("session_ttl = \"7 fortnights\"");
    assert!(e.contains("key \"session_ttl\" in "), "{e}");
    assert!(
        e.contains("invalid value '7 fortnights' for '--session-ttl"),
        "{e}"
    );
    let e = error("bind = \"nowhere\"");
    assert!(
        e.contains("key \"bind\" in ") && e.contains("'nowhere'"),
        "{e}"
    );
    let e = error("min_chunked_size = -1");
    assert!(
        e.contains("key \"min_chunked_size\" in ") && e.contains("'-1'"),
        "{e}"
    );
    let m = serve("session_ttl = \"7d\"", &[]).unwrap();
    assert_eq!(
        m.get_one::<Duration>("session_ttl"),
        Some(&Duration::from_secs(7 * 86400))
    );
}

#[test]
fn a_missing_or_malformed_file_is_named() {
    let cmd = crate::Cli::command();
    let argv = ["boxup", "serve", "--config", "/nonexistent/boxup.toml"].map(OsString::from);
    let e = matches_with_config(cmd, argv.to_vec())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot read config file /nonexistent/boxup.toml"),
        "{e}"
    );
    assert!(error("bind = ").contains("is not valid TOML"));
}

#[test]
fn flag_rules_still_hold_for_file_values() {
    // `--s3-endpoint` requires `--storage`, from wherever it comes.
    assert!(serve("s3_endpoint = \"http://127.0.0.1:3900\"", &[]).is_err());
    let m = serve("s3_endpoint = \"http://s3\"", &["--storage", "s3://b"]).unwrap();
    assert_eq!(string(&m, "s3_endpoint").as_deref(), Some("http://s3"));
}

/// The ```toml block of docs/cli.md's `boxup serve` section.
fn documented_example() -> String {
    let doc = include_str!("../../../../docs/cli.md");
    let start = doc
        .find("```toml\n")
        .expect("a toml example in docs/cli.md")
        + 8;
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_owned()
}

#[test]
fn the_documented_example_is_valid() {
    serve(&documented_example(), &[]).unwrap();
}

#[test]
fn every_flag_is_a_key_and_the_documented_example_sets_every_one() {
    // The example's commented-out settings, switched on.
    let all: String = documented_example()
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .filter(|l| l.contains(" = "))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let table: toml::Table = all.parse().unwrap();
    let mut documented: Vec<&str> = table.keys().map(String::as_str).collect();
    documented.sort_unstable();
    let serve_cmd = crate::Cli::command();
    let serve_cmd = serve_cmd.find_subcommand(SUBCOMMAND).unwrap();
    let mut known: Vec<&str> = known_keys(serve_cmd)
        .iter()
        .map(|a| a.get_id().as_str())
        .collect();
    known.sort_unstable();
    assert_eq!(
        documented, known,
        "docs/cli.md's example must show every flag of serve"
    );
    // And every one of them, set at once, is accepted.
    let m = serve(&all, &[]).unwrap();
    for key in known {
        assert_eq!(
            m.value_source(key),
            Some(clap::parser::ValueSource::CommandLine),
            "{key} was not taken from the file"
        );
    }
}
