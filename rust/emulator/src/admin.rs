//! Every admin feature of the emulator, written once in [`Admin`]: the in-process
//! [`crate::EmulatorHandle`] and the HTTP admin routes (`/_emulator/*`, in `http::admin`) are
//! thin calls into it.

use std::time::Instant;

use serde::Deserialize;
use tokio::sync::broadcast;

use crate::broker::arm;
use crate::broker::arm_config::{ArmConfig, ArmHostPool, ResourceLock, RoleAssignment};
use crate::identity::directory::Directory;
use crate::identity::jwt::IssuedToken;
use crate::knobs::activity::{Activity, ActivityLog};
use crate::knobs::fault_sequence::FaultStats;
use crate::knobs::faults::FaultConfig;
use crate::knobs::generate::{GenerateError, GenerateSpec, GeneratedPool};
use crate::knobs::latency::LatencyConfig;
use crate::knobs::rate_limits::RateLimitConfig;
use crate::model::Seed;
use crate::record::RequestRecord;
use crate::state::{EmulatorSettings, SharedState};

/// The admin side of the emulator's state: read and replace the data, read and clear the
/// request log and the activity record, set the knobs, decide device codes.
#[derive(Clone, Debug)]
pub(crate) struct Admin {
    state: SharedState,
}

/// A partial update of [`EmulatorSettings`] (the body of `PUT /_emulator/settings`).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SettingsUpdate {
    request_log: Option<bool>,
    request_log_capacity: Option<usize>,
}

/// A partial update of [`ArmConfig`] (the body of `PUT /_emulator/arm`): a field that is named
/// replaces the one in force, the others stay.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ArmUpdate {
    api_versions: Option<serde_json::Value>,
    page_size: Option<serde_json::Value>,
    missing_session_on_delete: Option<serde_json::Value>,
    rate_limits: Option<RateLimitConfig>,
    role_assignments: Option<Vec<RoleAssignment>>,
    locks: Option<Vec<ResourceLock>>,
}

impl Admin {
    pub(crate) fn new(state: SharedState) -> Self {
        Self { state }
    }

    /// A snapshot of the current data.
    pub(crate) fn state(&self) -> Seed {
        self.state.with(|inner| inner.seed.clone())
    }

    /// Replaces the data and clears the request log, the activity record, the fault counters,
    /// the issued-token list and pending device codes, so a test starts from a clean slate.
    /// Tokens already issued stay valid; the settings stay as they are.
    pub(crate) fn set_state(&self, seed: Seed) {
        self.state.with(|inner| {
            inner.seed = seed;
            inner.clear_requests();
            inner.issued.clear();
            inner.device_codes.clear();
            inner.activity = ActivityLog::default();
            inner.latency.reset();
            inner.faults.reset();
            inner.rate_limiter.reset();
        });
        self.state.in_flight().reset();
    }

    /// The ARM settings in force (the defaults when the state has none).
    pub(crate) fn arm(&self) -> ArmConfig {
        self.state.with(|inner| inner.arm())
    }

    /// Where every host pool is under ARM.
    pub(crate) fn arm_host_pools(&self) -> Vec<ArmHostPool> {
        self.state.with(|inner| arm::mapping(&inner.seed))
    }

    /// Replaces the ARM settings; the rate-limit buckets are refilled.
    pub(crate) fn set_arm(&self, config: ArmConfig) {
        self.state.with(|inner| {
            inner.seed.arm = Some(config);
            inner.rate_limiter.reset();
        });
    }

    /// Changes the ARM settings `update` names (checked as a seed's `arm` section would be) and
    /// answers all of them; the buckets are refilled when the rate limits change.
    pub(crate) fn update_arm(&self, update: ArmUpdate) -> Result<ArmConfig, String> {
        self.state.with(|inner| {
            let mut current =
                serde_json::to_value(inner.arm()).map_err(|error| error.to_string())?;
            let fields = [
                ("apiVersions", update.api_versions),
                ("pageSize", update.page_size),
                ("missingSessionOnDelete", update.missing_session_on_delete),
            ];
            for (name, value) in fields {
                if let Some(value) = value {
                    current[name] = value;
                }
            }
            let mut config: ArmConfig =
                serde_json::from_value(current).map_err(|error| error.to_string())?;
            if let Some(limits) = update.rate_limits {
                config.rate_limits = limits;
                inner.rate_limiter.reset();
            }
            if let Some(assignments) = update.role_assignments {
                config.role_assignments = assignments;
            }
            if let Some(locks) = update.locks {
                config.locks = locks;
            }
            inner.seed.arm = Some(config.clone());
            Ok(config)
        })
    }

