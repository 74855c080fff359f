//! Wire and domain types.

use serde::{Deserialize, Serialize};

/// A user session as the broker lists it (`GET .../HostPools/{hp}/Sessions`, rds-api.md §1.8).
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
