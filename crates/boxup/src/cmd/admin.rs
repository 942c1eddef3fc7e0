//! `boxup admin`: users, quotas and access tokens of a deployment, written
//! straight to its metadata store (the data directory's SQLite file, or
//! PostgreSQL with `--database-url`), so it works with the servers
//! stopped or running, and every replica sees a change on its next request.
//!
//! A token's secret is printed once, by `token create`, and kept nowhere:
//! the store holds only its SHA-256. Lists and revocation use the token's
//! public id (`tok_…`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use boxup_server::admin::{Admin, UserSpace};
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub(crate) struct AdminArgs {
    /// The deployment's data directory (as given to `boxup serve`).
    #[arg(
        long,
        env = "BOXUP_DATA_DIR",
        default_value = "./boxup-data",
        global = true
    )]
    data_dir: PathBuf,
    /// The deployment's PostgreSQL database, if its metadata lives there.
    #[arg(long, env = "BOXUP_DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand, Debug)]
enum What {
    /// Users and their quotas.
    #[command(subcommand)]
    User(UserCmd),
    /// Access tokens.
    #[command(subcommand)]
    Token(TokenCmd),
}

#[derive(Subcommand, Debug)]
enum UserCmd {
    /// Adds a user (or updates an existing one's quota).
    Add {
        /// The user's login, e.g. an email address.
        login: String,
        /// The display name (default: the login).
        #[arg(long)]
        name: Option<String>,
        /// How much the user may store: e.g. 100GiB, 500MB, 1TB, or
        /// `unlimited` (the default).
        #[arg(long, value_parser = parse_quota, default_value = "unlimited")]
        quota: Quota,
    },
    /// Lists users with their quota and the space they use.
    List,
    /// Sets a user's quota (e.g. 100GiB, or `unlimited`).
    Quota {
        login: String,
        #[arg(value_parser = parse_quota)]
        quota: Quota,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCmd {
    /// Creates a token for a user and prints its secret, once.
    Create {
        login: String,
        /// How long it works (e.g. 30d, 12h); forever by default.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: Option<Duration>,
        /// A note to tell tokens apart in `token list`.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Lists tokens (of one user, or all), without their secrets.
    List { login: Option<String> },
    /// Revokes a token by its id (`tok_…`): the next request with it is 401.
    Revoke { id: String },
}

/// A quota in bytes; `None`: unlimited.
#[derive(Debug, Clone, Copy)]
struct Quota(Option<u64>);

fn parse_quota(text: &str) -> Result<Quota, String> {
    if text.eq_ignore_ascii_case("unlimited") || text.eq_ignore_ascii_case("none") {
        return Ok(Quota(None));
    }
    text.parse::<bytesize::ByteSize>()
        .map(|b| Quota(Some(b.as_u64())))
        .map_err(|e| format!("{e} (e.g. 100GiB, 500MB, or unlimited)"))
}

pub(crate) async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let admin = Admin::open(&args.data_dir, args.database_url.as_deref())
        .await
        .context("cannot open the metadata store")?;
    match args.what {
        What::User(UserCmd::Add { login, name, quota }) => {
            let user = admin.add_user(&login, name.as_deref(), quota.0).await?;
            println!("{}", user_line(&user));
        }
        What::User(UserCmd::List) => {
            println!("ID\tLOGIN\tQUOTA_BYTES\tUSED_BYTES\tNAME");
            for user in admin.users().await? {
                println!("{}", user_line(&user));
            }
        }
        What::User(UserCmd::Quota { login, quota }) => {
            let user = admin.set_quota(&login, quota.0).await?;
            println!("{}", user_line(&user));
        }
        What::Token(TokenCmd::Create {
            login,
            expires,
            label,
        }) => {
            let lifetime = expires
                .map(|d| i64::try_from(d.as_secs()))
                .transpose()
                .context("--expires is too long")?;
            let token = admin.create_token(&login, &label, lifetime).await?;
            eprintln!(
                "token {} for {login}{}; the secret below is shown only now:",
                token.record.id,
                expiry(token.record.expires_at)
            );
            println!("{}", token.secret);
        }
        What::Token(TokenCmd::List { login }) => {
            println!("ID\tUSER\tCREATED\tEXPIRES\tLABEL");
            for (t, login) in admin.tokens(login.as_deref()).await? {
                println!(
                    "{}\t{login}\t{}\t{}\t{}",
                    t.id,
                    time(t.created_at),
                    t.expires_at.map_or_else(|| "never".to_owned(), time),
                    t.label
                );
            }
        }
        What::Token(TokenCmd::Revoke { id }) => {
            admin.revoke_token(&id).await?;
            eprintln!("token {id} revoked");
        }
    }
    Ok(())
}

fn user_line(u: &UserSpace) -> String {
    // Exact bytes, so that scripts can compare them.
    let quota = u
        .quota
        .map_or_else(|| "unlimited".to_owned(), |q| q.to_string());
    format!(
        "{}\t{}\t{quota}\t{}\t{}",
        u.user.id, u.user.login, u.used, u.user.name
    )
}

fn time(unix: i64) -> String {
    u64::try_from(unix).map_or_else(
        |_| unix.to_string(),
        |secs| {
            let at = std::time::UNIX_EPOCH + Duration::from_secs(secs);
            humantime::format_rfc3339_seconds(at).to_string()
        },
    )
}

fn expiry(expires_at: Option<i64>) -> String {
    expires_at.map_or_else(
        || ", never expires".to_owned(),
        |t| format!(", expires {}", time(t)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_parse_with_units_or_unlimited() {
        assert_eq!(parse_quota("unlimited").unwrap().0, None);
        assert_eq!(parse_quota("1000").unwrap().0, Some(1000));
        assert_eq!(parse_quota("100GiB").unwrap().0, Some(100 << 30));
        assert_eq!(parse_quota("5MB").unwrap().0, Some(5_000_000));
        assert!(parse_quota("lots").is_err());
        assert!(parse_quota("-5").is_err());
    }
}
