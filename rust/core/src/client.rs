//! The broker client: one method per broker operation, one HTTP exchange each.
//!
//! The client does not own a runtime or a connection pool: it is built on a caller-supplied
//! `reqwest::Client` (the FFI layer shares one per process), which keeps this crate usable
//! from any tokio runtime, including tests that start their own.

use crate::auth::TokenSource;
use crate::error::{ApiError, BrokerObject, Error, ErrorKind};
use crate::model::{SessionTarget, UserSession};
use crate::retry::{Jitter, RetryPolicy, parse_retry_after};
use crate::route::{DEFAULT_TENANT_GROUP, DeploymentUrl, Name, PathPart};
use crate::wire::parse_error_body;
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Default per-request timeout. Generous because a broker under load answers slowly and a
/// spurious timeout on a logoff leaves the admin unsure whether it happened.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Body sent with action POSTs. The broker ignores it, but observed clients always send a
/// JSON body with `Content-Type: application/json`; whether an empty body is accepted is
/// UNCONFIRMED (rds-api.md §1.4), so send the safe `{}`.
const ACTION_BODY: &str = "{}";

/// Options of [`BrokerClient::logoff`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogoffOptions {
    /// Send `force=true`: the broker removes the session record even when it cannot reach
    /// the session host.
    pub force: bool,
}

/// What a successful session action (logoff, disconnect, message) returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoffOutcome {
    /// 200 or 204 (the broker's choice is UNCONFIRMED; both mean done).
    pub status: u16,
    /// The `x-ms-correlation-id` sent with the (last) request.
    pub correlation_id: String,
    /// How many requests were sent (1 = no retry).
    pub attempts: u32,
    /// One line per retry ("throttled (HTTP 429); retried after 2.0 s") and per other notable
    /// event, for verbose output.
    pub notes: Vec<String>,
}

/// Outcome of any session action; same shape as a logoff's.
pub type ActionOutcome = LogoffOutcome;

/// Longest message title accepted (the broker's limit is UNCONFIRMED; titles are one line).
pub const MAX_MESSAGE_TITLE_CHARS: usize = 1024;
/// Longest message body accepted (the broker's limit is UNCONFIRMED; it travels in the query).
pub const MAX_MESSAGE_BODY_CHARS: usize = 16 * 1024;

/// An action on one user session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionAction {
    /// `actions/logoff-user[?force=true]`.
    Logoff { force: bool },
    /// `actions/disconnect-user`: the session stays, the user is disconnected.
    Disconnect,
    /// `actions/send-message-user?MessageTitle=..&MessageBody=..`.
    SendMessage { title: String, body: String },
}

impl SessionAction {
    fn route_word(&self) -> &'static str {
        match self {
            SessionAction::Logoff { .. } => "logoff-user",
            SessionAction::Disconnect => "disconnect-user",
            SessionAction::SendMessage { .. } => "send-message-user",
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            SessionAction::Logoff { .. } => "log off",
            SessionAction::Disconnect => "disconnect",
            SessionAction::SendMessage { .. } => "send a message to",
        }
    }

    fn validate(&self) -> Result<(), Error> {
        if let SessionAction::SendMessage { title, body } = self {
            check_text("MessageTitle", title, MAX_MESSAGE_TITLE_CHARS, false)?;
            check_text("MessageBody", body, MAX_MESSAGE_BODY_CHARS, true)?;
        }
        Ok(())
    }
}

