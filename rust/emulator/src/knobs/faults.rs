//! Deterministic fault injection into broker requests, for testing a client's retry layer:
//! what to inject, where and how often ([`FaultConfig`]). Which request gets which fault is
//! `fault_sequence`'s job.
//!
//! Configured by the seed's optional top-level `faults` (also `GET`/`PUT`/`DELETE
//! /_emulator/faults`, [`crate::EmulatorHandle::set_faults`], binary `--faults FILE`,
//! `--fault-rate`, `--fault-seed`):
//!
//! ```json
//! {"seed": 42, "rate": 0.2,
//!  "kinds": {"throttle": 1, "serverError": 1, "reset": 1, "stall": 1, "malformed": 1, "appliedLost": 1},
//!  "retryAfterSeconds": 1, "stallMs": 3000, "serverErrorStatuses": [500, 502, 503, 504],
//!  "routes": ["logoffUser", "disconnectUser", "sendMessageUser", "listSessions"]}
//! ```
//!
//! `routes` may also name the classic read side and the ARM routes ([`FaultRoute`]); by default
//! it holds the four classic session routes only. A request is a *candidate* when its route is listed in `routes` and it would otherwise be
//! processed: it is authorized, every lookup succeeded and its parameters are valid (a request
//! answered 401, 400, 403, 404, 405 or 409 never gets a fault). Admin and identity endpoints
//! are never candidates. Candidates are numbered 0, 1, 2, ... from the moment the
//! configuration is set (or the counters reset); whether candidate `n` gets a fault, and which
//! one, is a pure function of `seed` and `n` ([`crate::FaultSampler::fault_at`]), so one seed always
//! gives the same sequence of faults.
//!
//! What each [`FaultKind`] does is documented on its variant.

use serde::{Deserialize, Deserializer, Serialize};

/// The default `retryAfterSeconds` of a `throttle` fault.
pub const DEFAULT_RETRY_AFTER_SECONDS: u64 = 1;

/// The default `stallMs` of a `stall` fault.
pub const DEFAULT_STALL_MS: u64 = 3000;

/// The default `serverErrorStatuses`.
pub const DEFAULT_SERVER_ERROR_STATUSES: [u16; 4] = [500, 502, 503, 504];

/// A broker route that faults can be injected into (named as in
/// [`crate::RequestRecord::route`]): the classic session routes, the classic read side and
/// every ARM route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultRoute {
    /// `GET .../Sessions`.
    ListSessions,
    /// `POST .../actions/logoff-user`.
    LogoffUser,
    /// `POST .../actions/disconnect-user`.
    DisconnectUser,
    /// `POST .../actions/send-message-user`.
    SendMessageUser,
    /// Classic `GET .../TenantGroups/{tg}/Tenants`.
    ListTenants,
    /// Classic `GET .../Tenants/{t}`.
    GetTenant,
    /// Classic `GET .../Tenants/{t}/HostPools`.
    ListHostPools,
    /// Classic `GET .../HostPools/{hp}`.
    GetHostPool,
    /// Classic `GET .../HostPools/{hp}/SessionHosts`.
    ListSessionHosts,
    /// Classic `GET .../SessionHosts/{sh}`.
    GetSessionHost,
    /// Classic `PATCH .../SessionHosts/{sh}` (drain mode).
    UpdateSessionHost,
    /// ARM `GET /subscriptions/{sub}/providers/Microsoft.DesktopVirtualization/hostPools`.
    ArmListHostPools,
    /// ARM `GET /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DesktopVirtualization/hostPools`.
    ArmListHostPoolsByResourceGroup,
    /// ARM `GET .../hostPools/{hp}`.
    ArmGetHostPool,
    /// ARM `GET .../hostPools/{hp}/sessionHosts`.
    ArmListSessionHosts,
    /// ARM `GET .../sessionHosts/{sh}`.
    ArmGetSessionHost,
    /// ARM `PATCH .../sessionHosts/{sh}` (drain mode).
    ArmUpdateSessionHost,
    /// ARM `GET .../hostPools/{hp}/userSessions`.
    ArmListUserSessions,
    /// ARM `GET .../sessionHosts/{sh}/userSessions`.
    ArmListSessionHostUserSessions,
    /// ARM `GET .../userSessions/{id}`.
    ArmGetUserSession,
    /// ARM `DELETE .../userSessions/{id}` (logoff).
    ArmDeleteUserSession,
    /// ARM `POST .../userSessions/{id}/disconnect`.
    ArmDisconnect,
    /// ARM `POST .../userSessions/{id}/sendMessage`.
    ArmSendMessage,
}

