//! Wire and domain types.

use serde::{Deserialize, Serialize};

/// A user session as the broker lists it (`GET .../HostPools/{hp}/Sessions`, docs/service-facts.md §1.2).
///
/// `sessionState` and `applicationType` are open strings: the classic broker's
/// enumerations are not documented (UNCONFIRMED), so unknown values must round-trip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSession {
    #[serde(default)]
    pub tenant_group_name: String,
    #[serde(default)]
    pub tenant_name: String,
    #[serde(default)]
    pub host_pool_name: String,
    pub session_host_name: String,
    pub session_id: i32,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub ad_user_name: Option<String>,
    #[serde(default)]
    pub application_type: Option<String>,
    #[serde(default)]
    pub session_state: Option<String>,
    /// Kept as the broker's string (ISO 8601); parsing is the caller's choice.
    #[serde(default)]
    pub create_time: Option<String>,
}

impl UserSession {
    /// `createTime` as Unix milliseconds, when it parses: RFC 3339 (`2026-11-23T21:04:00Z`,
    /// with or without fractions or an offset) or an offset-less ISO 8601 time, which the
    /// broker's .NET serializer emits for UTC values and is read as UTC.
    pub fn create_time_unix_ms(&self) -> Option<i64> {
        parse_time(self.create_time.as_deref()?)
    }
}

/// A tenant (the original `RdMgmtTenant`, without its secrets: the SSO client secret and the
/// Log Analytics key are never read). On ARM only the names and the subscription are known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    #[serde(default)]
    pub tenant_group_name: String,
    pub tenant_name: String,
    #[serde(default)]
    pub aad_tenant_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub sso_adfs_authority: Option<String>,
    #[serde(default)]
    pub sso_client_id: Option<String>,
    #[serde(default)]
    pub azure_subscription_id: Option<String>,
    #[serde(default)]
    pub log_analytics_workspace_id: Option<String>,
}

/// A host pool (the original `RdMgmtHostPool`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostPool {
    #[serde(default)]
    pub tenant_group_name: String,
    #[serde(default)]
    pub tenant_name: String,
    pub host_pool_name: String,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub persistent: bool,
    #[serde(default)]
    pub custom_rdp_property: Option<String>,
    #[serde(default)]
    pub max_session_limit: Option<i64>,
    /// `BreadthFirst`, `DepthFirst` or `Persistent` (the classic broker's number is read as
    /// its name; open: an unknown value is kept as given).
    #[serde(default, deserialize_with = "load_balancer_type")]
    pub load_balancer_type: Option<String>,
    #[serde(default)]
    pub validation_env: bool,
    #[serde(default)]
    pub ring: Option<i64>,
    #[serde(default)]
    pub assignment_type: Option<String>,
    /// The Azure resource id (ARM only).
    #[serde(skip)]
    pub arm_id: Option<String>,
}

/// A session host (the original `RdMgmtSessionHost`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionHost {
    #[serde(default)]
    pub tenant_group_name: String,
    #[serde(default)]
    pub tenant_name: String,
    #[serde(default)]
    pub host_pool_name: String,
    pub session_host_name: String,
    #[serde(default = "yes")]
    pub allow_new_session: bool,
    #[serde(default)]
    pub sessions: i64,
    #[serde(default)]
    pub last_heart_beat: Option<String>,
    #[serde(default)]
    pub agent_version: Option<String>,
    #[serde(default)]
    pub assigned_user: Option<String>,
    #[serde(default)]
    pub os_version: Option<String>,
    #[serde(default)]
    pub sx_s_stack_version: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub update_state: Option<String>,
    #[serde(default)]
    pub last_update_time: Option<String>,
    #[serde(default)]
    pub update_error_message: Option<String>,
}

fn yes() -> bool {
    true
}

impl SessionHost {
    /// `lastHeartBeat` as Unix milliseconds, when it parses.
    pub fn last_heart_beat_unix_ms(&self) -> Option<i64> {
        parse_time(self.last_heart_beat.as_deref()?)
    }

    /// `lastUpdateTime` as Unix milliseconds, when it parses.
    pub fn last_update_time_unix_ms(&self) -> Option<i64> {
        parse_time(self.last_update_time.as_deref()?)
    }
}

/// The classic broker sends the load balancer type as a number (the management sample's enum:
/// 0 BreadthFirst, 1 DepthFirst, 2 Persistent; UNCONFIRMED) or, like ARM, as a name.
fn load_balancer_type<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::Number(n)) => Some(
            match n.as_i64() {
                Some(0) => "BreadthFirst",
                Some(1) => "DepthFirst",
                Some(2) => "Persistent",
                _ => return Ok(Some(n.to_string())),
            }
            .to_owned(),
        ),
        Some(serde_json::Value::String(s)) => Some(s),
        _ => None,
    })
}

pub(crate) fn parse_time(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let text = text.trim();
    let parsed = time::OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .or_else(|| {
            let without_offset = format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
            );
            time::PrimitiveDateTime::parse(text, &without_offset)
                .ok()
                .map(|t| t.assume_utc())
        })?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Identifies one session to act on. The tenant group comes from the client's context.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionTarget {
    pub tenant: String,
    pub host_pool: String,
    pub session_host: String,
    pub session_id: i32,
}

impl SessionTarget {
    pub fn new(
        tenant: impl Into<String>,
        host_pool: impl Into<String>,
        session_host: impl Into<String>,
        session_id: i32,
    ) -> SessionTarget {
        SessionTarget {
            tenant: tenant.into(),
            host_pool: host_pool.into(),
            session_host: session_host.into(),
            session_id,
        }
    }
}

impl std::fmt::Display for SessionTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.tenant, self.host_pool, self.session_host, self.session_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn create_times_in_the_shapes_brokers_emit() {
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_time("1970-01-01T01:00:01+01:00"), Some(1000));
        assert_eq!(parse_time("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_time("1970-01-01T00:00:01.1234567"), Some(1123));
        assert_eq!(parse_time("1970-01-01T00:00:01"), Some(1000));
        assert_eq!(parse_time("yesterday"), None);
    }
}