/// Message text: not empty, bounded, and free of control characters other than line breaks
/// and tabs in the body (a multi-line message is normal; a NUL is not).
fn check_text(what: &str, text: &str, max: usize, multiline: bool) -> Result<(), Error> {
    if text.trim().is_empty() {
        return Err(Error::invalid_input(
            what,
            "the value is empty or only white space",
        ));
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(Error::invalid_input(
            what,
            format!("the value is {chars} characters long; the limit is {max}"),
        ));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if let Some(c) = text.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Err(Error::invalid_input(
            what,
            format!(
                "the value contains the control character U+{:04X}",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// Builder for [`BrokerClient`].
#[derive(Debug)]
pub struct BrokerClientBuilder {
    deployment_url: String,
    tokens: Arc<dyn TokenSource>,
    tenant_group: String,
    http: Option<reqwest::Client>,
    request_timeout: Duration,
    retry: RetryPolicy,
}

impl BrokerClientBuilder {
    /// How transient failures are retried (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The tenant group used in every route (default `Default Tenant Group`).
    pub fn tenant_group(mut self, tenant_group: impl Into<String>) -> Self {
        self.tenant_group = tenant_group.into();
        self
    }

    /// The HTTP client (and so the connection pool) to use. Default: a new one.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Per-request timeout (default [`DEFAULT_REQUEST_TIMEOUT`]).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Validates the URL and tenant group and builds the client.
    pub fn build(self) -> Result<BrokerClient, Error> {
        let base = DeploymentUrl::parse(&self.deployment_url)?;
        let tenant_group = Name::new("TenantGroupName", &self.tenant_group)?;
        self.retry.validate()?;
        validate_request_timeout(self.request_timeout)?;
        let http = match self.http {
            Some(http) => http,
            None => default_http_client()?,
        };
        Ok(BrokerClient {
            http,
            base,
            tenant_group,
            tokens: self.tokens,
            request_timeout: self.request_timeout,
            retry: self.retry,
            in_flight: None,
            retry_observer: None,
        })
    }
}

/// Told about each retry as it starts waiting ("Contoso/Pool1/sh1/17: throttled (HTTP 429);
/// retrying in 2.0 s"), so a caller can show it live rather than when the request ends.
pub type RetryObserver = Arc<dyn Fn(&str) + Send + Sync>;

/// The longest per-request timeout a client accepts (one hour).
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);

fn validate_request_timeout(timeout: Duration) -> Result<(), Error> {
    if timeout.is_zero() || timeout > MAX_REQUEST_TIMEOUT {
        return Err(Error::invalid_input(
            "TimeoutSec",
            format!(
                "{timeout:?} is outside the range from above zero to {} s",
                MAX_REQUEST_TIMEOUT.as_secs()
            ),
        ));
    }
    Ok(())
}

/// A `reqwest::Client` with this project's defaults (user agent, connect timeout, rustls).
pub fn default_http_client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .user_agent(concat!("RdsSessions/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        // Never follow redirects: a redirect would carry the bearer token to another origin.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::Network,
                format!("Could not create the HTTP client: {e}"),
            )
            .with_source(e)
        })
}

/// A client for one deployment URL, tenant group and token source.
#[derive(Clone)]
pub struct BrokerClient {
    http: reqwest::Client,
    base: DeploymentUrl,
    tenant_group: Name,
    tokens: Arc<dyn TokenSource>,
    request_timeout: Duration,
    retry: RetryPolicy,
    /// When set, at most this many requests of this client (and its clones) are in flight;
    /// the rest wait for a permit before anything is sent.
    in_flight: Option<Arc<Semaphore>>,
    /// When set, each retry is reported here as it starts waiting, and not in the request's
    /// own notes (it has been told already).
    retry_observer: Option<RetryObserver>,
}

impl std::fmt::Debug for BrokerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerClient")
            .field("base", &self.base)
            .field("tenant_group", &self.tenant_group)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("in_flight", &self.in_flight)
            .field("retry_observer", &self.retry_observer.is_some())
            .finish_non_exhaustive()
    }
}

