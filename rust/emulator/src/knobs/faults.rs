//! Deterministic fault injection into broker requests, for testing a client's retry layer.
//!
//! Configured by the seed's optional top-level `faults` (also `GET`/`PUT`/`DELETE
//! /_emulator/faults`, [`crate::EmulatorHandle::set_faults`], binary `--faults FILE`,
//! `--fault-rate`, `--fault-seed`):
//!
//! ```json
//! {"seed": 42, "rate": 0.2,
//!  "kinds": {"throttle": 1, "serverError": 1, "reset": 1, "stall": 1, "malformed": 1, "appliedLost": 1},
//!  "retryAfterSeconds": 1, "stallMs": 3000, "serverErrorStatuses": [500, 502, 503, 504],
//!  "routes": ["logoffUser", "disconnectUser", "sendMessageUser", "listSessions"]}
//! ```
//!
//! A request is a *candidate* when its route is listed in `routes` and it would otherwise be
//! processed: it is authorized, every lookup succeeded and its parameters are valid (a request
//! answered 401, 400, 403, 404, 405 or 409 never gets a fault). Admin and identity endpoints
//! are never candidates. Candidates are numbered 0, 1, 2, ... from the moment the
//! configuration is set (or the counters reset); whether candidate `n` gets a fault, and which
//! one, is a pure function of `seed` and `n` ([`FaultSampler::fault_at`]), so one seed always
//! gives the same sequence of faults.
//!
//! What each [`FaultKind`] does is documented on its variant.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

/// The default `retryAfterSeconds` of a `throttle` fault.
pub const DEFAULT_RETRY_AFTER_SECONDS: u64 = 1;

/// The default `stallMs` of a `stall` fault.
pub const DEFAULT_STALL_MS: u64 = 3000;

/// The default `serverErrorStatuses`.
pub const DEFAULT_SERVER_ERROR_STATUSES: [u16; 4] = [500, 502, 503, 504];

/// A broker route that faults can be injected into (named as in
/// [`crate::RequestRecord::route`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultRoute {
    /// `GET .../Sessions`.
    ListSessions,
    /// `POST .../actions/logoff-user`.
    LogoffUser,
    /// `POST .../actions/disconnect-user`.
    DisconnectUser,
    /// `POST .../actions/send-message-user`.
    SendMessageUser,
}

impl FaultRoute {
    /// Every route, the default of [`FaultConfig::routes`].
    pub const ALL: [FaultRoute; 4] = [
        Self::ListSessions,
        Self::LogoffUser,
        Self::DisconnectUser,
        Self::SendMessageUser,
    ];

    /// The route's name, e.g. `logoffUser`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ListSessions => "listSessions",
            Self::LogoffUser => "logoffUser",
            Self::DisconnectUser => "disconnectUser",
            Self::SendMessageUser => "sendMessageUser",
        }
    }
}

/// What an injected fault does to a candidate request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// 429 with `Retry-After: <retryAfterSeconds>` and the nested error body (code
    /// `TooManyRequests`). The action is not applied.
    Throttle,
    /// One of `serverErrorStatuses` (chosen deterministically, default 500/502/503/504) with
    /// the nested error body (code `InternalServerError`, `BadGateway`, `ServiceUnavailable`,
    /// `GatewayTimeout` or `ServerError`). The action is not applied.
    ServerError,
    /// The connection is closed without a response. The action is not applied.
    Reset,
    /// The action is applied at once, then the normal response is sent only after `stallMs`,
    /// so a client with a shorter timeout gives up although the broker did the work (the
    /// listing is taken when the request arrives). Applied whether or not the client waits.
    Stall,
    /// `listSessions`: 200 with a JSON body cut in half (a truncated array); actions: 500
    /// with the non-JSON body `<html>oops` (`text/html`). The action is not applied.
    Malformed,
    /// The action is applied (session logged off, disconnected, message recorded), then the
    /// connection is closed without a response: "applied but the response was lost". On
    /// `listSessions` it behaves like `reset`.
    AppliedLost,
}

