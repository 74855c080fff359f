//! What both API flavours report about a session host beyond the seed (its status, heartbeat,
//! agent), and the drain mode both can set.
//!
//! The seed only knows whether a host is reachable and whether it accepts new sessions; the
//! rest is derived here, the same for the classic and the ARM shape. The versions are
//! realistic-looking constants (INFERRED: the emulator runs no agent).

use std::time::Duration;

use crate::clock::rfc3339_ticks;
use crate::identity::jwt::stable_guid;
use crate::model::SessionHost;

/// The RD agent version every emulated host reports.
pub(crate) const AGENT_VERSION: &str = "1.0.11093.300";

/// The OS version every emulated host reports (Windows 11 Enterprise multi-session 23H2).
pub(crate) const OS_VERSION: &str = "10.0.22631.4890";

/// The side-by-side stack version every emulated host reports.
pub(crate) const SXS_STACK_VERSION: &str = "rdp-sxs250207200";

/// When every emulated host's agent was last updated.
pub(crate) const LAST_UPDATE_TIME: &str = "2026-10-15T02:00:00.0000000Z";

/// How often a reachable host's agent sends a heartbeat (seconds).
const HEARTBEAT_SECONDS: u64 = 30;

/// How long ago an unreachable host was last heard of (seconds).
const SILENT_FOR_SECONDS: u64 = 3600;

/// The derived facts of one session host at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HostFacts {
    /// `Available` for a reachable host, `Unavailable` for one the broker cannot reach.
    pub status: &'static str,
    /// The last heartbeat: the latest 30-second tick for a reachable host, an hour before
    /// that for an unreachable one (7 fractional digits).
    pub last_heart_beat: String,
    /// When `status` last changed (the last heartbeat).
    pub status_timestamp: String,
    /// The number of user sessions on the host.
    pub sessions: usize,
    /// A stable GUID per host pool and host (ARM's `objectId`).
    pub object_id: String,
    /// A stable GUID per host (ARM's `virtualMachineId`).
    pub virtual_machine_id: String,
}

/// The facts of `host` in the pool named `pool_key` (any stable key of the pool) at `now`
/// (since the epoch).
pub(crate) fn host_facts(pool_key: &str, host: &SessionHost, now: Duration) -> HostFacts {
    let tick = now.as_secs() - now.as_secs() % HEARTBEAT_SECONDS;
    let (status, heard) = if host.reachable {
        ("Available", tick)
    } else {
        ("Unavailable", tick.saturating_sub(SILENT_FOR_SECONDS))
    };
    let heart_beat = rfc3339_ticks(Duration::from_secs(heard));
    let name = host.name.to_ascii_lowercase();
    HostFacts {
        status,
        status_timestamp: heart_beat.clone(),
        last_heart_beat: heart_beat,
        sessions: host.sessions.len(),
        object_id: stable_guid(&format!("sessionhost:{pool_key}/{name}")),
        virtual_machine_id: stable_guid(&format!("vm:{name}")),
    }
}

/// The virtual machine name of a host: its name up to the first dot (`sh1.contoso.com` runs
/// on VM `sh1`).
pub(crate) fn vm_name(host: &SessionHost) -> &str {
    host.name.split('.').next().unwrap_or(&host.name)
}

/// Sets drain mode: `allow` false stops new sessions, true allows them again; `None` changes
/// nothing. Existing sessions stay either way.
pub(crate) fn set_allow_new_session(host: &mut SessionHost, allow: Option<bool>) {
    if let Some(allow) = allow {
        host.allow_new_session = allow;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachable_hosts_beat_recently_unreachable_ones_long_ago() {
        let up = SessionHost {
            name: "sh1.contoso.com".into(),
            ..SessionHost::default()
        };
        let down = SessionHost {
            reachable: false,
            ..up.clone()
        };
        let now = Duration::from_secs(1_452_304_932);
        let facts = host_facts("pool", &up, now);
        assert_eq!(facts.status, "Available");
        assert_eq!(facts.last_heart_beat, "2016-01-09T02:02:00.0000000Z");
        assert_eq!(facts.sessions, 0);
        let silent = host_facts("pool", &down, now);
        assert_eq!(silent.status, "Unavailable");
        assert_eq!(silent.last_heart_beat, "2016-01-09T01:02:00.0000000Z");
        assert_eq!(silent.object_id, facts.object_id, "stable per host");
        assert_ne!(host_facts("other", &up, now).object_id, facts.object_id);
        assert_eq!(vm_name(&up), "sh1");
    }

    #[test]
    fn drain_mode_changes_only_when_asked() {
        let mut host = SessionHost::default();
        set_allow_new_session(&mut host, None);
        assert!(host.allow_new_session);
        set_allow_new_session(&mut host, Some(false));
        assert!(!host.allow_new_session);
    }
}
