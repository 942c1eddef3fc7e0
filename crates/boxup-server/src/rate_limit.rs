//! Request budgets, as token buckets (governor's GCRA) kept per key.
//!
//! Two budgets use them. Per user (`boxup serve --rate-limit`): one client
//! running many parallel part uploads, or a loop gone wrong, should not be
//! able to starve every other user of one server; off by default. Per OAuth
//! app at the token endpoint (`--oauth-rate-limit`, always on; see
//! `service/grant_budget.rs`).
//!
//! The user budget is keyed by the user's id and checked where a request
//! is authenticated: the [`Caller`] extractor, which every authenticated
//! route goes through. So requests
//! without a user (`/healthz`, signed download links, the web page) are
//! never limited, and a bad token still answers 401, not 429. Over budget,
//! the answer is Box's `429 rate_limit_exceeded` with a `Retry-After` in
//! whole seconds, which Box's SDKs (and `boxup-client`) wait out before
//! retrying, as they do against Box.
//!
//! The limiter is in memory: each replica of a scale-out deployment keeps
//! its own budgets, so a user's effective limit is the per-replica limit
//! times the number of replicas the load balancer spreads them over. It
//! holds one small entry per key seen since start, so keys must come from
//! a bounded set (users and apps that exist, never what a request claims).
//!
//! [`Caller`]: crate::service::Caller

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::store::UserId;

/// A budget: `per_second` requests a second on average, with
/// bursts of up to `burst` requests at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// A budget of `per_second` (> 0, may be fractional: 0.5 is one
    /// request every two seconds) with bursts of `burst`; with no burst
    /// given, one second's worth of requests (at least 1).
    pub fn new(per_second: f64, burst: Option<u32>) -> Result<Self, String> {
        if !per_second.is_finite() || per_second <= 0.0 {
            return Err(format!(
                "rate limit {per_second} must be a positive number of requests per second"
            ));
        }
        // A period under a nanosecond would round to no limit at all.
        if per_second > 1e9 {
            return Err(format!("rate limit {per_second} is too high"));
        }
        let burst = match burst {
            Some(b) => NonZeroU32::new(b)
                .ok_or_else(|| "rate limit burst must be at least 1".to_owned())?,
            None => NonZeroU32::new(per_second.ceil().min(f64::from(u32::MAX)) as u32)
                .unwrap_or(NonZeroU32::MIN),
        };
        Ok(RateLimit { per_second, burst })
    }

    fn quota(&self) -> Quota {
        let period = Duration::from_secs_f64(1.0 / self.per_second);
        Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(self.burst)
    }
}

/// One budget per key, on `C`'s clock (a fake one in tests).
pub struct KeyedRateLimiter<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    limiter: RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
}

/// The budgets of every user.
pub type UserRateLimiter<C = DefaultClock> = KeyedRateLimiter<UserId, C>;

impl<K: Hash + Eq + Clone> KeyedRateLimiter<K> {
    pub fn new(limit: RateLimit) -> Self {
        Self::with_clock(limit, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock + Clone> KeyedRateLimiter<K, C> {
    pub fn with_clock(limit: RateLimit, clock: C) -> Self {
        KeyedRateLimiter {
            limiter: RateLimiter::dashmap_with_clock(limit.quota(), clock.clone()),
            clock,
        }
    }

    /// Takes one request from `key`'s budget; over budget, `Err` holds
    /// the `Retry-After` to answer: whole seconds until the next request
    /// would be allowed, rounded up, and at least 1 (a `Retry-After: 0`
    /// would invite an immediate retry that fails again).
    pub fn check(&self, key: &K) -> Result<(), u64> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            secs.max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter(
        per_second: f64,
        burst: u32,
    ) -> (UserRateLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let limit = RateLimit::new(per_second, Some(burst)).unwrap();
        (UserRateLimiter::with_clock(limit, clock.clone()), clock)
    }

    #[test]
    fn a_burst_then_retry_after_then_allowed_again() {
        let (l, clock) = limiter(5.0, 5);
        let alice = UserId(1);
        for _ in 0..5 {
            assert_eq!(l.check(&alice), Ok(()));
        }
        // One request comes back every 200 ms: rounded up to 1 s.
        assert_eq!(l.check(&alice), Err(1));
        // Another user has a budget of their own.
        assert_eq!(l.check(&UserId(2)), Ok(()));
        clock.advance(Duration::from_millis(200));
        assert_eq!(l.check(&alice), Ok(()));
        assert_eq!(l.check(&alice), Err(1));
        // Waiting the whole Retry-After refills at least one request.
        clock.advance(Duration::from_secs(1));
        assert_eq!(l.check(&alice), Ok(()));
    }

    #[test]
    fn retry_after_rounds_up_whole_seconds() {
        // One request every 2.5 s.
        let (l, clock) = limiter(0.4, 1);
        assert_eq!(l.check(&UserId(1)), Ok(()));
        assert_eq!(l.check(&UserId(1)), Err(3));
        clock.advance(Duration::from_millis(1500));
        assert_eq!(l.check(&UserId(1)), Err(1));
        clock.advance(Duration::from_secs(1));
        assert_eq!(l.check(&UserId(1)), Ok(()));
    }

    #[test]
    fn limits_are_validated_and_burst_defaults_to_one_second() {
        assert!(RateLimit::new(0.0, None).is_err());
        assert!(RateLimit::new(-1.0, None).is_err());
        assert!(RateLimit::new(f64::NAN, None).is_err());
        assert!(RateLimit::new(5.0, Some(0)).is_err());
        assert_eq!(RateLimit::new(2.5, None).unwrap().burst.get(), 3);
        assert_eq!(RateLimit::new(0.1, None).unwrap().burst.get(), 1);
    }
}
