//! The emulator's shared, mutable state and its request log.
//!
//! Everything a request may read or change lives in one [`Inner`] behind one mutex, so every
//! broker operation is atomic with respect to the others and to `PUT /_emulator/state`. Later
//! additions (more routes, more injected behaviour) belong in [`Inner`] as new fields; the
//! handlers already receive `&mut Inner`. The fault decision of a request is drawn under the
//! same lock as its action, so "applied" and "fault drawn" can never disagree. The one exception is the in-flight counter ([`InFlight`]):
//! it is lock-free because it is touched around the injected latency, which never holds the
//! lock.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::activity::{Activity, ActivityLog, InFlight, InFlightGuard};
use crate::errors::BrokerError;
use crate::faults::{Fault, FaultConfig, FaultRoute, FaultRuntime, FaultStats};
use crate::generate::{GenerateError, GenerateSpec, GeneratedPool};
use crate::identity::device::DeviceCodes;
use crate::identity::jwt::{TokenAuthority, TokenCheck};
use crate::identity::time::since_epoch;
use crate::identity::{IdentityConfig, IssuedToken};
use crate::latency::{LatencyConfig, LatencySampler};
use crate::model::Seed;

/// How many request records a slow [`crate::EmulatorHandle::subscribe_requests`] subscriber may fall
/// behind before it starts missing some.
const EVENT_CAPACITY: usize = 1024;

/// The default most records the request log keeps (the oldest are dropped beyond it).
pub const DEFAULT_REQUEST_LOG_CAPACITY: usize = 100_000;

/// Run-time settings of the emulator that are not broker data (`GET`/`PUT /_emulator/settings`).
///
/// JSON: `{"requestLog": true, "requestLogCapacity": 100000}`. A `PUT` may name only some
/// fields; the others keep their values.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct EmulatorSettings {
    /// Whether broker and identity requests are kept in the request log (`GET
    /// /_emulator/requests`). Off, they are still counted in the activity record and sent to
    /// [`crate::EmulatorHandle::subscribe_requests`] subscribers. Default true.
    pub request_log: bool,
    /// The most records the request log keeps; beyond it the oldest are dropped. Default
    /// [`DEFAULT_REQUEST_LOG_CAPACITY`].
    pub request_log_capacity: usize,
}

impl Default for EmulatorSettings {
    fn default() -> Self {
        Self {
            request_log: true,
            request_log_capacity: DEFAULT_REQUEST_LOG_CAPACITY,
        }
    }
}

/// A partial update of [`EmulatorSettings`] (the body of `PUT /_emulator/settings`).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SettingsUpdate {
    request_log: Option<bool>,
    request_log_capacity: Option<usize>,
}

impl SettingsUpdate {
    fn apply_to(self, settings: &mut EmulatorSettings) {
        if let Some(on) = self.request_log {
            settings.request_log = on;
        }
        if let Some(capacity) = self.request_log_capacity {
            settings.request_log_capacity = capacity;
        }
    }
}

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
    /// `listSessions`, `logoffUser`, `disconnectUser`, `sendMessageUser`, `unknown`, or for
    /// identity endpoints `token`, `deviceCode`, `imds` or `appServiceMsi`.
    pub route: String,
    /// Decoded `{tenantGroup}` path segment, when the route has one.
    pub tenant_group: Option<String>,
    /// Decoded `{tenant}` path segment (the Entra tenant for `token` and `deviceCode`).
    pub tenant: Option<String>,
    /// Decoded `{hostPool}` path segment.
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
    pub fault: Option<crate::FaultKind>,
}

impl RequestRecord {
    /// A record for a request whose route is not known yet; the handler fills in the rest.
    pub(crate) fn new(method: String, raw_path: String, query: Option<String>) -> Self {
        Self {
            method,
            raw_path,
            query,
            route: crate::routes::UNKNOWN_ROUTE.to_owned(),
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
        }
    }
}

