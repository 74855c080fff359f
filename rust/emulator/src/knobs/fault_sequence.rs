//! Which candidate request gets which fault: the deterministic sequence of a
//! [`FaultConfig`], the counters of what was injected, and the run-time state kept in the
//! emulator's state.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::faults::{FaultConfig, FaultKind, one_field_per_kind};

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
        self.value(kind)
    }

    /// All faults injected.
    pub fn total(&self) -> u64 {
        FaultKind::ALL.iter().map(|kind| self.get(*kind)).sum()
    }
}

one_field_per_kind!(FaultCounts, u64);

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
        *self.stats.faults.slot(kind) += 1;
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
    use crate::knobs::faults::{DEFAULT_SERVER_ERROR_STATUSES, FaultWeights};

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
    fn stats_json_shape() {
        assert_eq!(
            serde_json::to_value(FaultStats::default()).expect("serializes"),
            serde_json::json!({"requests": 0, "faults": {"throttle": 0, "serverError": 0,
                "reset": 0, "stall": 0, "malformed": 0, "appliedLost": 0}})
        );
    }
}
