//! Pacing: spend Azure Resource Manager's token buckets the way ARM refills them, instead of
//! provoking 429s (docs/service-facts.md §4).
//!
//! ARM throttles per principal, per subscription and per operation class (reads 250 then 25/s,
//! deletes and writes 200 then 10/s; a global per-subscription bucket is 15 times larger). A
//! bulk run therefore cannot beat `burst + (n - burst) / refill` seconds; with 32 requests in
//! flight it would empty the bucket in a second and then live on 429s and back-off waits,
//! throttling every other tool of the same principal too. So each request first takes a token
//! from a local copy of the bucket:
//! - the copy starts full at the documented size and refills at the documented rate;
//! - every answer corrects it from `x-ms-ratelimit-remaining-subscription-<class>` (and the
//!   global one): the server's count, less the requests still on their way, is the truth
//!   (lower when another tool of the principal spent some, higher when the bucket is larger
//!   or refills faster than documented); a bucket reported larger than assumed is learnt, and
//!   the refill rate is estimated from how the count moves over a few seconds;
//! - a 429 empties it until `Retry-After` has passed and lowers the refill rate by a fifth.
//!
//! The first request of a bucket goes alone, as a probe: until an answer says what is left, the
//! documented size is only a guess (another tool of the principal may have spent the bucket,
//! or it may be smaller), and 32 requests sent on a guess could all meet 429s.
//!
//! Tokens are reserved, not polled: a request that finds the bucket empty is given the time
//! its token will exist and sleeps until then, so waiting requests leave in order and none
//! spins. Why not the `governor` crate: its quota is fixed, and this bucket must be corrected
//! from the server's headers and blocked by `Retry-After`.

use crate::retry::Clock;
use reqwest::Method;
use reqwest::header::HeaderMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// ARM's operation classes, each with its own bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationClass {
    Reads,
    Deletes,
    Writes,
}

impl OperationClass {
    /// GET and HEAD are reads, DELETE deletes, everything else writes.
    pub fn of(method: &Method) -> OperationClass {
        match *method {
            Method::GET | Method::HEAD => OperationClass::Reads,
            Method::DELETE => OperationClass::Deletes,
            _ => OperationClass::Writes,
        }
    }

    /// The word in ARM's headers (`x-ms-ratelimit-remaining-subscription-deletes`).
    pub fn as_str(self) -> &'static str {
        match self {
            OperationClass::Reads => "reads",
            OperationClass::Deletes => "deletes",
            OperationClass::Writes => "writes",
        }
    }

    /// The documented bucket: size and refill per second.
    pub fn documented(self) -> Bucket {
        match self {
            OperationClass::Reads => Bucket {
                burst: 250.0,
                refill_per_sec: 25.0,
            },
            OperationClass::Deletes | OperationClass::Writes => Bucket {
                burst: 200.0,
                refill_per_sec: 10.0,
            },
        }
    }
}

/// A bucket's size and refill rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub burst: f64,
    pub refill_per_sec: f64,
}

/// The lowest refill rate pacing falls to after 429s.
const MIN_REFILL_PER_SEC: f64 = 0.5;

/// How often the remaining quota is reported as a note (besides when pacing starts waiting).
const REPORT_EVERY: Duration = Duration::from_secs(15);

/// How long the requests behind a probe wait for its answer at most (a probe that stalls must
/// not hold a whole run up to its timeout).
const PROBE_WAIT: Duration = Duration::from_secs(5);

/// One bucket's local copy.
#[derive(Debug)]
struct State {
    nominal: Bucket,
    refill_per_sec: f64,
    /// May be negative: tokens already promised to waiting requests.
    tokens: f64,
    at: Instant,
    blocked_until: Option<Instant>,
    /// What the server last said was left.
    reported_remaining: Option<u64>,
    last_report: Option<Instant>,
    waited_before: bool,
    /// Tokens taken whose answer has not been seen yet.
    outstanding: u64,
    /// Answers seen that carried a count (each one spent a server token).
    answered: u64,
    /// The start of the refill-rate estimate: when, what the server said, answers so far.
    anchor: Option<(Instant, f64, u64)>,
    /// Whether an answer has been seen (until then only the probe is sent).
    seeded: bool,
}

impl State {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill_per_sec).min(self.nominal.burst);
        self.at = now;
    }
}

/// A reservation whose answer has not been observed yet; see [`Pacer::in_flight`].
#[derive(Debug)]
#[must_use = "dropping it at once abandons the reservation"]
pub struct Abandoned<'a> {
    pacer: &'a Pacer,
    subscription: &'a str,
    class: OperationClass,
    refund: bool,
    armed: bool,
}