impl BrokerClient {
    /// Starts building a client for `deployment_url` that authenticates with `tokens`.
    pub fn builder(
        deployment_url: impl Into<String>,
        tokens: Arc<dyn TokenSource>,
    ) -> BrokerClientBuilder {
        BrokerClientBuilder {
            deployment_url: deployment_url.into(),
            tokens,
            tenant_group: DEFAULT_TENANT_GROUP.to_owned(),
            http: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }

    pub fn deployment_url(&self) -> &DeploymentUrl {
        &self.base
    }

    pub fn tenant_group(&self) -> &str {
        self.tenant_group.as_str()
    }

    /// How this client retries transient failures.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The timeout of one request (each attempt has its own).
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The same client (pool, tokens, tenant group) with other retry settings
    /// (`Add-RdsAccount`/`Set-RdsContext -MaximumRetryCount -RetryIntervalSec -RetryTimeoutSec
    /// -TimeoutSec`). Validated here so every caller gets the same limits.
    pub fn with_retry_settings(
        &self,
        retry: RetryPolicy,
        request_timeout: Duration,
    ) -> Result<BrokerClient, Error> {
        retry.validate()?;
        validate_request_timeout(request_timeout)?;
        let mut copy = self.clone();
        copy.retry = retry;
        copy.request_timeout = request_timeout;
        Ok(copy)
    }

    /// The same client, reporting each retry to `observer` as it starts waiting (a pipeline's
    /// live verbose records) instead of in the finished request's notes.
    pub fn with_retry_observer(&self, observer: RetryObserver) -> BrokerClient {
        let mut copy = self.clone();
        copy.retry_observer = Some(observer);
        copy
    }

    /// The same client (same pool and tokens) for another tenant group (`Set-RdsContext`).
    pub fn with_tenant_group(&self, tenant_group: &str) -> Result<BrokerClient, Error> {
        let mut copy = self.clone();
        copy.tenant_group = Name::new("TenantGroupName", tenant_group)?;
        Ok(copy)
    }

    /// The same client (pool, tokens, tenant group) with at most `limit` requests in flight at
    /// once across all its clones: a pipeline's `-ThrottleLimit`. Requests beyond it wait,
    /// unsent, and are dropped unsent when cancelled.
    pub fn with_concurrency_limit(&self, limit: usize) -> Result<BrokerClient, Error> {
        if limit == 0 {
            return Err(Error::invalid_input(
                "ThrottleLimit",
                "it must be at least 1",
            ));
        }
        let mut copy = self.clone();
        copy.in_flight = Some(Arc::new(Semaphore::new(limit)));
        Ok(copy)
    }

    /// Performs `action` on one session:
    /// `POST .../Tenants/{t}/HostPools/{hp}/SessionHosts/{sh}/Sessions/{id}/actions/{action}`.
    pub async fn session_action(
        &self,
        target: &SessionTarget,
        action: &SessionAction,
    ) -> Result<ActionOutcome, Error> {
        let names = TargetNames::validate(target)?;
        action.validate()?;
        let session_id = Name::new("SessionId", &target.session_id.to_string())?;
        let mut url = self.base.join(&[
            PathPart::Literal("TenantGroups"),
            PathPart::Name(&self.tenant_group),
            PathPart::Literal("Tenants"),
            PathPart::Name(&names.tenant),
            PathPart::Literal("HostPools"),
            PathPart::Name(&names.host_pool),
            PathPart::Literal("SessionHosts"),
            PathPart::Name(&names.session_host),
            PathPart::Literal("Sessions"),
            PathPart::Name(&session_id),
            PathPart::Literal("actions"),
            PathPart::Literal(action.route_word()),
        ]);
        match action {
            // Lowercase `true`: the literal the broker expects is UNCONFIRMED (rds-api.md §1.3);
            // lowercase matches .NET Uri formatting used by the client the route was taken from.
            SessionAction::Logoff { force: true } => {
                url.query_pairs_mut().append_pair("force", "true");
            }
            // Title and body travel URL-encoded in the query (rds-api.md §1.3).
            SessionAction::SendMessage { title, body } => {
                url.query_pairs_mut()
                    .append_pair("MessageTitle", title)
                    .append_pair("MessageBody", body);
            }
            _ => {}
        }
        let context = Context {
            operation: format!(
                "Could not {} session {} on session host '{}' (tenant '{}', host pool '{}')",
                action.describe(),
                target.session_id,
                target.session_host,
                target.tenant,
                target.host_pool
            ),
            target: Some(target),
        };
        match self.exchange(Method::POST, url, &context).await {
            Ok(done) => Ok(LogoffOutcome {
                status: done.status.as_u16(),
                correlation_id: done.correlation_id,
                attempts: done.attempts,
                notes: done.notes,
            }),
            // Idempotency: a logoff whose answer was lost and that finds the session gone on
            // the retry did log it off. A 404 on the first attempt is still an error.
            Err(e)
                if matches!(action, SessionAction::Logoff { .. })
                    && e.attempts() > 1
                    && e.kind() == ErrorKind::NotFound
                    && e.not_found() == BrokerObject::Session =>
            {
                let correlation_id = e
                    .api()
                    .and_then(|a| a.correlation_id.clone())
                    .unwrap_or_default();
                Ok(LogoffOutcome {
                    status: 404,
                    correlation_id,
                    attempts: e.attempts(),
                    notes: vec![format!(
                        "session {} was gone when the logoff was retried (the earlier answer was lost); counted as logged off",
                        target.session_id
                    )],
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Logs a user session off:
    /// `POST .../SessionHosts/{sh}/Sessions/{id}/actions/logoff-user[?force=true]`.
    pub async fn logoff(
        &self,
        target: &SessionTarget,
        options: LogoffOptions,
    ) -> Result<LogoffOutcome, Error> {
        self.session_action(
            target,
            &SessionAction::Logoff {
                force: options.force,
            },
        )
        .await
    }

    /// Disconnects a user session (`.../actions/disconnect-user`).
    pub async fn disconnect(&self, target: &SessionTarget) -> Result<ActionOutcome, Error> {
        self.session_action(target, &SessionAction::Disconnect)
            .await
    }

    /// Shows a message in a user session (`.../actions/send-message-user`).
    pub async fn send_message(
        &self,
        target: &SessionTarget,
        title: &str,
        body: &str,
    ) -> Result<ActionOutcome, Error> {
        let action = SessionAction::SendMessage {
            title: title.to_owned(),
            body: body.to_owned(),
        };
        self.session_action(target, &action).await
    }

    /// Lists the sessions of a host pool: `GET .../Tenants/{t}/HostPools/{hp}/Sessions`
    /// (a bare JSON array).
    pub async fn list_sessions(
        &self,
        tenant: &str,
        host_pool: &str,
    ) -> Result<Vec<UserSession>, Error> {
        let tenant_name = Name::new("TenantName", tenant)?;
        let host_pool_name = Name::new("HostPoolName", host_pool)?;
        let url = self.base.join(&[
            PathPart::Literal("TenantGroups"),
            PathPart::Name(&self.tenant_group),
            PathPart::Literal("Tenants"),
            PathPart::Name(&tenant_name),
            PathPart::Literal("HostPools"),
            PathPart::Name(&host_pool_name),
            PathPart::Literal("Sessions"),
        ]);
        let context = Context {
            operation: format!(
                "Could not list the sessions of host pool '{host_pool}' (tenant '{tenant}')"
            ),
            target: None,
        };
        let done = self.exchange(Method::GET, url, &context).await?;
        let (correlation_id, body) = (done.correlation_id, done.body);
        serde_json::from_slice::<Vec<UserSession>>(&body).map_err(|e| {
            Error::new(
                ErrorKind::Protocol,
                format!(
                    "{}: the broker's answer is not a JSON array of sessions ({e}). Correlation id: {correlation_id}.",
                    context.operation
                ),
            )
            .with_source(e)
        })
    }

    /// Sends a request, retrying transient failures per the [`RetryPolicy`], and returns the
    /// 2xx answer; anything else becomes a classified [`Error`] that knows its attempt count.
    async fn exchange(
        &self,
        method: Method,
        url: url::Url,
        context: &Context<'_>,
    ) -> Result<Exchange, Error> {
        // Held across retries and until the answer is read: the limit counts requests the
        // broker is working on, and a throttled pipeline backs off as a whole.
        let _permit = match &self.in_flight {
            Some(semaphore) => Some(semaphore.clone().acquire_owned().await.map_err(|_| {
                Error::new(
                    ErrorKind::Cancelled,
                    format!("{}: the pipeline was closed", context.operation),
                )
            })?),
            None => None,
        };
        let started = std::time::Instant::now();
        let mut jitter = Jitter::new();
        let mut notes = Vec::new();
        let mut attempt: u32 = 0;
        loop {
            let failure = match self.attempt(method.clone(), url.clone(), context).await {
                Ok((status, correlation_id, body)) => {
                    return Ok(Exchange {
                        status,
                        correlation_id,
                        body,
                        attempts: attempt + 1,
                        notes,
                    });
                }
                Err(failure) => failure,
            };
            let attempts = attempt + 1;
            if !failure.retryable || attempt >= self.retry.max_retries {
                return Err(failure.error.with_attempts(attempts));
            }
            let delay = self
                .retry
                .delay(attempt, failure.retry_after, jitter.next());
            if started.elapsed() + delay > self.retry.total_deadline {
                return Err(failure.error.with_attempts(attempts));
            }
            match &self.retry_observer {
                Some(observer) => {
                    let subject = match context.target {
                        Some(target) => target.to_string(),
                        None => context.operation.clone(),
                    };
                    observer(&format!(
                        "{subject}: {}; retrying in {:.1} s (retry {} of at most {})",
                        failure.reason,
                        delay.as_secs_f64(),
                        attempts,
                        self.retry.max_retries
                    ));
                }
                None => notes.push(format!(
                    "{}; retried after {:.1} s",
                    failure.reason,
                    delay.as_secs_f64()
                )),
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One request.
    async fn attempt(
        &self,
        method: Method,
        url: url::Url,
        context: &Context<'_>,
    ) -> Result<(StatusCode, String, Vec<u8>), Attempt> {
        let token = self.tokens.token().await.map_err(Attempt::fatal)?;
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let is_post = method == Method::POST;
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(token.expose())
            .header(ACCEPT, "application/json")
            .header("x-ms-correlation-id", &correlation_id)
            .timeout(self.request_timeout);
        if is_post {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(ACTION_BODY);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Attempt::transport(e, context, &self.base))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
        let body = response
            .bytes()
            .await
            .map_err(|e| Attempt::transport(e, context, &self.base))?;
        if status.is_success() {
            return Ok((status, correlation_id, body.to_vec()));
        }
        let parsed = parse_error_body(&body);
        let api = ApiError {
            status: status.as_u16(),
            code: parsed.code,
            message: parsed.message,
            target: parsed.target,
            retry_after_secs: retry_after.map(|d| d.as_secs()),
            correlation_id: Some(correlation_id),
        };
        let retryable = RetryPolicy::is_retryable_status(status.as_u16());
        let reason = if status.as_u16() == 429 {
            "throttled (HTTP 429)".to_owned()
        } else {
            format!("the broker answered HTTP {}", status.as_u16())
        };
        Err(Attempt {
            error: http_error(api, context),
            retryable,
            retry_after,
            reason,
        })
    }
}

/// A 2xx answer and how it was obtained.
struct Exchange {
    status: StatusCode,
    correlation_id: String,
    body: Vec<u8>,
    attempts: u32,
    notes: Vec<String>,
}

/// A failed attempt: the error if it is the last, and whether another attempt may help.
struct Attempt {
    error: Error,
    retryable: bool,
    retry_after: Option<Duration>,
    reason: String,
}

impl Attempt {
    fn fatal(error: Error) -> Attempt {
        Attempt {
            error,
            retryable: false,
            retry_after: None,
            reason: String::new(),
        }
    }

    /// Connection failures, resets and timeouts are retried: the request may not have reached
    /// the broker, and for logoff a retry that finds the session gone counts as done.
    fn transport(e: reqwest::Error, context: &Context<'_>, base: &DeploymentUrl) -> Attempt {
        let reason = if e.is_timeout() {
            "no answer in time".to_owned()
        } else {
            format!("the connection failed ({})", root_cause(&e))
        };
        let retryable = !e.is_builder() && !e.is_redirect();
        Attempt {
            error: transport_error(e, context, base),
            retryable,
            retry_after: None,
            reason,
        }
    }
}

/// Validated names of a [`SessionTarget`].
struct TargetNames {
    tenant: Name,
    host_pool: Name,
    session_host: Name,
}

impl TargetNames {
    fn validate(target: &SessionTarget) -> Result<TargetNames, Error> {
        if target.session_id < 0 {
            return Err(Error::invalid_input(
                "SessionId",
                format!(
                    "{} is negative; session ids are 0 or greater",
                    target.session_id
                ),
            ));
        }
        Ok(TargetNames {
            tenant: Name::new("TenantName", &target.tenant)?,
            host_pool: Name::new("HostPoolName", &target.host_pool)?,
            session_host: Name::new("SessionHostName", &target.session_host)?,
        })
    }
}

/// What the caller was doing, to build messages that stand on their own.
struct Context<'a> {
    operation: String,
    target: Option<&'a SessionTarget>,
}

fn transport_error(e: reqwest::Error, context: &Context<'_>, base: &DeploymentUrl) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    let cause = root_cause(&e);
    let message = if kind == ErrorKind::Timeout {
        format!(
            "{}: the broker at {base} did not answer in time ({cause}).",
            context.operation
        )
    } else {
        format!(
            "{}: the broker at {base} could not be reached ({cause}).",
            context.operation
        )
    };
    Error::new(kind, message).with_source(e)
}

/// The innermost error message: reqwest's own text repeats the URL and hides the reason.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn http_error(api: ApiError, context: &Context<'_>) -> Error {
    let status = api.status;
    let (kind, not_found) = match status {
        400 | 405 | 411 | 413 | 414 | 415 | 422 => (ErrorKind::BadRequest, BrokerObject::Unknown),
        401 => (ErrorKind::Unauthorized, BrokerObject::Unknown),
        403 => (ErrorKind::Forbidden, BrokerObject::Unknown),
        404 => (
            ErrorKind::NotFound,
            BrokerObject::from_broker_error(api.code.as_deref(), api.message.as_deref()),
        ),
        408 => (ErrorKind::Timeout, BrokerObject::Unknown),
        409 => (ErrorKind::Conflict, BrokerObject::Unknown),
        429 => (ErrorKind::Throttled, BrokerObject::Unknown),
        500..=599 => (ErrorKind::ServerError, BrokerObject::Unknown),
        _ => (ErrorKind::BadRequest, BrokerObject::Unknown),
    };
    let explanation = match (&api.message, kind) {
        (Some(m), _) => m.clone(),
        (None, ErrorKind::NotFound) => not_found_text(not_found, context.target),
        (None, ErrorKind::Unauthorized) => {
            "the broker rejected the access token (missing, expired, or issued for another audience); run Add-RdsAccount again".to_owned()
        }
        (None, ErrorKind::Forbidden) => {
            "the signed-in identity has no RDS role that allows this (see New-RdsRoleAssignment)".to_owned()
        }
        (None, ErrorKind::Throttled) => "the broker is throttling requests; try again later".to_owned(),
        (None, ErrorKind::ServerError) => "the broker failed to process the request".to_owned(),
        (None, ErrorKind::Conflict) => "the request conflicts with the current state of the session".to_owned(),
        (None, _) => "the broker rejected the request".to_owned(),
    };
    let mut facts = format!("HTTP {status}");
    if let Some(code) = &api.code {
        facts.push_str(", ");
        facts.push_str(code);
    }
    if let Some(secs) = api.retry_after_secs {
        facts.push_str(&format!(", retry after {secs} s"));
    }
    if let Some(id) = &api.correlation_id {
        facts.push_str(", correlation id ");
        facts.push_str(id);
    }
    let message = format!(
        "{}: {} [{facts}]",
        context.operation,
        explanation.trim_end_matches('.')
    );
    Error::new(kind, message).with_api(api, not_found)
}

fn not_found_text(object: BrokerObject, target: Option<&SessionTarget>) -> String {
    match (object, target) {
        (BrokerObject::Tenant, Some(t)) => format!("tenant '{}' does not exist", t.tenant),
        (BrokerObject::HostPool, Some(t)) => format!("host pool '{}' does not exist", t.host_pool),
        (BrokerObject::SessionHost, Some(t)) => {
            format!("session host '{}' does not exist", t.session_host)
        }
        (BrokerObject::Session, Some(t)) => format!(
            "session {} does not exist (already logged off?)",
            t.session_id
        ),
        (object, _) => format!("the {} does not exist", object.as_str()),
    }
}
