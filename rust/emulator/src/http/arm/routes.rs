//! ARM's route table for `Microsoft.DesktopVirtualization` host pools, session hosts and user
//! sessions (api-version 2025-10-10, the same in every stable version), and the decoded path
//! parameters of a route. Fixed segments compare case-insensitively, as ARM does.

use axum::http::Method;

use crate::broker::access::{
    DELETE_USER_SESSIONS, DISCONNECT_USER_SESSIONS, MESSAGE_USER_SESSIONS, READ_HOST_POOLS,
    READ_SESSION_HOSTS, READ_USER_SESSIONS, WRITE_SESSION_HOSTS,
};
use crate::http::path::{Captures, PathMatch, RouteDef, capture, match_route};
use crate::knobs::faults::FaultRoute;
use crate::record::RequestRecord;

/// The ARM operations the emulator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ArmRoute {
    /// HostPools_List.
    ListHostPools,
    /// HostPools_ListByResourceGroup.
    ListHostPoolsByResourceGroup,
    /// HostPools_Get.
    GetHostPool,
    /// SessionHosts_List.
    ListSessionHosts,
    /// SessionHosts_Get.
    GetSessionHost,
    /// SessionHosts_Update (drain mode).
    UpdateSessionHost,
    /// UserSessions_ListByHostPool.
    ListUserSessions,
    /// UserSessions_List (one session host).
    ListSessionHostUserSessions,
    /// UserSessions_Get.
    GetUserSession,
    /// UserSessions_Delete (logoff).
    DeleteUserSession,
    /// UserSessions_Disconnect.
    Disconnect,
    /// UserSessions_SendMessage.
    SendMessage,
}

impl ArmRoute {
    /// The route for fault injection and the request log.
    pub(super) fn fault_route(self) -> FaultRoute {
        match self {
            Self::ListHostPools => FaultRoute::ArmListHostPools,
            Self::ListHostPoolsByResourceGroup => FaultRoute::ArmListHostPoolsByResourceGroup,
            Self::GetHostPool => FaultRoute::ArmGetHostPool,
            Self::ListSessionHosts => FaultRoute::ArmListSessionHosts,
            Self::GetSessionHost => FaultRoute::ArmGetSessionHost,
            Self::UpdateSessionHost => FaultRoute::ArmUpdateSessionHost,
            Self::ListUserSessions => FaultRoute::ArmListUserSessions,
            Self::ListSessionHostUserSessions => FaultRoute::ArmListSessionHostUserSessions,
            Self::GetUserSession => FaultRoute::ArmGetUserSession,
            Self::DeleteUserSession => FaultRoute::ArmDeleteUserSession,
            Self::Disconnect => FaultRoute::ArmDisconnect,
            Self::SendMessage => FaultRoute::ArmSendMessage,
        }
    }

    /// The name in the request log, e.g. `armDeleteUserSession`.
    pub(super) fn name(self) -> &'static str {
        self.fault_route().name()
    }

    /// The RBAC action the operation needs.
    pub(super) fn action(self) -> &'static str {
        match self {
            Self::ListHostPools | Self::ListHostPoolsByResourceGroup | Self::GetHostPool => {
                READ_HOST_POOLS
            }
            Self::ListSessionHosts | Self::GetSessionHost => READ_SESSION_HOSTS,
            Self::UpdateSessionHost => WRITE_SESSION_HOSTS,
            Self::ListUserSessions | Self::ListSessionHostUserSessions | Self::GetUserSession => {
                READ_USER_SESSIONS
            }
            Self::DeleteUserSession => DELETE_USER_SESSIONS,
            Self::Disconnect => DISCONNECT_USER_SESSIONS,
            Self::SendMessage => MESSAGE_USER_SESSIONS,
        }
    }

    /// Whether the operation answers a paged list.
    pub(super) fn is_list(self) -> bool {
        matches!(
            self,
            Self::ListHostPools
                | Self::ListHostPoolsByResourceGroup
                | Self::ListSessionHosts
                | Self::ListUserSessions
                | Self::ListSessionHostUserSessions
        )
    }
}

/// `P` of every template below the resource group.
macro_rules! pool {
    ($tail:literal) => {
        concat!(
            "subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/",
            "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}",
            $tail
        )
    };
}

