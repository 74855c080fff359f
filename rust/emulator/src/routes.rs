//! HTTP routing: the broker routes (matched by hand on the raw path) and the admin routes.
//!
//! Broker routes are not given to axum's router on purpose. Names may contain any character,
//! and a client that percent-encodes `/` as `%2F` must get *one* segment back; matching on the
//! still-encoded path and decoding each segment afterwards guarantees that, independent of how
//! any router library treats encoded slashes. It also lets one handler produce the broker's own
//! 404/405 bodies and log every request with its final status.

use std::borrow::Cow;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::activity::{Action, Activity, SessionTarget};
use crate::broker::{self, LogoffRequest, PoolAddress, SessionRequest};
use crate::errors::BrokerError;
use crate::faults::{Fault, FaultConfig, FaultKind, FaultRoute, FaultStats};
use crate::generate::GenerateSpec;
use crate::identity::time::now_rfc3339_millis;
use crate::identity::{admin, managed_identity, token_endpoint};
use crate::latency::LatencyConfig;
use crate::model::{Seed, SentMessage};
use crate::state::{
    Authentication, EmulatorSettings, Inner, RequestRecord, SettingsUpdate, SharedState,
};

/// The `route` of a request that matched no broker route.
pub(crate) const UNKNOWN_ROUTE: &str = "unknown";

/// Largest accepted `PUT /_emulator/state` body: big enough for scale tests with tens of
/// thousands of sessions, small enough to refuse a runaway upload.
const MAX_STATE_BODY: usize = 64 * 1024 * 1024;

/// The broker operations the emulator knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RouteId {
    ListSessions,
    LogoffUser,
    DisconnectUser,
    SendMessageUser,
}

impl RouteId {
    /// The name recorded in [`RequestRecord::route`].
    fn name(self) -> &'static str {
        match self {
            Self::ListSessions => "listSessions",
            Self::LogoffUser => "logoffUser",
            Self::DisconnectUser => "disconnectUser",
            Self::SendMessageUser => "sendMessageUser",
        }
    }

    /// The same route for fault injection.
    fn fault_route(self) -> FaultRoute {
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

/// All broker routes. A new operation is one more entry here plus one arm in [`dispatch`].
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
struct Params {
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
    fn write_to(&self, record: &mut RequestRecord) {
        record.tenant_group.clone_from(&self.tenant_group);
        record.tenant.clone_from(&self.tenant);
        record.host_pool.clone_from(&self.host_pool);
        record.session_host.clone_from(&self.session_host);
        record.session_id.clone_from(&self.session_id);
    }

    fn pool_address(&self) -> PoolAddress<'_> {
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
    fn session_target(&self) -> Option<SessionTarget<'_>> {
        let pool = self.pool_address();
        Some(SessionTarget {
            tenant_group: pool.tenant_group,
            tenant: pool.tenant,
            host_pool: pool.host_pool,
            session_host: self.session_host(),
            session_id: parse_session_id(self.session_id_text()).ok()?,
        })
    }

    fn session_request(&self) -> SessionRequest<'_> {
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
enum RouteMatch {
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
fn match_route(method: &Method, path: &str) -> Result<RouteMatch, (RouteId, BrokerError)> {
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

/// Parses the `force` query parameter: absent means `Ok(None)`; `true`/`false` in any case
/// are accepted; anything else, including an empty or repeated value, is a flat 400.
fn parse_force(query: Option<&str>) -> Result<Option<bool>, BrokerError> {
    let mut found: Option<bool> = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !decode_query_component(key).eq_ignore_ascii_case("force") {
            continue;
        }
        let value = decode_query_component(value);
        let invalid = |reason: &str| BrokerError::InvalidData {
            message: format!("The value '{value}' is not valid for parameter 'force': {reason}."),
        };
        if found.is_some() {
            return Err(invalid("the parameter was given more than once"));
        }
        found = Some(if value.eq_ignore_ascii_case("true") {
            true
        } else if value.eq_ignore_ascii_case("false") {
            false
        } else {
            return Err(invalid("expected 'true' or 'false'"));
        });
    }
    Ok(found)
}

/// Finds one query parameter by name (ASCII-case-insensitively, as ASP.NET binds them) and
/// decodes its value (`+` is a space). Absent means `Ok(None)`; a repeated parameter is a flat
/// 400.
fn query_value(query: Option<&str>, name: &str) -> Result<Option<String>, BrokerError> {
    let mut found: Option<String> = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !decode_query_component(key).eq_ignore_ascii_case(name) {
            continue;
        }
        if found.is_some() {
            return Err(BrokerError::InvalidData {
                message: format!("The parameter '{name}' was given more than once."),
            });
        }
        found = Some(decode_query_component(value).into_owned());
    }
    Ok(found)
}

/// A required query parameter: absent is a flat 400. An empty value is accepted.
fn required_query_value(
    value: Result<Option<String>, BrokerError>,
    name: &str,
) -> Result<String, BrokerError> {
    value?.ok_or_else(|| BrokerError::InvalidData {
        message: format!("The query parameter '{name}' is required."),
    })
}

/// Decodes one `application/x-www-form-urlencoded` query component (`+` is a space).
fn decode_query_component(text: &str) -> Cow<'_, str> {
    if text.contains('+') {
        let spaced = text.replace('+', " ");
        Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
    } else {
        percent_decode_str(text).decode_utf8_lossy()
    }
}

