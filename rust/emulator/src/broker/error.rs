//! What a broker operation can fail with: which error applies, its code, message and target,
//! independent of the body shape an API flavour writes it in.

use crate::model::Action;

/// Message of the 403 response, worded as the classic PowerShell module reports it.
pub(crate) const FORBIDDEN_MESSAGE: &str =
    "The user isn't authorized to query the management service.";

/// Message of the 404 `SessionNotFound` response, as seen from the real broker.
pub(crate) const SESSION_NOT_FOUND_MESSAGE: &str = "User session ID not found";

/// Everything a broker operation can fail with. The operations only decide *which* error
/// applies; the API flavour decides how it is written on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BrokerError {
    /// 403: the tenant is marked `forbidden`.
    Forbidden { tenant: String },
    /// 404 naming the missing object.
    NotFound {
        code: &'static str,
        message: String,
        target: String,
    },
    /// 400: a request value does not parse (`InvalidDataFormat`).
    InvalidData { message: String },
    /// 409: a session action on an unreachable session host (a logoff without `force=true`,
    /// any disconnect or message).
    SessionHostUnreachable {
        session_host: String,
        action: Action,
    },
}

impl BrokerError {
    /// 404 `TenantGroupNotFound`.
    pub(crate) fn tenant_group_not_found(tenant_group: &str) -> Self {
        Self::NotFound {
            code: "TenantGroupNotFound",
            message: format!("Tenant group '{tenant_group}' does not exist."),
            target: tenant_group.to_owned(),
        }
    }

    /// 404 `TenantNotFound`.
    pub(crate) fn tenant_not_found(tenant: &str, tenant_group: &str) -> Self {
        Self::NotFound {
            code: "TenantNotFound",
            message: format!("Tenant '{tenant}' does not exist in tenant group '{tenant_group}'."),
            target: tenant.to_owned(),
        }
    }

    /// 404 `HostPoolNotFound`.
    pub(crate) fn host_pool_not_found(host_pool: &str, tenant: &str) -> Self {
        Self::NotFound {
            code: "HostPoolNotFound",
            message: format!("Host pool '{host_pool}' does not exist in tenant '{tenant}'."),
            target: host_pool.to_owned(),
        }
    }

    /// 404 `SessionHostNotFound`.
    pub(crate) fn session_host_not_found(session_host: &str, host_pool: &str) -> Self {
        Self::NotFound {
            code: "SessionHostNotFound",
            message: format!(
                "Session host '{session_host}' does not exist in host pool '{host_pool}'."
            ),
            target: session_host.to_owned(),
        }
    }

    /// 404 `SessionNotFound`; the target is the session id as it appeared in the path.
    pub(crate) fn session_not_found(session_id: &str) -> Self {
        Self::NotFound {
            code: "SessionNotFound",
            message: SESSION_NOT_FOUND_MESSAGE.to_owned(),
            target: session_id.to_owned(),
        }
    }

    /// The error code, e.g. `HostPoolNotFound`.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Forbidden { .. } => "Forbidden",
            Self::NotFound { code, .. } => code,
            Self::InvalidData { .. } => "InvalidDataFormat",
            Self::SessionHostUnreachable { .. } => "SessionHostUnreachable",
        }
    }

    /// The message the error is reported with.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Forbidden { .. } => FORBIDDEN_MESSAGE.to_owned(),
            Self::NotFound { message, .. } | Self::InvalidData { message } => message.clone(),
            Self::SessionHostUnreachable {
                session_host,
                action,
            } => match action {
                Action::Logoff => format!(
                    "Session host '{session_host}' is not reachable; the session was not logged off. \
                     Use -Force to remove the session record."
                ),
                Action::Disconnect => format!(
                    "Session host '{session_host}' is not reachable; the session was not disconnected."
                ),
                Action::Message => format!(
                    "Session host '{session_host}' is not reachable; the message was not sent."
                ),
            },
        }
    }

    /// The object the error is about (the tenant, the missing object, the session host), if any.
    pub(crate) fn target(&self) -> Option<&str> {
        match self {
            Self::Forbidden { tenant } => Some(tenant),
            Self::NotFound { target, .. } => Some(target),
            Self::InvalidData { .. } => None,
            Self::SessionHostUnreachable { session_host, .. } => Some(session_host),
        }
    }
}
