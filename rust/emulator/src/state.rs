//! The emulator's shared, mutable state: the data, the request log and the run-time records of
//! the knobs and the identity, behind one lock.
//!
//! Everything a request may read or change lives in one [`Inner`] behind one mutex, so every
//! broker operation is atomic with respect to the others and to `PUT /_emulator/state`. Later
//! additions (more routes, more injected behaviour) belong in [`Inner`] as new fields; the
//! handlers already receive `&mut Inner`. The fault decision of a request is drawn under the
//! same lock as its action, so "applied" and "fault drawn" can never disagree. The one
//! exception is the in-flight counter ([`InFlight`]): it is lock-free because it is touched
//! around the injected latency, which never holds the lock.
//!
//! This file is a leaf of the crate's behaviour: it holds plain data and the rules of the
//! request log, and depends only on plain data types (the model, the request record, the
//! configurations and the run-time records of the knobs and the identity); no routes, no
//! broker or identity logic, no admin features. `tests/module_graph.rs` keeps it that way.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::broker::arm_config::ArmConfig;
use crate::identity::config::IdentityConfig;
use crate::identity::device::DeviceCodes;
use crate::identity::jwt::IssuedToken;
use crate::knobs::activity::{ActivityLog, InFlight};
use crate::knobs::fault_sequence::{Fault, FaultRuntime};
use crate::knobs::faults::FaultRoute;
use crate::knobs::latency::LatencyRuntime;
use crate::knobs::rate_limits::RateLimiter;
use crate::model::Seed;
use crate::record::RequestRecord;

/// How many request records a slow [`crate::EmulatorHandle::subscribe_requests`] subscriber may
/// fall behind before it starts missing some.
const EVENT_CAPACITY: usize = 1024;

/// The default most records the request log keeps (the oldest are dropped beyond it).
pub const DEFAULT_REQUEST_LOG_CAPACITY: usize = 100_000;

/// Run-time settings of the emulator that are not broker data (`GET`/`PUT /_emulator/settings`).
///
/// JSON: `{"requestLog": true, "requestLogCapacity": 100000}`. A `PUT` may name only some
/// fields; the others keep their values.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct EmulatorSettings {
    /// Whether broker and identity requests are kept in the request log (`GET
    /// /_emulator/requests`). Off, they are still counted in the activity record and sent to
    /// [`crate::EmulatorHandle::subscribe_requests`] subscribers. Default true.
    pub request_log: bool,
    /// The most records the request log keeps; beyond it the oldest are dropped. Default
    /// [`DEFAULT_REQUEST_LOG_CAPACITY`].
    pub request_log_capacity: usize,
}

impl Default for EmulatorSettings {
    fn default() -> Self {
        Self {
            request_log: true,
            request_log_capacity: DEFAULT_REQUEST_LOG_CAPACITY,
        }
    }
}

/// The mutable part of the emulator. Only ever touched with the lock held.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// The emulated broker's data.
    pub(crate) seed: Seed,
    /// The latest broker requests (up to `settings.request_log_capacity`), oldest first.
    log: VecDeque<RequestRecord>,
    /// Device codes handed out by the device code endpoint.
    pub(crate) device_codes: DeviceCodes,
    /// Every access token issued so far, oldest first.
    pub(crate) issued: Vec<IssuedToken>,
    /// Successful session actions and per-session call counts.
    pub(crate) activity: ActivityLog,
    /// Request log switch and capacity.
    settings: EmulatorSettings,
    /// The jitter sequence of `seed.latency`.
    pub(crate) latency: LatencyRuntime,
    /// The fault sequence of `seed.faults` and its counters.
    pub(crate) faults: FaultRuntime,
    /// ARM's token buckets (configured by `seed.arm.rateLimits`).
    pub(crate) rate_limiter: RateLimiter,
}

impl Inner {
    /// The identity configuration in force (the default one when the seed has none).
    pub(crate) fn identity(&self) -> IdentityConfig {
        self.seed.identity.clone().unwrap_or_default()
    }

    /// The ARM settings in force (the default ones when the seed has none).
    pub(crate) fn arm(&self) -> ArmConfig {
        self.seed.arm.clone().unwrap_or_default()
    }

    /// The ARM settings, created with their defaults when the seed has none, to change them.
    pub(crate) fn arm_mut(&mut self) -> &mut ArmConfig {
        self.seed.arm.get_or_insert_with(ArmConfig::default)
    }

    /// Draws the fault of a request to `route` once it is known to be valid: `check` runs the
    /// request's lookups and parameter checks (only when the route is covered, so requests
    /// without fault injection do no extra work) and its error is returned as is. `None` when
    /// the route is not covered or the request gets no fault.
    pub(crate) fn draw_fault<E>(
        &mut self,
        route: FaultRoute,
        check: impl FnOnce(&mut Seed) -> Result<(), E>,
    ) -> Result<Option<Fault>, E> {
        if !self.seed.faults.as_ref().is_some_and(|c| c.covers(route)) {
            return Ok(None);
        }
        check(&mut self.seed)?;
        let config = self.seed.faults.as_ref().filter(|c| c.covers(route));
        Ok(config.and_then(|config| self.faults.next_fault(config)))
    }

    /// The broker and identity requests kept in the log, oldest first.
    pub(crate) fn requests(&self) -> Vec<RequestRecord> {
        self.log.iter().cloned().collect()
    }

    /// Empties the request log.
    pub(crate) fn clear_requests(&mut self) {
        self.log.clear();
    }

    pub(crate) fn settings(&self) -> EmulatorSettings {
        self.settings
    }

    /// Replaces the settings; a smaller capacity drops the oldest records at once.
    pub(crate) fn set_settings(&mut self, settings: EmulatorSettings) {
        self.settings = settings;
        while self.log.len() > settings.request_log_capacity {
            self.log.pop_front();
        }
    }

    /// Appends a record to the log when it is on, dropping the oldest beyond its capacity.
    fn keep(&mut self, record: &RequestRecord) {
        let capacity = self.settings.request_log_capacity;
        if self.settings.request_log && capacity > 0 {
            if self.log.len() >= capacity {
                self.log.pop_front();
            }
            self.log.push_back(record.clone());
        }
    }
}

/// A cheap, clonable handle on the emulator's state, shared by the server task and the admin
/// side ([`crate::EmulatorHandle`]).
#[derive(Clone, Debug)]
pub(crate) struct SharedState {
    inner: Arc<Mutex<Inner>>,
    /// Live feed of request records (used by the binary for its stderr log).
    events: broadcast::Sender<RequestRecord>,
    /// Broker requests in flight (lock-free: counted around the injected latency).
    in_flight: Arc<InFlight>,
}

impl SharedState {
    pub(crate) fn new(seed: Seed) -> Self {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Self {
            inner: Arc::new(Mutex::new(Inner {
                seed,
                ..Inner::default()
            })),
            events,
            in_flight: Arc::new(InFlight::default()),
        }
    }

    /// Runs `f` with exclusive access to the state. Keep `f` short and never await inside it.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock())
    }

    /// The counters of broker requests in flight.
    pub(crate) fn in_flight(&self) -> &Arc<InFlight> {
        &self.in_flight
    }

    /// Keeps a record in the log (when it is on; dropping the oldest beyond its capacity) and
    /// publishes it to subscribers.
    pub(crate) fn record(&self, record: RequestRecord) {
        self.with(|inner| inner.keep(&record));
        // An error only means nobody is subscribed, which is the normal case in tests.
        let _ = self.events.send(record);
    }

    /// A live feed of the records passed to [`Self::record`] from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<RequestRecord> {
        self.events.subscribe()
    }
}
