//! What the token endpoint may spend on one app, and on all of them.
//!
//! `POST /oauth2/token` and `/oauth2/revoke` need no access token, and each
//! checks a client secret against its Argon2 hash: tens of milliseconds of
//! a core and 19 MiB of memory, by design, so that a leaked hash is slow to
//! attack. Unbounded, that cost is a way to take a server's cores from
//! everyone else. So:
//!
//! - every grant for an app (right secret or wrong) first takes one
//!   request from that app's budget (`--oauth-rate-limit`, default one a
//!   second with bursts of 30: a fleet of workers starting at once gets its
//!   tokens, a guessing loop gets one try a second). Over budget, the
//!   answer is 429 with `Retry-After`, which the SDKs wait out. Only apps
//!   that exist have a budget, so made-up client ids cannot grow the
//!   table; they are refused after one metadata read and no hashing.
//! - hashes are checked on blocking threads, at most half the cores at
//!   once (at least one), so grants never stall the async workers that
//!   serve uploads, and a burst of them queues instead of taking every core.

use tokio::sync::Semaphore;

use crate::rate_limit::{KeyedRateLimiter, RateLimit};
use crate::store::AppRecord;

use super::oauth::secret_matches;

/// The default app budget: one grant a second, bursts of 30.
pub fn default_grant_limit() -> RateLimit {
    RateLimit::new(1.0, Some(30)).expect("a valid budget")
}

pub(crate) struct GrantBudget {
    per_app: KeyedRateLimiter<String>,
    hashing: Semaphore,
}

impl GrantBudget {
    pub(crate) fn new(limit: RateLimit) -> Self {
        GrantBudget {
            per_app: KeyedRateLimiter::new(limit),
            hashing: Semaphore::new((crate::cores() / 2).max(1)),
        }
    }

    /// Takes one grant from `app`'s budget; over budget, the seconds to
    /// wait.
    pub(crate) fn take(&self, app: &AppRecord) -> Result<(), u64> {
        self.per_app.check(&app.client_id)
    }

    /// Whether `secret` is `app`'s client secret, checked on a blocking
    /// thread under the hashing bound.
    pub(crate) async fn secret_matches(&self, app: &AppRecord, secret: &str) -> bool {
        let Ok(_permit) = self.hashing.acquire().await else {
            return false; // The semaphore is never closed.
        };
        let (app, secret) = (app.clone(), secret.to_owned());
        tokio::task::spawn_blocking(move || secret_matches(&app, &secret))
            .await
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::oauth::new_client_secret;
    use crate::store::UserId;

    fn app(client_id: &str) -> (AppRecord, String) {
        let (secret, secret_phc) = new_client_secret();
        let app = AppRecord {
            client_id: client_id.to_owned(),
            name: "test".into(),
            user: UserId(1),
            secret_phc,
            public_key: None,
            created_at: 0,
        };
        (app, secret)
    }

    #[tokio::test]
    async fn each_app_has_its_own_budget_and_secrets_are_checked() {
        let budget = GrantBudget::new(RateLimit::new(0.001, Some(2)).unwrap());
        let (a, secret) = app("a");
        let (b, _) = app("b");
        assert_eq!(budget.take(&a), Ok(()));
        assert_eq!(budget.take(&a), Ok(()));
        let wait = budget.take(&a).unwrap_err();
        assert!(wait >= 999, "one grant per 1000 s: {wait}");
        assert_eq!(budget.take(&b), Ok(()), "another app is not affected");

        assert!(budget.secret_matches(&a, &secret).await);
        assert!(!budget.secret_matches(&a, "wrong").await);
        assert!(!budget.secret_matches(&b, &secret).await);
    }
}