impl FaultKind {
    /// Every kind, in the order weights are laid out when one is drawn.
    pub const ALL: [FaultKind; 6] = [
        Self::Throttle,
        Self::ServerError,
        Self::Reset,
        Self::Stall,
        Self::Malformed,
        Self::AppliedLost,
    ];

    /// The kind's name, e.g. `serverError`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Throttle => "throttle",
            Self::ServerError => "serverError",
            Self::Reset => "reset",
            Self::Stall => "stall",
            Self::Malformed => "malformed",
            Self::AppliedLost => "appliedLost",
        }
    }

    /// Whether the request's action still takes effect (`stall`, `appliedLost`).
    pub fn applies_action(self) -> bool {
        matches!(self, Self::Stall | Self::AppliedLost)
    }
}

/// Relative weights of the fault kinds: a fault is of a kind with probability
/// `weight / sum of weights`. In JSON a kind left out has weight 0; leaving out the whole
/// `kinds` object gives every kind weight 1 ([`FaultWeights::uniform`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultWeights {
    pub throttle: u32,
    pub server_error: u32,
    pub reset: u32,
    pub stall: u32,
    pub malformed: u32,
    pub applied_lost: u32,
}

impl FaultWeights {
    /// Every kind with weight 1.
    pub fn uniform() -> Self {
        Self {
            throttle: 1,
            server_error: 1,
            reset: 1,
            stall: 1,
            malformed: 1,
            applied_lost: 1,
        }
    }

    /// Only `kind`, with weight 1.
    pub fn only(kind: FaultKind) -> Self {
        let mut weights = Self::default();
        *weights.slot(kind) = 1;
        weights
    }

    /// The weight of one kind.
    pub fn weight(&self, kind: FaultKind) -> u32 {
        match kind {
            FaultKind::Throttle => self.throttle,
            FaultKind::ServerError => self.server_error,
            FaultKind::Reset => self.reset,
            FaultKind::Stall => self.stall,
            FaultKind::Malformed => self.malformed,
            FaultKind::AppliedLost => self.applied_lost,
        }
    }

    /// The sum of all weights.
    pub fn total(&self) -> u64 {
        FaultKind::ALL
            .iter()
            .map(|kind| u64::from(self.weight(*kind)))
            .sum()
    }

    fn slot(&mut self, kind: FaultKind) -> &mut u32 {
        match kind {
            FaultKind::Throttle => &mut self.throttle,
            FaultKind::ServerError => &mut self.server_error,
            FaultKind::Reset => &mut self.reset,
            FaultKind::Stall => &mut self.stall,
            FaultKind::Malformed => &mut self.malformed,
            FaultKind::AppliedLost => &mut self.applied_lost,
        }
    }
}

/// Deterministic fault injection into broker requests, for testing a client's retry layer.
///
/// JSON (the state's top-level `faults`, `GET`/`PUT /_emulator/faults`, binary `--faults
/// FILE`); every field is optional, unknown fields are refused:
///
/// ```json
/// {"seed": 42, "rate": 0.2,
///  "kinds": {"throttle": 1, "serverError": 1, "reset": 1, "stall": 1, "malformed": 1, "appliedLost": 1},
///  "retryAfterSeconds": 1, "stallMs": 3000, "serverErrorStatuses": [500, 502, 503, 504],
///  "routes": ["logoffUser", "disconnectUser", "sendMessageUser", "listSessions"]}
/// ```
///
/// A request is a *candidate* when its route is listed in `routes` and it would otherwise be
/// processed: authorized, every lookup successful, every parameter valid (a request answered
/// 400, 401, 403, 404, 405 or 409 never gets a fault); admin and identity endpoints never are.
/// Candidates are numbered from 0 since the configuration was set or the counters were reset
/// (`DELETE /_emulator/activity`, `PUT /_emulator/state`); whether candidate `n` gets a fault
/// and which is a pure function of `seed` and `n` ([`FaultSampler::fault_at`]). What each
/// kind does is documented on [`FaultKind`].
///
/// `FaultConfig::default()` injects nothing (`rate` 0).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the fault sequence; `None` picks a random one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Probability in `[0, 1]` that a candidate request gets a fault. Default 0.
    #[serde(deserialize_with = "deserialize_rate")]
    pub rate: f64,
    /// Relative weights of the fault kinds. Default: all 1.
    pub kinds: FaultWeights,
    /// `Retry-After` of a `throttle` fault, in seconds. Default 1.
    pub retry_after_seconds: u64,
    /// How long a `stall` fault delays the response, in milliseconds. Default 3000.
    pub stall_ms: u64,
    /// The statuses a `serverError` fault picks from (uniformly, deterministically); each
    /// 500-599, at least one. Default 500, 502, 503, 504.
    #[serde(deserialize_with = "deserialize_statuses")]
    pub server_error_statuses: Vec<u16>,
    /// The routes faults are injected into. Default: all four broker routes.
    pub routes: Vec<FaultRoute>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            seed: None,
            rate: 0.0,
            kinds: FaultWeights::uniform(),
            retry_after_seconds: DEFAULT_RETRY_AFTER_SECONDS,
            stall_ms: DEFAULT_STALL_MS,
            server_error_statuses: DEFAULT_SERVER_ERROR_STATUSES.to_vec(),
            routes: FaultRoute::ALL.to_vec(),
        }
    }
}

