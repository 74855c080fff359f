//! The client: its builder, its settings, and one method per operation.
//!
//! Each operation asks the [`Backend`] for the request, runs it through the [`RetryPolicy`]'s
//! loop over the [`Transport`], and asks the backend what the answer means. The client does not
//! own a runtime or a connection pool: it is built on a caller-supplied `reqwest::Client` (the
//! FFI layer shares one per process), so it works on any tokio runtime, including tests' own.

use crate::auth::TokenSource;
use crate::backend::arm::Arm;
use crate::backend::arm::mapping::ArmMapping;
use crate::backend::classic::Classic;
use crate::backend::{Backend, Operation, SessionAction};
use crate::error::{Error, ErrorCode, ErrorKind, shown, shown_url};
use crate::model::{HostPool, SessionHost, SessionTarget, Tenant, UserSession};
use crate::pacing::{OperationClass, Pacer, subscription_of};
use crate::retry::{AttemptFailure, Clock, RetryNotice, RetryPolicy, SystemClock};
use crate::route::{DEFAULT_TENANT_GROUP, DeploymentUrl, Name};
use crate::transport::{Answer, Failure, Outcome, Request, Transport};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Default per-request timeout. Generous because a broker under load answers slowly and a
/// spurious timeout on a logoff leaves the admin unsure whether it happened.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest per-request timeout a client accepts (one hour).
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);

/// Options of [`BrokerClient::logoff`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogoffOptions {
    /// Send `force=true`: the broker removes the session record even when it cannot reach
    /// the session host.
    pub force: bool,
}

/// What a successful session action (logoff, disconnect, message) returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionOutcome {
    /// The HTTP status of the answer that settled it (200/204; 404 when a logoff retried
    /// after an unknown outcome found the session gone).
    pub status: u16,
    /// The `x-ms-correlation-id` sent with the (last) request.
    pub correlation_id: String,
    /// How many requests were sent (1 = no retry).
    pub attempts: u32,
    /// What only the end of the request can tell (retries without an observer, a logoff
    /// counted as done), one line each, for verbose output.
    pub notes: Vec<String>,
}

/// A list and what only the listing could tell (for verbose output): an api-version
/// fallback, a host pool found by discovery, items that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub notes: Vec<String>,
}

/// Told about each retry as it starts waiting ("Contoso/Pool1/sh1/17: throttled (HTTP 429);
/// retrying in 2.0 s"), so a caller can show it live rather than when the request ends.
pub type RetryObserver = Arc<dyn Fn(&str) + Send + Sync>;

/// Builder for [`BrokerClient`].
#[derive(Debug)]
pub struct BrokerClientBuilder {
    deployment_url: String,
    tokens: Arc<dyn TokenSource>,
    tenant_group: String,
    http: Option<reqwest::Client>,
    request_timeout: Duration,
    retry: RetryPolicy,
    arm: Option<ArmTarget>,
    pacing: bool,
}

/// Where an ARM client sends requests, and how classic names map to ARM resources.
#[derive(Clone, Debug)]
struct ArmTarget {
    /// The Resource Manager endpoint; `None`: the deployment URL itself.
    endpoint: Option<String>,
    mapping: Arc<ArmMapping>,
}

impl BrokerClientBuilder {
    /// Talks Azure Resource Manager (`Microsoft.DesktopVirtualization`) instead of a classic
    /// broker: the deployment URL is the ARM endpoint, and `mapping` places classic names.
    pub fn arm(mut self, mapping: ArmMapping) -> Self {
        self.arm = Some(ArmTarget {
            endpoint: None,
            mapping: Arc::new(mapping),
        });
        self
    }

    /// Whether an ARM client paces its requests to ARM's token buckets (default on; a
    /// classic client never paces).
    pub fn pacing(mut self, enabled: bool) -> Self {
        self.pacing = enabled;
        self
    }

    /// Like [`BrokerClientBuilder::arm`], for a classic deployment URL routed to `endpoint`
    /// (the context keeps showing the URL the script gave).
    pub(crate) fn arm_routed(mut self, endpoint: String, mapping: Arc<ArmMapping>) -> Self {
        self.arm = Some(ArmTarget {
            endpoint: Some(endpoint),
            mapping,
        });
        self
    }

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

