//! Azure Resource Manager's request rate limits as token buckets (what the seed's
//! `arm.rateLimits` configures, [`RateLimitConfig`]) and the buckets themselves
//! ([`RateLimiter`], kept in the emulator's state).
//!
//! ARM limits requests per subscription, per principal and per operation class (reads,
//! deletes, writes), plus a global per-subscription limit of 15 times the per-principal one,
//! each as a bucket of `burst` tokens refilled continuously at `perSecond` tokens a second
//! (Microsoft's "request limits and throttling" article; the live header values 249/3749 on a
//! first read and 199/2999 on a first delete match it exactly). A request takes one token from
//! its principal's bucket and one from the global bucket; when either is empty it is answered
//! 429 and takes none.

use std::collections::HashMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// How long `Retry-After` says to wait when a bucket never refills (`perSecond` 0).
const NEVER_REFILLS_RETRY_AFTER_SECONDS: u64 = 3600;

/// The operation class of an ARM request: what its bucket and headers are named after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationClass {
    /// `GET` (and `HEAD`).
    Reads,
    /// `DELETE`.
    Deletes,
    /// `PUT`, `PATCH`, `POST`.
    Writes,
}

impl OperationClass {
    /// Every class.
    pub const ALL: [OperationClass; 3] = [Self::Reads, Self::Deletes, Self::Writes];

    /// The class of an HTTP method.
    pub fn of_method(method: &str) -> Self {
        match method {
            "GET" | "HEAD" => Self::Reads,
            "DELETE" => Self::Deletes,
            _ => Self::Writes,
        }
    }

    /// `reads`, `deletes` or `writes`, as in `x-ms-ratelimit-remaining-subscription-reads`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reads => "reads",
            Self::Deletes => "deletes",
            Self::Writes => "writes",
        }
    }
}

/// One class's bucket: `burst` tokens, refilled at `perSecond` tokens a second.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BucketConfig {
    /// The bucket's size (a fresh bucket is full).
    pub burst: u32,
    /// Tokens added per second (continuously); 0 never refills.
    pub per_second: u32,
}

/// ARM's rate limits (the seed's `arm.rateLimits`, `GET`/`PUT /_emulator/arm/ratelimits`).
///
/// JSON, every field optional (defaults shown, Microsoft's published numbers):
/// `{"enabled": true, "reads": {"burst": 250, "perSecond": 25}, "deletes": {"burst": 200,
/// "perSecond": 10}, "writes": {"burst": 200, "perSecond": 10}, "globalMultiplier": 15}`
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// False turns limiting off: no 429 and no `x-ms-ratelimit-*` headers.
    pub enabled: bool,
    /// `GET` requests.
    pub reads: BucketConfig,
    /// `DELETE` requests.
    pub deletes: BucketConfig,
    /// `PUT`, `PATCH` and `POST` requests.
    pub writes: BucketConfig,
    /// The global per-subscription bucket of a class is this many times the per-principal
    /// one (burst and refill).
    pub global_multiplier: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            reads: BucketConfig {
                burst: 250,
                per_second: 25,
            },
            deletes: BucketConfig {
                burst: 200,
                per_second: 10,
            },
            writes: BucketConfig {
                burst: 200,
                per_second: 10,
            },
            global_multiplier: 15,
        }
    }
}

impl RateLimitConfig {
    /// The per-principal bucket of `class`.
    pub fn bucket(&self, class: OperationClass) -> BucketConfig {
        match class {
            OperationClass::Reads => self.reads,
            OperationClass::Deletes => self.deletes,
            OperationClass::Writes => self.writes,
        }
    }

    /// The global per-subscription bucket of `class`.
    pub fn global_bucket(&self, class: OperationClass) -> BucketConfig {
        let bucket = self.bucket(class);
        BucketConfig {
            burst: bucket.burst.saturating_mul(self.global_multiplier),
            per_second: bucket.per_second.saturating_mul(self.global_multiplier),
        }
    }
}