impl FaultConfig {
    /// Every candidate request of every route gets a fault of `kind` (rate 1, seed 0).
    pub fn always(kind: FaultKind) -> Self {
        Self {
            seed: Some(0),
            rate: 1.0,
            kinds: FaultWeights::only(kind),
            ..Self::default()
        }
    }

    /// The same configuration, limited to `routes`.
    pub fn on_routes(mut self, routes: &[FaultRoute]) -> Self {
        self.routes = routes.to_vec();
        self
    }

    /// Whether requests to `route` are candidates.
    pub fn covers(&self, route: FaultRoute) -> bool {
        self.routes.contains(&route)
    }

    /// Checks what the JSON form enforces, for configurations built in code: `rate` in
    /// `[0, 1]`, every server error status 500-599 and at least one. An unchecked
    /// configuration still works: a rate above 1 acts like 1, below 0 or NaN like 0, an
    /// empty status list like `[503]` and a status that is no valid HTTP status like 503.
    pub fn validate(&self) -> Result<(), String> {
        check_rate(self.rate)?;
        check_statuses(&self.server_error_statuses)
    }
}

// `rate` is compared by its bits, so equality is reflexive (a NaN rate equals itself) and
// `Eq` is honest; a `Seed` holding a `FaultConfig` stays `Eq`.
impl PartialEq for FaultConfig {
    fn eq(&self, other: &Self) -> bool {
        self.seed == other.seed
            && self.rate.to_bits() == other.rate.to_bits()
            && self.kinds == other.kinds
            && self.retry_after_seconds == other.retry_after_seconds
            && self.stall_ms == other.stall_ms
            && self.server_error_statuses == other.server_error_statuses
            && self.routes == other.routes
    }
}

impl Eq for FaultConfig {}

fn check_rate(rate: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(format!("rate must be between 0 and 1, got {rate}"))
    }
}

fn check_statuses(statuses: &[u16]) -> Result<(), String> {
    if statuses.is_empty() {
        return Err("serverErrorStatuses must name at least one status".to_owned());
    }
    match statuses.iter().find(|s| !(500..=599).contains(*s)) {
        Some(status) => Err(format!("serverErrorStatuses must be 500-599, got {status}")),
        None => Ok(()),
    }
}

fn deserialize_rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let rate = f64::deserialize(deserializer)?;
    check_rate(rate).map_err(serde::de::Error::custom)?;
    Ok(rate)
}

fn deserialize_statuses<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u16>, D::Error> {
    let statuses = Vec::<u16>::deserialize(deserializer)?;
    check_statuses(&statuses).map_err(serde::de::Error::custom)?;
    Ok(statuses)
}

/// The fault sequence of one [`FaultConfig`]: candidate `n` uses outputs `3n`, `3n + 1` and
/// `3n + 2` of the SplitMix64 stream started at the seed (whether it gets a fault, which kind,
/// which server error status), so it depends on nothing but the seed and `n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultSampler {
    config: FaultConfig,
    seed: u64,
}

