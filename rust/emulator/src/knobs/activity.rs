//! What the session actions did, for tests and benchmarks: every successful logoff, disconnect
//! and message (classic or ARM), how often each session was targeted, how many broker requests
//! were handled at the same time, and how many ARM requests of each operation class were made
//! and answered 429.
//!
//! Read with `GET /_emulator/activity` or [`crate::EmulatorHandle::activity`]; reset with
//! `DELETE /_emulator/activity`, `PUT /_emulator/state` or the matching handle methods.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::knobs::rate_limits::OperationClass;
use crate::model::Action;

/// A snapshot of the emulator's activity record (the body of `GET /_emulator/activity`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct Activity {
    /// Every successful logoff, oldest first.
    pub logoffs: Vec<LogoffRecord>,
    /// Every successful disconnect, oldest first.
    pub disconnects: Vec<DisconnectRecord>,
    /// Every message delivered, oldest first.
    pub messages: Vec<MessageRecord>,
    /// Per targeted session (in the order first targeted): how many action requests reached
    /// the handler, whatever their outcome (a logoff of a session already gone, answered 404,
    /// counts too). Requests refused before that (401, unparsable session id) do not count.
    pub calls_per_session: Vec<SessionCalls>,
    /// The most broker requests handled at the same time (from the moment the handler starts,
    /// through any injected latency, until the response is produced) since the last reset.
    pub max_in_flight: usize,
    /// Broker requests being handled right now.
    pub in_flight: usize,
    /// Broker requests handled since the last reset (whether or not the request log is on),
    /// classic and ARM.
    pub broker_requests: u64,
    /// ARM requests per operation class, and how many of them were answered 429. Omitted from
    /// the JSON until an ARM request was made (so a classic-only record reads as before).
    #[serde(skip_serializing_if = "ArmActivity::is_empty")]
    pub arm: ArmActivity,
}

/// Which API a session action came through. In the JSON of a record, `"flavour": "arm"`; a
/// record without `flavour` is a classic one.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub enum ApiFlavour {
    /// The classic broker (`/RdsManagement/V1/...`).
    #[default]
    Classic,
    /// Azure Resource Manager (`/subscriptions/...`).
    Arm,
}

/// ARM request counts: `{"requests": {"reads": n, "deletes": n, "writes": n},
/// "throttled": {"reads": n, "deletes": n, "writes": n}}`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct ArmActivity {
    /// Every ARM request, by the operation class of its method.
    pub requests: ClassCounts,
    /// ARM requests answered 429 (by the rate limits or an injected `throttle`).
    pub throttled: ClassCounts,
}

impl ArmActivity {
    /// True before any ARM request.
    pub fn is_empty(&self) -> bool {
        self.requests.total() == 0 && self.throttled.total() == 0
    }
}

impl ApiFlavour {
    fn is_classic(&self) -> bool {
        *self == Self::Classic
    }
}

/// A count per ARM operation class.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct ClassCounts {
    pub reads: u64,
    pub deletes: u64,
    pub writes: u64,
}

impl ClassCounts {
    /// The count of one class.
    pub fn get(&self, class: OperationClass) -> u64 {
        match class {
            OperationClass::Reads => self.reads,
            OperationClass::Deletes => self.deletes,
            OperationClass::Writes => self.writes,
        }
    }

    /// All classes together.
    pub fn total(&self) -> u64 {
        self.reads + self.deletes + self.writes
    }

    fn add(&mut self, class: OperationClass) {
        match class {
            OperationClass::Reads => self.reads += 1,
            OperationClass::Deletes => self.deletes += 1,
            OperationClass::Writes => self.writes += 1,
        }
    }
}

impl Activity {
    /// The call counts of one session, if it was ever targeted.
    pub fn session_calls(
        &self,
        host_pool: &str,
        session_host: &str,
        session_id: i32,
    ) -> Option<&SessionCalls> {
        self.calls_per_session.iter().find(|c| {
            c.session_id == session_id && c.session_host == session_host && c.host_pool == host_pool
        })
    }
}

/// A successful `logoff-user`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LogoffRecord {
    pub tenant_group: String,
    pub tenant: String,
    pub host_pool: String,
    pub session_host: String,
    pub session_id: i32,
    /// Whether the request carried `force=true`.
    pub forced: bool,
    /// When it happened, RFC 3339 UTC with milliseconds.
    pub at: String,
    /// The API it came through; the names above are the classic ones in both cases (an ARM
    /// logoff is recorded under the classic tenant, pool and host names).
    #[serde(default, skip_serializing_if = "ApiFlavour::is_classic")]
    pub flavour: ApiFlavour,
}

/// A successful `disconnect-user`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DisconnectRecord {
    pub tenant_group: String,
    pub tenant: String,
    pub host_pool: String,
    pub session_host: String,
    pub session_id: i32,
    /// When it happened, RFC 3339 UTC with milliseconds.
    pub at: String,
    /// The API it came through.
    #[serde(default, skip_serializing_if = "ApiFlavour::is_classic")]
    pub flavour: ApiFlavour,
}