impl FaultRoute {
    /// The four classic session routes: the default of [`FaultConfig::routes`]. The read side
    /// and the ARM routes are candidates only when `routes` names them, so a fault sequence
    /// configured for the classic session routes stays the same when a client also reads or
    /// uses ARM.
    pub const ALL: [FaultRoute; 4] = [
        Self::ListSessions,
        Self::LogoffUser,
        Self::DisconnectUser,
        Self::SendMessageUser,
    ];

    /// The classic read side (tenants, host pools, session hosts, drain mode).
    pub const CLASSIC_READ_SIDE: [FaultRoute; 7] = [
        Self::ListTenants,
        Self::GetTenant,
        Self::ListHostPools,
        Self::GetHostPool,
        Self::ListSessionHosts,
        Self::GetSessionHost,
        Self::UpdateSessionHost,
    ];

    /// Every ARM route.
    pub const ARM: [FaultRoute; 12] = [
        Self::ArmListHostPools,
        Self::ArmListHostPoolsByResourceGroup,
        Self::ArmGetHostPool,
        Self::ArmListSessionHosts,
        Self::ArmGetSessionHost,
        Self::ArmUpdateSessionHost,
        Self::ArmListUserSessions,
        Self::ArmListSessionHostUserSessions,
        Self::ArmGetUserSession,
        Self::ArmDeleteUserSession,
        Self::ArmDisconnect,
        Self::ArmSendMessage,
    ];

    /// The route's name, e.g. `logoffUser` or `armDeleteUserSession`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ListSessions => "listSessions",
            Self::LogoffUser => "logoffUser",
            Self::DisconnectUser => "disconnectUser",
            Self::SendMessageUser => "sendMessageUser",
            Self::ListTenants => "listTenants",
            Self::GetTenant => "getTenant",
            Self::ListHostPools => "listHostPools",
            Self::GetHostPool => "getHostPool",
            Self::ListSessionHosts => "listSessionHosts",
            Self::GetSessionHost => "getSessionHost",
            Self::UpdateSessionHost => "updateSessionHost",
            Self::ArmListHostPools => "armListHostPools",
            Self::ArmListHostPoolsByResourceGroup => "armListHostPoolsByResourceGroup",
            Self::ArmGetHostPool => "armGetHostPool",
            Self::ArmListSessionHosts => "armListSessionHosts",
            Self::ArmGetSessionHost => "armGetSessionHost",
            Self::ArmUpdateSessionHost => "armUpdateSessionHost",
            Self::ArmListUserSessions => "armListUserSessions",
            Self::ArmListSessionHostUserSessions => "armListSessionHostUserSessions",
            Self::ArmGetUserSession => "armGetUserSession",
            Self::ArmDeleteUserSession => "armDeleteUserSession",
            Self::ArmDisconnect => "armDisconnect",
            Self::ArmSendMessage => "armSendMessage",
        }
    }
}

/// What an injected fault does to a candidate request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// 429 with `Retry-After: <retryAfterSeconds>` and the nested error body (code
    /// `TooManyRequests`). The action is not applied.
    Throttle,
    /// One of `serverErrorStatuses` (chosen deterministically, default 500/502/503/504) with
    /// the nested error body (code `InternalServerError`, `BadGateway`, `ServiceUnavailable`,
    /// `GatewayTimeout` or `ServerError`). The action is not applied.
    ServerError,
    /// The connection is closed without a response. The action is not applied.
    Reset,
    /// The action is applied at once, then the normal response is sent only after `stallMs`,
    /// so a client with a shorter timeout gives up although the broker did the work (the
    /// listing is taken when the request arrives). Applied whether or not the client waits.
    Stall,
    /// `listSessions`: 200 with a JSON body cut in half (a truncated array); actions: 500
    /// with the non-JSON body `<html>oops` (`text/html`). The action is not applied.
    Malformed,
    /// The action is applied (session logged off, disconnected, message recorded), then the
    /// connection is closed without a response: "applied but the response was lost". On
    /// `listSessions` it behaves like `reset`.
    AppliedLost,
}

