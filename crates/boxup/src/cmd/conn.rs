//! Connection settings shared by every client subcommand: the two base
//! URLs and the token, from flags or `BOX_*` environment variables.
//!
//! The URLs follow the official generated SDKs' `BaseUrls` (no `/2.0`); a
//! trailing `/2.0` (what `boxup serve` prints as its API base) is dropped
//! rather than doubled into a 404.
//! They default to Box's real hosts; naming another API host alone implies
//! a boxup-style single origin (`API_URL/api` for uploads). With no token
//! and a loopback API URL, the dev token `boxup serve` saved in its data
//! directory is used, so a local quickstart needs no token handling.
//!
//! The flags live on each subcommand (not on `boxup` itself) because
//! `boxup serve --token` already means "an accepted token".

use std::path::{Path, PathBuf};

use boxup_client::{BaseUrls, BoxClient, DEFAULT_BASE_URL, DEFAULT_UPLOAD_URL};
use boxup_server::server::DEV_TOKEN_FILE;
use clap::Args;

use super::common::Usage;

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Connection")]
pub(crate) struct ConnArgs {
    /// Box API base URL, without /2.0 (a local boxup: http://127.0.0.1:8080).
    #[arg(long, env = "BOX_API_URL", default_value = DEFAULT_BASE_URL)]
    pub api_url: String,
    /// Box upload base URL, without /2.0 [default: https://upload.box.com/api,
    /// or API_URL/api when --api-url names another host].
    #[arg(long, env = "BOX_UPLOAD_URL")]
    pub upload_url: Option<String>,
    /// Bearer token (a Box developer token or a boxup token) [default: for a
    /// loopback API URL, the dev token in SERVER_DATA_DIR].
    #[arg(long, env = "BOX_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The data directory of a local `boxup serve`, where it saved its dev
    /// token.
    #[arg(
        long,
        env = "BOXUP_DATA_DIR",
        default_value = "./boxup-data",
        value_name = "DIR"
    )]
    pub server_data_dir: PathBuf,
    /// Give up on a request (each attempt; it is retried) after this many
    /// seconds without an answer; also the connect timeout [default: 60 s
    /// per request, 10 s to connect; part uploads get 10 min].
    #[arg(long, env = "BOX_TIMEOUT", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
}

impl ConnArgs {
    pub(crate) fn base_urls(&self) -> BaseUrls {
        let api = base(&self.api_url);
        let upload = match &self.upload_url {
            Some(u) => base(u),
            None if api == DEFAULT_BASE_URL => DEFAULT_UPLOAD_URL.to_owned(),
            None => format!("{api}/api"),
        };
        BaseUrls {
            base_url: api,
            upload_url: upload,
        }
    }

    /// The token to send: the given one, else a local server's dev token.
    pub(crate) fn token(&self) -> Result<String, Usage> {
        if let Some(t) = self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            return Ok(t.to_owned());
        }
        if !is_loopback(&self.api_url) {
            return Err(Usage(format!(
                "a token is required for {}: pass --token or set BOX_TOKEN",
                self.api_url
            )));
        }
        let file = self.server_data_dir.join(DEV_TOKEN_FILE);
        read_token(&file).ok_or_else(|| {
            Usage(format!(
                "no token given and no dev token in {} (start `boxup serve` there, \
                 point --server-data-dir at its --data-dir, or pass --token / BOX_TOKEN)",
                file.display()
            ))
        })
    }

    pub(crate) fn client(&self) -> Result<BoxClient, Usage> {
        let token = self.token()?;
        let mut builder = BoxClient::builder()
            .token(token)
            .base_urls(self.base_urls())
            .user_agent(format!("boxup-cli/{}", env!("CARGO_PKG_VERSION")));
        if let Some(secs) = self.timeout {
            let t = std::time::Duration::from_secs(secs);
            builder = builder.request_timeout(Some(t)).connect_timeout(t);
        }
        builder.build().map_err(|e| Usage(e.to_string()))
    }
}

/// A base URL without trailing slashes or `/2.0`.
fn base(url: &str) -> String {
    let url = url.trim_end_matches('/');
    url.strip_suffix("/2.0")
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_owned()
}

fn read_token(file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let token = text.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

/// Whether the URL's host is this machine (`localhost`, 127.0.0.0/8, ::1).
pub(crate) fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(api: &str, upload: Option<&str>) -> ConnArgs {
        ConnArgs {
            api_url: api.into(),
            upload_url: upload.map(Into::into),
            token: None,
            server_data_dir: PathBuf::from("/nonexistent"),
            timeout: None,
        }
    }

    #[test]
    fn upload_url_defaults_follow_the_api_url() {
        let box_com = conn(DEFAULT_BASE_URL, None).base_urls();
        assert_eq!(box_com.upload_url, "https://upload.box.com/api");
        let local = conn("http://127.0.0.1:8080/", None).base_urls();
        assert_eq!(local.base_url, "http://127.0.0.1:8080");
        assert_eq!(local.upload_url, "http://127.0.0.1:8080/api");
        let split = conn("http://a", Some("http://b/api/")).base_urls();
        assert_eq!(split.upload_url, "http://b/api");
        let versioned = conn("http://h:1/2.0/", Some("http://h:1/api/2.0")).base_urls();
        assert_eq!(versioned.base_url, "http://h:1");
        assert_eq!(versioned.upload_url, "http://h:1/api");
        assert_eq!(
            conn("http://h/2.0", None).base_urls().upload_url,
            "http://h/api"
        );
    }

    #[test]
    fn loopback_hosts() {
        for u in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:9/x",
            "http://127.1.2.3",
        ] {
            assert!(is_loopback(u), "{u}");
        }
        for u in [
            "https://api.box.com",
            "http://10.0.0.1:8080",
            "http://127.0.0.1.evil.com",
        ] {
            assert!(!is_loopback(u), "{u}");
        }
    }

    #[test]
    fn remote_hosts_need_a_token() {
        let err = conn(DEFAULT_BASE_URL, None).token().unwrap_err();
        assert!(err.0.contains("BOX_TOKEN"), "{}", err.0);
        let local = conn("http://127.0.0.1:1", None).token().unwrap_err();
        assert!(local.0.contains("dev token"), "{}", local.0);
    }
}