    /// Validates the URL, tenant group and settings, and builds the client.
    pub fn build(self) -> Result<BrokerClient, Error> {
        let base = DeploymentUrl::parse(&self.deployment_url)?;
        let tenant_group = Name::new("TenantGroupName", &self.tenant_group)?;
        self.retry.validate()?;
        validate_request_timeout(self.request_timeout)?;
        let http = match self.http {
            Some(http) => http,
            None => default_http_client()?,
        };
        let (backend, service) = match self.arm {
            None => {
                let service = format!("the broker at {}", shown_url(base.as_str()));
                (Backend::Classic(Classic { base, tenant_group }), service)
            }
            Some(arm) => {
                let endpoint = match &arm.endpoint {
                    Some(endpoint) => DeploymentUrl::parse(endpoint)?,
                    None => base.clone(),
                };
                let service = format!("Azure Resource Manager at {}", shown_url(endpoint.as_str()));
                (
                    Backend::Arm(Arm::new(base, endpoint, tenant_group, arm.mapping)),
                    service,
                )
            }
        };
        let transport = Transport {
            http,
            tokens: self.tokens,
            request_timeout: self.request_timeout,
            service,
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let pacer = (self.pacing && matches!(backend, Backend::Arm(_)))
            .then(|| Arc::new(Pacer::new(clock.clone())));
        Ok(BrokerClient {
            transport,
            backend,
            pacer,
            retry: self.retry,
            clock,
            in_flight: None,
            retry_observer: None,
        })
    }
}

pub(crate) fn validate_request_timeout(timeout: Duration) -> Result<(), Error> {
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

/// A `reqwest::Client` with this project's defaults (user agent, connect timeout, rustls, no
/// redirects).
pub fn default_http_client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .user_agent(concat!("RdsSessions/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        // Never follow redirects: a redirect would carry the bearer token to another origin.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            Error::new(
                ErrorCode::NativeLibraryError,
                format!(
                    "Could not create the HTTP client: {}",
                    crate::error::root_cause(&e)
                ),
            )
            .with_source(e)
        })
}

