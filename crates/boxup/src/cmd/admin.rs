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
    /// OAuth 2.0 apps: what the SDKs' BoxCCGAuth and BoxJWTAuth sign in as.
    #[command(subcommand)]
    App(AppCmd),
}

#[derive(Subcommand, Debug)]
enum AppCmd {
    /// Adds an app acting as a user; prints its client id and secret (once).
    Add {
        /// What to call it.
        name: String,
        /// The user its tokens act as (its service account).
        #[arg(long)]
        user: String,
        /// A PEM public key (RSA, or EC P-256) for the JWT grant.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
    },
    /// Lists apps, without their secrets.
    List,
    /// Removes an app (tokens it obtained keep working until they expire).
    Remove { client_id: String },
}

#[derive(Subcommand, Debug)]
enum UserCmd {
    /// Adds a user (or, with --quota, sets an existing one's quota).
    Add {
        /// The user's login, e.g. an email address.
        login: String,
        /// The display name (default: the login).
        #[arg(long)]
        name: Option<String>,
        /// How much the user may store: e.g. 100GiB, 500MB, 1TB, or
        /// `unlimited`. A new user is unlimited without it; an existing
        /// user keeps their quota.
        #[arg(long, value_parser = parse_quota)]
        quota: Option<Quota>,
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
    /// Sets when a token stops working: now (the next request with it is
    /// 401, as when it expires), or after --in.
    Expire {
        id: String,
        /// How long from now it keeps working (e.g. 1h, 7d); default: not at all.
        #[arg(long = "in", value_parser = humantime::parse_duration)]
        after: Option<Duration>,
        /// Never expire instead.
        #[arg(long, conflicts_with = "after")]
        never: bool,
    },
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
            let user = admin
                .add_user(&login, name.as_deref(), quota.map(|q| q.0))
                .await?;
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
        What::App(AppCmd::Add {
            name,
            user,
            public_key,
        }) => {
            let pem = match &public_key {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                ),
                None => None,
            };
            let added = admin.add_app(&name, &user, pem.as_deref()).await?;
            eprintln!(
                "app {name:?} acts as {} (user id {}); the client secret below is shown only now:",
                added.user.login, added.user.id
            );
            println!("client_id={}", added.app.client_id);
            println!("client_secret={}", added.client_secret);
            println!("user_id={}", added.user.id);
            if let Some((kid, _)) = &added.app.public_key {
                println!("public_key_id={kid}");
            }
        }
        What::App(AppCmd::List) => {
            println!("CLIENT_ID\tUSER\tPUBLIC_KEY_ID\tNAME");
            for (app, login) in admin.apps().await? {
                let kid = app.public_key.as_ref().map_or("-", |(kid, _)| kid.as_str());
                println!("{}\t{login}\t{kid}\t{}", app.client_id, app.name);
            }
        }
        What::App(AppCmd::Remove { client_id }) => {
            admin.remove_app(&client_id).await?;
            eprintln!("app {client_id} removed");
        }
        What::Token(TokenCmd::Revoke { id }) => {
            admin.revoke_token(&id).await?;
            eprintln!("token {id} revoked");
        }
        What::Token(TokenCmd::Expire { id, after, never }) => {
            let expires_at = if never {
                None
            } else {
                let after = i64::try_from(after.unwrap_or_default().as_secs())
                    .context("--in is too long")?;
                Some(boxup_server::service::now().saturating_add(after))
            };
            admin.set_token_expiry(&id, expires_at).await?;
            eprintln!("token {id}{}", expiry(expires_at));
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