/// Parses the session id segment; the real broker binds it to an `int`.
fn parse_session_id(text: &str) -> Result<i32, BrokerError> {
    text.parse().map_err(|_| BrokerError::InvalidData {
        message: format!("Session id '{text}' is not a valid number."),
    })
}

/// Builds the whole application: admin routes plus the broker fallback.
pub(crate) fn router(state: SharedState) -> Router {
    Router::new()
        .route("/_emulator/health", get(health))
        .route(
            "/_emulator/state",
            get(get_state)
                .put(put_state)
                .layer(DefaultBodyLimit::max(MAX_STATE_BODY)),
        )
        .route(
            "/_emulator/requests",
            get(get_requests).delete(clear_requests),
        )
        .route(
            "/_emulator/activity",
            get(get_activity).delete(clear_activity),
        )
        .route("/_emulator/latency", optional_setting::<LatencyConfig>())
        .route("/_emulator/settings", get(get_settings).put(put_settings))
        .route("/_emulator/faults", optional_setting::<FaultConfig>())
        .route("/_emulator/faults/stats", get(get_fault_stats))
        .route("/_emulator/generate", post(generate))
        .route("/_emulator/tokens", get(admin::tokens))
        .route(
            "/_emulator/devicecode/approve",
            post(admin::approve_device_code),
        )
        .route("/_emulator/devicecode/deny", post(admin::deny_device_code))
        // The emulated Entra ID and managed identity endpoints (logged like broker requests).
        .route("/{tenant}/oauth2/v2.0/token", post(token_endpoint::token))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(token_endpoint::device_code),
        )
        .route(
            "/metadata/identity/oauth2/token",
            get(managed_identity::imds),
        )
        .route(
            "/msi/token",
            get(managed_identity::app_service).post(managed_identity::app_service),
        )
        .route(
            "/devicelogin",
            get(admin::device_login_page).post(admin::device_login_submit),
        )
        // Everything else is a broker request, including unknown paths, so clients that build
        // a wrong URL see the broker's own 404 body and show up in the request log.
        .fallback(broker_request)
        .with_state(state)
}

/// Handles every non-admin request: wait out the injected latency, route, authorize, run, log.
async fn broker_request(State(state): State<SharedState>, request: Request) -> Response {
    // In flight from here until the response is produced, latency included.
    let _in_flight = state.enter_broker_request();
    if let Some(delay) = state.next_delay() {
        // The lock is not held while sleeping: other requests proceed meanwhile.
        tokio::time::sleep(delay).await;
    }
    let (parts, _body) = request.into_parts();
    // The body is ignored on purpose: the real broker accepts any body on its actions.
    let mut record = RequestRecord::new(
        parts.method.to_string(),
        parts.uri.path().to_owned(),
        parts.uri.query().map(str::to_owned),
    );
    let authentication = state.authenticate(&parts.headers);
    record.authorized = authentication.is_authorized();
    record.caller = authentication.caller();
    let reply = match dispatch(&state, &parts.method, &authentication, &mut record) {
        Ok(reply) => reply,
        Err(error) => Reply::Now(error.into_response()),
    };
    record.status = reply.status();
    // Recorded before an injected stall is waited out: a client that gives up meanwhile
    // cancels this handler, and the request must still show up.
    state.record(record);
    reply.send().await
}