/// A successful `send-message-user`, with the decoded title and body.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    pub tenant_group: String,
    pub tenant: String,
    pub host_pool: String,
    pub session_host: String,
    pub session_id: i32,
    pub title: String,
    pub body: String,
    /// When it happened, RFC 3339 UTC with milliseconds.
    pub at: String,
    /// The API it came through.
    #[serde(default, skip_serializing_if = "ApiFlavour::is_classic")]
    pub flavour: ApiFlavour,
}

/// How many requests of each action targeted one session, through either API.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SessionCalls {
    pub tenant_group: String,
    pub tenant: String,
    pub host_pool: String,
    pub session_host: String,
    pub session_id: i32,
    /// `logoff-user` requests.
    pub logoff: u64,
    /// `disconnect-user` requests.
    pub disconnect: u64,
    /// `send-message-user` requests.
    pub message: u64,
}

/// The session an action request named, by its classic names (for an ARM request, the names
/// its ARM coordinates resolved to).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionTarget<'a> {
    pub tenant_group: &'a str,
    pub tenant: &'a str,
    pub host_pool: &'a str,
    pub session_host: &'a str,
    pub session_id: i32,
    pub flavour: ApiFlavour,
}

/// A session action that was carried out, as the activity record keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Done {
    /// A logoff; `forced` when the request carried `force=true`.
    LoggedOff {
        forced: bool,
    },
    Disconnected,
    /// A message delivered, with its decoded title and body.
    Messaged {
        title: String,
        body: String,
    },
}

type SessionKey = (String, String, String, String, i32);

/// The mutable activity record, kept in the emulator's state.
#[derive(Debug, Default)]
pub(crate) struct ActivityLog {
    logoffs: Vec<LogoffRecord>,
    disconnects: Vec<DisconnectRecord>,
    messages: Vec<MessageRecord>,
    calls: Vec<SessionCalls>,
    /// Position of each session in `calls`, so counting is O(1) at any scale.
    index: HashMap<SessionKey, usize>,
    arm: ArmActivity,
}

impl ActivityLog {
    /// Counts one request of `action` that reached the handler for `target`.
    pub(crate) fn count(&mut self, target: SessionTarget<'_>, action: Action) {
        let key: SessionKey = (
            target.tenant_group.to_owned(),
            target.tenant.to_owned(),
            target.host_pool.to_owned(),
            target.session_host.to_owned(),
            target.session_id,
        );
        let position = *self.index.entry(key).or_insert_with(|| {
            self.calls.push(SessionCalls {
                tenant_group: target.tenant_group.to_owned(),
                tenant: target.tenant.to_owned(),
                host_pool: target.host_pool.to_owned(),
                session_host: target.session_host.to_owned(),
                session_id: target.session_id,
                logoff: 0,
                disconnect: 0,
                message: 0,
            });
            self.calls.len() - 1
        });
        let calls = &mut self.calls[position];
        match action {
            Action::Logoff => calls.logoff += 1,
            Action::Disconnect => calls.disconnect += 1,
            Action::Message => calls.message += 1,
        }
    }

    /// Counts one ARM request of `class`, answered with `status`.
    pub(crate) fn count_arm(&mut self, class: OperationClass, status: u16) {
        self.arm.requests.add(class);
        if status == 429 {
            self.arm.throttled.add(class);
        }
    }

    /// Records a session action carried out on `target` at `at`.
    pub(crate) fn record(&mut self, target: SessionTarget<'_>, done: Done, at: String) {
        let flavour = target.flavour;
        let tenant_group = target.tenant_group.to_owned();
        let tenant = target.tenant.to_owned();
        let host_pool = target.host_pool.to_owned();
        let session_host = target.session_host.to_owned();
        let session_id = target.session_id;
        match done {
            Done::LoggedOff { forced } => self.logoffs.push(LogoffRecord {
                tenant_group,
                tenant,
                host_pool,
                session_host,
                session_id,
                forced,
                at,
                flavour,
            }),
            Done::Disconnected => self.disconnects.push(DisconnectRecord {
                tenant_group,
                tenant,
                host_pool,
                session_host,
                session_id,
                at,
                flavour,
            }),
            Done::Messaged { title, body } => self.messages.push(MessageRecord {
                tenant_group,
                tenant,
                host_pool,
                session_host,
                session_id,
                title,
                body,
                at,
                flavour,
            }),
        }
    }

    /// The records, without the in-flight figures (filled in by the caller).
    pub(crate) fn snapshot(&self) -> Activity {
        Activity {
            logoffs: self.logoffs.clone(),
            disconnects: self.disconnects.clone(),
            messages: self.messages.clone(),
            calls_per_session: self.calls.clone(),
            arm: self.arm,
            ..Activity::default()
        }
    }
}