impl FaultKind {
    /// Every kind, in the order weights are laid out when one is drawn.
    pub const ALL: [FaultKind; 6] = [
        Self::Throttle,
        Self::ServerError,
        Self::Reset,
        Self::Stall,
        Self::Malformed,
        Self::AppliedLost,
    ];

    /// The kind's name, e.g. `serverError`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Throttle => "throttle",
            Self::ServerError => "serverError",
            Self::Reset => "reset",
            Self::Stall => "stall",
            Self::Malformed => "malformed",
            Self::AppliedLost => "appliedLost",
        }
    }

    /// Whether the request's action still takes effect (`stall`, `appliedLost`).
    pub fn applies_action(self) -> bool {
        matches!(self, Self::Stall | Self::AppliedLost)
    }
}

/// Relative weights of the fault kinds: a fault is of a kind with probability
/// `weight / sum of weights`. In JSON a kind left out has weight 0; leaving out the whole
/// `kinds` object gives every kind weight 1 ([`FaultWeights::uniform`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultWeights {
    pub throttle: u32,
    pub server_error: u32,
    pub reset: u32,
    pub stall: u32,
    pub malformed: u32,
    pub applied_lost: u32,
}

impl FaultWeights {
    /// Every kind with weight 1.
    pub fn uniform() -> Self {
        Self {
            throttle: 1,
            server_error: 1,
            reset: 1,
            stall: 1,
            malformed: 1,
            applied_lost: 1,
        }
    }

    /// Only `kind`, with weight 1.
    pub fn only(kind: FaultKind) -> Self {
        let mut weights = Self::default();
        *weights.slot(kind) = 1;
        weights
    }

    /// The weight of one kind.
    pub fn weight(&self, kind: FaultKind) -> u32 {
        self.value(kind)
    }

    /// The sum of all weights.
    pub fn total(&self) -> u64 {
        FaultKind::ALL
            .iter()
            .map(|kind| u64::from(self.weight(*kind)))
            .sum()
    }
}

/// Gives a struct with one field per [`FaultKind`] (named after the kinds, in snake case) the
/// field of a kind: `value` (a copy) and `slot` (to change it).
macro_rules! one_field_per_kind {
    ($type:ty, $value:ty) => {
        impl $type {
            fn value(&self, kind: FaultKind) -> $value {
                match kind {
                    FaultKind::Throttle => self.throttle,
                    FaultKind::ServerError => self.server_error,
                    FaultKind::Reset => self.reset,
                    FaultKind::Stall => self.stall,
                    FaultKind::Malformed => self.malformed,
                    FaultKind::AppliedLost => self.applied_lost,
                }
            }

            fn slot(&mut self, kind: FaultKind) -> &mut $value {
                match kind {
                    FaultKind::Throttle => &mut self.throttle,
                    FaultKind::ServerError => &mut self.server_error,
                    FaultKind::Reset => &mut self.reset,
                    FaultKind::Stall => &mut self.stall,
                    FaultKind::Malformed => &mut self.malformed,
                    FaultKind::AppliedLost => &mut self.applied_lost,
                }
            }
        }
    };
}
pub(crate) use one_field_per_kind;

one_field_per_kind!(FaultWeights, u32);

