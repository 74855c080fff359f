//! The retry policy: which failures are worth another attempt and how long to wait.
//!
//! A small, separate layer (the client's exchange loop asks it), after the Azure SDK's policy:
//! retry 408, 429, 500, 502, 503, 504 and transport failures; exponential backoff with jitter,
//! capped per attempt and by a total deadline; `Retry-After` (seconds or HTTP-date) is honoured
//! and never undercut.

use crate::error::Error;
use std::time::{Duration, SystemTime};

/// The most retries a policy may ask for: beyond this a "retry" is an outage, and a nightly run
/// should report it instead of hammering the broker.
pub const MAX_RETRY_COUNT: u32 = 20;

/// The cap of one computed delay unless the first delay is longer.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);

/// The longest first delay or total deadline a policy may have (one hour).
pub const MAX_RETRY_WINDOW: Duration = Duration::from_secs(3600);

/// How the client retries. Defaults suit a throttling broker in a nightly run: up to 4 retries,
/// 0.5 s doubling to at most 30 s, all within 2 minutes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// Delay before the first retry (before jitter).
    pub initial_delay: Duration,
    /// Cap of one computed delay (a longer `Retry-After` is still honoured, within the deadline).
    pub max_delay: Duration,
    /// No retry starts later than this after the first attempt.
    pub total_deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 4,
            initial_delay: Duration::from_millis(500),
            max_delay: DEFAULT_MAX_DELAY,
            total_deadline: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// A policy from the settings an admin gives (`-MaximumRetryCount`, `-RetryIntervalSec`,
    /// `-RetryTimeoutSec`): `initial_delay` doubles per retry up to [`DEFAULT_MAX_DELAY`] (or
    /// up to `initial_delay` itself when that is longer, so a long interval is never cut).
    pub fn new(
        max_retries: u32,
        initial_delay: Duration,
        total_deadline: Duration,
    ) -> Result<RetryPolicy, Error> {
        let policy = RetryPolicy {
            max_retries,
            initial_delay,
            max_delay: DEFAULT_MAX_DELAY.max(initial_delay),
            total_deadline,
        };
        policy.validate()?;
        Ok(policy)
    }

    /// Checks the limits: at most [`MAX_RETRY_COUNT`] retries, a first delay above zero and
    /// both the first delay and the deadline within [`MAX_RETRY_WINDOW`].
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_retries > MAX_RETRY_COUNT {
            return Err(Error::invalid_input(
                "MaximumRetryCount",
                format!(
                    "{} is more than the limit of {MAX_RETRY_COUNT}",
                    self.max_retries
                ),
            ));
        }
        if self.initial_delay.is_zero() || self.initial_delay > MAX_RETRY_WINDOW {
            return Err(Error::invalid_input(
                "RetryIntervalSec",
                format!(
                    "{:?} is outside the range from above zero to {} s",
                    self.initial_delay,
                    MAX_RETRY_WINDOW.as_secs()
                ),
            ));
        }
        if self.max_delay < self.initial_delay {
            return Err(Error::invalid_input(
                "maximum retry delay",
                "it is shorter than the first retry delay",
            ));
        }
        if self.total_deadline > MAX_RETRY_WINDOW {
            return Err(Error::invalid_input(
                "RetryTimeoutSec",
                format!(
                    "{:?} is longer than the limit of {} s",
                    self.total_deadline,
                    MAX_RETRY_WINDOW.as_secs()
                ),
            ));
        }
        Ok(())
    }

    /// Whether an HTTP status is transient.
    pub fn is_retryable_status(status: u16) -> bool {
        matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
    }

    /// The wait before retry number `retry` (0-based): `initial · 2^retry`, capped, with "equal
    /// jitter" (a random point in the upper half, so waits stay spread but never collapse to 0),
    /// and never shorter than the server's `Retry-After`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, unit_random: f64) -> Duration {
        let exponential = self
            .initial_delay
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX));
        let capped = exponential.min(self.max_delay);
        let jittered = capped.mul_f64(0.5 + 0.5 * unit_random.clamp(0.0, 1.0));
        match retry_after {
            Some(server) => jittered.max(server),
            None => jittered,
        }
    }
}

/// `Retry-After` as delta-seconds or an HTTP-date, relative to `now`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// A cheap uniform [0, 1) source for jitter (SplitMix64; not for anything secret).
#[derive(Debug)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new() -> Jitter {
        Jitter(uuid::Uuid::new_v4().as_u128() as u64)
    }

    pub(crate) fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_statuses_are_retried() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(RetryPolicy::is_retryable_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 501] {
            assert!(!RetryPolicy::is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn delays_double_with_jitter_and_are_capped() {
        let p = RetryPolicy {
            max_delay: Duration::from_secs(4),
            ..RetryPolicy::default()
        };
        assert_eq!(p.delay(0, None, 1.0), Duration::from_millis(500));
        assert_eq!(p.delay(0, None, 0.0), Duration::from_millis(250));
        assert_eq!(p.delay(1, None, 1.0), Duration::from_secs(1));
        assert_eq!(p.delay(3, None, 1.0), Duration::from_secs(4));
        assert_eq!(p.delay(10, None, 1.0), Duration::from_secs(4));
        assert_eq!(p.delay(40, None, 1.0), Duration::from_secs(4));
    }

    #[test]
    fn retry_after_is_never_undercut() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(7)), 1.0),
            Duration::from_secs(7)
        );
        assert_eq!(
            p.delay(8, Some(Duration::from_millis(10)), 1.0),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn admin_settings_make_a_validated_policy() {
        let p = RetryPolicy::new(2, Duration::from_millis(100), Duration::from_secs(10))
            .expect("valid");
        assert_eq!(p.max_retries, 2);
        assert_eq!(p.max_delay, DEFAULT_MAX_DELAY);
        // A first delay longer than the usual cap raises the cap instead of being cut.
        let slow =
            RetryPolicy::new(1, Duration::from_secs(90), Duration::from_secs(600)).expect("valid");
        assert_eq!(slow.delay(0, None, 1.0), Duration::from_secs(90));
        assert_eq!(slow.delay(5, None, 1.0), Duration::from_secs(90));
        // No retries at all is a valid choice, with any deadline.
        assert!(RetryPolicy::new(0, Duration::from_millis(500), Duration::ZERO).is_ok());
    }

    #[test]
    fn out_of_range_settings_are_invalid_input_naming_the_parameter() {
        let cases = [
            (
                21,
                Duration::from_millis(500),
                Duration::from_secs(1),
                "MaximumRetryCount",
            ),
            (
                1,
                Duration::ZERO,
                Duration::from_secs(1),
                "RetryIntervalSec",
            ),
            (
                1,
                Duration::from_secs(3601),
                Duration::from_secs(1),
                "RetryIntervalSec",
            ),
            (
                1,
                Duration::from_secs(1),
                Duration::from_secs(3601),
                "RetryTimeoutSec",
            ),
        ];
        for (retries, interval, deadline, parameter) in cases {
            let e = RetryPolicy::new(retries, interval, deadline).expect_err(parameter);
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{parameter}");
            assert!(e.to_string().contains(parameter), "{e}");
        }
    }

    #[test]
    fn retry_after_in_both_formats() {
        let now = httpdate::parse_http_date("Tue, 24 Nov 2026 10:00:00 GMT").expect("date");
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 10:00:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn jitter_is_uniform_enough() {
        let mut j = Jitter(1);
        let values: Vec<f64> = (0..1000).map(|_| j.next()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = values.iter().sum::<f64>() / 1000.0;
        assert!((0.4..0.6).contains(&mean), "{mean}");
    }
}
