//! `boxup serve --config FILE` (or `BOXUP_CONFIG`): every flag of `serve`
//! may also come from a TOML file. Precedence: command-line flag, then
//! `BOXUP_*` variable, then the file, then the built-in default.
//!
//! The file's keys are the clap argument ids of `serve` (the flag names with
//! `_`: `data_dir`, `tokens`, `s3_endpoint`, …), all at the top level, so
//! that nothing here lists them: a flag added to `ServeArgs` is a key of the
//! file at once, and a key that is no flag is an error naming it. Values
//! are checked for their TOML type (bool, integer, string, array of them)
//! from the argument's clap definition, then handed to clap as `--flag=value`
//! after the real arguments, for the flags whose value came from no flag and
//! no variable ([`clap::ArgMatches::value_source`]). So each value goes
//! through the very parser of its flag: `session_ttl = "7d"` parses exactly
//! as `--session-ttl 7d` does.

use std::any::TypeId;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, Parser};

/// The subcommand that takes `--config`, and its argument id.
const SUBCOMMAND: &str = "serve";
const CONFIG: &str = "config";

/// Parses the process's arguments as `P::parse` does, with `serve`'s
/// config file applied; a bad file is a usage error (exit 2) naming it.
pub(crate) fn parse<P: Parser>() -> P {
    let argv: Vec<OsString> = std::env::args_os().collect();
    matches_with_config(P::command(), argv)
        .and_then(|m| P::from_arg_matches(&m))
        .unwrap_or_else(|e| e.exit())
}

/// `cmd`'s matches for `argv`, with the config file of `serve` (if one is
/// named) filling in every flag given neither on the command line nor in
/// the environment.
pub(crate) fn matches_with_config(
    mut cmd: Command,
    mut argv: Vec<OsString>,
) -> Result<ArgMatches, clap::Error> {
    let matches = cmd.try_get_matches_from_mut(&argv)?;
    let Some((SUBCOMMAND, sub)) = matches.subcommand() else {
        return Ok(matches);
    };
    let Some(path) = sub.get_one::<PathBuf>(CONFIG) else {
        return Ok(matches);
    };
    let serve = cmd
        .find_subcommand_mut(SUBCOMMAND)
        .expect("the subcommand just matched");
    let extra =
        file_args(serve, sub, path).map_err(|msg| serve.error(ErrorKind::ValueValidation, msg))?;
    if extra.is_empty() {
        return Ok(matches);
    }
    argv.extend(extra);
    cmd.try_get_matches_from_mut(argv)
}

/// The keys a config file may hold: `serve`'s flags, but `--config`.
pub(crate) fn known_keys(serve: &Command) -> Vec<&Arg> {
    serve
        .get_arguments()
        .filter(|a| {
            a.get_long().is_some() && !matches!(a.get_id().as_str(), CONFIG | "help" | "version")
        })
        .collect()
}

/// The `--flag=value` arguments that bring the file's values in: one per
/// value, for the flags whose value came from no flag and no variable.
fn file_args(serve: &Command, given: &ArgMatches, path: &Path) -> Result<Vec<OsString>, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {name}: {e}"))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("config file {name} is not valid TOML: {e}"))?;
    let known = known_keys(serve);
    let mut out = Vec::new();
    for (key, value) in &table {
        let Some(arg) = known.iter().find(|a| a.get_id() == key.as_str()) else {
            let keys: Vec<&str> = known.iter().map(|a| a.get_id().as_str()).collect();
            return Err(format!(
                "unknown key \"{key}\" in {name} (known keys: {})",
                keys.join(", ")
            ));
        };
        let values = typed_values(arg, value).map_err(|expected| {
            format!(
                "key \"{key}\" in {name} must be {expected}, not {}",
                value.type_str()
            )
        })?;
        let long = arg.get_long().expect("known keys have a long flag");
        let args: Vec<OsString> = match arg.get_action() {
            ArgAction::SetTrue if values == ["true"] => vec![format!("--{long}").into()],
            ArgAction::SetTrue => Vec::new(),
            _ => values
                .iter()
                .map(|v| format!("--{long}={v}").into())
                .collect(),
        };
        check(arg, &args).map_err(|e| format!("key \"{key}\" in {name}: {e}"))?;
        if !matches!(
            given.value_source(key),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            out.extend(args);
        }
    }
    Ok(out)
}

/// Parses `args` with `arg` alone (no variable, no rule tying it to
/// other flags), so that a bad value is told apart from the rest with
/// clap's own message for it (without its `error: ` and usage lines).
fn check(arg: &Arg, args: &[OsString]) -> Result<(), String> {
    let alone = arg
        .clone()
        .env(None)
        .requires(clap::builder::Resettable::Reset)
        .conflicts_with(clap::builder::Resettable::Reset)
        .required(false);
    let argv = std::iter::once(OsString::from(SUBCOMMAND)).chain(args.iter().cloned());
    match Command::new(SUBCOMMAND)
        .arg(alone)
        .try_get_matches_from(argv)
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            Err(first.trim_start_matches("error: ").to_owned())
        }
    }
}

/// `value` as the flag's values in text, if its TOML type fits the flag:
/// a boolean for a switch, an integer for a number, a string otherwise;
/// an array of those for a repeatable flag. `Err`: what was expected.
fn typed_values(arg: &Arg, value: &toml::Value) -> Result<Vec<String>, &'static str> {
    let parser_type = arg.get_value_parser().type_id();
    let kind = if matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse)
        || parser_type == TypeId::of::<bool>()
    {
        Kind::Bool
    } else if [
        TypeId::of::<u64>(),
        TypeId::of::<u32>(),
        TypeId::of::<u16>(),
        TypeId::of::<usize>(),
        TypeId::of::<i64>(),
    ]
    .iter()
    .any(|t| parser_type == *t)
    {
        Kind::Integer
    } else if parser_type == TypeId::of::<f64>() {
        Kind::Number
    } else {
        Kind::String
    };
    if matches!(arg.get_action(), ArgAction::Append) {
        let toml::Value::Array(items) = value else {
            return Err(kind.array_name());
        };
        return items
            .iter()
            .map(|v| kind.text(v).ok_or(kind.array_name()))
            .collect();
    }
    kind.text(value).map(|v| vec![v]).ok_or(kind.name())
}

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Integer,
    Number,
    String,
}

impl Kind {
    fn text(self, v: &toml::Value) -> Option<String> {
        match (self, v) {
            (Kind::Bool, toml::Value::Boolean(b)) => Some(b.to_string()),
            (Kind::Integer | Kind::Number, toml::Value::Integer(i)) => Some(i.to_string()),
            (Kind::Number, toml::Value::Float(f)) => Some(f.to_string()),
            (Kind::String, toml::Value::String(s)) => Some(s.clone()),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Bool => "a boolean",
            Kind::Integer => "an integer",
            Kind::Number => "a number",
            Kind::String => "a string",
        }
    }

    fn array_name(self) -> &'static str {
        match self {
            Kind::Bool => "an array of booleans",
            Kind::Integer => "an array of integers",
            Kind::Number => "an array of numbers",
            Kind::String => "an array of strings",
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