/// Deterministic fault injection into broker requests, for testing a client's retry layer.
///
/// JSON (the state's top-level `faults`, `GET`/`PUT /_emulator/faults`, binary `--faults
/// FILE`); every field is optional, unknown fields are refused:
///
/// ```json
/// {"seed": 42, "rate": 0.2,
///  "kinds": {"throttle": 1, "serverError": 1, "reset": 1, "stall": 1, "malformed": 1, "appliedLost": 1},
///  "retryAfterSeconds": 1, "stallMs": 3000, "serverErrorStatuses": [500, 502, 503, 504],
///  "routes": ["logoffUser", "disconnectUser", "sendMessageUser", "listSessions"]}
/// ```
///
/// A request is a *candidate* when its route is listed in `routes` and it would otherwise be
/// processed: authorized, every lookup successful, every parameter valid (a request answered
/// 400, 401, 403, 404, 405 or 409 never gets a fault); admin and identity endpoints never are.
/// Candidates are numbered from 0 since the configuration was set or the counters were reset
/// (`DELETE /_emulator/activity`, `PUT /_emulator/state`); whether candidate `n` gets a fault
/// and which is a pure function of `seed` and `n` ([`crate::FaultSampler::fault_at`]). What each
/// kind does is documented on [`FaultKind`].
///
/// `FaultConfig::default()` injects nothing (`rate` 0).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the fault sequence; `None` picks a random one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Probability in `[0, 1]` that a candidate request gets a fault. Default 0.
    #[serde(deserialize_with = "deserialize_rate")]
    pub rate: f64,
    /// Relative weights of the fault kinds. Default: all 1.
    pub kinds: FaultWeights,
    /// `Retry-After` of a `throttle` fault, in seconds. Default 1.
    pub retry_after_seconds: u64,
    /// How long a `stall` fault delays the response, in milliseconds. Default 3000.
    pub stall_ms: u64,
    /// The statuses a `serverError` fault picks from (uniformly, deterministically); each
    /// 500-599, at least one. Default 500, 502, 503, 504.
    #[serde(deserialize_with = "deserialize_statuses")]
    pub server_error_statuses: Vec<u16>,
    /// The routes faults are injected into. Default: the four classic session routes
    /// ([`FaultRoute::ALL`]); the classic read side and ARM routes only when named.
    pub routes: Vec<FaultRoute>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            seed: None,
            rate: 0.0,
            kinds: FaultWeights::uniform(),
            retry_after_seconds: DEFAULT_RETRY_AFTER_SECONDS,
            stall_ms: DEFAULT_STALL_MS,
            server_error_statuses: DEFAULT_SERVER_ERROR_STATUSES.to_vec(),
            routes: FaultRoute::ALL.to_vec(),
        }
    }
}

impl FaultConfig {
    /// Every candidate request of the classic session routes gets a fault of `kind` (rate 1,
    /// seed 0); [`Self::on_routes`] picks other routes.
    pub fn always(kind: FaultKind) -> Self {
        Self {
            seed: Some(0),
            rate: 1.0,
            kinds: FaultWeights::only(kind),
            ..Self::default()
        }
    }

    /// The same configuration, limited to `routes`.
    pub fn on_routes(mut self, routes: &[FaultRoute]) -> Self {
        self.routes = routes.to_vec();
        self
    }

    /// Whether requests to `route` are candidates.
    pub fn covers(&self, route: FaultRoute) -> bool {
        self.routes.contains(&route)
    }

    /// Checks what the JSON form enforces, for configurations built in code: `rate` in
    /// `[0, 1]`, every server error status 500-599 and at least one. An unchecked
    /// configuration still works: a rate above 1 acts like 1, below 0 or NaN like 0, an
    /// empty status list like `[503]` and a status that is no valid HTTP status like 503.
    pub fn validate(&self) -> Result<(), String> {
        check_rate(self.rate)?;
        check_statuses(&self.server_error_statuses)
    }
}

// `rate` is compared by its bits, so equality is reflexive (a NaN rate equals itself) and
// `Eq` is honest; a `Seed` holding a `FaultConfig` stays `Eq`.
impl PartialEq for FaultConfig {
    fn eq(&self, other: &Self) -> bool {
        self.seed == other.seed
            && self.rate.to_bits() == other.rate.to_bits()
            && self.kinds == other.kinds
            && self.retry_after_seconds == other.retry_after_seconds
            && self.stall_ms == other.stall_ms
            && self.server_error_statuses == other.server_error_statuses
            && self.routes == other.routes
    }
}

impl Eq for FaultConfig {}

fn check_rate(rate: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(format!("rate must be between 0 and 1, got {rate}"))
    }
}

