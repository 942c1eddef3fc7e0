//! `UploadService`: the only place protocol rules live.
//!
//! Handlers hand it parsed requests and a [`Caller`]; it talks to the two
//! stores and returns wire models or an [`ApiError`]. It never sees HTTP
//! types beyond status codes, and never names a storage engine.

mod body_slots;
mod commit;
mod downloads;
mod edits;
mod fields;
mod files;
mod folders;
mod frontier;
#[cfg(test)]
mod frontier_tests;
mod grant_budget;
mod input;
mod links;
mod names;
pub mod oauth;
mod parts;
mod plan;
pub mod policy;
mod ranges;
mod recent_parts;
mod render;
mod sessions;
mod sweeper;
pub mod tokens;
pub mod tree_policy;
mod users;
mod verify;

use std::sync::Arc;

use boxup_protocol::ErrorKind;

use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::store::{
    MetadataStore, PartStore, SessionId, SessionRecord, SessionState, StoreResult, UserRecord,
};

use crate::rate_limit::RateLimit;
use body_slots::BodySlots;
pub use commit::CommitHeaders;
pub use downloads::{DOWNLOAD_LINK_SECS, content_disposition};
pub use fields::Fields;
pub use files::{Download, UploadFileRequest};
pub use folders::ItemsQuery;
pub use frontier::FrontierLocks;
use grant_budget::GrantBudget;
pub use grant_budget::default_grant_limit;
pub use links::{DownloadGrant, LinkRefused, LinkSigner, LocalLinkSigner, SigningKey};
pub use names::NAME_PATTERN;
pub use parts::PartHeaders;
use recent_parts::RecentParts;
pub use sweeper::{SweepReport, Sweeper};
pub use users::UNLIMITED_SPACE;

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRecord,
}

/// Where the client reaches this server: used to build absolute
/// `session_endpoints` and preflight URLs.
#[derive(Debug, Clone)]
pub struct Origin {
    /// e.g. `http://127.0.0.1:8080` (no trailing slash).
    pub base: String,
}

impl Origin {
    pub fn upload_base(&self) -> String {
        format!("{}/api/2.0", self.base)
    }
}

/// Protocol settings.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The smallest file an upload session accepts.
    pub min_chunked_size: u64,
    /// A fixed part size instead of the size-dependent rule.
    pub part_size: Option<u64>,
    /// The largest file accepted, by sessions and simple uploads alike.
    pub max_file_size: u64,
    /// Session lifetime in seconds.
    pub session_ttl_secs: i64,
    /// Bytes of parts that arrived ahead of the hash frontier kept in
    /// memory until it reaches them (see `recent_parts.rs`); past this,
    /// parts are read back from the part store.
    pub recent_parts_budget: u64,
    /// How long an access token from `/oauth2/token` works, in seconds.
    pub oauth_token_ttl_secs: i64,
    /// Each OAuth app's budget at the token endpoint (`grant_budget.rs`).
    pub oauth_grant_limit: RateLimit,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            min_chunked_size: 20_000_000,
            part_size: None,
            max_file_size: 150 * 1024 * 1024 * 1024,
            session_ttl_secs: 7 * 24 * 3600,
            recent_parts_budget: 256 * 1024 * 1024,
            oauth_token_ttl_secs: 3600,
            oauth_grant_limit: default_grant_limit(),
        }
    }
}

/// The smallest part size, and the part count past which it doubles
/// (docs/protocol.md §4.4): 8 MiB up to 80 GiB, then 16 MiB, and so on.
pub const BASE_PART_SIZE: u64 = 8 * 1024 * 1024;
pub const MAX_PARTS: u64 = 10_000;
/// The largest part size the rule picks: python gen buffers a whole part,
/// and legacy Java keeps part sizes in an `int`.
pub const MAX_PART_SIZE: u64 = 128 * 1024 * 1024;

/// Box's undocumented rule, reconstructed: a power of two from 8 MiB,
/// doubled while the file would need more than `MAX_PARTS` parts.
pub fn part_size_for(file_size: u64) -> u64 {
    part_size_from(BASE_PART_SIZE, file_size)
}

/// The rule from another starting size (a configured `--part-size`): it
/// doubles past `MAX_PARTS` too, because listing parts stops at offset
/// 10,000 and commit bodies must stay small.
pub fn part_size_from(base: u64, file_size: u64) -> u64 {
    let mut part = base;
    while file_size.div_ceil(part) > MAX_PARTS && part < MAX_PART_SIZE.max(base) {
        part *= 2;
    }
    part
}

/// The secrets tokens are signed with, and who signs download links.
pub(crate) struct Keys {
    pub(crate) signing: SigningKey,
    pub(crate) links: Arc<dyn LinkSigner>,
}

impl Keys {
    fn new(signing: SigningKey) -> Self {
        let links = Arc::new(LocalLinkSigner {
            key: signing.clone(),
        });
        Keys { signing, links }
    }
}

#[derive(Clone)]
pub struct UploadService {
    pub(crate) meta: Arc<dyn MetadataStore>,
    pub(crate) parts: Arc<dyn PartStore>,
    pub(crate) config: Arc<ServiceConfig>,
    pub(crate) frontier_locks: Arc<FrontierLocks>,
    pub(crate) keys: Arc<Keys>,
    pub(crate) recent_parts: Arc<RecentParts>,
    /// Upload bodies processed at once (see `body_slots.rs`).
    pub(crate) body_slots: BodySlots,
    /// This server's series (`metrics.rs`); a fresh set unless
    /// [`UploadService::with_metrics`] shares one.
    pub(crate) metrics: Metrics,
    /// What the token endpoint may spend (see `grant_budget.rs`).
    pub(crate) grants: Arc<GrantBudget>,
}