/// What the broker handler answers.
#[derive(Debug)]
enum Reply {
    /// This response, at once.
    Now(Response),
    /// This response after a delay (an injected `stall`).
    After(Response, Duration),
    /// No response: the connection is closed (an injected `reset` or `appliedLost`).
    Abort,
}

impl Reply {
    /// The status to log; 0 when no response is sent.
    fn status(&self) -> u16 {
        match self {
            Self::Now(response) | Self::After(response, _) => response.status().as_u16(),
            Self::Abort => 0,
        }
    }

    async fn send(self) -> Response {
        match self {
            Self::Now(response) => response,
            Self::After(response, delay) => {
                tokio::time::sleep(delay).await;
                response
            }
            Self::Abort => Response::new(Body::new(AbortBody)),
        }
    }
}

/// A response body whose first read fails.
///
/// How the connection gets closed without a response: for HTTP/1.1, hyper buffers the status
/// line and headers, polls the body for its first chunk before flushing anything, gets the
/// error and drops the connection with the headers still unsent. The client sees the
/// connection closed (or reset) before any response: hyper's "connection closed before
/// message completed", .NET's `HttpRequestException`; a raw socket reads end-of-file with no
/// byte. Over HTTP/2 (only with prior knowledge: the emulator is plain HTTP) the stream is
/// reset with `INTERNAL_ERROR`; with hyper 1.12 that happens before the headers go out, but
/// an HTTP/2 client should be prepared to see the failure when reading the body instead.
#[derive(Debug)]
struct AbortBody;

impl HttpBody for AbortBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "injected fault: connection closed without a response",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        false
    }
}

/// The body of a `malformed` fault on a session action.
const GARBAGE_BODY: &str = "<html>oops";

/// A 500 with a body that is not JSON (`malformed` on a session action).
fn garbage_response() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        GARBAGE_BODY,
    )
        .into_response()
}

