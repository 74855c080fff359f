//! The retry policy and its loop: which failures are worth another attempt, how long to wait,
//! and the waiting itself.
//!
//! After the Azure SDK's retry policy: retry 408, 429, 500, 502, 503, 504 and transport
//! failures; exponential backoff with jitter, capped per attempt and by a total deadline;
//! `Retry-After` (seconds or HTTP-date) is honoured and never undercut. The loop
//! ([`RetryPolicy::run`]) owns expiry, sleep and the observer; time comes from a [`Clock`], so
//! its tests use a fake clock and a counting responder instead of real sleeps.

use crate::error::Error;
use crate::transport::Outcome;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

/// The most retries a policy may ask for: beyond this a "retry" is an outage, and a nightly run
/// should report it instead of hammering the broker.
pub const MAX_RETRY_COUNT: u32 = 20;

/// The cap of one computed delay unless the first delay is longer.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);

/// The longest total deadline a policy may have (one hour).
pub const MAX_RETRY_WINDOW: Duration = Duration::from_secs(3600);

/// The shortest first delay: below it a "retry" is a hammering loop.
pub const MIN_RETRY_INTERVAL: Duration = Duration::from_millis(10);

/// The longest first delay (five minutes): a longer one is better served by rerunning later.
pub const MAX_RETRY_INTERVAL: Duration = Duration::from_secs(300);

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

    /// Checks the limits: at most [`MAX_RETRY_COUNT`] retries, a first delay from
    /// [`MIN_RETRY_INTERVAL`] to [`MAX_RETRY_INTERVAL`] and a deadline within
    /// [`MAX_RETRY_WINDOW`]. The PowerShell parameters are validated against the same numbers
    /// (they cross the FFI), so the two sides cannot disagree.
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
        if self.initial_delay < MIN_RETRY_INTERVAL || self.initial_delay > MAX_RETRY_INTERVAL {
            return Err(Error::invalid_input(
                "RetryIntervalSec",
                format!(
                    "{:?} is outside the range from {} to {} s",
                    self.initial_delay,
                    MIN_RETRY_INTERVAL.as_secs_f64(),
                    MAX_RETRY_INTERVAL.as_secs()
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

/// Where the loop gets the time and how it waits; [`SystemClock`] outside tests.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Real time: `Instant::now` and tokio's timer (so a cancelled task stops waiting at once).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// How one attempt failed, as the loop needs to know it.
#[derive(Debug)]
pub struct AttemptFailure {
    /// The error to report if this is the last attempt.
    pub error: Error,
    /// Whether another attempt may help.
    pub retryable: bool,
    /// The server's `Retry-After`.
    pub retry_after: Option<Duration>,
    /// Short reason for the retry note ("throttled (HTTP 429)").
    pub reason: String,
    /// Whether the service may have applied the request.
    pub outcome: Outcome,
}

/// A retry about to wait, for the observer ("throttled (HTTP 429); retrying in 2.0 s (retry 1
/// of at most 4)").
#[derive(Clone, Debug, PartialEq)]
pub struct RetryNotice {
    /// 1 for the first retry.
    pub retry: u32,
    pub max_retries: u32,
    pub delay: Duration,
    pub reason: String,
}

impl RetryNotice {
    /// The note as written live: "…; retrying in 1.0 s (retry 1 of at most 4)".
    pub fn live_text(&self) -> String {
        format!(
            "{}; retrying in {:.1} s (retry {} of at most {})",
            self.reason,
            self.delay.as_secs_f64(),
            self.retry,
            self.max_retries
        )
    }

    /// The note as kept with the outcome: "…; retried after 1.0 s".
    pub fn after_text(&self) -> String {
        format!(
            "{}; retried after {:.1} s",
            self.reason,
            self.delay.as_secs_f64()
        )
    }
}

/// What the loop saw besides the final result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Requests sent (1 = no retry).
    pub attempts: u32,
    /// Whether an attempt before the last one may have been applied (its outcome is unknown).
    pub earlier_outcome_unknown: bool,
}

impl RetryPolicy {
    /// Runs `attempt` (given the 0-based attempt number) until it succeeds, fails for good,
    /// or the policy is spent; tells `observer` about each retry before its wait starts.
    pub async fn run<T, F, Fut>(
        &self,
        clock: &dyn Clock,
        observer: &mut (dyn FnMut(&RetryNotice) + Send),
        attempt: F,
    ) -> (Result<T, AttemptFailure>, History)
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, AttemptFailure>>,
    {
        let mut jitter = Jitter::new();
        self.run_with_jitter(clock, &mut || jitter.next(), observer, attempt)
            .await
    }

    /// [`RetryPolicy::run`] with the jitter source given (tests pin it).
    pub async fn run_with_jitter<T, F, Fut>(
        &self,
        clock: &dyn Clock,
        unit_random: &mut (dyn FnMut() -> f64 + Send),
        observer: &mut (dyn FnMut(&RetryNotice) + Send),
        mut attempt: F,
    ) -> (Result<T, AttemptFailure>, History)
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, AttemptFailure>>,
    {
        let started = clock.now();
        let mut history = History::default();
        loop {
            let number = history.attempts;
            history.attempts += 1;
            let failure = match attempt(number).await {
                Ok(value) => return (Ok(value), history),
                Err(failure) => failure,
            };
            if !failure.retryable || number >= self.max_retries {
                return (Err(failure), history);
            }
            let delay = self.delay(number, failure.retry_after, unit_random());
            let elapsed = clock.now().saturating_duration_since(started);
            if elapsed + delay > self.total_deadline {
                return (Err(failure), history);
            }
            observer(&RetryNotice {
                retry: number + 1,
                max_retries: self.max_retries,
                delay,
                reason: failure.reason.clone(),
            });
            if failure.outcome == Outcome::Unknown {
                history.earlier_outcome_unknown = true;
            }
            clock.sleep(delay).await;
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
                Duration::from_secs(301),
                Duration::from_secs(1),
                "RetryIntervalSec",
            ),
            (
                1,
                Duration::from_millis(9),
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

    /// Time that only moves when the loop sleeps.
    #[derive(Debug)]
    struct FakeClock {
        start: Instant,
        slept: std::sync::Mutex<Vec<Duration>>,
    }

    impl FakeClock {
        fn new() -> FakeClock {
            FakeClock {
                start: Instant::now(),
                slept: std::sync::Mutex::new(Vec::new()),
            }
        }

        fn slept(&self) -> Vec<Duration> {
            self.slept.lock().expect("lock").clone()
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.start + self.slept().iter().sum::<Duration>()
        }

        fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
            self.slept.lock().expect("lock").push(duration);
            Box::pin(std::future::ready(()))
        }
    }

    fn failure(status: u16, retry_after: Option<u64>) -> AttemptFailure {
        AttemptFailure {
            error: crate::Error::new(
                crate::ErrorCode::BrokerServerError,
                format!("HTTP {status}"),
            ),
            retryable: RetryPolicy::is_retryable_status(status),
            retry_after: retry_after.map(Duration::from_secs),
            reason: format!("HTTP {status}"),
            outcome: Outcome::of_status(status),
        }
    }

    /// Answers attempt n with `script[n]` (a status, or 200 = success) and counts calls.
    async fn run_script(
        policy: &RetryPolicy,
        clock: &FakeClock,
        script: &[(u16, Option<u64>)],
    ) -> (
        Result<u32, AttemptFailure>,
        History,
        Vec<RetryNotice>,
        usize,
    ) {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let mut notices = Vec::new();
        let (result, history) = policy
            .run_with_jitter(
                clock,
                &mut || 1.0,
                &mut |n: &RetryNotice| notices.push(n.clone()),
                |n| {
                    calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let (status, after) = script[n as usize];
                    async move {
                        if status == 200 {
                            Ok(n)
                        } else {
                            Err(failure(status, after))
                        }
                    }
                },
            )
            .await;
        (result, history, notices, calls.into_inner())
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn the_loop_retries_transient_failures_with_backoff_and_retry_after() {
        let policy = RetryPolicy::default();
        let clock = FakeClock::new();
        let (result, history, notices, calls) = block_on(run_script(
            &policy,
            &clock,
            &[(503, None), (429, Some(7)), (500, None), (200, None)],
        ));
        assert_eq!(result.expect("succeeds on the fourth attempt"), 3);
        assert_eq!(calls, 4);
        assert_eq!(history.attempts, 4);
        assert_eq!(
            clock.slept(),
            vec![
                Duration::from_millis(500),
                Duration::from_secs(7),
                Duration::from_secs(2)
            ]
        );
        assert_eq!(notices.len(), 3);
        assert_eq!(
            notices[1].live_text(),
            "HTTP 429; retrying in 7.0 s (retry 2 of at most 4)"
        );
        // The 500 before the success may have been applied.
        assert!(history.earlier_outcome_unknown);
    }

    #[test]
    fn the_loop_stops_at_a_permanent_failure_the_count_or_the_deadline() {
        let clock = FakeClock::new();
        let (result, history, _, calls) = block_on(run_script(
            &RetryPolicy::default(),
            &clock,
            &[(503, None), (404, None)],
        ));
        assert!(!result.expect_err("404 is final").retryable);
        assert_eq!((calls, history.attempts), (2, 2));
        assert!(!history.earlier_outcome_unknown, "a 503 is a known refusal");

        let clock = FakeClock::new();
        let two = RetryPolicy {
            max_retries: 2,
            ..RetryPolicy::default()
        };
        let (result, _, _, calls) = block_on(run_script(&two, &clock, &[(503, None); 5]));
        assert!(result.is_err());
        assert_eq!(calls, 3, "one attempt and two retries");

        let clock = FakeClock::new();
        let short = RetryPolicy {
            total_deadline: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        let (result, _, notices, calls) =
            block_on(run_script(&short, &clock, &[(429, Some(60)), (200, None)]));
        assert!(
            result.is_err(),
            "a Retry-After beyond the deadline ends the loop at once"
        );
        assert_eq!((calls, notices.len()), (1, 0));
        assert!(clock.slept().is_empty());
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
