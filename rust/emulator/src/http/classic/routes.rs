//! The classic broker's route table and how a raw request path is matched against it.
//!
//! Broker routes are not given to axum's router on purpose. Names may contain any character,
//! and a client that percent-encodes `/` as `%2F` must get *one* segment back; matching on the
//! still-encoded path and decoding each segment afterwards guarantees that, independent of how
//! any router library treats encoded slashes. It also lets one handler produce the broker's own
//! 404/405 bodies and log every request with its final status.

use axum::http::Method;
use percent_encoding::percent_decode_str;

use super::query::parse_session_id;
use crate::broker::actions::SessionRequest;
use crate::broker::error::BrokerError;
use crate::broker::lookup::PoolAddress;
use crate::knobs::activity::SessionTarget;
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
}

impl RouteId {
    /// The name recorded in [`RequestRecord::route`] (the fault injection's name for it).
    pub(super) fn name(self) -> &'static str {
        self.fault_route().name()
    }

    /// The session action the route carries out, if any.
    pub(super) fn action(self) -> Option<Action> {
        match self {
            Self::ListSessions => None,
            Self::LogoffUser => Some(Action::Logoff),
            Self::DisconnectUser => Some(Action::Disconnect),
            Self::SendMessageUser => Some(Action::Message),
        }
    }

    /// The same route for fault injection.
    pub(super) fn fault_route(self) -> FaultRoute {
        match self {
            Self::ListSessions => FaultRoute::ListSessions,
            Self::LogoffUser => FaultRoute::LogoffUser,
            Self::DisconnectUser => FaultRoute::DisconnectUser,
            Self::SendMessageUser => FaultRoute::SendMessageUser,
        }
    }
}

/// A broker route: method plus path template. `{name}` is a parameter (one non-empty segment),
/// anything else a literal compared ASCII-case-insensitively, as ASP.NET routing does.
struct RouteDef {
    id: RouteId,
    method: Method,
    template: &'static str,
}

/// All broker routes. A new operation is one more entry here plus one arm in
/// `sessions::dispatch`.
static ROUTES: &[RouteDef] = &[
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

    fn session_host(&self) -> &str {
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

/// Matches one template against the raw segments, returning the decoded parameters.
///
/// Decoding happens per segment *after* splitting, which is what makes `a%2Fb` one segment.
/// A segment that does not decode to UTF-8 yields the 400 error instead.
fn match_template(template: &str, segments: &[&str]) -> Option<Result<Params, BrokerError>> {
    let parts: Vec<&str> = template.split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Params::default();
    let mut decode_error = None;
    for (part, raw) in parts.iter().zip(segments) {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if raw.is_empty() {
                return None;
            }
            match percent_decode_str(raw).decode_utf8() {
                Ok(value) => {
                    if let Some(slot) = params.slot(name) {
                        *slot = Some(value.into_owned());
                    }
                }
                Err(_) => {
                    decode_error.get_or_insert_with(|| BrokerError::InvalidData {
                        message: format!(
                            "Path segment '{raw}' is not valid UTF-8 after percent-decoding."
                        ),
                    });
                }
            }
        } else if !part.eq_ignore_ascii_case(raw) {
            return None;
        }
    }
    Some(match decode_error {
        Some(error) => Err(error),
        None => Ok(params),
    })
}

/// Finds the route for `method` and the raw (still encoded) `path`.
pub(super) fn match_route(
    method: &Method,
    path: &str,
) -> Result<RouteMatch, (RouteId, BrokerError)> {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let mut path_match: Option<(RouteId, Params)> = None;
    let mut allowed = Vec::new();
    for route in ROUTES {
        let Some(result) = match_template(route.template, &segments) else {
            continue;
        };
        let params = result.map_err(|error| (route.id, error))?;
        if route.method == *method {
            return Ok(RouteMatch::Found(route.id, params));
        }
        allowed.push(route.method.clone());
        path_match.get_or_insert((route.id, params));
    }
    Ok(match path_match {
        Some((id, params)) => RouteMatch::WrongMethod(id, params, allowed),
        None => RouteMatch::NotFound,
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
