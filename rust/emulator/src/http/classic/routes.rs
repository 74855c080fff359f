//! The classic broker's route table (matched by `http::path`, literals case-insensitive as
//! ASP.NET routing does) and the decoded parameters of a route.

use axum::http::Method;

use super::query::parse_session_id;
use crate::broker::actions::SessionRequest;
use crate::broker::error::BrokerError;
use crate::broker::lookup::PoolAddress;
use crate::http::path::{self, PathMatch, RouteDef};
use crate::knobs::activity::{ApiFlavour, SessionTarget};
use crate::knobs::faults::FaultRoute;
use crate::model::Action;
use crate::record::RequestRecord;

/// The broker operations the emulator knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RouteId {
    ListSessions,
    LogoffUser,
    DisconnectUser,
    SendMessageUser,
    ListTenants,
    GetTenant,
    ListHostPools,
    GetHostPool,
    ListSessionHosts,
    GetSessionHost,
    UpdateSessionHost,
}

impl RouteId {
    /// The name recorded in [`RequestRecord::route`] (the fault injection's name for it).
    pub(super) fn name(self) -> &'static str {
        self.fault_route().name()
    }

    /// The session action the route carries out, if any.
    pub(super) fn action(self) -> Option<Action> {
        match self {
            Self::LogoffUser => Some(Action::Logoff),
            Self::DisconnectUser => Some(Action::Disconnect),
            Self::SendMessageUser => Some(Action::Message),
            _ => None,
        }
    }

    /// The same route for fault injection.
    pub(super) fn fault_route(self) -> FaultRoute {
        match self {
            Self::ListSessions => FaultRoute::ListSessions,
            Self::LogoffUser => FaultRoute::LogoffUser,
            Self::DisconnectUser => FaultRoute::DisconnectUser,
            Self::SendMessageUser => FaultRoute::SendMessageUser,
            Self::ListTenants => FaultRoute::ListTenants,
            Self::GetTenant => FaultRoute::GetTenant,
            Self::ListHostPools => FaultRoute::ListHostPools,
            Self::GetHostPool => FaultRoute::GetHostPool,
            Self::ListSessionHosts => FaultRoute::ListSessionHosts,
            Self::GetSessionHost => FaultRoute::GetSessionHost,
            Self::UpdateSessionHost => FaultRoute::UpdateSessionHost,
        }
    }
}

/// All broker routes. A new operation is one more entry here plus one arm in
/// `sessions::dispatch`.
static ROUTES: &[RouteDef<RouteId>] = &[
    RouteDef {
        id: RouteId::ListSessions,
        method: Method::GET,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants/{tenant}/HostPools/{hostPool}/Sessions",
    },
    RouteDef {
        id: RouteId::LogoffUser,
        method: Method::POST,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants/{tenant}/HostPools/{hostPool}/SessionHosts/{sessionHost}/Sessions/{sessionId}/actions/logoff-user",
    },
    RouteDef {
        id: RouteId::DisconnectUser,
        method: Method::POST,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants/{tenant}/HostPools/{hostPool}/SessionHosts/{sessionHost}/Sessions/{sessionId}/actions/disconnect-user",
    },
    RouteDef {
        id: RouteId::SendMessageUser,
        method: Method::POST,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants/{tenant}/HostPools/{hostPool}/SessionHosts/{sessionHost}/Sessions/{sessionId}/actions/send-message-user",
    },
    RouteDef {
        id: RouteId::ListTenants,
        method: Method::GET,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants",
    },
    RouteDef {
        id: RouteId::GetTenant,
        method: Method::GET,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants/{tenant}",
    },
    RouteDef {
        id: RouteId::ListHostPools,
        method: Method::GET,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants/{tenant}/HostPools",
    },
    RouteDef {
        id: RouteId::GetHostPool,
        method: Method::GET,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants/{tenant}/HostPools/{hostPool}",
    },
    RouteDef {
        id: RouteId::ListSessionHosts,
        method: Method::GET,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants/{tenant}/HostPools/{hostPool}/SessionHosts",
    },
    RouteDef {
        id: RouteId::GetSessionHost,
        method: Method::GET,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants/{tenant}/HostPools/{hostPool}/SessionHosts/{sessionHost}",
    },
    RouteDef {
        id: RouteId::UpdateSessionHost,
        method: Method::PATCH,
        template: "RdsManagement/V1/TenantGroups/{tenantGroup}/Tenants/{tenant}/HostPools/{hostPool}/SessionHosts/{sessionHost}",
    },
];

/// The decoded path parameters of a matched route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Params {
    tenant_group: Option<String>,
    tenant: Option<String>,
    host_pool: Option<String>,
    session_host: Option<String>,
    session_id: Option<String>,
}

impl Params {
    fn from_captures(captures: path::Captures) -> Self {
        let mut params = Self::default();
        for (name, value) in captures {
            if let Some(slot) = params.slot(name) {
                *slot = Some(value);
            }
        }
        params
    }

    fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        match name {
            "tenantGroup" => Some(&mut self.tenant_group),
            "tenant" => Some(&mut self.tenant),
            "hostPool" => Some(&mut self.host_pool),
            "sessionHost" => Some(&mut self.session_host),
            "sessionId" => Some(&mut self.session_id),
            _ => None,
        }
    }

    /// Copies the parameters into the log record.
    pub(super) fn write_to(&self, record: &mut RequestRecord) {
        record.tenant_group.clone_from(&self.tenant_group);
        record.tenant.clone_from(&self.tenant);
        record.host_pool.clone_from(&self.host_pool);
        record.session_host.clone_from(&self.session_host);
        record.session_id.clone_from(&self.session_id);
    }

    pub(super) fn pool_address(&self) -> PoolAddress<'_> {
        PoolAddress {
            tenant_group: self.tenant_group.as_deref().unwrap_or_default(),
            tenant: self.tenant.as_deref().unwrap_or_default(),
            host_pool: self.host_pool.as_deref().unwrap_or_default(),
        }
    }

    pub(super) fn tenant_group(&self) -> &str {
        self.tenant_group.as_deref().unwrap_or_default()
    }

    pub(super) fn tenant(&self) -> &str {
        self.tenant.as_deref().unwrap_or_default()
    }

    pub(super) fn session_host(&self) -> &str {
        self.session_host.as_deref().unwrap_or_default()
    }

    fn session_id_text(&self) -> &str {
        self.session_id.as_deref().unwrap_or_default()
    }

    /// The session an action names, for the activity record; `None` when the id is not a
    /// number (such a request never reaches a session).
    pub(super) fn session_target(&self) -> Option<SessionTarget<'_>> {
        let pool = self.pool_address();
        Some(SessionTarget {
            tenant_group: pool.tenant_group,
            tenant: pool.tenant,
            host_pool: pool.host_pool,
            session_host: self.session_host(),
            session_id: parse_session_id(self.session_id_text()).ok()?,
            flavour: ApiFlavour::Classic,
        })
    }

    pub(super) fn session_request(&self) -> SessionRequest<'_> {
        SessionRequest {
            pool: self.pool_address(),
            session_host: self.session_host(),
            session_id_text: self.session_id_text(),
            session_id: parse_session_id(self.session_id_text()),
        }
    }
}

/// Result of matching a raw path against the route table.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum RouteMatch {
    /// Path and method match.
    Found(RouteId, Params),
    /// The path matches routes, but none for this method.
    WrongMethod(RouteId, Params, Vec<Method>),
    /// No route has this path.
    NotFound,
}

/// Finds the route for `method` and the raw (still encoded) `path`.
pub(super) fn match_route(
    method: &Method,
    path: &str,
) -> Result<RouteMatch, (RouteId, BrokerError)> {
    Ok(match path::match_route(ROUTES, method, path) {
        PathMatch::Found(id, captures) => RouteMatch::Found(id, Params::from_captures(captures)),
        PathMatch::WrongMethod(id, captures, allow) => {
            RouteMatch::WrongMethod(id, Params::from_captures(captures), allow)
        }
        PathMatch::Undecodable(id, raw) => {
            return Err((
                id,
                BrokerError::InvalidData {
                    message: format!(
                        "Path segment '{raw}' is not valid UTF-8 after percent-decoding."
                    ),
                },
            ));
        }
        PathMatch::NotFound => RouteMatch::NotFound,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parameter_has_a_slot() {
        for route in ROUTES {
            for part in route.template.split('/') {
                if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    assert!(Params::default().slot(name).is_some(), "{name}");
                }
            }
        }
    }

    #[test]
    fn encoded_slash_stays_inside_one_segment() {
        let path = "/RdsManagement/V1/TenantGroups/a%2Fb/Tenants/t/HostPools/p/Sessions";
        let Ok(RouteMatch::Found(RouteId::ListSessions, params)) = match_route(&Method::GET, path)
        else {
            panic!("route should match");
        };
        assert_eq!(params.tenant_group.as_deref(), Some("a/b"));
        let unencoded = "/RdsManagement/V1/TenantGroups/a/b/Tenants/t/HostPools/p/Sessions";
        assert_eq!(
            match_route(&Method::GET, unencoded),
            Ok(RouteMatch::NotFound)
        );
    }

    #[test]
    fn literals_are_case_insensitive_and_empty_segments_do_not_match() {
        let path = "/rdsmanagement/v1/tenantgroups/g/tenants/t/hostpools/p/sessions";
        assert!(matches!(
            match_route(&Method::GET, path),
            Ok(RouteMatch::Found(RouteId::ListSessions, _))
        ));
        let empty = "/RdsManagement/V1/TenantGroups//Tenants/t/HostPools/p/Sessions";
        assert_eq!(match_route(&Method::GET, empty), Ok(RouteMatch::NotFound));
    }

    #[test]
    fn the_read_side_shares_a_path_between_get_and_patch() {
        let path = "/RdsManagement/V1/TenantGroups/g/Tenants/t/HostPools/p/SessionHosts/h";
        assert!(matches!(
            match_route(&Method::PATCH, path),
            Ok(RouteMatch::Found(RouteId::UpdateSessionHost, _))
        ));
        let Ok(RouteMatch::WrongMethod(RouteId::GetSessionHost, _, allow)) =
            match_route(&Method::DELETE, path)
        else {
            panic!("should be a method mismatch");
        };
        assert_eq!(allow, [Method::GET, Method::PATCH]);
    }

    #[test]
    fn wrong_method_lists_the_allowed_ones() {
        let path = "/RdsManagement/V1/TenantGroups/g/Tenants/t/HostPools/p/Sessions";
        let Ok(RouteMatch::WrongMethod(RouteId::ListSessions, _, allow)) =
            match_route(&Method::DELETE, path)
        else {
            panic!("should be a method mismatch");
        };
        assert_eq!(allow, [Method::GET]);
    }
}
