//! Injected broker latency: every broker request waits `fixedMs + uniform[0, jitterMs]`
//! milliseconds before it is handled, so a client's concurrency can be measured.
//!
//! The jitter comes from a small deterministic generator (SplitMix64), so one `seed` always
//! gives the same sequence of delays, independent of any library's version.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Latency injected into every broker request (not into admin or identity endpoints).
///
/// JSON (seed's top-level `latency`, `PUT`/`GET /_emulator/latency`):
/// `{"fixedMs": 25, "jitterMs": 5, "seed": 42}`; every field is optional.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LatencyConfig {
    /// Delay every broker request gets, in milliseconds.
    #[serde(default)]
    pub fixed_ms: u64,
    /// Upper bound of the extra uniformly distributed delay, in milliseconds (inclusive).
    #[serde(default)]
    pub jitter_ms: u64,
    /// Seed of the jitter sequence; `None` picks a random one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl LatencyConfig {
    /// A fixed delay without jitter.
    pub fn fixed(fixed_ms: u64) -> Self {
        Self {
            fixed_ms,
            jitter_ms: 0,
            seed: None,
        }
    }

    /// True when no request is delayed.
    pub fn is_zero(&self) -> bool {
        self.fixed_ms == 0 && self.jitter_ms == 0
    }
}

/// The sequence of delays for one [`LatencyConfig`]: the same seed always yields the same
/// delays, in microsecond resolution, each within `[fixedMs, fixedMs + jitterMs]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatencySampler {
    config: LatencyConfig,
    state: u64,
}

impl LatencySampler {
    /// Starts the sequence of `config` (from its seed, or a random one when it has none).
    pub fn new(config: LatencyConfig) -> Self {
        let state = config.seed.unwrap_or_else(rand::random);
        Self { config, state }
    }

    /// The configuration this sampler follows.
    pub fn config(&self) -> LatencyConfig {
        self.config
    }

    /// The next delay: `fixedMs` plus a uniform draw from `[0, jitterMs]` milliseconds.
    pub fn next_delay(&mut self) -> Duration {
        let fixed = Duration::from_millis(self.config.fixed_ms);
        if self.config.jitter_ms == 0 {
            return fixed;
        }
        let span = self.config.jitter_ms.saturating_mul(1000).saturating_add(1);
        // Modulo bias is at most span / 2^64: irrelevant for delays.
        let jitter_us = self.next_u64() % span;
        fixed + Duration::from_micros(jitter_us)
    }

    /// SplitMix64 (Steele, Lea, Flood 2014).
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The jitter sequence of the latency in force, kept in the emulator's state: it starts over
/// whenever the configuration changes or is set again.
#[derive(Debug, Default)]
pub(crate) struct LatencyRuntime {
    sampler: Option<LatencySampler>,
}

impl LatencyRuntime {
    /// The next injected delay under `config`; `None` when there is no (or a zero) latency.
    pub(crate) fn next_delay(&mut self, config: Option<LatencyConfig>) -> Option<Duration> {
        let config = config.filter(|c| !c.is_zero())?;
        if self.sampler.as_ref().map(LatencySampler::config) != Some(config) {
            self.sampler = Some(LatencySampler::new(config));
        }
        self.sampler.as_mut().map(LatencySampler::next_delay)
    }

    /// Restarts the sequence from the configuration's seed.
    pub(crate) fn reset(&mut self) {
        self.sampler = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(fixed_ms: u64, jitter_ms: u64, seed: u64) -> LatencyConfig {
        LatencyConfig {
            fixed_ms,
            jitter_ms,
            seed: Some(seed),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let mut a = LatencySampler::new(config(25, 5, 42));
        let mut b = LatencySampler::new(config(25, 5, 42));
        let first: Vec<Duration> = (0..100).map(|_| a.next_delay()).collect();
        let second: Vec<Duration> = (0..100).map(|_| b.next_delay()).collect();
        assert_eq!(first, second);
        let mut c = LatencySampler::new(config(25, 5, 43));
        let third: Vec<Duration> = (0..100).map(|_| c.next_delay()).collect();
        assert_ne!(first, third);
    }

    #[test]
    fn delays_stay_in_range_and_vary() {
        let mut sampler = LatencySampler::new(config(25, 5, 7));
        let delays: Vec<Duration> = (0..1000).map(|_| sampler.next_delay()).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_millis(25) && *d <= Duration::from_millis(30))
        );
        let min = delays.iter().min().copied().unwrap_or_default();
        let max = delays.iter().max().copied().unwrap_or_default();
        assert!(min < Duration::from_millis(26), "{min:?}");
        assert!(max > Duration::from_millis(29), "{max:?}");
    }

    #[test]
    fn without_jitter_the_delay_is_fixed() {
        let mut sampler = LatencySampler::new(LatencyConfig::fixed(30));
        assert!((0..10).all(|_| sampler.next_delay() == Duration::from_millis(30)));
        assert!(LatencyConfig::default().is_zero());
    }

    #[test]
    fn json_shape() {
        let parsed: LatencyConfig =
            serde_json::from_str(r#"{"fixedMs":25,"jitterMs":5,"seed":42}"#).expect("valid");
        assert_eq!(parsed, config(25, 5, 42));
        let partial: LatencyConfig = serde_json::from_str(r#"{"fixedMs":3}"#).expect("valid");
        assert_eq!(partial, LatencyConfig::fixed(3));
        assert_eq!(
            serde_json::to_string(&partial).expect("serializes"),
            r#"{"fixedMs":3,"jitterMs":0}"#
        );
        assert!(serde_json::from_str::<LatencyConfig>(r#"{"fixed":3}"#).is_err());
    }
}