/// What the limiter decided for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Limiting is off.
    Unlimited,
    /// A token was taken from both buckets; what is left in each (whole tokens).
    Admitted {
        remaining: u64,
        global_remaining: u64,
    },
    /// A bucket is empty: nothing was taken. `global` when it is the global one (the
    /// principal's still has tokens).
    Throttled {
        retry_after_seconds: u64,
        remaining: u64,
        global_remaining: u64,
        global: bool,
    },
}

/// The buckets, created full on first use.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    /// Per `(principal, subscription, class)`; the global ones have an empty principal.
    buckets: HashMap<(String, String, OperationClass), Bucket>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    /// The bucket refilled up to `now`.
    fn refill(&mut self, config: BucketConfig, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens =
            (self.tokens + elapsed * f64::from(config.per_second)).min(f64::from(config.burst));
        self.updated = now;
    }

    /// Whole seconds until the bucket holds a token (at least 1).
    fn retry_after(&self, config: BucketConfig) -> u64 {
        if config.per_second == 0 {
            return NEVER_REFILLS_RETRY_AFTER_SECONDS;
        }
        let missing = (1.0 - self.tokens).max(0.0);
        // At most `1 / per_second` seconds, so the conversion cannot overflow.
        let seconds = (missing / f64::from(config.per_second)).ceil() as u64;
        seconds.max(1)
    }

    fn whole_tokens(&self) -> u64 {
        // Never negative, never above a u32 burst.
        self.tokens.max(0.0).floor() as u64
    }
}

impl RateLimiter {
    /// Takes a token for one request of `class` by `principal` in `subscription` at `now`
    /// (names compared case-insensitively).
    pub(crate) fn admit(
        &mut self,
        config: &RateLimitConfig,
        principal: &str,
        subscription: &str,
        class: OperationClass,
        now: Instant,
    ) -> Admission {
        if !config.enabled {
            return Admission::Unlimited;
        }
        let subscription = subscription.to_ascii_lowercase();
        let own_config = config.bucket(class);
        let global_config = config.global_bucket(class);
        let mut own = self.bucket(principal, &subscription, class, own_config, now);
        let mut global = self.bucket("", &subscription, class, global_config, now);
        let admission = if own.tokens >= 1.0 && global.tokens >= 1.0 {
            own.tokens -= 1.0;
            global.tokens -= 1.0;
            Admission::Admitted {
                remaining: own.whole_tokens(),
                global_remaining: global.whole_tokens(),
            }
        } else {
            let own_wait = (own.tokens < 1.0).then(|| own.retry_after(own_config));
            let global_wait = (global.tokens < 1.0).then(|| global.retry_after(global_config));
            Admission::Throttled {
                retry_after_seconds: own_wait.max(global_wait).unwrap_or(1),
                remaining: own.whole_tokens(),
                global_remaining: global.whole_tokens(),
                global: own_wait.is_none(),
            }
        };
        self.store(principal, &subscription, class, own);
        self.store("", &subscription, class, global);
        admission
    }

    /// Refills every bucket (they are created full again on next use).
    pub(crate) fn reset(&mut self) {
        self.buckets.clear();
    }

    fn bucket(
        &self,
        principal: &str,
        subscription: &str,
        class: OperationClass,
        config: BucketConfig,
        now: Instant,
    ) -> Bucket {
        let key = (
            principal.to_ascii_lowercase(),
            subscription.to_owned(),
            class,
        );
        let mut bucket = self.buckets.get(&key).copied().unwrap_or(Bucket {
            tokens: f64::from(config.burst),
            updated: now,
        });
        bucket.refill(config, now);
        bucket
    }