/// A client for one deployment, tenant group and token source.
#[derive(Clone)]
pub struct BrokerClient {
    transport: Transport,
    backend: Backend,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    /// ARM's token buckets as this principal sees them; shared by every clone (one principal).
    pacer: Option<Arc<Pacer>>,
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
            .field("backend", &self.backend)
            .field("transport", &self.transport)
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
            arm: None,
            pacing: true,
        }
    }

    /// The deployment URL as given (for a classic URL routed to ARM, the classic one).
    pub fn deployment_url(&self) -> &DeploymentUrl {
        match &self.backend {
            Backend::Classic(classic) => &classic.base,
            Backend::Arm(arm) => &arm.deployment_url,
        }
    }

    pub fn tenant_group(&self) -> &str {
        match &self.backend {
            Backend::Classic(classic) => classic.tenant_group.as_str(),
            Backend::Arm(arm) => arm.tenant_group.as_str(),
        }
    }

    /// The Azure Resource Manager endpoint, when this client talks ARM.
    pub fn arm_endpoint(&self) -> Option<&DeploymentUrl> {
        match &self.backend {
            Backend::Classic(_) => None,
            Backend::Arm(arm) => Some(&arm.endpoint),
        }
    }

    /// The ARM api-version in use (after a fallback, the fallback), when this client talks ARM.
    pub fn arm_api_version(&self) -> Option<String> {
        match &self.backend {
            Backend::Classic(_) => None,
            Backend::Arm(arm) => Some(arm.api_version()),
        }
    }

    /// How this client retries transient failures.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The timeout of one request (each attempt has its own).
    pub fn request_timeout(&self) -> Duration {
        self.transport.request_timeout
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
        copy.transport.request_timeout = request_timeout;
        Ok(copy)
    }

    /// The same client, reporting each retry to `observer` as it starts waiting (a pipeline's
    /// live verbose records) instead of in the finished request's notes.
    pub fn with_retry_observer(&self, observer: RetryObserver) -> BrokerClient {
        let mut copy = self.clone();
        copy.retry_observer = Some(observer);
        copy
    }

    /// The same client with another clock for its retry and pacing waits (tests).
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> BrokerClient {
        let mut copy = self.clone();
        if copy.pacer.is_some() {
            copy.pacer = Some(Arc::new(Pacer::new(clock.clone())));
        }
        copy.clock = clock;
        copy
    }

    /// The same client with pacing on or off (`-NoArmPacing`); turning it on starts from the
    /// documented buckets. A classic client never paces.
    pub fn with_pacing(&self, enabled: bool) -> BrokerClient {
        let mut copy = self.clone();
        copy.pacer = match (enabled, &self.pacer) {
            (true, Some(pacer)) => Some(pacer.clone()),
            (true, None) if matches!(self.backend, Backend::Arm(_)) => {
                Some(Arc::new(Pacer::new(self.clock.clone())))
            }
            _ => None,
        };
        copy
    }

    /// Whether requests are paced to ARM's buckets.
    pub fn pacing(&self) -> bool {
        self.pacer.is_some()
    }

    /// The same client (same pool and tokens) for another tenant group (`Set-RdsContext`).
    pub fn with_tenant_group(&self, tenant_group: &str) -> Result<BrokerClient, Error> {
        let mut copy = self.clone();
        let name = Name::new("TenantGroupName", tenant_group)?;
        match &mut copy.backend {
            Backend::Classic(classic) => classic.tenant_group = name,
            Backend::Arm(arm) => arm.tenant_group = name,
        }
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

    /// Performs `action` on one session.
    pub async fn session_action(
        &self,
        target: &SessionTarget,
        action: &SessionAction,
    ) -> Result<ActionOutcome, Error> {
        action.validate()?;
        let operation = Operation::action(target, action);
        let result = match &self.backend {
            Backend::Classic(classic) => {
                let request = classic.action_request(target, action)?;
                self.exchange(&request, &operation).await
            }
            Backend::Arm(arm) => arm.session_action(self, target, action, &operation).await,
        };
        match result {
            Ok(done) => Ok(ActionOutcome {
                status: done.answer.status.as_u16(),
                correlation_id: done.answer.correlation_id,
                attempts: done.attempts,
                notes: done.notes,
            }),
            // Idempotency: a logoff whose earlier attempt may have been applied (its answer
            // was lost) and that now finds the session gone did log it off. A 404 after only
            // known refusals (429, 503, connection refused), or on the first attempt, is still
            // an error: the session was never there.
            Err(Exchanged {
                error,
                earlier_outcome_unknown: true,
                ..
            }) if matches!(action, SessionAction::Logoff { .. })
                && error.code() == ErrorCode::SessionNotFound =>
            {
                Ok(ActionOutcome {
                    status: 404,
                    correlation_id: error
                        .api()
                        .and_then(|a| a.correlation_id.clone())
                        .unwrap_or_default(),
                    attempts: error.attempts(),
                    notes: vec![format!(
                        "session {} was gone when the logoff was retried after an attempt whose answer was lost; counted as logged off",
                        target.session_id
                    )],
                })
            }
            Err(Exchanged {
                error,
                maybe_applied,
                ..
            }) => Err(if maybe_applied {
                may_have_been_applied(error, target, action)
            } else {
                error
            }),
        }
    }

    /// Logs a user session off.
    pub async fn logoff(
        &self,
        target: &SessionTarget,
        options: LogoffOptions,
    ) -> Result<ActionOutcome, Error> {
        self.session_action(
            target,
            &SessionAction::Logoff {
                force: options.force,
            },
        )
        .await
    }

    /// Disconnects a user session.
    pub async fn disconnect(&self, target: &SessionTarget) -> Result<ActionOutcome, Error> {
        self.session_action(target, &SessionAction::Disconnect)
            .await
    }

    /// Shows a message in a user session.
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

    /// Lists the sessions of a host pool.
    pub async fn list_sessions(
        &self,
        tenant: &str,
        host_pool: &str,
    ) -> Result<Vec<UserSession>, Error> {
        self.list_sessions_with_notes(tenant, host_pool)
            .await
            .map(|listed| listed.items)
    }

    /// Lists the sessions of a host pool, with what the listing could tell besides.
    pub async fn list_sessions_with_notes(
        &self,
        tenant: &str,
        host_pool: &str,
    ) -> Result<Listed<UserSession>, Error> {
        let operation = Operation::list_sessions(tenant, host_pool);
        match &self.backend {
            Backend::Classic(classic) => {
                let request = classic.list_sessions_request(tenant, host_pool)?;
                let done = self
                    .exchange(&request, &operation)
                    .await
                    .map_err(|e| e.error)?;
                let items = classic
                    .parse_sessions(&done.answer)
                    .map_err(|e| e.context(&operation.text))?;
                Ok(Listed {
                    items,
                    notes: done.notes,
                })
            }
            Backend::Arm(arm) => {
                let (items, notes) = arm.list_sessions(self, tenant, host_pool).await?;
                Ok(Listed { items, notes })
            }
        }
    }

    /// The tenants (`Get-RdsTenant`), or the one named. On ARM: the tenants of the mapping.
    pub async fn list_tenants(&self, name: Option<&str>) -> Result<Listed<Tenant>, Error> {
        let operation = Operation::read(
            match name {
                Some(name) => format!("Could not get tenant {}", shown(name)),
                None => "Could not list the tenants".to_owned(),
            },
            crate::backend::arm::USER_SESSION_OPERATOR_ROLE,
        );
        match &self.backend {
            Backend::Classic(classic) => {
                let request = classic.tenants_request(name)?;
                let done = self
                    .exchange(&request, &operation)
                    .await
                    .map_err(|e| e.error)?;
                let items = classic
                    .parse_objects(&done.answer, "a list of tenants")
                    .map_err(|e| e.context(&operation.text))?;
                Ok(Listed {
                    items,
                    notes: done.notes,
                })
            }
            Backend::Arm(arm) => Ok(Listed {
                items: arm.tenants(name).map_err(|e| e.context(&operation.text))?,
                notes: Vec::new(),
            }),
        }
    }

    /// The host pools of a tenant (`Get-RdsHostPool`), or the one named.
    pub async fn list_host_pools(
        &self,
        tenant: &str,
        name: Option<&str>,
    ) -> Result<Listed<HostPool>, Error> {
        let operation = Operation::read(
            match name {
                Some(name) => format!(
                    "Could not get host pool {} of tenant {}",
                    shown(name),
                    shown(tenant)
                ),
                None => format!("Could not list the host pools of tenant {}", shown(tenant)),
            },
            crate::backend::arm::USER_SESSION_OPERATOR_ROLE,
        );
        match &self.backend {
            Backend::Classic(classic) => {
                let request = classic.host_pools_request(tenant, name)?;
                let done = self
                    .exchange(&request, &operation)
                    .await
                    .map_err(|e| e.error)?;
                let items = classic
                    .parse_objects(&done.answer, "a list of host pools")
                    .map_err(|e| e.context(&operation.text))?;
                Ok(Listed {
                    items,
                    notes: done.notes,
                })
            }
            Backend::Arm(arm) => {
                let (items, notes) = arm.host_pools(self, tenant, name, &operation).await?;
                Ok(Listed { items, notes })
            }
        }
    }

    /// The session hosts of a host pool (`Get-RdsSessionHost`), or the one named.
    pub async fn list_session_hosts(
        &self,
        tenant: &str,
        host_pool: &str,
        name: Option<&str>,
    ) -> Result<Listed<SessionHost>, Error> {
        let operation = Operation::read(
            match name {
                Some(name) => format!(
                    "Could not get session host {} of host pool {} (tenant {})",
                    shown(name),
                    shown(host_pool),
                    shown(tenant)
                ),
                None => format!(
                    "Could not list the session hosts of host pool {} (tenant {})",
                    shown(host_pool),
                    shown(tenant)
                ),
            },
            crate::backend::arm::USER_SESSION_OPERATOR_ROLE,
        );
        match &self.backend {
            Backend::Classic(classic) => {
                let request = classic.session_hosts_request(tenant, host_pool, name, None)?;
                let done = self
                    .exchange(&request, &operation)
                    .await
                    .map_err(|e| e.error)?;
                let items = classic
                    .parse_objects(&done.answer, "a list of session hosts")
                    .map_err(|e| e.context(&operation.text))?;
                Ok(Listed {
                    items,
                    notes: done.notes,
                })
            }
            Backend::Arm(arm) => {
                let (items, notes) = arm
                    .session_hosts(self, tenant, host_pool, name, &operation)
                    .await?;
                Ok(Listed { items, notes })
            }
        }
    }

    /// Drain mode of a session host (`Set-RdsSessionHost -AllowNewSession`); the updated
    /// session host.
    pub async fn set_allow_new_session(
        &self,
        tenant: &str,
        host_pool: &str,
        name: &str,
        allow_new_session: bool,
    ) -> Result<Listed<SessionHost>, Error> {
        let operation = Operation::read(
            format!(
                "Could not {} session host {} of host pool {} (tenant {})",
                if allow_new_session {
                    "undrain"
                } else {
                    "drain"
                },
                shown(name),
                shown(host_pool),
                shown(tenant)
            ),
            crate::backend::arm::SESSION_HOST_OPERATOR_ROLE,
        );
        match &self.backend {
            Backend::Classic(classic) => {
                let request = classic.session_hosts_request(
                    tenant,
                    host_pool,
                    Some(name),
                    Some(allow_new_session),
                )?;
                let done = self
                    .exchange(&request, &operation)
                    .await
                    .map_err(|e| e.error)?;
                let items = classic
                    .parse_objects(&done.answer, "a session host")
                    .map_err(|e| e.context(&operation.text))?;
                Ok(Listed {
                    items,
                    notes: done.notes,
                })
            }
            Backend::Arm(arm) => {
                let (host, notes) = arm
                    .update_session_host(
                        self,
                        tenant,
                        host_pool,
                        name,
                        allow_new_session,
                        &operation,
                    )
                    .await?;
                Ok(Listed {
                    items: vec![host],
                    notes,
                })
            }
        }
    }

    /// Sends a request, retrying transient failures per the [`RetryPolicy`], and returns the
    /// 2xx answer; anything else becomes the backend's classified [`Error`].
    pub(crate) async fn exchange(
        &self,
        request: &Request,
        operation: &Operation<'_>,
    ) -> Result<Done, Exchanged> {
        // Held across retries and until the answer is read: the limit counts requests the
        // service is working on, and a throttled pipeline backs off as a whole.
        let _permit = match &self.in_flight {
            Some(semaphore) => Some(semaphore.clone().acquire_owned().await.map_err(|_| {
                Exchanged::from(Error::new(
                    ErrorCode::OperationCancelled,
                    format!("{}: the pipeline was closed", operation.text),
                ))
            })?),
            None => None,
        };
        let notes = std::sync::Mutex::new(Vec::new());
        let subject = operation.subject();
        let mut observe = |notice: &RetryNotice| {
            self.note(
                &notes,
                format!("{subject}: {}", notice.live_text()),
                notice.after_text(),
            )
        };
        let (result, history) = self
            .retry
            .run(self.clock.as_ref(), &mut observe, |_| {
                self.attempt(request, operation, &notes)
            })
            .await;
        let notes = notes.into_inner().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(answer) => Ok(Done {
                answer,
                attempts: history.attempts,
                notes,
            }),
            Err(failure) => Err(Exchanged {
                maybe_applied: history.earlier_outcome_unknown
                    || failure.outcome == Outcome::Unknown,
                earlier_outcome_unknown: history.earlier_outcome_unknown,
                error: failure.error.with_attempts(history.attempts),
            }),
        }
    }

    /// A note for the admin: told live to the observer when there is one (a pipeline writes it
    /// as a verbose record at once), else kept with the outcome.
    fn note(&self, notes: &std::sync::Mutex<Vec<String>>, live: String, kept: String) {
        match &self.retry_observer {
            Some(observer) => observer(&live),
            None => notes.lock().unwrap_or_else(|p| p.into_inner()).push(kept),
        }
    }

    /// One attempt, paced to ARM's buckets, its failure classified by the backend.
    async fn attempt(
        &self,
        request: &Request,
        operation: &Operation<'_>,
        notes: &std::sync::Mutex<Vec<String>>,
    ) -> Result<Answer, AttemptFailure> {
        let paced = match (&self.pacer, subscription_of(&request.url)) {
            (Some(pacer), Some(subscription)) => {
                let class = OperationClass::of(&request.method);
                if let Some(note) = pacer.acquire(&subscription, class).await {
                    self.note(notes, note.clone(), note);
                }
                Some((pacer, subscription, class))
            }
            _ => None,
        };
        // Until its answer is observed, a request cancelled in flight (Ctrl+C) is taken off the
        // pacer's count of requests on their way.
        let in_flight = paced
            .as_ref()
            .map(|(pacer, subscription, class)| pacer.in_flight(subscription, *class));
        let sent = self.transport.send(request).await;
        if let Some(flight) = in_flight {
            flight.observed();
        }
        if let Some((pacer, subscription, class)) = &paced {
            let class = *class;
            let seen = match &sent {
                Ok(answer) | Err(Failure::Status(answer)) => Some(answer),
                Err(_) => None,
            };
            let quota = match seen {
                Some(answer) => pacer.observe(
                    subscription,
                    class,
                    answer.status.as_u16(),
                    &answer.headers,
                    answer.retry_after(),
                ),
                // No answer: the token may or may not have been spent; nothing to correct.
                None => pacer.observe(subscription, class, 0, &Default::default(), None),
            };
            if let Some(note) = quota {
                self.note(notes, note.clone(), note);
            }
        }
        match sent {
            Ok(answer) => Ok(answer),
            Err(Failure::Status(answer)) => {
                let status = answer.status.as_u16();
                let error = match &self.backend {
                    Backend::Classic(classic) => classic.classify(&answer, operation),
                    Backend::Arm(arm) => arm.classify(&answer, operation),
                };
                Err(AttemptFailure {
                    retryable: RetryPolicy::is_retryable_status(status),
                    retry_after: answer.retry_after(),
                    reason: if status == 429 {
                        "throttled (HTTP 429)".to_owned()
                    } else {
                        format!("the service answered HTTP {status}")
                    },
                    outcome: Outcome::of_status(status),
                    error: error.context(&operation.text),
                })
            }
            Err(Failure::Token(error)) => Err(AttemptFailure {
                error: error.context(&operation.text),
                retryable: false,
                retry_after: None,
                reason: String::new(),
                outcome: Outcome::NotApplied,
            }),
            Err(Failure::Transport {
                error,
                outcome,
                reason,
            }) => {
                let retryable = matches!(error.kind(), ErrorKind::Network | ErrorKind::Timeout);
                Err(AttemptFailure {
                    error: error.context(&operation.text),
                    retryable,
                    retry_after: None,
                    reason,
                    outcome,
                })
            }
        }
    }
}