/// Lock-free counters of broker requests in flight.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    current: AtomicUsize,
    max: AtomicUsize,
    total: AtomicU64,
}

impl InFlight {
    /// Marks a broker request as started; the guard marks it finished when dropped (also when
    /// the client goes away and the handler is cancelled).
    pub(crate) fn enter(self: &Arc<Self>) -> InFlightGuard {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        self.total.fetch_add(1, Ordering::SeqCst);
        InFlightGuard {
            counters: Arc::clone(self),
        }
    }

    pub(crate) fn current(&self) -> usize {
        self.current.load(Ordering::SeqCst)
    }

    pub(crate) fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }

    pub(crate) fn total(&self) -> u64 {
        self.total.load(Ordering::SeqCst)
    }

    /// Restarts the peak at the current level and the request count at zero.
    pub(crate) fn reset(&self) {
        self.max.store(self.current(), Ordering::SeqCst);
        self.total.store(0, Ordering::SeqCst);
    }

    /// Restarts only the peak at the current level.
    pub(crate) fn reset_max(&self) {
        self.max.store(self.current(), Ordering::SeqCst);
    }
}

/// Keeps one request counted as in flight.
#[derive(Debug)]
pub(crate) struct InFlightGuard {
    counters: Arc<InFlight>,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.counters.current.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: SessionTarget<'static> = SessionTarget {
        tenant_group: "g",
        tenant: "t",
        host_pool: "p",
        session_host: "h",
        session_id: 7,
        flavour: ApiFlavour::Classic,
    };

    #[test]
    fn counts_per_session_in_first_call_order() {
        let mut log = ActivityLog::default();
        log.count(TARGET, Action::Logoff);
        log.count(
            SessionTarget {
                session_id: 8,
                ..TARGET
            },
            Action::Message,
        );
        log.count(TARGET, Action::Logoff);
        log.count(TARGET, Action::Disconnect);
        let activity = log.snapshot();
        let calls = activity.session_calls("p", "h", 7).expect("counted");
        assert_eq!((calls.logoff, calls.disconnect, calls.message), (2, 1, 0));
        assert_eq!(activity.calls_per_session[1].session_id, 8);
        assert!(activity.session_calls("p", "h", 9).is_none());
    }

    #[test]
    fn in_flight_tracks_the_peak() {
        let counters = Arc::new(InFlight::default());
        let a = counters.enter();
        let b = counters.enter();
        drop(a);
        let c = counters.enter();
        assert_eq!((counters.current(), counters.max()), (2, 2));
        drop(b);
        drop(c);
        assert_eq!(
            (counters.current(), counters.max(), counters.total()),
            (0, 2, 3)
        );
        counters.reset();
        assert_eq!((counters.max(), counters.total()), (0, 0));
    }

    #[test]
    fn json_shape() {
        let mut log = ActivityLog::default();
        log.count(TARGET, Action::Logoff);
        log.record(
            TARGET,
            Done::LoggedOff { forced: true },
            "2026-01-01T00:00:00.000Z".into(),
        );
        let value = serde_json::to_value(log.snapshot()).expect("serializes");
        assert_eq!(
            value,
            serde_json::json!({
                "logoffs": [{"tenantGroup": "g", "tenant": "t", "hostPool": "p",
                    "sessionHost": "h", "sessionId": 7, "forced": true,
                    "at": "2026-01-01T00:00:00.000Z"}],
                "disconnects": [],
                "messages": [],
                "callsPerSession": [{"tenantGroup": "g", "tenant": "t", "hostPool": "p",
                    "sessionHost": "h", "sessionId": 7, "logoff": 1, "disconnect": 0,
                    "message": 0}],
                "maxInFlight": 0,
                "inFlight": 0,
                "brokerRequests": 0,
            })
        );
    }

    #[test]
    fn arm_actions_and_counts_appear_once_there_are_some() {
        let mut log = ActivityLog::default();
        let arm = SessionTarget {
            flavour: ApiFlavour::Arm,
            ..TARGET
        };
        log.record(arm, Done::Disconnected, "2026-01-01T00:00:00.000Z".into());
        log.count_arm(OperationClass::Deletes, 200);
        log.count_arm(OperationClass::Deletes, 429);
        log.count_arm(OperationClass::Reads, 200);
        let value = serde_json::to_value(log.snapshot()).expect("serializes");
        assert_eq!(value["disconnects"][0]["flavour"], "arm");
        assert_eq!(
            value["arm"],
            serde_json::json!({"requests": {"reads": 1, "deletes": 2, "writes": 0},
                "throttled": {"reads": 0, "deletes": 1, "writes": 0}})
        );
        let parsed: Activity = serde_json::from_value(value).expect("parses");
        assert_eq!(parsed.arm.throttled.get(OperationClass::Deletes), 1);
    }
}