impl Abandoned<'_> {
    /// The answer was observed: nothing to undo.
    pub fn observed(mut self) {
        self.armed = false;
    }
}

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.pacer
                .abandon(self.subscription, self.class, self.refund);
        }
    }
}

/// The buckets of one principal (one signed-in context), per subscription and class.
#[derive(Debug)]
pub struct Pacer {
    clock: Arc<dyn Clock>,
    buckets: Mutex<HashMap<(String, OperationClass), State>>,
    /// Wakes the requests waiting behind a probe when its answer arrives.
    answered: tokio::sync::Notify,
    /// Overrides of the documented buckets (tests, the emulator's settable buckets).
    sizes: HashMap<OperationClass, Bucket>,
}

impl Pacer {
    pub fn new(clock: Arc<dyn Clock>) -> Pacer {
        Pacer {
            clock,
            buckets: Mutex::new(HashMap::new()),
            answered: tokio::sync::Notify::new(),
            sizes: HashMap::new(),
        }
    }

    /// The same pacer with another starting bucket for `class`.
    pub fn with_bucket(mut self, class: OperationClass, bucket: Bucket) -> Pacer {
        self.sizes.insert(class, bucket);
        self
    }

    fn state<'a>(
        &self,
        buckets: &'a mut HashMap<(String, OperationClass), State>,
        subscription: &str,
        class: OperationClass,
        now: Instant,
    ) -> &'a mut State {
        let nominal = self
            .sizes
            .get(&class)
            .copied()
            .unwrap_or_else(|| class.documented());
        buckets
            .entry((subscription.to_ascii_lowercase(), class))
            .or_insert_with(|| State {
                nominal,
                refill_per_sec: nominal.refill_per_sec,
                tokens: nominal.burst,
                at: now,
                blocked_until: None,
                reported_remaining: None,
                last_report: None,
                waited_before: false,
                outstanding: 0,
                answered: 0,
                anchor: None,
                seeded: false,
            })
    }

    /// Takes a token for one request, waiting until it exists; returns a note when pacing
    /// starts to wait for the first time (the burst is spent).
    pub async fn acquire(&self, subscription: &str, class: OperationClass) -> Option<String> {
        // Behind an unanswered probe: wait for its answer (or, at most, PROBE_WAIT).
        loop {
            let notified = {
                let now = self.clock.now();
                let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
                let state = self.state(&mut buckets, subscription, class, now);
                if state.seeded || state.outstanding == 0 {
                    break;
                }
                // Created under the lock, so the probe's answer cannot slip in between.
                self.answered.notified()
            };
            if tokio::time::timeout(PROBE_WAIT, notified).await.is_err() {
                let now = self.clock.now();
                let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
                self.state(&mut buckets, subscription, class, now).seeded = true;
            }
        }
        let (wait, note) = {
            let now = self.clock.now();
            let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            let state = self.state(&mut buckets, subscription, class, now);
            state.refill(now);
            // A 429's Retry-After: nothing leaves before it has passed.
            let blocked = state
                .blocked_until
                .filter(|until| *until > now)
                .map(|until| until - now)
                .unwrap_or_default();
            state.tokens -= 1.0;
            state.outstanding += 1;
            let short = if state.tokens < 0.0 {
                Duration::from_secs_f64(-state.tokens / state.refill_per_sec)
            } else {
                Duration::ZERO
            };
            let wait = blocked.max(short);
            let note = (!wait.is_zero() && !state.waited_before).then(|| {
                state.waited_before = true;
                format!(
                    "Azure Resource Manager quota for {} in subscription {subscription} is spent; pacing at {:.1} requests per second, the rate it refills",
                    class.as_str(),
                    state.refill_per_sec
                )
            });
            (wait, note)
        };
        if !wait.is_zero() {
            // A request stopped while it waits (Ctrl+C) was never sent: its token goes back.
            let mut unsent = Abandoned {
                pacer: self,
                subscription,
                class,
                refund: true,
                armed: true,
            };
            self.clock.sleep(wait).await;
            unsent.armed = false;
        }
        note
    }

    /// The reservation of a request that [`Pacer::acquire`] let go, until its answer is
    /// [`Pacer::observe`]d: dropped without [`Abandoned::observed`] (the request was cancelled
    /// in flight), it stops counting as on its way, so later corrections from the headers are
    /// not lowered by answers that will never come, and requests waiting behind an unanswered
    /// probe go on at once.
    pub fn in_flight<'a>(&'a self, subscription: &'a str, class: OperationClass) -> Abandoned<'a> {
        Abandoned {
            pacer: self,
            subscription,
            class,
            refund: false,
            armed: true,
        }
    }

    /// Undoes one reservation whose answer will not be observed; `refund` when the request was
    /// never sent (the service spent no token for it).
    fn abandon(&self, subscription: &str, class: OperationClass, refund: bool) {
        let now = self.clock.now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let state = self.state(&mut buckets, subscription, class, now);
        state.refill(now);
        state.outstanding = state.outstanding.saturating_sub(1);
        if refund {
            state.tokens = (state.tokens + 1.0).min(state.nominal.burst);
        }
        if !state.seeded && state.outstanding == 0 {
            // The probe will never be answered: the requests behind it must not wait for it.
            self.answered.notify_waiters();
        }
    }

    /// Corrects the bucket from an answer's headers (and a 429's `Retry-After`); returns a
    /// note about the remaining quota at most every [`REPORT_EVERY`].
    pub fn observe(
        &self,
        subscription: &str,
        class: OperationClass,
        status: u16,
        headers: &HeaderMap,
        retry_after: Option<Duration>,
    ) -> Option<String> {
        let now = self.clock.now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let state = self.state(&mut buckets, subscription, class, now);
        state.refill(now);
        state.outstanding = state.outstanding.saturating_sub(1);
        if !state.seeded {
            state.seeded = true;
            self.answered.notify_waiters();
        }
        let remaining = [
            format!("x-ms-ratelimit-remaining-subscription-{}", class.as_str()),
            format!(
                "x-ms-ratelimit-remaining-subscription-global-{}",
                class.as_str()
            ),
        ]
        .iter()
        .filter_map(|name| {
            headers
                .get(name.as_str())?
                .to_str()
                .ok()?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .min();
        if let Some(remaining) = remaining {
            let remaining_f = remaining as f64;
            // The server's count is the truth, less what is still on its way to it, and less one
            // token of margin: the server refills on its own clock, and the answer took time
            // to arrive, so spending its very last token races its refill.
            state.tokens = remaining_f - state.outstanding as f64 - 1.0;
            state.reported_remaining = Some(remaining);
            state.answered += 1;
            // A count above the assumed size: the bucket is larger than documented.
            if remaining_f + 1.0 > state.nominal.burst {
                state.nominal.burst = remaining_f + 1.0;
            }
            // The refill rate, from how the count moved: the count rose by the refill and fell
            // by one per answer. Only while the bucket is not full (a full one says nothing).
            let near_full = remaining_f + 1.0 >= state.nominal.burst * 0.95;
            match state.anchor {
                Some((at, then, answered)) if !near_full => {
                    let seconds = now.saturating_duration_since(at).as_secs_f64();
                    if seconds >= 2.0 {
                        let refilled = remaining_f - then + (state.answered - answered) as f64;
                        if refilled > 0.0 {
                            let estimate = refilled / seconds;
                            state.refill_per_sec = (0.5 * state.refill_per_sec + 0.5 * estimate)
                                .max(MIN_REFILL_PER_SEC);
                            state.nominal.refill_per_sec =
                                state.nominal.refill_per_sec.max(state.refill_per_sec);
                        }
                        state.anchor = Some((now, remaining_f, state.answered));
                    }
                }
                _ => state.anchor = (!near_full).then_some((now, remaining_f, state.answered)),
            }
        }
        if status == 429 {
            state.tokens = state.tokens.min(0.0);
            let wait = retry_after.unwrap_or(Duration::from_secs(1));
            state.blocked_until = Some(
                state
                    .blocked_until
                    .map_or(now + wait, |b| b.max(now + wait)),
            );
            state.refill_per_sec = (state.refill_per_sec * 0.8).max(MIN_REFILL_PER_SEC);
        } else if (200..300).contains(&status) {
            state.refill_per_sec = (state.refill_per_sec * 1.01).min(state.nominal.refill_per_sec);
        }
        let due = state
            .last_report
            .is_none_or(|last| now.saturating_duration_since(last) >= REPORT_EVERY);
        if due && let Some(left) = state.reported_remaining {
            state.last_report = Some(now);
            return Some(format!(
                "Azure Resource Manager quota for {} in subscription {subscription}: {left} left, refilling at {:.1} per second",
                class.as_str(),
                state.refill_per_sec
            ));
        }
        None
    }

    /// The refill rate in use (for tests and diagnostics).
    pub fn refill_rate(&self, subscription: &str, class: OperationClass) -> f64 {
        let now = self.clock.now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        self.state(&mut buckets, subscription, class, now)
            .refill_per_sec
    }

    /// The local estimate of the tokens left (for tests and diagnostics).
    pub fn tokens(&self, subscription: &str, class: OperationClass) -> f64 {
        let now = self.clock.now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let state = self.state(&mut buckets, subscription, class, now);
        state.refill(now);
        state.tokens
    }
}

/// The subscription of an ARM request path (`/subscriptions/{id}/...`).
pub(crate) fn subscription_of(url: &url::Url) -> Option<String> {
    let mut segments = url.path_segments()?;
    segments.find(|s| s.eq_ignore_ascii_case("subscriptions"))?;
    segments.next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;

    /// Time that moves only when told to, recording every sleep.
    #[derive(Debug)]
    struct FakeClock {
        start: Instant,
        offset: Mutex<Duration>,
    }

    impl FakeClock {
        fn new() -> Arc<FakeClock> {
            Arc::new(FakeClock {
                start: Instant::now(),
                offset: Mutex::new(Duration::ZERO),
            })
        }

        fn advance(&self, by: Duration) {
            *self.offset.lock().expect("lock") += by;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.start + *self.offset.lock().expect("lock")
        }

        fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
            self.advance(duration);
            Box::pin(std::future::ready(()))
        }
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    const SUB: &str = "11111111-1111-1111-1111-111111111111";

    /// Time that never passes for a sleeper: a paced request waits forever (until dropped).
    #[derive(Debug)]
    struct StuckClock(Instant);

    impl Clock for StuckClock {
        fn now(&self) -> Instant {
            self.0
        }

        fn sleep(&self, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
            Box::pin(std::future::pending())
        }
    }

    #[test]
    fn a_request_stopped_while_it_waits_gives_its_token_back_and_one_stopped_in_flight_stops_counting()
     {
        let pacer = Pacer::new(Arc::new(StuckClock(Instant::now()))).with_bucket(
            OperationClass::Deletes,
            Bucket {
                burst: 1.0,
                refill_per_sec: 1.0,
            },
        );
        // The probe: sent at once, then stopped in flight (Ctrl+C) before its answer.
        assert!(block_on(pacer.acquire(SUB, OperationClass::Deletes)).is_none());
        drop(pacer.in_flight(SUB, OperationClass::Deletes));
        // Nothing is on its way any more: the next request is not held behind the lost probe
        // (it would wait PROBE_WAIT), and it takes the bucket's last token... or waits for one.
        assert!(pacer.tokens(SUB, OperationClass::Deletes) < 0.5);
        let mut waiting = Box::pin(pacer.acquire(SUB, OperationClass::Deletes));
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(
            waiting.as_mut().poll(&mut context).is_pending(),
            "the bucket is empty: it waits"
        );
        let reserved = pacer.tokens(SUB, OperationClass::Deletes);
        // Stopped while waiting: never sent, so its token comes back.
        drop(waiting);
        assert_eq!(pacer.tokens(SUB, OperationClass::Deletes), reserved + 1.0);
        // An observed answer is not undone.
        let pacer = Pacer::new(FakeClock::new());
        block_on(pacer.acquire(SUB, OperationClass::Deletes));
        let flight = pacer.in_flight(SUB, OperationClass::Deletes);
        pacer.observe(SUB, OperationClass::Deletes, 200, &HeaderMap::new(), None);
        flight.observed();
        let before = pacer.tokens(SUB, OperationClass::Deletes);
        assert_eq!(pacer.tokens(SUB, OperationClass::Deletes), before);
    }

    #[test]
    fn the_burst_is_spent_at_once_then_requests_leave_at_the_refill_rate() {
        let clock = FakeClock::new();
        let pacer = Pacer::new(clock.clone());
        let started = clock.now();
        let mut first_wait_note = None;
        // The probe, and its answer (without a count: the documented bucket stands).
        assert!(block_on(pacer.acquire(SUB, OperationClass::Deletes)).is_none());
        pacer.observe(SUB, OperationClass::Deletes, 200, &HeaderMap::new(), None);
        for _ in 0..199 {
            assert!(block_on(pacer.acquire(SUB, OperationClass::Deletes)).is_none());
        }
        assert_eq!(clock.now(), started, "200 deletes leave at once");
        for _ in 0..50 {
            if let Some(note) = block_on(pacer.acquire(SUB, OperationClass::Deletes)) {
                first_wait_note.get_or_insert(note);
            }
        }
        let elapsed = clock.now() - started;
        assert!(
            (elapsed.as_secs_f64() - 5.0).abs() < 0.01,
            "50 more at 10/s take 5 s: {elapsed:?}"
        );
        assert!(
            first_wait_note
                .expect("told once")
                .contains("pacing at 10.0 requests per second")
        );
        // Reads have their own, larger bucket.
        block_on(pacer.acquire(SUB, OperationClass::Reads));
        pacer.observe(SUB, OperationClass::Reads, 200, &HeaderMap::new(), None);
        for _ in 0..249 {
            block_on(pacer.acquire(SUB, OperationClass::Reads));
        }
        assert_eq!(clock.now() - started, elapsed);
    }

    #[test]
    fn the_servers_remaining_count_wins_when_lower_and_a_429_blocks_and_slows() {
        let clock = FakeClock::new();
        let pacer = Pacer::new(clock.clone());
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-ms-ratelimit-remaining-subscription-deletes",
            "49".parse().expect("v"),
        );
        headers.insert(
            "x-ms-ratelimit-remaining-subscription-global-deletes",
            "2999".parse().expect("v"),
        );
        block_on(pacer.acquire(SUB, OperationClass::Deletes));
        let note = pacer.observe(SUB, OperationClass::Deletes, 200, &headers, None);
        assert!(note.expect("first report").contains("49 left"));
        // 49 left, less the one token of margin.
        assert!((pacer.tokens(SUB, OperationClass::Deletes) - 48.0).abs() < 0.01);
        // No second report within the interval.
        assert!(
            pacer
                .observe(SUB, OperationClass::Deletes, 200, &headers, None)
                .is_none()
        );

        pacer.observe(
            SUB,
            OperationClass::Deletes,
            429,
            &HeaderMap::new(),
            Some(Duration::from_secs(7)),
        );
        let before = clock.now();
        block_on(pacer.acquire(SUB, OperationClass::Deletes));
        assert!(
            clock.now() - before >= Duration::from_secs(7),
            "Retry-After is honoured"
        );
        // The refill rate dropped by a fifth: 10 → 8 per second.
        assert!((pacer.refill_rate(SUB, OperationClass::Deletes) - 8.0).abs() < 0.01);
    }

    /// A server bucket on the fake clock: `n` requests through the pacer; returns the seconds
    /// taken and how many found the server's bucket empty (a 429).
    fn run_against(burst: f64, refill: f64, n: usize, latency: Duration) -> (f64, usize) {
        let clock = FakeClock::new();
        let pacer = Pacer::new(clock.clone());
        let started = clock.now();
        let (mut tokens, mut at, mut throttled) = (burst, started, 0);
        for _ in 0..n {
            block_on(pacer.acquire(SUB, OperationClass::Deletes));
            let now = clock.now();
            tokens = (tokens + (now - at).as_secs_f64() * refill).min(burst);
            at = now;
            let mut headers = HeaderMap::new();
            if tokens >= 1.0 {
                tokens -= 1.0;
                let left = (tokens.floor() as u64).to_string();
                headers.insert(
                    "x-ms-ratelimit-remaining-subscription-deletes",
                    left.parse().expect("v"),
                );
                pacer.observe(SUB, OperationClass::Deletes, 200, &headers, None);
            } else {
                throttled += 1;
                pacer.observe(
                    SUB,
                    OperationClass::Deletes,
                    429,
                    &headers,
                    Some(Duration::from_secs(1)),
                );
            }
            clock.advance(latency);
        }
        ((clock.now() - started).as_secs_f64(), throttled)
    }

    #[test]
    fn against_the_documented_bucket_a_bulk_run_takes_the_floor_and_meets_no_429() {
        // 200 at once, then 800 at 10/s: the floor is 80 s.
        let (seconds, throttled) = run_against(200.0, 10.0, 1000, Duration::ZERO);
        assert_eq!(throttled, 0);
        assert!((80.0..=80.0 * 1.05).contains(&seconds), "{seconds}");
    }

    #[test]
    fn a_bucket_that_refills_faster_than_documented_is_learnt_from_the_counts() {
        // 200 per second: at the documented 10/s, 2,000 deletes would take 180 s; the floor
        // with the real refill is 9 s.
        let (seconds, throttled) = run_against(200.0, 200.0, 2000, Duration::ZERO);
        assert!(throttled <= 20, "{throttled}");
        assert!(seconds < 9.0 * 1.5, "{seconds}");
        // A larger bucket than documented is spent whole at once.
        let (seconds, _) = run_against(600.0, 10.0, 600, Duration::from_millis(1));
        assert!(seconds < 1.0, "{seconds}");
    }

    #[test]
    fn the_subscription_comes_from_the_path() {
        let url = url::Url::parse(&format!(
            "https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg/providers/x?api-version=1"
        ))
        .expect("url");
        assert_eq!(subscription_of(&url).as_deref(), Some(SUB));
        let none = url::Url::parse("https://management.azure.com/providers").expect("url");
        assert_eq!(subscription_of(&none), None);
    }
}