/// A 2xx answer and how it was obtained.
#[derive(Debug)]
pub(crate) struct Done {
    pub answer: Answer,
    pub attempts: u32,
    pub notes: Vec<String>,
}

/// A failed exchange: the error, and what the attempts say about whether it was applied.
#[derive(Debug)]
pub(crate) struct Exchanged {
    pub error: Error,
    /// An attempt before the last may have been applied.
    pub earlier_outcome_unknown: bool,
    /// Some attempt, the last included, may have been applied.
    pub maybe_applied: bool,
}

impl From<Error> for Exchanged {
    fn from(error: Error) -> Exchanged {
        Exchanged {
            error,
            earlier_outcome_unknown: false,
            maybe_applied: false,
        }
    }
}

/// The final error of an action some attempt of which may have been applied says so, and how
/// to check, instead of reading as if nothing happened.
fn may_have_been_applied(error: Error, target: &SessionTarget, action: &SessionAction) -> Error {
    let message = format!(
        "{}. The {} may have been applied: a request was sent but its answer was lost. Check with Get-RdsUserSession -TenantName {} -HostPoolName {} before running it again",
        error.message().trim_end_matches('.'),
        action.noun(),
        shown(&target.tenant),
        shown(&target.host_pool)
    );
    error.with_message(message)
}