/// The mutable part of the emulator. Only ever touched with the lock held.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// The emulated broker's data.
    pub(crate) seed: Seed,
    /// The latest broker requests (up to `settings.request_log_capacity`), oldest first.
    pub(crate) log: VecDeque<RequestRecord>,
    /// Device codes handed out by the device code endpoint.
    pub(crate) device_codes: DeviceCodes,
    /// Every access token issued so far, oldest first.
    pub(crate) issued: Vec<IssuedToken>,
    /// Successful session actions and per-session call counts.
    pub(crate) activity: ActivityLog,
    /// Request log switch and capacity.
    pub(crate) settings: EmulatorSettings,
    /// The jitter sequence of `seed.latency`; rebuilt whenever that configuration changes.
    pub(crate) latency: Option<LatencySampler>,
    /// The fault sequence of `seed.faults` and its counters.
    pub(crate) faults: FaultRuntime,
}

impl Inner {
    /// The identity configuration in force (the default one when the seed has none).
    pub(crate) fn identity(&self) -> IdentityConfig {
        self.seed.identity.clone().unwrap_or_default()
    }

    /// The next injected delay, if any latency is configured.
    pub(crate) fn next_delay(&mut self) -> Option<Duration> {
        let config = self.seed.latency.filter(|c| !c.is_zero())?;
        if self.latency.as_ref().map(LatencySampler::config) != Some(config) {
            self.latency = Some(LatencySampler::new(config));
        }
        self.latency.as_mut().map(LatencySampler::next_delay)
    }

    /// Whether requests to `route` are fault candidates under the configuration in force.
    pub(crate) fn faults_cover(&self, route: FaultRoute) -> bool {
        self.seed.faults.as_ref().is_some_and(|c| c.covers(route))
    }

    /// Draws the fault of a candidate request to `route`: call it only once the request is
    /// known to be valid, before it is applied. `None` when the route is not covered or the
    /// request gets no fault.
    pub(crate) fn next_fault(&mut self, route: FaultRoute) -> Option<Fault> {
        let config = self.seed.faults.as_ref().filter(|c| c.covers(route))?;
        self.faults.next_fault(config)
    }

    /// Drops the oldest records beyond the capacity.
    fn trim_log(&mut self) {
        let capacity = self.settings.request_log_capacity;
        while self.log.len() > capacity {
            self.log.pop_front();
        }
    }
}

/// How a broker request authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Authentication {
    /// The configured static token.
    Static,
    /// An unexpired token this emulator issued for the broker.
    Issued { caller: String },
    /// No usable `Authorization` header, or a bearer value that is not a JWT.
    Missing,
    /// A JWT this emulator does not accept (other key, other audience, malformed) or expired.
    Rejected { expired: bool },
}

impl Authentication {
    pub(crate) fn is_authorized(&self) -> bool {
        matches!(self, Self::Static | Self::Issued { .. })
    }

    /// `static`, the token's `upn`/`appid`, or `None`.
    pub(crate) fn caller(&self) -> Option<String> {
        match self {
            Self::Static => Some("static".to_owned()),
            Self::Issued { caller } => Some(caller.clone()),
            Self::Missing | Self::Rejected { .. } => None,
        }
    }

    /// The 401 error for an unauthenticated request.
    pub(crate) fn require(&self) -> Result<(), BrokerError> {
        match self {
            Self::Static | Self::Issued { .. } => Ok(()),
            Self::Missing => Err(BrokerError::Unauthorized),
            Self::Rejected { expired } => Err(BrokerError::InvalidToken { expired: *expired }),
        }
    }
}

/// A cheap, clonable handle on the emulator's state, shared by the server task, the
/// [`crate::EmulatorHandle`] that [`crate::Emulator`] and [`crate::BackgroundEmulator`] expose.
#[derive(Clone)]
pub(crate) struct SharedState {
    inner: Arc<Mutex<Inner>>,
    /// The exact `Authorization` header value that is accepted (`Bearer <token>`).
    expected_authorization: Arc<str>,
    /// Live feed of request records (used by the binary for its stderr log).
    events: broadcast::Sender<RequestRecord>,
    /// Signs and checks the access tokens of this emulator instance.
    authority: Arc<TokenAuthority>,
    /// `http://<bound address>`, the emulator's URL when a request names no host.
    bound_url: Arc<str>,
    /// Broker requests in flight (lock-free: counted around the injected latency).
    in_flight: Arc<InFlight>,
}