impl FaultSampler {
    /// The sequence of `config` (from its seed, or a random one when it has none).
    pub fn new(config: FaultConfig) -> Self {
        let seed = config.seed.unwrap_or_else(rand::random);
        Self { config, seed }
    }

    /// The configuration this sampler follows.
    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// The seed in use (the configured one or the random pick).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The fault candidate number `index` (0-based) gets, if any.
    pub fn fault_at(&self, index: u64) -> Option<FaultKind> {
        // 53 random bits as a uniform number in [0, 1).
        let unit = (self.draw(index, 0) >> 11) as f64 / (1u64 << 53) as f64;
        // Written so that a NaN rate (possible only in code) injects nothing.
        let hit = unit < self.config.rate;
        if !hit {
            return None;
        }
        let total = self.config.kinds.total();
        if total == 0 {
            return None;
        }
        // Modulo bias is at most total / 2^64: irrelevant here.
        let mut pick = self.draw(index, 1) % total;
        for kind in FaultKind::ALL {
            let weight = u64::from(self.config.kinds.weight(kind));
            if pick < weight {
                return Some(kind);
            }
            pick -= weight;
        }
        None
    }

    /// The status a `serverError` fault at candidate `index` answers with.
    pub fn server_error_status_at(&self, index: u64) -> u16 {
        let statuses = &self.config.server_error_statuses;
        if statuses.is_empty() {
            return 503;
        }
        let len = statuses.len() as u64;
        // The remainder is below `len`, which came from a `usize`.
        statuses[usize::try_from(self.draw(index, 2) % len).unwrap_or_default()]
    }

    /// Output `3 * index + k` of SplitMix64 (Steele, Lea, Flood 2014) seeded with `seed`.
    fn draw(&self, index: u64, k: u64) -> u64 {
        const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        let position = index.wrapping_mul(3).wrapping_add(k).wrapping_add(1);
        let mut z = self.seed.wrapping_add(position.wrapping_mul(GAMMA));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// How many faults of each kind were injected.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultCounts {
    pub throttle: u64,
    pub server_error: u64,
    pub reset: u64,
    pub stall: u64,
    pub malformed: u64,
    pub applied_lost: u64,
}

impl FaultCounts {
    /// The count of one kind.
    pub fn get(&self, kind: FaultKind) -> u64 {
        match kind {
            FaultKind::Throttle => self.throttle,
            FaultKind::ServerError => self.server_error,
            FaultKind::Reset => self.reset,
            FaultKind::Stall => self.stall,
            FaultKind::Malformed => self.malformed,
            FaultKind::AppliedLost => self.applied_lost,
        }
    }

    /// All faults injected.
    pub fn total(&self) -> u64 {
        FaultKind::ALL.iter().map(|kind| self.get(*kind)).sum()
    }

    fn bump(&mut self, kind: FaultKind) {
        let slot = match kind {
            FaultKind::Throttle => &mut self.throttle,
            FaultKind::ServerError => &mut self.server_error,
            FaultKind::Reset => &mut self.reset,
            FaultKind::Stall => &mut self.stall,
            FaultKind::Malformed => &mut self.malformed,
            FaultKind::AppliedLost => &mut self.applied_lost,
        };
        *slot += 1;
    }
}

/// The fault counters (the body of `GET /_emulator/faults/stats`):
/// `{"requests": n, "faults": {"throttle": n, "serverError": n, "reset": n, "stall": n,
/// "malformed": n, "appliedLost": n}}`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultStats {
    /// Candidate requests (listed route, would otherwise have been processed) since the last
    /// reset, with or without a fault.
    pub requests: u64,
    /// Faults injected since the last reset, per kind.
    pub faults: FaultCounts,
}

/// A fault chosen for one request, with what its response needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub kind: FaultKind,
    /// `serverError`: the status to answer with.
    pub server_status: u16,
    /// `throttle`: the `Retry-After` value.
    pub retry_after_seconds: u64,
    /// `stall`: how long to hold the response.
    pub stall: Duration,
}