    fn store(
        &mut self,
        principal: &str,
        subscription: &str,
        class: OperationClass,
        bucket: Bucket,
    ) {
        let key = (
            principal.to_ascii_lowercase(),
            subscription.to_owned(),
            class,
        );
        self.buckets.insert(key, bucket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn small() -> RateLimitConfig {
        RateLimitConfig {
            deletes: BucketConfig {
                burst: 2,
                per_second: 1,
            },
            ..RateLimitConfig::default()
        }
    }

    #[test]
    fn a_fresh_bucket_answers_burst_minus_one() {
        let mut limiter = RateLimiter::default();
        let now = Instant::now();
        let config = RateLimitConfig::default();
        assert_eq!(
            limiter.admit(&config, "p", "S", OperationClass::Deletes, now),
            Admission::Admitted {
                remaining: 199,
                global_remaining: 2999
            }
        );
        assert_eq!(
            limiter.admit(&config, "p", "s", OperationClass::Reads, now),
            Admission::Admitted {
                remaining: 249,
                global_remaining: 3749
            }
        );
        assert_eq!(
            limiter.admit(&config, "q", "s", OperationClass::Deletes, now),
            Admission::Admitted {
                remaining: 199,
                global_remaining: 2998
            },
            "another principal has its own bucket but shares the global one"
        );
    }

    #[test]
    fn an_empty_bucket_throttles_until_it_refills() {
        let mut limiter = RateLimiter::default();
        let t0 = Instant::now();
        let config = small();
        let delete = |limiter: &mut RateLimiter, at| {
            limiter.admit(&config, "p", "s", OperationClass::Deletes, at)
        };
        assert!(matches!(
            delete(&mut limiter, t0),
            Admission::Admitted { remaining: 1, .. }
        ));
        assert!(matches!(
            delete(&mut limiter, t0),
            Admission::Admitted { remaining: 0, .. }
        ));
        assert_eq!(
            delete(&mut limiter, t0),
            Admission::Throttled {
                retry_after_seconds: 1,
                remaining: 0,
                global_remaining: 28,
                global: false
            }
        );
        let later = t0 + Duration::from_millis(1100);
        assert!(matches!(
            delete(&mut limiter, later),
            Admission::Admitted { remaining: 0, .. }
        ));
        limiter.reset();
        assert!(matches!(
            delete(&mut limiter, later),
            Admission::Admitted { remaining: 1, .. }
        ));
        let off = RateLimitConfig {
            enabled: false,
            ..config
        };
        assert_eq!(
            limiter.admit(&off, "p", "s", OperationClass::Deletes, later),
            Admission::Unlimited
        );
    }

    #[test]
    fn the_global_bucket_throttles_every_principal() {
        let mut limiter = RateLimiter::default();
        let now = Instant::now();
        let config = RateLimitConfig {
            global_multiplier: 1,
            ..small()
        };
        let class = OperationClass::Deletes;
        limiter.admit(&config, "a", "s", class, now);
        limiter.admit(&config, "b", "s", class, now);
        assert!(matches!(
            limiter.admit(&config, "c", "s", class, now),
            Admission::Throttled { global: true, .. }
        ));
        assert!(matches!(
            limiter.admit(&config, "c", "other", class, now),
            Admission::Admitted { .. }
        ));
    }

    #[test]
    fn json_shape() {
        let config: RateLimitConfig =
            serde_json::from_str(r#"{"deletes": {"burst": 5, "perSecond": 1}}"#).expect("valid");
        assert_eq!(config.deletes.burst, 5);
        assert_eq!(config.reads, RateLimitConfig::default().reads);
        assert_eq!(
            serde_json::to_value(RateLimitConfig::default()).expect("serializes"),
            serde_json::json!({"enabled": true, "reads": {"burst": 250, "perSecond": 25},
                "deletes": {"burst": 200, "perSecond": 10},
                "writes": {"burst": 200, "perSecond": 10}, "globalMultiplier": 15})
        );
        assert_eq!(OperationClass::of_method("PATCH"), OperationClass::Writes);
    }
}