impl SharedState {
    pub(crate) fn new(seed: Seed, access_token: &str, bound_url: &str) -> Self {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Self {
            inner: Arc::new(Mutex::new(Inner {
                seed,
                ..Inner::default()
            })),
            expected_authorization: format!("Bearer {access_token}").into(),
            events,
            authority: Arc::new(TokenAuthority::new()),
            bound_url: bound_url.into(),
            in_flight: Arc::new(InFlight::default()),
        }
    }

    pub(crate) fn authority(&self) -> &TokenAuthority {
        &self.authority
    }

    pub(crate) fn bound_url(&self) -> &str {
        &self.bound_url
    }

    /// Runs `f` with exclusive access to the state. Keep `f` short and never await inside it.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock())
    }

    pub(crate) fn snapshot(&self) -> Seed {
        self.with(|inner| inner.seed.clone())
    }

    /// Replaces the data and clears the request log, the activity record, the issued-token
    /// list and pending device codes, so a test starts from a clean slate. Tokens already
    /// issued stay valid; the settings stay as they are.
    pub(crate) fn replace(&self, seed: Seed) {
        self.with(|inner| {
            inner.seed = seed;
            inner.log.clear();
            inner.issued.clear();
            inner.device_codes.clear();
            inner.activity = ActivityLog::default();
            inner.latency = None;
            inner.faults.reset();
        });
        self.in_flight.reset();
    }

    /// Marks a broker request as in flight until the guard is dropped.
    pub(crate) fn enter_broker_request(&self) -> InFlightGuard {
        self.in_flight.enter()
    }

    /// The activity record with the current in-flight figures.
    pub(crate) fn activity(&self) -> Activity {
        let mut activity = self.with(|inner| inner.activity.snapshot());
        activity.in_flight = self.in_flight.current();
        activity.max_in_flight = self.in_flight.max();
        activity.broker_requests = self.in_flight.total();
        activity
    }

    /// Clears the activity record and restarts the in-flight peak and request count; also
    /// zeroes the fault counters and restarts the fault sequence.
    pub(crate) fn clear_activity(&self) {
        self.with(|inner| {
            inner.activity = ActivityLog::default();
            inner.faults.reset();
        });
        self.in_flight.reset();
    }

    /// Restarts the in-flight peak at the current level.
    pub(crate) fn reset_max_in_flight(&self) {
        self.in_flight.reset_max();
    }

    /// The injected latency in force, if any.
    pub(crate) fn latency(&self) -> Option<LatencyConfig> {
        self.with(|inner| inner.seed.latency)
    }

    /// Sets (or with `None` removes) the injected latency; the jitter sequence restarts.
    pub(crate) fn set_latency(&self, latency: Option<LatencyConfig>) {
        self.with(|inner| {
            inner.seed.latency = latency;
            inner.latency = None;
        });
    }

    /// The fault injection in force, if any.
    pub(crate) fn faults(&self) -> Option<FaultConfig> {
        self.with(|inner| inner.seed.faults.clone())
    }

    /// Sets (or with `None` removes) the fault injection; the counters are zeroed and the
    /// sequence restarts.
    pub(crate) fn set_faults(&self, faults: Option<FaultConfig>) {
        self.with(|inner| {
            inner.seed.faults = faults;
            inner.faults.reset();
        });
    }

    /// The fault counters.
    pub(crate) fn fault_stats(&self) -> FaultStats {
        self.with(|inner| inner.faults.stats())
    }

    /// The next injected delay, if any latency is configured.
    pub(crate) fn next_delay(&self) -> Option<Duration> {
        self.with(Inner::next_delay)
    }

    /// Adds or replaces a generated host pool (built before the lock is taken).
    pub(crate) fn generate(&self, spec: &GenerateSpec) -> Result<GeneratedPool, GenerateError> {
        let pool = spec.host_pool()?;
        Ok(self.with(|inner| spec.insert(&mut inner.seed, pool)))
    }

    pub(crate) fn settings(&self) -> EmulatorSettings {
        self.with(|inner| inner.settings)
    }

    pub(crate) fn set_settings(&self, settings: EmulatorSettings) {
        self.with(|inner| {
            inner.settings = settings;
            inner.trim_log();
        });
    }

    pub(crate) fn update_settings(&self, update: SettingsUpdate) -> EmulatorSettings {
        self.with(|inner| {
            update.apply_to(&mut inner.settings);
            inner.trim_log();
            inner.settings
        })
    }

    pub(crate) fn tokens_issued(&self) -> Vec<IssuedToken> {
        self.with(|inner| inner.issued.clone())
    }

    /// Approves a pending device code for a configured user (matched case-insensitively).
    pub(crate) fn approve_device_code(&self, user_code: &str, username: &str) -> bool {
        self.with(|inner| {
            let identity = inner.identity();
            let Some(user) = identity
                .users
                .iter()
                .find(|u| u.username.eq_ignore_ascii_case(username))
            else {
                return false;
            };
            inner
                .device_codes
                .approve(user_code, &user.username, std::time::Instant::now())
        })
    }

    /// Denies a pending device code.
    pub(crate) fn deny_device_code(&self, user_code: &str) -> bool {
        self.with(|inner| {
            inner
                .device_codes
                .deny(user_code, std::time::Instant::now())
        })
    }

    pub(crate) fn requests(&self) -> Vec<RequestRecord> {
        self.with(|inner| inner.log.iter().cloned().collect())
    }

    pub(crate) fn clear_requests(&self) {
        self.with(|inner| inner.log.clear());
    }

    /// Appends a record to the log (when it is on; dropping the oldest beyond its capacity)
    /// and publishes it to subscribers.
    pub(crate) fn record(&self, record: RequestRecord) {
        self.with(|inner| {
            if inner.settings.request_log && inner.settings.request_log_capacity > 0 {
                if inner.log.len() >= inner.settings.request_log_capacity {
                    inner.log.pop_front();
                }
                inner.log.push_back(record.clone());
            }
        });
        // An error only means nobody is subscribed, which is the normal case in tests.
        let _ = self.events.send(record);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<RequestRecord> {
        self.events.subscribe()
    }

    /// Checks a broker request's credentials: exactly one `Authorization` header carrying
    /// `Bearer <static token>` or `Bearer <unexpired JWT issued by this emulator>`.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Authentication {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let value = match (values.next(), values.next()) {
            (Some(value), None) => value.as_bytes(),
            _ => return Authentication::Missing,
        };
        if constant_time_eq(value, self.expected_authorization.as_bytes()) {
            return Authentication::Static;
        }
        let Some(token) = value
            .strip_prefix(b"Bearer ")
            .and_then(|token| std::str::from_utf8(token).ok())
        else {
            return Authentication::Missing;
        };
        // Only JWT-shaped values are judged as tokens; anything else is simply not the static
        // token, answered as before with a plain challenge.
        if token.split('.').count() != 3 {
            return Authentication::Missing;
        }
        match self.authority.check(token, since_epoch()) {
            TokenCheck::Valid { caller } => Authentication::Issued { caller },
            TokenCheck::Expired => Authentication::Rejected { expired: true },
            TokenCheck::Invalid => Authentication::Rejected { expired: false },
        }
    }
}