impl Fault {
    /// Whether the fault stops the request's action from being applied.
    pub(crate) fn blocks_action(self) -> bool {
        !self.kind.applies_action()
    }
}

/// The fault sequence position and the counters, kept in the emulator's state.
#[derive(Debug, Default)]
pub(crate) struct FaultRuntime {
    /// Rebuilt whenever the configuration changes.
    sampler: Option<FaultSampler>,
    /// The number of the next candidate.
    next: u64,
    stats: FaultStats,
}

impl FaultRuntime {
    /// Draws the fault of the next candidate request. Call only for a request that is a
    /// candidate: `config` covers its route and it would otherwise be processed.
    pub(crate) fn next_fault(&mut self, config: &FaultConfig) -> Option<Fault> {
        if self.sampler.as_ref().map(FaultSampler::config) != Some(config) {
            self.sampler = Some(FaultSampler::new(config.clone()));
            self.next = 0;
        }
        let sampler = self.sampler.as_ref()?;
        let index = self.next;
        self.next += 1;
        self.stats.requests += 1;
        let kind = sampler.fault_at(index)?;
        self.stats.faults.bump(kind);
        Some(Fault {
            kind,
            server_status: sampler.server_error_status_at(index),
            retry_after_seconds: config.retry_after_seconds,
            stall: Duration::from_millis(config.stall_ms),
        })
    }

    pub(crate) fn stats(&self) -> FaultStats {
        self.stats
    }