/// A 200 `application/json` response with `body`.
fn json_response(body: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Draws the fault of a request to `route` once it is known to be valid: `check` runs the
/// request's lookups and parameter checks (only when the route is covered, so requests
/// without fault injection do no extra work) and its error is answered as usual.
fn draw_fault(
    inner: &mut Inner,
    route: RouteId,
    check: impl FnOnce(&mut Seed) -> Result<(), BrokerError>,
) -> Result<Option<Fault>, BrokerError> {
    let route = route.fault_route();
    if !inner.faults_cover(route) {
        return Ok(None);
    }
    check(&mut inner.seed)?;
    Ok(inner.next_fault(route))
}

/// Whether a drawn fault stops the action from being applied.
fn blocks_action(fault: Option<Fault>) -> bool {
    fault.is_some_and(|fault| !fault.kind.applies_action())
}

/// The reply to a request that got `fault` (if any): `normal` is the response it would get
/// without one, `malformed` builds the response of a `malformed` fault.
fn fault_reply(
    fault: Option<Fault>,
    normal: Response,
    malformed: impl FnOnce() -> Response,
) -> Reply {
    let Some(fault) = fault else {
        return Reply::Now(normal);
    };
    match fault.kind {
        FaultKind::Throttle => Reply::Now(
            BrokerError::TooManyRequests {
                retry_after_seconds: fault.retry_after_seconds,
            }
            .into_response(),
        ),
        FaultKind::ServerError => Reply::Now(
            BrokerError::ServerError {
                status: StatusCode::from_u16(fault.server_status)
                    .unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            }
            .into_response(),
        ),
        FaultKind::Reset | FaultKind::AppliedLost => Reply::Abort,
        FaultKind::Stall => Reply::After(normal, fault.stall),
        FaultKind::Malformed => Reply::Now(malformed()),
    }
}

/// Routes one request and runs it. Fills in `record` with everything learned on the way,
/// even when the request fails, so the log shows what the client actually sent.
fn dispatch(
    state: &SharedState,
    method: &Method,
    authentication: &Authentication,
    record: &mut RequestRecord,
) -> Result<Reply, BrokerError> {
    let (route, params) = match match_route(method, &record.raw_path) {
        Ok(RouteMatch::Found(route, params)) => (route, params),
        Ok(RouteMatch::WrongMethod(route, params, allow)) => {
            record.route = route.name().to_owned();
            params.write_to(record);
            return Err(BrokerError::MethodNotAllowed { allow });
        }
        Ok(RouteMatch::NotFound) => {
            return Err(BrokerError::RouteNotFound {
                method: method.clone(),
                raw_path: record.raw_path.clone(),
            });
        }
        Err((route, decode_error)) => {
            record.route = route.name().to_owned();
            // Authentication still comes first: an anonymous caller learns nothing else.
            authentication.require()?;
            return Err(decode_error);
        }
    };
    record.route = route.name().to_owned();
    params.write_to(record);
    authentication.require()?;
    match route {
        RouteId::ListSessions => {
            let (body, fault) = state.with(|inner| {
                let sessions = broker::list_sessions(&mut inner.seed, params.pool_address())?;
                // Serialized while the lock is held because the views borrow from the state.
                let body = serde_json::to_vec(&sessions);
                Ok::<_, BrokerError>((body, inner.next_fault(FaultRoute::ListSessions)))
            })?;
            record.fault = fault.map(|fault| fault.kind);
            let body = match body {
                Ok(body) => body,
                // As axum's `Json` answers a value that does not serialize (cannot happen for
                // these plain views).
                Err(error) => {
                    return Ok(Reply::Now(
                        (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
                    ));
                }
            };
            let body = Bytes::from(body);
            // A proper prefix of a JSON array lacks its closing bracket: never valid JSON.
            let truncated = body.slice(..body.len() / 2);
            Ok(fault_reply(fault, json_response(body), || {
                json_response(truncated)
            }))
        }
        RouteId::LogoffUser => {
            let force = parse_force(record.query.as_deref());
            record.force = force.as_ref().ok().copied().flatten();
            let session_id_text = params.session_id.as_deref().unwrap_or_default();
            let request = LogoffRequest {
                pool: params.pool_address(),
                session_host: params.session_host.as_deref().unwrap_or_default(),
                session_id_text,
                session_id: parse_session_id(session_id_text),
                force: force.map(Option::unwrap_or_default),
            };
            let forced = record.force.unwrap_or_default();
            let target = params.session_target();
            let fault = state.with(|inner| {
                if let Some(target) = target {
                    inner.activity.count(target, Action::Logoff);
                }
                let fault = draw_fault(inner, route, |seed| broker::check_logoff(seed, &request))?;
                if blocks_action(fault) {
                    return Ok(fault);
                }
                broker::logoff_user(&mut inner.seed, request)?;
                if let Some(target) = target {
                    inner
                        .activity
                        .logged_off(target, forced, now_rfc3339_millis());
                }
                Ok::<_, BrokerError>(fault)
            })?;
            record.fault = fault.map(|fault| fault.kind);
            Ok(fault_reply(
                fault,
                StatusCode::OK.into_response(),
                garbage_response,
            ))
        }
        RouteId::DisconnectUser => {
            let request = params.session_request();
            let target = params.session_target();
            let fault = state.with(|inner| {
                if let Some(target) = target {
                    inner.activity.count(target, Action::Disconnect);
                }
                let fault = draw_fault(inner, route, |seed| {
                    broker::check_disconnect(seed, &request)
                })?;
                if blocks_action(fault) {
                    return Ok(fault);
                }
                broker::disconnect_user(&mut inner.seed, &request)?;
                if let Some(target) = target {
                    inner.activity.disconnected(target, now_rfc3339_millis());
                }
                Ok::<_, BrokerError>(fault)
            })?;
            record.fault = fault.map(|fault| fault.kind);
            Ok(fault_reply(
                fault,
                StatusCode::OK.into_response(),
                garbage_response,
            ))
        }
        RouteId::SendMessageUser => {
            let query = record.query.as_deref();
            let title = query_value(query, "MessageTitle");
            let body = query_value(query, "MessageBody");
            record.message_title = title.as_ref().ok().cloned().flatten();
            record.message_body = body.as_ref().ok().cloned().flatten();
            let request = params.session_request();
            let target = params.session_target();
            let fault = state.with(|inner| {
                if let Some(target) = target {
                    inner.activity.count(target, Action::Message);
                }
                let message = required_query_value(title, "MessageTitle").and_then(|title| {
                    Ok(SentMessage {
                        title,
                        body: required_query_value(body, "MessageBody")?,
                        sent_at: now_rfc3339_millis(),
                    })
                });
                let fault = draw_fault(inner, route, |seed| {
                    let parsed = message.as_ref().map(|_| ()).map_err(Clone::clone);
                    broker::check_send_message(seed, &request, parsed)
                })?;
                if blocks_action(fault) {
                    return Ok(fault);
                }
                let sent = message.as_ref().ok().cloned();
                broker::send_message_user(&mut inner.seed, &request, message)?;
                if let (Some(target), Some(sent)) = (target, sent) {
                    inner
                        .activity
                        .messaged(target, sent.title, sent.body, sent.sent_at);
                }
                Ok::<_, BrokerError>(fault)
            })?;
            record.fault = fault.map(|fault| fault.kind);
            Ok(fault_reply(
                fault,
                StatusCode::OK.into_response(),
                garbage_response,
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Admin routes: no authentication, never logged. For tests and demos only. The identity admin
// routes (`/_emulator/tokens`, `/_emulator/devicecode/*`) live in `identity::admin`.

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

async fn get_state(State(state): State<SharedState>) -> Json<Seed> {
    Json(state.snapshot())
}

async fn put_state(State(state): State<SharedState>, body: Bytes) -> Response {
    // Parsed by hand (not with the Json extractor) to accept any content type and to give
    // the serde error, with its line and column, back to whoever wrote the seed.
    let parsed = std::str::from_utf8(&body)
        .map_err(|e| format!("the body is not UTF-8: {e}"))
        .and_then(|text| Seed::from_json(text).map_err(|e| e.to_string()));
    match parsed {
        Ok(seed) => {
            state.replace(seed);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(reason) => admin_bad_request(
            "InvalidState",
            format!("The body is not a valid emulator state: {reason}"),
        ),
    }
}

async fn get_requests(State(state): State<SharedState>) -> Json<Vec<RequestRecord>> {
    Json(state.requests())
}

async fn clear_requests(State(state): State<SharedState>) -> Response<Body> {
    state.clear_requests();
    StatusCode::NO_CONTENT.into_response()
}

/// A 400 for an admin request body, in the nested shape `PUT /_emulator/state` uses.
fn admin_bad_request(code: &str, message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// Parses an admin JSON body (any content type); an empty body is `None`.
fn parse_admin_body<T: DeserializeOwned>(body: &[u8]) -> Result<Option<T>, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the body is not UTF-8: {e}"))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The body of every admin `PUT`/`POST` that takes JSON: parses it (see [`parse_admin_body`])
/// and hands the value to `apply`, or answers 400 with `code` and "The body is not a valid
/// `what`: <reason>".
fn apply_admin_body<T: DeserializeOwned>(
    body: &[u8],
    code: &str,
    what: &str,
    apply: impl FnOnce(Option<T>) -> Response,
) -> Response {
    match parse_admin_body::<T>(body) {
        Ok(value) => apply(value),
        Err(reason) => admin_bad_request(code, format!("The body is not a valid {what}: {reason}")),
    }
}

/// A setting that is either in force or absent, with `GET`, `PUT` and `DELETE` admin routes that
/// behave alike for every such setting (the latency and the fault injection).
trait OptionalSetting: Serialize + DeserializeOwned + Default + Clone + Send + 'static {
    /// The `error.code` of a 400 for an invalid body.
    const INVALID: &'static str;
    /// What the body should have been, for the 400's message.
    const WHAT: &'static str;
    fn get(state: &SharedState) -> Option<Self>;
    /// Stores the setting (`None`: removes it), restarting what depends on it.
    fn set(state: &SharedState, value: Option<Self>);
}

impl OptionalSetting for LatencyConfig {
    const INVALID: &'static str = "InvalidLatency";
    const WHAT: &'static str = "latency setting";

    fn get(state: &SharedState) -> Option<Self> {
        state.latency()
    }

    /// The jitter sequence restarts from its seed.
    fn set(state: &SharedState, value: Option<Self>) {
        state.set_latency(value);
    }
}

impl OptionalSetting for FaultConfig {
    const INVALID: &'static str = "InvalidFaults";
    const WHAT: &'static str = "fault configuration";

    fn get(state: &SharedState) -> Option<Self> {
        state.faults()
    }

    /// The fault counters are zeroed and the fault sequence restarts.
    fn set(state: &SharedState, value: Option<Self>) {
        state.set_faults(value);
    }
}

/// The routes of an [`OptionalSetting`]: `GET` answers the setting in force (its default when
/// there is none); `PUT` sets it, a `null` or empty body removing it, and answers like `GET`;
/// `DELETE` removes it (204).
fn optional_setting<T: OptionalSetting>() -> MethodRouter<SharedState> {
    get(get_setting::<T>)
        .put(put_setting::<T>)
        .delete(delete_setting::<T>)
}

async fn get_setting<T: OptionalSetting>(State(state): State<SharedState>) -> Json<T> {
    Json(T::get(&state).unwrap_or_default())
}

async fn put_setting<T: OptionalSetting>(
    State(state): State<SharedState>,
    body: Bytes,
) -> Response {
    apply_admin_body(&body, T::INVALID, T::WHAT, |value: Option<Option<T>>| {
        let value = value.flatten();
        T::set(&state, value.clone());
        Json(value.unwrap_or_default()).into_response()
    })
}

async fn delete_setting<T: OptionalSetting>(State(state): State<SharedState>) -> Response {
    T::set(&state, None);
    StatusCode::NO_CONTENT.into_response()
}

async fn get_activity(State(state): State<SharedState>) -> Json<Activity> {
    Json(state.activity())
}

async fn clear_activity(State(state): State<SharedState>) -> Response {
    state.clear_activity();
    StatusCode::NO_CONTENT.into_response()
}

async fn get_settings(State(state): State<SharedState>) -> Json<EmulatorSettings> {
    Json(state.settings())
}

/// Updates the named settings only. Answers with all settings.
async fn put_settings(State(state): State<SharedState>, body: Bytes) -> Response {
    apply_admin_body(
        &body,
        "InvalidSettings",
        "settings update",
        |update: Option<SettingsUpdate>| {
            Json(state.update_settings(update.unwrap_or_default())).into_response()
        },
    )
}

async fn get_fault_stats(State(state): State<SharedState>) -> Json<FaultStats> {
    Json(state.fault_stats())
}

/// Adds or replaces a generated host pool; an empty body uses every default.
async fn generate(State(state): State<SharedState>, body: Bytes) -> Response {
    apply_admin_body(
        &body,
        "InvalidGenerateSpec",
        "generate request",
        |spec: Option<GenerateSpec>| match state.generate(&spec.unwrap_or_default()) {
            Ok(summary) => Json(summary).into_response(),
            Err(error) => admin_bad_request(
                "InvalidGenerateSpec",
                format!("The generate request cannot be applied: {error}"),
            ),
        },
    )
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

    #[test]
    fn force_parsing() {
        assert_eq!(parse_force(None), Ok(None));
        assert_eq!(parse_force(Some("")), Ok(None));
        assert_eq!(parse_force(Some("force=true")), Ok(Some(true)));
        assert_eq!(parse_force(Some("Force=TRUE")), Ok(Some(true)));
        assert_eq!(parse_force(Some("x=1&force=False")), Ok(Some(false)));
        assert_eq!(parse_force(Some("forceful=yes")), Ok(None));
        assert!(parse_force(Some("force=yes")).is_err());
        assert!(parse_force(Some("force=")).is_err());
        assert!(parse_force(Some("force")).is_err());
        assert!(parse_force(Some("force=true&force=true")).is_err());
    }

    #[test]
    fn query_values_are_decoded_and_must_not_repeat() {
        let query = Some("messagetitle=a%26b+c&MessageBody=%E2%9C%93%25%2B&x=1");
        assert_eq!(
            query_value(query, "MessageTitle"),
            Ok(Some("a&b c".to_owned()))
        );
        assert_eq!(
            query_value(query, "MessageBody"),
            Ok(Some("\u{2713}%+".to_owned()))
        );
        assert_eq!(query_value(query, "Missing"), Ok(None));
        assert_eq!(
            query_value(Some("MessageTitle="), "MessageTitle"),
            Ok(Some(String::new()))
        );
        assert!(query_value(Some("MessageTitle=a&messageTitle=b"), "MessageTitle").is_err());
        assert_eq!(
            required_query_value(Ok(None), "MessageBody"),
            Err(BrokerError::InvalidData {
                message: "The query parameter 'MessageBody' is required.".into()
            })
        );
    }

    #[test]
    fn session_id_must_be_an_i32() {
        assert_eq!(parse_session_id("17"), Ok(17));
        assert_eq!(parse_session_id("-3"), Ok(-3));
        assert_eq!(
            parse_session_id("abc"),
            Err(BrokerError::InvalidData {
                message: "Session id 'abc' is not a valid number.".into()
            })
        );
        assert!(parse_session_id("2147483648").is_err());
    }
}