impl fmt::Debug for SharedState {
    // Hand-written so the token can never reach a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedState")
            .field("inner", &self.inner)
            .field("expected_authorization", &"<redacted>")
            .field("authority", &self.authority)
            .field("bound_url", &self.bound_url)
            .field("in_flight", &self.in_flight)
            .finish_non_exhaustive()
    }
}

/// Compares without an early exit on the first differing byte. An emulator is no security
/// boundary, but it costs nothing and keeps the habit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_static(value));
        }
        map
    }

    const URL: &str = "http://127.0.0.1:1";

    fn authorized(state: &SharedState, values: &[&'static str]) -> bool {
        state.authenticate(&headers(values)).is_authorized()
    }

    #[test]
    fn only_the_exact_bearer_header_is_authorized() {
        let state = SharedState::new(Seed::default(), "tok", URL);
        assert_eq!(
            state.authenticate(&headers(&["Bearer tok"])),
            Authentication::Static
        );
        assert!(!authorized(&state, &[]));
        assert!(!authorized(&state, &["bearer tok"]));
        assert!(!authorized(&state, &["Bearer tok2"]));
        assert!(!authorized(&state, &["Bearer  tok"]));
        assert!(!authorized(&state, &["Bearer tok", "Bearer tok"]));
        assert_eq!(
            state.authenticate(&headers(&["Bearer a.b.c"])),
            Authentication::Rejected { expired: false }
        );
    }

    #[test]
    fn issued_tokens_are_authorized_with_their_caller() {
        use crate::identity::jwt::Subject;
        let state = SharedState::new(Seed::default(), "tok", URL);
        let subject = Subject::App {
            client_id: "app-7".into(),
            display_name: "App".into(),
        };
        let token = state
            .authority()
            .issue(&subject, URL, "tid", since_epoch(), 600)
            .token;
        let mut map = HeaderMap::new();
        map.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
        let auth = state.authenticate(&map);
        assert_eq!(auth.caller().as_deref(), Some("app-7"));
        let other = SharedState::new(Seed::default(), "tok", URL);
        assert_eq!(
            other.authenticate(&map),
            Authentication::Rejected { expired: false }
        );
    }

    #[test]
    fn debug_output_redacts_the_token() {
        let state = SharedState::new(Seed::default(), "super-secret-token", URL);
        let text = format!("{state:?}");
        assert!(!text.contains("super-secret-token"), "{text}");
    }

    #[test]
    fn replace_clears_the_log() {
        let state = SharedState::new(Seed::sample(), "tok", URL);
        state.record(RequestRecord::new("GET".into(), "/x".into(), None));
        assert_eq!(state.requests().len(), 1);
        state.replace(Seed::default());
        assert!(state.requests().is_empty());
        assert_eq!(state.snapshot(), Seed::default());
    }

    fn record(n: usize) -> RequestRecord {
        RequestRecord::new("GET".into(), format!("/{n}"), None)
    }

    #[test]
    fn the_log_keeps_the_newest_records_up_to_its_capacity() {
        let state = SharedState::new(Seed::default(), "tok", URL);
        assert_eq!(state.settings(), EmulatorSettings::default());
        state.set_settings(EmulatorSettings {
            request_log: true,
            request_log_capacity: 3,
        });
        for n in 0..5 {
            state.record(record(n));
        }
        let paths: Vec<String> = state.requests().into_iter().map(|r| r.raw_path).collect();
        assert_eq!(paths, ["/2", "/3", "/4"]);
        let settings = state.update_settings(SettingsUpdate {
            request_log_capacity: Some(1),
            ..SettingsUpdate::default()
        });
        assert!(settings.request_log);
        assert_eq!(state.requests().len(), 1);
        state.update_settings(SettingsUpdate {
            request_log: Some(false),
            ..SettingsUpdate::default()
        });
        state.record(record(9));
        assert_eq!(state.requests()[0].raw_path, "/4");
    }

    #[test]
    fn the_latency_sampler_follows_the_configuration() {
        let state = SharedState::new(Seed::default(), "tok", URL);
        assert_eq!(state.next_delay(), None);
        state.set_latency(Some(LatencyConfig::fixed(0)));
        assert_eq!(state.next_delay(), None);
        let config = LatencyConfig {
            fixed_ms: 5,
            jitter_ms: 5,
            seed: Some(1),
        };
        state.set_latency(Some(config));
        let first: Vec<_> = (0..5).map(|_| state.next_delay()).collect();
        state.set_latency(Some(config));
        let again: Vec<_> = (0..5).map(|_| state.next_delay()).collect();
        assert_eq!(first, again, "setting the latency restarts the sequence");
        let mut sampler = LatencySampler::new(config);
        assert_eq!(first[0], Some(sampler.next_delay()));
    }
}