fn check_statuses(statuses: &[u16]) -> Result<(), String> {
    if statuses.is_empty() {
        return Err("serverErrorStatuses must name at least one status".to_owned());
    }
    match statuses.iter().find(|s| !(500..=599).contains(*s)) {
        Some(status) => Err(format!("serverErrorStatuses must be 500-599, got {status}")),
        None => Ok(()),
    }
}

fn deserialize_rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let rate = f64::deserialize(deserializer)?;
    check_rate(rate).map_err(serde::de::Error::custom)?;
    Ok(rate)
}

fn deserialize_statuses<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u16>, D::Error> {
    let statuses = Vec::<u16>::deserialize(deserializer)?;
    check_statuses(&statuses).map_err(serde::de::Error::custom)?;
    Ok(statuses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nan_rate() -> FaultConfig {
        FaultConfig {
            seed: Some(1),
            rate: f64::NAN,
            ..FaultConfig::default()
        }
    }

    #[test]
    fn json_shape() {
        let parsed: FaultConfig = serde_json::from_str(
            r#"{"seed": 42, "rate": 0.2,
                "kinds": {"throttle": 1, "serverError": 1, "reset": 1, "stall": 1,
                          "malformed": 1, "appliedLost": 1},
                "retryAfterSeconds": 1, "stallMs": 3000,
                "routes": ["logoffUser", "disconnectUser", "sendMessageUser", "listSessions"]}"#,
        )
        .expect("valid");
        assert_eq!(parsed.seed, Some(42));
        assert_eq!(parsed.kinds, FaultWeights::uniform());
        assert_eq!(parsed.routes[0], FaultRoute::LogoffUser);
        assert_eq!(
            parsed.server_error_statuses,
            DEFAULT_SERVER_ERROR_STATUSES.to_vec()
        );
        // Left-out kinds weigh 0 when `kinds` is given; all weigh 1 when it is not.
        let partial: FaultConfig =
            serde_json::from_str(r#"{"rate": 1, "kinds": {"reset": 2}}"#).expect("valid");
        assert_eq!(
            partial.kinds,
            FaultWeights {
                reset: 2,
                ..FaultWeights::default()
            }
        );
        let minimal: FaultConfig = serde_json::from_str("{}").expect("valid");
        assert_eq!(minimal, FaultConfig::default());
        assert_eq!(
            serde_json::to_value(FaultConfig::always(FaultKind::Throttle)).expect("serializes"),
            serde_json::json!({
                "seed": 0, "rate": 1.0,
                "kinds": {"throttle": 1, "serverError": 0, "reset": 0, "stall": 0,
                          "malformed": 0, "appliedLost": 0},
                "retryAfterSeconds": 1, "stallMs": 3000,
                "serverErrorStatuses": [500, 502, 503, 504],
                "routes": ["listSessions", "logoffUser", "disconnectUser", "sendMessageUser"],
            })
        );
        let arm: FaultConfig =
            serde_json::from_str(r#"{"routes": ["armDeleteUserSession", "updateSessionHost"]}"#)
                .expect("valid");
        assert_eq!(
            arm.routes,
            [
                FaultRoute::ArmDeleteUserSession,
                FaultRoute::UpdateSessionHost
            ]
        );
        for route in FaultRoute::ALL
            .into_iter()
            .chain(FaultRoute::CLASSIC_READ_SIDE)
            .chain(FaultRoute::ARM)
        {
            let json = serde_json::to_value(route).expect("serializes");
            assert_eq!(json, route.name(), "the JSON name is the route's name");
        }
        for bad in [
            r#"{"rate": 1.5}"#,
            r#"{"rate": -0.1}"#,
            r#"{"routes": ["logoff"]}"#,
            r#"{"kinds": {"timeout": 1}}"#,
            r#"{"serverErrorStatuses": [429]}"#,
            r#"{"serverErrorStatuses": []}"#,
            r#"{"stall": 5}"#,
        ] {
            assert!(serde_json::from_str::<FaultConfig>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validation_of_configurations_built_in_code() {
        assert!(FaultConfig::default().validate().is_ok());
        assert!(nan_rate().validate().is_err());
        assert!(
            FaultConfig {
                server_error_statuses: vec![503, 404],
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );
        // Bitwise comparison keeps equality reflexive.
        let nan = nan_rate();
        assert_eq!(nan, nan.clone());
    }
}
