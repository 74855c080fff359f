//! What the request log keeps of one broker or identity request ([`RequestRecord`]).

use serde::{Deserialize, Serialize};

use crate::knobs::faults::FaultKind;

/// The `route` of a request that matched no route.
const UNKNOWN_ROUTE: &str = "unknown";

/// One request to a broker route (anything outside `/_emulator`) or to an identity endpoint,
/// as the emulator saw it.
///
/// Never contains the `Authorization` header, a token, a secret, a password, an assertion or
/// a device code: only whether and as whom the caller was accepted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// The path exactly as received, still percent-encoded, without the query.
    pub raw_path: String,
    /// The raw query string (without `?`), if any.
    pub query: Option<String>,
    /// The operation: a [`crate::FaultRoute`] name (`listSessions`, `logoffUser`, ...,
    /// `getSessionHost`, `updateSessionHost`, `armListUserSessions`, `armDeleteUserSession`,
    /// ...), `unknown` for a path no route has, or for identity endpoints `token`,
    /// `deviceCode`, `imds` or `appServiceMsi`.
    pub route: String,
    /// Decoded `{tenantGroup}` path segment, when the route has one.
    pub tenant_group: Option<String>,
    /// Decoded `{tenant}` path segment (the Entra tenant for `token` and `deviceCode`).
    pub tenant: Option<String>,
    /// Decoded `{hostPool}` path segment (the ARM name on ARM routes).
    pub host_pool: Option<String>,
    /// Decoded `{sessionHost}` path segment.
    pub session_host: Option<String>,
    /// Decoded `{sessionId}` path segment (as text: it may not be a number).
    pub session_id: Option<String>,
    /// The `force` query value when it was present and valid; `None` when absent or invalid.
    pub force: Option<bool>,
    /// The status code of the response that was sent; 0 when the connection was closed
    /// without a response (an injected `reset` or `appliedLost` fault).
    pub status: u16,
    /// Broker routes: whether the request carried an accepted bearer token (the static one or
    /// an unexpired token this emulator issued). Identity endpoints: whether a token was issued.
    pub authorized: bool,
    /// Who was accepted: `static` for the configured static token, else the `upn` (users) or
    /// `appid` (applications, managed identities) of the token used or, on identity
    /// endpoints, issued. `None` when nobody was accepted.
    #[serde(default)]
    pub caller: Option<String>,
    /// The `grant_type` sent to the token endpoint.
    #[serde(default)]
    pub grant_type: Option<String>,
    /// The client id named on an identity endpoint (form, Basic header, assertion issuer or
    /// managed identity).
    #[serde(default)]
    pub client_id: Option<String>,
    /// `sendMessageUser`: the decoded `MessageTitle` query value, when present.
    #[serde(default)]
    pub message_title: Option<String>,
    /// `sendMessageUser`: the decoded `MessageBody` query value, when present.
    #[serde(default)]
    pub message_body: Option<String>,
    /// The fault injected into this broker request, if any (see [`crate::FaultConfig`]);
    /// omitted from the JSON when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultKind>,
    /// ARM routes: the decoded `{subscriptionId}` path segment. Omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// ARM routes: the decoded `{resourceGroupName}` path segment. Omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// ARM routes: the `api-version` query value as sent. Omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// ARM lists: the page size used (the client's `pageSize` or the configured default).
    /// Omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<usize>,
    /// ARM routes: the object id of the accepted caller (a token's `oid`; the static ARM
    /// token's fixed one). Omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}

impl RequestRecord {
    /// A record for a request whose route is not known yet; the handler fills in the rest.
    pub(crate) fn new(method: String, raw_path: String, query: Option<String>) -> Self {
        Self {
            method,
            raw_path,
            query,
            route: UNKNOWN_ROUTE.to_owned(),
            tenant_group: None,
            tenant: None,
            host_pool: None,
            session_host: None,
            session_id: None,
            force: None,
            status: 0,
            authorized: false,
            caller: None,
            grant_type: None,
            client_id: None,
            message_title: None,
            message_body: None,
            fault: None,
            subscription: None,
            resource_group: None,
            api_version: None,
            page_size: None,
            principal: None,
        }
    }
}