impl UploadService {
    pub fn new(
        meta: Arc<dyn MetadataStore>,
        parts: Arc<dyn PartStore>,
        config: ServiceConfig,
    ) -> Self {
        UploadService {
            meta,
            parts,
            recent_parts: Arc::new(RecentParts::new(config.recent_parts_budget)),
            body_slots: BodySlots::for_this_machine(),
            grants: Arc::new(GrantBudget::new(config.oauth_grant_limit)),
            config: Arc::new(config),
            frontier_locks: Arc::new(FrontierLocks::default()),
            keys: Arc::new(Keys::new(SigningKey::random())),
            metrics: Metrics::new(),
        }
    }

    /// Records into `metrics` (the set the server serves at `/metrics`).
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The text of a scrape of `/metrics`: the series, with the open
    /// sessions counted in the metadata store now (left as last counted
    /// if the count fails; the failure is logged).
    pub async fn scrape(&self) -> String {
        let open = match self.meta.count_open_sessions(now()).await {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(error = %crate::error::Chain(&e), "cannot count open sessions");
                None
            }
        };
        self.metrics.encode(open, self.recent_parts.used())
    }

    /// Signs markers and download links with `key` (replicas share one;
    /// by default each process makes its own, so its tokens die with it).
    pub fn with_signing_key(mut self, key: SigningKey) -> Self {
        self.keys = Arc::new(Keys::new(key));
        self
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// Resolves a user by login, creating it on first sight.
    pub async fn ensure_user(&self, login: &str) -> StoreResult<UserRecord> {
        self.meta.ensure_user(login, login).await
    }

    /// Loads a session of the caller: 400 for a malformed id, 404 for an
    /// unknown or foreign one, 410 once expired.
    pub(crate) async fn load_session(&self, caller: &Caller, id: &str) -> ApiResult<SessionRecord> {
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::new(
                ErrorKind::InvalidUploadSessionId,
                "The upload session id is not valid",
            ));
        }
        let session = self
            .meta
            .get_session(&SessionId(id.to_ascii_uppercase()))
            .await?
            .filter(|s| s.owner_id == caller.user.id)
            .ok_or_else(ApiError::not_found)?;
        let expired = match session.state {
            SessionState::Expired => true,
            SessionState::Open => session.expires_at <= now(),
            SessionState::Committed => false,
        };
        if expired {
            return Err(ApiError::session_expired());
        }
        Ok(session)
    }
}

pub fn now() -> i64 {
    boxup_protocol::time::now_unix()
}

/// `n` random bytes as uppercase hex (session ids, part ids).
pub(crate) fn random_hex_upper(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    hex::encode_upper(raw)
}

/// Parses a decimal id (of any kind) from a path; anything else is simply
/// not found.
pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> ApiResult<T> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::not_found());
    }
    s.parse().map_err(|_| ApiError::not_found())
}

/// Parses an etag from `If-Match` / `If-None-Match` (quotes optional).
/// An etag boxup never issued parses as `None`, which matches nothing.
pub(crate) fn parse_etag(value: &str) -> Option<i64> {
    value
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .ok()
}

/// The etag an `If-Match` header requires, or `None` for no condition:
/// `*` holds for any existing item; an etag boxup never issued becomes -1,
/// which matches nothing (so the request fails with 412).
pub(crate) fn if_match_etag(value: &str) -> Option<i64> {
    if value.trim() == "*" {
        return None;
    }
    Some(parse_etag(value).unwrap_or(-1))
}

/// Whether an `If-None-Match` header names `etag`: `*`, or any entry of a
/// comma-separated list, weak or strong.
pub(crate) fn none_match_hits(value: &str, etag: i64) -> bool {
    policy::NoneMatch::parse(value).hits(etag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FileId, FolderId};

    #[test]
    fn part_size_rule() {
        assert_eq!(part_size_for(20 * 1024 * 1024), 8 * 1024 * 1024);
        assert_eq!(part_size_for(1 << 30), 8 * 1024 * 1024);
        assert_eq!(part_size_for(MAX_PARTS * BASE_PART_SIZE), BASE_PART_SIZE);
        assert_eq!(
            part_size_for(MAX_PARTS * BASE_PART_SIZE + 1),
            2 * BASE_PART_SIZE
        );
        assert_eq!(part_size_for(u64::MAX / 2), MAX_PART_SIZE);
        assert_eq!(part_size_from(1024, 1024 * MAX_PARTS), 1024);
        assert_eq!(part_size_from(1024, 1024 * MAX_PARTS + 1), 2048);
    }

    #[test]
    fn ids_and_etags() {
        assert_eq!(parse_id::<FileId>("123").unwrap(), FileId(123));
        assert!(parse_id::<FileId>("../1").is_err());
        assert!(parse_id::<FolderId>("").is_err());
        assert_eq!(parse_etag("\"3\""), Some(3));
        assert_eq!(parse_etag("W/\"4\""), Some(4));
        assert_eq!(parse_etag("abc"), None);
        assert_eq!(if_match_etag("*"), None);
        assert_eq!(if_match_etag("\"2\""), Some(2));
        assert_eq!(if_match_etag("zz"), Some(-1));
        assert!(none_match_hits("W/\"0\"", 0));
        assert!(none_match_hits("\"5\", \"0\"", 0));
        assert!(none_match_hits("*", 7));
        assert!(!none_match_hits("\"1\"", 0));
        assert_eq!(random_hex_upper(16).len(), 32);
    }
}