    /// Changes the ARM settings with `change`, answering what `change` answers.
    fn change_arm<R>(&self, change: impl FnOnce(&mut ArmConfig) -> R) -> R {
        self.state.with(|inner| change(inner.arm_mut()))
    }

    /// Sets (`None`: the defaults) ARM's rate limits; the buckets are refilled.
    pub(crate) fn set_rate_limits(&self, limits: Option<RateLimitConfig>) -> RateLimitConfig {
        self.state.with(|inner| {
            let limits = limits.unwrap_or_default();
            inner.arm_mut().rate_limits = limits;
            inner.rate_limiter.reset();
            limits
        })
    }

    /// Refills every rate-limit bucket.
    pub(crate) fn reset_rate_limits(&self) {
        self.state.with(|inner| inner.rate_limiter.reset());
    }

    /// Replaces the role assignments (none: everything is allowed); answers them.
    pub(crate) fn set_role_assignments(
        &self,
        assignments: Vec<RoleAssignment>,
    ) -> Vec<RoleAssignment> {
        self.change_arm(|arm| {
            arm.role_assignments = assignments;
            arm.role_assignments.clone()
        })
    }

    /// Adds a role assignment; answers all of them.
    pub(crate) fn add_role_assignment(&self, assignment: RoleAssignment) -> Vec<RoleAssignment> {
        self.change_arm(|arm| {
            arm.role_assignments.push(assignment);
            arm.role_assignments.clone()
        })
    }

    /// Replaces the resource locks; answers them.
    pub(crate) fn set_locks(&self, locks: Vec<ResourceLock>) -> Vec<ResourceLock> {
        self.change_arm(|arm| {
            arm.locks = locks;
            arm.locks.clone()
        })
    }

    /// Adds a resource lock; answers all of them.
    pub(crate) fn add_lock(&self, lock: ResourceLock) -> Vec<ResourceLock> {
        self.change_arm(|arm| {
            arm.locks.push(lock);
            arm.locks.clone()
        })
    }

    /// The broker and identity requests kept in the log, oldest first.
    pub(crate) fn requests(&self) -> Vec<RequestRecord> {
        self.state.with(|inner| inner.requests())
    }

    /// Empties the request log without touching the data.
    pub(crate) fn clear_requests(&self) {
        self.state.with(|inner| inner.clear_requests());
    }

    /// The activity record with the current in-flight figures.
    pub(crate) fn activity(&self) -> Activity {
        let mut activity = self.state.with(|inner| inner.activity.snapshot());
        let in_flight = self.state.in_flight();
        activity.in_flight = in_flight.current();
        activity.max_in_flight = in_flight.max();
        activity.broker_requests = in_flight.total();
        activity
    }

    /// Clears the activity record and restarts the in-flight peak and request count; also
    /// zeroes the fault counters and restarts the fault sequence.
    pub(crate) fn clear_activity(&self) {
        self.state.with(|inner| {
            inner.activity = ActivityLog::default();
            inner.faults.reset();
        });
        self.state.in_flight().reset();
    }

    /// Restarts the in-flight peak at the current level.
    pub(crate) fn reset_max_in_flight(&self) {
        self.state.in_flight().reset_max();
    }

    /// The injected latency in force, if any.
    pub(crate) fn latency(&self) -> Option<LatencyConfig> {
        self.state.with(|inner| inner.seed.latency)
    }

    /// Sets (`None`: removes) the injected latency; the jitter sequence restarts.
    pub(crate) fn set_latency(&self, latency: Option<LatencyConfig>) {
        self.state.with(|inner| {
            inner.seed.latency = latency;
            inner.latency.reset();
        });
    }

    /// The fault injection in force, if any.
    pub(crate) fn faults(&self) -> Option<FaultConfig> {
        self.state.with(|inner| inner.seed.faults.clone())
    }

    /// Sets (`None`: removes) the fault injection; the counters are zeroed and the sequence
    /// restarts.
    pub(crate) fn set_faults(&self, faults: Option<FaultConfig>) {
        self.state.with(|inner| {
            inner.seed.faults = faults;
            inner.faults.reset();
        });
    }

    /// The fault counters.
    pub(crate) fn fault_stats(&self) -> FaultStats {
        self.state.with(|inner| inner.faults.stats())
    }

    /// Adds or replaces a generated host pool (built before the lock is taken).
    pub(crate) fn generate(&self, spec: &GenerateSpec) -> Result<GeneratedPool, GenerateError> {
        let pool = spec.host_pool()?;
        self.state.with(|inner| spec.insert(&mut inner.seed, pool))
    }

