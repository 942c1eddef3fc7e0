//! What the token endpoint may spend on one app, and on all of them.
//!
//! `POST /oauth2/token` and `/oauth2/revoke` need no access token, and each
//! checks a client secret against its Argon2 hash: tens of milliseconds of
//! a core and 19 MiB of memory, by design, so that a leaked hash is slow to
//! attack. Unbounded, that cost is a way to take a server's cores from
//! everyone else. So:
//!
//! - a secret that passed the hash check once is recognised afterwards by
//!   its SHA-256, kept in memory per app (with the hash it passed, so a
//!   changed secret is checked again): an app's own clients, once one of
//!   them has a token, never pay for the hash nor touch the budget below,
//!   so a stranger who knows the client id (it is no secret: it is in
//!   every JWT assertion) cannot lock the app out by spending its budget.
//! - any other secret, right or wrong, first takes one request from the
//!   app's budget (`--oauth-rate-limit`, default one a second with bursts
//!   of 30: a fleet of workers starting at once gets its tokens, a guessing
//!   loop gets one try a second). Over budget, the answer is 429 with
//!   `Retry-After`, which the SDKs wait out. Only apps that exist have a
//!   budget, so made-up client ids cannot grow the table; they are refused
//!   after one metadata read and no hashing.
//! - hashes are checked on blocking threads, at most half the cores at
//!   once (at least one), so grants never stall the async workers that
//!   serve uploads, and a burst of them queues instead of taking every
//!   core. The permit travels with the blocking task, so a client that
//!   hangs up mid-check does not free its slot early.
//!
//! Both the budget and the recognised secrets live in each process's
//! memory: behind a load balancer an app's budget is per replica, and
//! after a restart an app's first grant pays for the hash again (and can
//! be held up by a stranger spending the budget at that moment).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::rate_limit::{KeyedRateLimiter, RateLimit};
use crate::store::AppRecord;

use super::oauth::secret_matches;

/// The default app budget: one grant a second, bursts of 30.
pub fn default_grant_limit() -> RateLimit {
    RateLimit::new(1.0, Some(30)).expect("a valid budget")
}

/// Why a secret was not checked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NotChecked {
    /// The app is over its budget: the seconds to wait.
    OverBudget(u64),
    /// The blocking task that checks it failed.
    Failed(String),
}

pub(crate) struct GrantBudget {
    per_app: KeyedRateLimiter<String>,
    hashing: Arc<Semaphore>,
    /// client id -> (the Argon2 hash it passed, the secret's SHA-256).
    recognised: Mutex<HashMap<String, (String, [u8; 32])>>,
}

impl GrantBudget {
    pub(crate) fn new(limit: RateLimit) -> Self {
        GrantBudget {
            per_app: KeyedRateLimiter::new(limit),
            hashing: Arc::new(Semaphore::new((crate::cores() / 2).max(1))),
            recognised: Mutex::default(),
        }
    }

    /// Whether `secret` is `app`'s client secret: at once if it passed
    /// before, else after taking one grant from the app's budget and
    /// checking the Argon2 hash on a blocking thread under the bound.
    pub(crate) async fn check_secret(
        &self,
        app: &AppRecord,
        secret: &str,
    ) -> Result<bool, NotChecked> {
        let fingerprint: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        if self.is_recognised(app, &fingerprint) {
            return Ok(true);
        }
        self.per_app
            .check(&app.client_id)
            .map_err(NotChecked::OverBudget)?;
        let permit = Arc::clone(&self.hashing)
            .acquire_owned()
            .await
            .map_err(|e| NotChecked::Failed(e.to_string()))?;
        let (phc_app, secret) = (app.clone(), secret.to_owned());
        let matches = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            secret_matches(&phc_app, &secret)
        })
        .await
        .map_err(|e| NotChecked::Failed(e.to_string()))?;
        if matches {
            self.recognised_map()
                .insert(app.client_id.clone(), (app.secret_phc.clone(), fingerprint));
        }
        Ok(matches)
    }

    fn is_recognised(&self, app: &AppRecord, fingerprint: &[u8; 32]) -> bool {
        self.recognised_map()
            .get(&app.client_id)
            .is_some_and(|(phc, known)| *phc == app.secret_phc && known == fingerprint)
    }

    fn recognised_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, [u8; 32])>> {
        self.recognised
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
    async fn unrecognised_secrets_spend_the_apps_budget_a_known_one_does_not() {
        let budget = GrantBudget::new(RateLimit::new(0.001, Some(2)).unwrap());
        let (a, secret) = app("a");
        let (b, b_secret) = app("b");
        // Two checks fit in the budget: a wrong secret, then the right one.
        assert_eq!(budget.check_secret(&a, "wrong").await, Ok(false));
        assert_eq!(budget.check_secret(&a, &secret).await, Ok(true));
        // The budget is spent: another wrong secret waits ~1000 s...
        match budget.check_secret(&a, "wrong again").await {
            Err(NotChecked::OverBudget(wait)) => assert!(wait >= 999, "{wait}"),
            other => panic!("{other:?}"),
        }
        // ...but the secret that passed is recognised, budget or not.
        assert_eq!(budget.check_secret(&a, &secret).await, Ok(true));
        // Another app has its own budget, and a's secret is not b's.
        assert_eq!(budget.check_secret(&b, &secret).await, Ok(false));
        assert_eq!(budget.check_secret(&b, &b_secret).await, Ok(true));
    }

    #[tokio::test]
    async fn a_changed_secret_is_checked_again() {
        let budget = GrantBudget::new(RateLimit::new(0.001, Some(5)).unwrap());
        let (mut a, secret) = app("a");
        assert_eq!(budget.check_secret(&a, &secret).await, Ok(true));
        let (new_secret, new_phc) = new_client_secret();
        a.secret_phc = new_phc;
        assert_eq!(budget.check_secret(&a, &secret).await, Ok(false));
        assert_eq!(budget.check_secret(&a, &new_secret).await, Ok(true));
    }
}