/// Every ARM route.
static ROUTES: &[RouteDef<ArmRoute>] = &[
    RouteDef {
        id: ArmRoute::ListHostPools,
        method: Method::GET,
        template: "subscriptions/{subscriptionId}/providers/Microsoft.DesktopVirtualization/hostPools",
    },
    RouteDef {
        id: ArmRoute::ListHostPoolsByResourceGroup,
        method: Method::GET,
        template: "subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DesktopVirtualization/hostPools",
    },
    RouteDef {
        id: ArmRoute::GetHostPool,
        method: Method::GET,
        template: pool!(""),
    },
    RouteDef {
        id: ArmRoute::ListSessionHosts,
        method: Method::GET,
        template: pool!("/sessionHosts"),
    },
    RouteDef {
        id: ArmRoute::GetSessionHost,
        method: Method::GET,
        template: pool!("/sessionHosts/{sessionHostName}"),
    },
    RouteDef {
        id: ArmRoute::UpdateSessionHost,
        method: Method::PATCH,
        template: pool!("/sessionHosts/{sessionHostName}"),
    },
    RouteDef {
        id: ArmRoute::ListUserSessions,
        method: Method::GET,
        template: pool!("/userSessions"),
    },
    RouteDef {
        id: ArmRoute::ListSessionHostUserSessions,
        method: Method::GET,
        template: pool!("/sessionHosts/{sessionHostName}/userSessions"),
    },
    RouteDef {
        id: ArmRoute::GetUserSession,
        method: Method::GET,
        template: pool!("/sessionHosts/{sessionHostName}/userSessions/{userSessionId}"),
    },
    RouteDef {
        id: ArmRoute::DeleteUserSession,
        method: Method::DELETE,
        template: pool!("/sessionHosts/{sessionHostName}/userSessions/{userSessionId}"),
    },
    RouteDef {
        id: ArmRoute::Disconnect,
        method: Method::POST,
        template: pool!("/sessionHosts/{sessionHostName}/userSessions/{userSessionId}/disconnect"),
    },
    RouteDef {
        id: ArmRoute::SendMessage,
        method: Method::POST,
        template: pool!("/sessionHosts/{sessionHostName}/userSessions/{userSessionId}/sendMessage"),
    },
];

/// The decoded path parameters of an ARM route (names as sent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct ArmParams {
    pub subscription: String,
    pub resource_group: Option<String>,
    pub host_pool: Option<String>,
    pub session_host: Option<String>,
    pub user_session: Option<String>,
}

impl ArmParams {
    fn from_captures(captures: &Captures) -> Self {
        let owned = |name| capture(captures, name).map(str::to_owned);
        Self {
            subscription: owned("subscriptionId").unwrap_or_default(),
            resource_group: owned("resourceGroupName"),
            host_pool: owned("hostPoolName"),
            session_host: owned("sessionHostName"),
            user_session: owned("userSessionId"),
        }
    }

    /// Copies the parameters into the log record.
    pub(super) fn write_to(&self, record: &mut RequestRecord) {
        record.subscription = Some(self.subscription.clone());
        record.resource_group.clone_from(&self.resource_group);
        record.host_pool.clone_from(&self.host_pool);
        record.session_host.clone_from(&self.session_host);
        record.session_id.clone_from(&self.user_session);
    }

    pub(super) fn resource_group(&self) -> &str {
        self.resource_group.as_deref().unwrap_or_default()
    }

    pub(super) fn host_pool(&self) -> &str {
        self.host_pool.as_deref().unwrap_or_default()
    }

    pub(super) fn session_host(&self) -> &str {
        self.session_host.as_deref().unwrap_or_default()
    }

    pub(super) fn user_session(&self) -> &str {
        self.user_session.as_deref().unwrap_or_default()
    }
}

/// Result of matching a raw path against the ARM routes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ArmMatch {
    Found(ArmRoute, ArmParams),
    WrongMethod(ArmRoute, ArmParams, Vec<Method>),
    /// A parameter segment is not UTF-8 once decoded (the raw segment).
    Undecodable(ArmRoute, String),
    NotFound,
}

/// Finds the ARM route for `method` and the raw (still encoded) `path`.
pub(super) fn match_arm_route(method: &Method, path: &str) -> ArmMatch {
    match match_route(ROUTES, method, path) {
        PathMatch::Found(id, captures) => ArmMatch::Found(id, ArmParams::from_captures(&captures)),
        PathMatch::WrongMethod(id, captures, allow) => {
            ArmMatch::WrongMethod(id, ArmParams::from_captures(&captures), allow)
        }
        PathMatch::Undecodable(id, raw) => ArmMatch::Undecodable(id, raw),
        PathMatch::NotFound => ArmMatch::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DesktopVirtualization/hostPools/hp";

    #[test]
    fn fixed_segments_are_case_insensitive() {
        let path = "/SUBSCRIPTIONS/s/RESOURCEGROUPS/rg/Providers/microsoft.desktopvirtualization/HOSTPOOLS/hp/SessionHosts/h/USERSESSIONS/3/DISCONNECT";
        let ArmMatch::Found(ArmRoute::Disconnect, params) = match_arm_route(&Method::POST, path)
        else {
            panic!("matches");
        };
        assert_eq!(params.session_host(), "h");
        assert_eq!(params.user_session(), "3");
    }

    #[test]
    fn one_path_serves_get_delete_and_patch() {
        let session = format!("{POOL}/sessionHosts/h%2Fx/userSessions/1");
        let ArmMatch::Found(ArmRoute::DeleteUserSession, params) =
            match_arm_route(&Method::DELETE, &session)
        else {
            panic!("delete");
        };
        assert_eq!(
            params.session_host(),
            "h/x",
            "an encoded slash stays in one segment"
        );
        let ArmMatch::WrongMethod(_, _, allow) = match_arm_route(&Method::PUT, &session) else {
            panic!("PUT is not served");
        };
        assert_eq!(allow, [Method::GET, Method::DELETE]);
        assert!(matches!(
            match_arm_route(&Method::PATCH, &format!("{POOL}/sessionHosts/h")),
            ArmMatch::Found(ArmRoute::UpdateSessionHost, _)
        ));
        assert_eq!(
            match_arm_route(&Method::GET, &format!("{POOL}/applicationGroups")),
            ArmMatch::NotFound
        );
    }
}