    /// Zeroes the counters and restarts the sequence at candidate 0 (a configuration without
    /// a seed picks a new random one).
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64, rate: f64) -> FaultConfig {
        FaultConfig {
            seed: Some(seed),
            rate,
            ..FaultConfig::default()
        }
    }

    fn sequence(sampler: &FaultSampler, n: u64) -> Vec<Option<FaultKind>> {
        (0..n).map(|i| sampler.fault_at(i)).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let a = FaultSampler::new(config(42, 0.3));
        let b = FaultSampler::new(config(42, 0.3));
        assert_eq!(sequence(&a, 500), sequence(&b, 500));
        let c = FaultSampler::new(config(43, 0.3));
        assert_ne!(sequence(&a, 500), sequence(&c, 500));
        let statuses: Vec<u16> = (0..50).map(|i| a.server_error_status_at(i)).collect();
        let again: Vec<u16> = (0..50).map(|i| b.server_error_status_at(i)).collect();
        assert_eq!(statuses, again);
        for status in DEFAULT_SERVER_ERROR_STATUSES {
            assert!(statuses.contains(&status), "{status} in {statuses:?}");
        }
    }

    #[test]
    fn the_runtime_follows_the_sampler_and_restarts() {
        let config = config(7, 0.5);
        let sampler = FaultSampler::new(config.clone());
        let mut runtime = FaultRuntime::default();
        let drawn: Vec<Option<FaultKind>> = (0..100)
            .map(|_| runtime.next_fault(&config).map(|f| f.kind))
            .collect();
        assert_eq!(drawn, sequence(&sampler, 100));
        let stats = runtime.stats();
        assert_eq!(stats.requests, 100);
        assert_eq!(
            stats.faults.total(),
            drawn.iter().filter(|d| d.is_some()).count() as u64
        );
        runtime.reset();
        assert_eq!(runtime.stats(), FaultStats::default());
        assert_eq!(runtime.next_fault(&config).map(|f| f.kind), drawn[0]);
    }

    #[test]
    fn the_rate_and_the_weights_are_honoured() {
        let sampler = FaultSampler::new(config(1, 0.2));
        let faults = sequence(&sampler, 20_000);
        let count = faults.iter().filter(|f| f.is_some()).count();
        assert!((3_600..=4_400).contains(&count), "{count}");
        for kind in FaultKind::ALL {
            let of_kind = faults.iter().filter(|f| **f == Some(kind)).count();
            assert!((450..=900).contains(&of_kind), "{kind:?}: {of_kind}");
        }
        assert!(
            sequence(&FaultSampler::new(config(1, 0.0)), 1000)
                .iter()
                .all(Option::is_none)
        );
        let always = FaultSampler::new(FaultConfig::always(FaultKind::Stall));
        assert!(
            sequence(&always, 1000)
                .iter()
                .all(|f| *f == Some(FaultKind::Stall))
        );
        let weighted = FaultSampler::new(FaultConfig {
            kinds: FaultWeights {
                throttle: 3,
                reset: 1,
                ..FaultWeights::default()
            },
            ..config(5, 1.0)
        });
        let faults = sequence(&weighted, 4000);
        let throttles = faults
            .iter()
            .filter(|f| **f == Some(FaultKind::Throttle))
            .count();
        let resets = faults
            .iter()
            .filter(|f| **f == Some(FaultKind::Reset))
            .count();
        assert_eq!(throttles + resets, 4000);
        assert!((2_800..=3_200).contains(&throttles), "{throttles}");
        let nothing = FaultSampler::new(FaultConfig {
            kinds: FaultWeights::default(),
            ..config(5, 1.0)
        });
        assert!(sequence(&nothing, 100).iter().all(Option::is_none));
    }

    #[test]
    fn json_shape() {
        let parsed: FaultConfig = serde_json::from_str(
            r#"{"seed": 42, "rate": 0.2,
                "kinds": {"throttle": 1, "serverError": 1, "reset": 1, "stall": 1,
                          "malformed": 1, "appliedLost": 1},
                "retryAfterSeconds": 1, "stallMs": 3000,
                "routes": ["logoffUser", "disconnectUser", "sendMessageUser", "listSessions"]}"#,
        )
        .expect("valid");
        assert_eq!(parsed.seed, Some(42));
        assert_eq!(parsed.kinds, FaultWeights::uniform());
        assert_eq!(parsed.routes[0], FaultRoute::LogoffUser);
        assert_eq!(
            parsed.server_error_statuses,
            DEFAULT_SERVER_ERROR_STATUSES.to_vec()
        );
        // Left-out kinds weigh 0 when `kinds` is given; all weigh 1 when it is not.
        let partial: FaultConfig =
            serde_json::from_str(r#"{"rate": 1, "kinds": {"reset": 2}}"#).expect("valid");
        assert_eq!(
            partial.kinds,
            FaultWeights {
                reset: 2,
                ..FaultWeights::default()
            }
        );
        let minimal: FaultConfig = serde_json::from_str("{}").expect("valid");
        assert_eq!(minimal, FaultConfig::default());
        assert_eq!(
            serde_json::to_value(FaultConfig::always(FaultKind::Throttle)).expect("serializes"),
            serde_json::json!({
                "seed": 0, "rate": 1.0,
                "kinds": {"throttle": 1, "serverError": 0, "reset": 0, "stall": 0,
                          "malformed": 0, "appliedLost": 0},
                "retryAfterSeconds": 1, "stallMs": 3000,
                "serverErrorStatuses": [500, 502, 503, 504],
                "routes": ["listSessions", "logoffUser", "disconnectUser", "sendMessageUser"],
            })
        );
        for bad in [
            r#"{"rate": 1.5}"#,
            r#"{"rate": -0.1}"#,
            r#"{"routes": ["logoff"]}"#,
            r#"{"kinds": {"timeout": 1}}"#,
            r#"{"serverErrorStatuses": [429]}"#,
            r#"{"serverErrorStatuses": []}"#,
            r#"{"stall": 5}"#,
        ] {
            assert!(serde_json::from_str::<FaultConfig>(bad).is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::to_value(FaultStats::default()).expect("serializes"),
            serde_json::json!({"requests": 0, "faults": {"throttle": 0, "serverError": 0,
                "reset": 0, "stall": 0, "malformed": 0, "appliedLost": 0}})
        );
    }

    #[test]
    fn validation_of_configurations_built_in_code() {
        assert!(FaultConfig::default().validate().is_ok());
        assert!(config(1, f64::NAN).validate().is_err());
        assert!(
            FaultConfig {
                server_error_statuses: vec![503, 404],
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );
        // Bitwise comparison keeps equality reflexive.
        let nan = config(1, f64::NAN);
        assert_eq!(nan, nan.clone());
    }
}