    /// The request log switch and capacity.
    pub(crate) fn settings(&self) -> EmulatorSettings {
        self.state.with(|inner| inner.settings())
    }

    /// Replaces the settings; a smaller capacity drops the oldest records at once.
    pub(crate) fn set_settings(&self, settings: EmulatorSettings) {
        self.state.with(|inner| inner.set_settings(settings));
    }

    /// Changes the settings `update` names and answers all of them.
    pub(crate) fn update_settings(&self, update: SettingsUpdate) -> EmulatorSettings {
        self.state.with(|inner| {
            let mut settings = inner.settings();
            if let Some(on) = update.request_log {
                settings.request_log = on;
            }
            if let Some(capacity) = update.request_log_capacity {
                settings.request_log_capacity = capacity;
            }
            inner.set_settings(settings);
            settings
        })
    }

    /// Every access token issued so far (metadata only), oldest first.
    pub(crate) fn tokens_issued(&self) -> Vec<IssuedToken> {
        self.state.with(|inner| inner.issued.clone())
    }

    /// Approves a pending device code for a configured user (matched case-insensitively).
    /// False when the code is unknown, expired or decided, or the user unknown.
    pub(crate) fn approve_device_code(&self, user_code: &str, username: &str) -> bool {
        self.state.with(|inner| {
            let directory = Directory(inner.identity());
            let Some(user) = directory.user(username) else {
                return false;
            };
            inner
                .device_codes
                .approve(user_code, &user.username, Instant::now())
        })
    }

    /// Denies a pending device code. False when the code is unknown, expired or decided.
    pub(crate) fn deny_device_code(&self, user_code: &str) -> bool {
        self.state
            .with(|inner| inner.device_codes.deny(user_code, Instant::now()))
    }

    /// A live feed of request records, each sent once its response status is known.
    pub(crate) fn subscribe_requests(&self) -> broadcast::Receiver<RequestRecord> {
        self.state.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knobs::latency::LatencySampler;

    fn admin(seed: Seed) -> (Admin, SharedState) {
        let state = SharedState::new(seed);
        (Admin::new(state.clone()), state)
    }

    fn record(n: usize) -> RequestRecord {
        RequestRecord::new("GET".into(), format!("/{n}"), None)
    }

    #[test]
    fn replace_clears_the_log() {
        let (admin, state) = admin(Seed::sample());
        state.record(RequestRecord::new("GET".into(), "/x".into(), None));
        assert_eq!(admin.requests().len(), 1);
        admin.set_state(Seed::default());
        assert!(admin.requests().is_empty());
        assert_eq!(admin.state(), Seed::default());
    }

    #[test]
    fn the_log_keeps_the_newest_records_up_to_its_capacity() {
        let (admin, state) = admin(Seed::default());
        assert_eq!(admin.settings(), EmulatorSettings::default());
        admin.set_settings(EmulatorSettings {
            request_log: true,
            request_log_capacity: 3,
        });
        for n in 0..5 {
            state.record(record(n));
        }
        let paths: Vec<String> = admin.requests().into_iter().map(|r| r.raw_path).collect();
        assert_eq!(paths, ["/2", "/3", "/4"]);
        let settings = admin.update_settings(SettingsUpdate {
            request_log_capacity: Some(1),
            ..SettingsUpdate::default()
        });
        assert!(settings.request_log);
        assert_eq!(admin.requests().len(), 1);
        admin.update_settings(SettingsUpdate {
            request_log: Some(false),
            ..SettingsUpdate::default()
        });
        state.record(record(9));
        assert_eq!(admin.requests()[0].raw_path, "/4");
    }

    #[test]
    fn the_latency_sampler_follows_the_configuration() {
        let (admin, state) = admin(Seed::default());
        let next_delay = || state.with(|inner| inner.latency.next_delay(inner.seed.latency));
        assert_eq!(next_delay(), None);
        admin.set_latency(Some(LatencyConfig::fixed(0)));
        assert_eq!(next_delay(), None);
        let config = LatencyConfig {
            fixed_ms: 5,
            jitter_ms: 5,
            seed: Some(1),
        };
        admin.set_latency(Some(config));
        let first: Vec<_> = (0..5).map(|_| next_delay()).collect();
        admin.set_latency(Some(config));
        let again: Vec<_> = (0..5).map(|_| next_delay()).collect();
        assert_eq!(first, again, "setting the latency restarts the sequence");
        let mut sampler = LatencySampler::new(config);
        assert_eq!(first[0], Some(sampler.next_delay()));
    }
}
