//! The FFI's own types. They mirror `rds_core` types on purpose instead of annotating them:
//! the ABI changes only when this file does.

use interoptopus::ffi;

/// Coarse failure classification: what the PowerShell layer falls back to for an ErrorId it
/// has no row for. Append only: the numeric values are part of the ABI.
#[ffi]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidInput,
    NotFound,
    Unauthorized,
    Forbidden,
    Throttled,
    BadRequest,
    Conflict,
    ServerError,
    Network,
    Timeout,
    Protocol,
    Cancelled,
    /// A bug in this library (a caught panic, a runtime that could not start).
    Internal,
    /// Entra ID or a managed identity endpoint refused to issue a token.
    Authentication,
}

impl From<rds_core::ErrorKind> for ErrorKind {
    fn from(kind: rds_core::ErrorKind) -> ErrorKind {
        use rds_core::ErrorKind as K;
        match kind {
            K::InvalidInput => ErrorKind::InvalidInput,
            K::NotFound => ErrorKind::NotFound,
            K::Unauthorized => ErrorKind::Unauthorized,
            K::Forbidden => ErrorKind::Forbidden,
            K::Throttled => ErrorKind::Throttled,
            K::BadRequest => ErrorKind::BadRequest,
            K::Conflict => ErrorKind::Conflict,
            K::ServerError => ErrorKind::ServerError,
            K::Network => ErrorKind::Network,
            K::Timeout => ErrorKind::Timeout,
            K::Protocol => ErrorKind::Protocol,
            K::Cancelled => ErrorKind::Cancelled,
            K::Authentication => ErrorKind::Authentication,
            K::Internal => ErrorKind::Internal,
        }
    }
}

/// A failure, fully described. Never contains a token or secret.
#[ffi]
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    /// The final PowerShell ErrorId (`SessionNotFound`, `InvalidClientSecret`, ...), named by
    /// the core; the PowerShell layer looks its category up and never decides it again.
    pub error_id: ffi::String,
    /// The service's own code: the broker's (`TenantNotFound`), Entra's (`AADSTS7000215`),
    /// ARM's (`ScopeLocked`); empty if none.
    pub service_code: ffi::String,
    /// HTTP status of the service's answer, 0 when there was none.
    pub http_status: u16,
    /// Seconds the service asked to wait (`Retry-After`), 0 when it did not say.
    pub retry_after_secs: u32,
    /// A complete, user-facing message.
    pub message: ffi::String,
}

impl ErrorInfo {
    pub fn new(code: rds_core::ErrorCode, message: String) -> ErrorInfo {
        ErrorInfo {
            kind: code.kind().into(),
            error_id: ffi::String::from_string(code.as_str().to_owned()),
            service_code: ffi::String::from_string(String::new()),
            http_status: 0,
            retry_after_secs: 0,
            message: ffi::String::from_string(message),
        }
    }

    pub(crate) fn internal_message(message: &str) -> ErrorInfo {
        ErrorInfo::new(rds_core::ErrorCode::NativeLibraryError, message.to_owned())
    }

    /// From a caught panic payload. Panic messages come from this library's own code, never
    /// from request data, so they are safe to show.
    pub(crate) fn internal(panic: &(dyn std::any::Any + Send)) -> ErrorInfo {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no details".to_owned());
        ErrorInfo::internal_message(&format!(
            "Internal error in the RdsSessions native library (please report it): {detail}"
        ))
    }

    /// The kind, for Rust callers and tests.
    pub fn error_kind(&self) -> ErrorKind {
        self.kind
    }

    /// The ErrorId, for Rust callers and tests.
    pub fn error_id(&self) -> &str {
        self.error_id.as_str()
    }

    /// The message, for Rust callers and tests.
    pub fn message(&self) -> &str {
        self.message.as_str()
    }
}

impl From<rds_core::Error> for ErrorInfo {
    fn from(e: rds_core::Error) -> ErrorInfo {
        let api = e.api();
        ErrorInfo {
            kind: e.kind().into(),
            error_id: ffi::String::from_string(e.code().as_str().to_owned()),
            service_code: ffi::String::from_string(e.service_code().unwrap_or_default().to_owned()),
            http_status: api.map(|a| a.status).unwrap_or(0),
            retry_after_secs: api
                .and_then(|a| a.retry_after_secs)
                .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
                .unwrap_or(0),
            message: ffi::String::from_string(e.message().to_owned()),
        }
    }
}

/// A successful session action (logoff, disconnect, message).
#[ffi]
#[derive(Clone, Debug)]
pub struct SessionActionDone {
    /// 200 or 204 (404 for a logoff counted as done after a lost answer).
    pub http_status: u16,
    /// The `x-ms-correlation-id` sent, for support cases.
    pub correlation_id: ffi::String,
    /// Requests sent (1 = no retry).
    pub attempts: u32,
    /// One line per retry or notable event, for verbose output; empty when none.
    pub notes: ffi::String,
}

impl From<rds_core::ActionOutcome> for SessionActionDone {
    fn from(o: rds_core::ActionOutcome) -> SessionActionDone {
        SessionActionDone {
            http_status: o.status,
            correlation_id: ffi::String::from_string(o.correlation_id),
            attempts: o.attempts,
            notes: ffi::String::from_string(o.notes.join("\n")),
        }
    }
}

/// Which action `RdsConnection::session_action_async` performs. Append only.
#[ffi]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionActionKind {
    Logoff,
    Disconnect,
    SendMessage,
}

/// A user session as the broker lists it (the original RdMgmtUserSession's fields).
#[ffi]
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub tenant_group_name: ffi::String,
    pub tenant_name: ffi::String,
    pub host_pool_name: ffi::String,
    pub session_host_name: ffi::String,
    pub session_id: i32,
    pub user_principal_name: ffi::String,
    pub ad_user_name: ffi::String,
    pub application_type: ffi::String,
    pub session_state: ffi::String,
    /// `createTime` as Unix milliseconds; `i64::MIN` when the broker sent none or an unreadable one.
    pub create_time_unix_ms: i64,
    /// `createTime` exactly as the broker sent it (empty when absent).
    pub create_time_text: ffi::String,
}

fn s(value: Option<String>) -> ffi::String {
    ffi::String::from_string(value.unwrap_or_default())
}

impl From<rds_core::UserSession> for SessionInfo {
    fn from(u: rds_core::UserSession) -> SessionInfo {
        let create_time_unix_ms = u.create_time_unix_ms().unwrap_or(i64::MIN);
        SessionInfo {
            tenant_group_name: ffi::String::from_string(u.tenant_group_name),
            tenant_name: ffi::String::from_string(u.tenant_name),
            host_pool_name: ffi::String::from_string(u.host_pool_name),
            session_host_name: ffi::String::from_string(u.session_host_name),
            session_id: u.session_id,
            user_principal_name: s(u.user_principal_name),
            ad_user_name: s(u.ad_user_name),
            application_type: s(u.application_type),
            session_state: s(u.session_state),
            create_time_unix_ms,
            create_time_text: s(u.create_time),
        }
    }
}

/// A host pool's sessions and what the listing could tell besides (one note per line: an
/// api-version fallback, a host pool found by discovery).
#[ffi]
#[derive(Clone, Debug)]
pub struct SessionList {
    pub sessions: ffi::Vec<SessionInfo>,
    pub notes: ffi::String,
}

fn opt_time(ms: Option<i64>) -> i64 {
    ms.unwrap_or(i64::MIN)
}

/// A tenant (the original RdMgmtTenant without its secrets); empty strings are "not known".
#[ffi]
#[derive(Clone, Debug)]
pub struct TenantInfo {
    pub tenant_group_name: ffi::String,
    pub tenant_name: ffi::String,
    pub aad_tenant_id: ffi::String,
    pub description: ffi::String,
    pub friendly_name: ffi::String,
    pub sso_adfs_authority: ffi::String,
    pub sso_client_id: ffi::String,
    pub azure_subscription_id: ffi::String,
    pub log_analytics_workspace_id: ffi::String,
}

impl From<rds_core::Tenant> for TenantInfo {
    fn from(t: rds_core::Tenant) -> TenantInfo {
        TenantInfo {
            tenant_group_name: ffi::String::from_string(t.tenant_group_name),
            tenant_name: ffi::String::from_string(t.tenant_name),
            aad_tenant_id: s(t.aad_tenant_id),
            description: s(t.description),
            friendly_name: s(t.friendly_name),
            sso_adfs_authority: s(t.sso_adfs_authority),
            sso_client_id: s(t.sso_client_id),
            azure_subscription_id: s(t.azure_subscription_id),
            log_analytics_workspace_id: s(t.log_analytics_workspace_id),
        }
    }
}

/// A host pool (the original RdMgmtHostPool); numbers are `i64::MIN` when not known.
#[ffi]
#[derive(Clone, Debug)]
pub struct HostPoolInfo {
    pub tenant_group_name: ffi::String,
    pub tenant_name: ffi::String,
    pub host_pool_name: ffi::String,
    pub friendly_name: ffi::String,
    pub description: ffi::String,
    pub persistent: ffi::Bool,
    pub custom_rdp_property: ffi::String,
    pub max_session_limit: i64,
    pub load_balancer_type: ffi::String,
    pub validation_env: ffi::Bool,
    pub ring: i64,
    pub assignment_type: ffi::String,
    /// The Azure resource id (ARM only).
    pub arm_id: ffi::String,
}

impl From<rds_core::HostPool> for HostPoolInfo {
    fn from(p: rds_core::HostPool) -> HostPoolInfo {
        HostPoolInfo {
            tenant_group_name: ffi::String::from_string(p.tenant_group_name),
            tenant_name: ffi::String::from_string(p.tenant_name),
            host_pool_name: ffi::String::from_string(p.host_pool_name),
            friendly_name: s(p.friendly_name),
            description: s(p.description),
            persistent: ffi::Bool::from(p.persistent),
            custom_rdp_property: s(p.custom_rdp_property),
            max_session_limit: opt_time(p.max_session_limit),
            load_balancer_type: s(p.load_balancer_type),
            validation_env: ffi::Bool::from(p.validation_env),
            ring: opt_time(p.ring),
            assignment_type: s(p.assignment_type),
            arm_id: s(p.arm_id),
        }
    }
}

/// A session host (the original RdMgmtSessionHost); times are Unix milliseconds, `i64::MIN`
/// when not known.
#[ffi]
#[derive(Clone, Debug)]
pub struct SessionHostInfo {
    pub tenant_group_name: ffi::String,
    pub tenant_name: ffi::String,
    pub host_pool_name: ffi::String,
    pub session_host_name: ffi::String,
    pub allow_new_session: ffi::Bool,
    pub sessions: i64,
    pub last_heart_beat_unix_ms: i64,
    pub agent_version: ffi::String,
    pub assigned_user: ffi::String,
    pub os_version: ffi::String,
    pub sxs_stack_version: ffi::String,
    pub status: ffi::String,
    pub update_state: ffi::String,
    pub last_update_time_unix_ms: i64,
    pub update_error_message: ffi::String,
}

impl From<rds_core::SessionHost> for SessionHostInfo {
    fn from(h: rds_core::SessionHost) -> SessionHostInfo {
        let heart_beat = h.last_heart_beat_unix_ms();
        let updated = h.last_update_time_unix_ms();
        SessionHostInfo {
            tenant_group_name: ffi::String::from_string(h.tenant_group_name),
            tenant_name: ffi::String::from_string(h.tenant_name),
            host_pool_name: ffi::String::from_string(h.host_pool_name),
            session_host_name: ffi::String::from_string(h.session_host_name),
            allow_new_session: ffi::Bool::from(h.allow_new_session),
            sessions: h.sessions,
            last_heart_beat_unix_ms: opt_time(heart_beat),
            agent_version: s(h.agent_version),
            assigned_user: s(h.assigned_user),
            os_version: s(h.os_version),
            sxs_stack_version: s(h.sx_s_stack_version),
            status: s(h.status),
            update_state: s(h.update_state),
            last_update_time_unix_ms: opt_time(updated),
            update_error_message: s(h.update_error_message),
        }
    }
}

/// Tenants and the notes of their listing.
#[ffi]
#[derive(Clone, Debug)]
pub struct TenantList {
    pub items: ffi::Vec<TenantInfo>,
    pub notes: ffi::String,
}

/// Host pools and the notes of their listing.
#[ffi]
#[derive(Clone, Debug)]
pub struct HostPoolList {
    pub items: ffi::Vec<HostPoolInfo>,
    pub notes: ffi::String,
}

/// Session hosts and the notes of their listing (or of a drain).
#[ffi]
#[derive(Clone, Debug)]
pub struct SessionHostList {
    pub items: ffi::Vec<SessionHostInfo>,
    pub notes: ffi::String,
}

/// How a connection retries and times out requests: what `Add-RdsAccount`/`Set-RdsContext`
/// set and `Get-RdsContext` shows. Durations in milliseconds.
#[ffi]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetrySettings {
    /// Retries after the first attempt (0 = never retry; at most 20).
    pub max_retries: u32,
    /// Delay before the first retry; it doubles per retry up to 30 s (or itself, if longer).
    pub initial_delay_ms: u64,
    /// No retry starts later than this after the first attempt.
    pub total_deadline_ms: u64,
    /// Timeout of each request.
    pub request_timeout_ms: u64,
}

impl RetrySettings {
    /// The core's defaults.
    pub(crate) fn defaults() -> RetrySettings {
        let policy = rds_core::RetryPolicy::default();
        RetrySettings {
            max_retries: policy.max_retries,
            initial_delay_ms: millis(policy.initial_delay),
            total_deadline_ms: millis(policy.total_deadline),
            request_timeout_ms: millis(rds_core::client::DEFAULT_REQUEST_TIMEOUT),
        }
    }

    pub(crate) fn of(client: &rds_core::BrokerClient) -> RetrySettings {
        let policy = client.retry_policy();
        RetrySettings {
            max_retries: policy.max_retries,
            initial_delay_ms: millis(policy.initial_delay),
            total_deadline_ms: millis(policy.total_deadline),
            request_timeout_ms: millis(client.request_timeout()),
        }
    }

    /// The core policy and request timeout; the core validates both.
    pub(crate) fn to_core(
        self,
    ) -> Result<(rds_core::RetryPolicy, std::time::Duration), rds_core::Error> {
        use std::time::Duration;
        let policy = rds_core::RetryPolicy::new(
            self.max_retries,
            Duration::from_millis(self.initial_delay_ms),
            Duration::from_millis(self.total_deadline_ms),
        )?;
        Ok((policy, Duration::from_millis(self.request_timeout_ms)))
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The limits of [`RetrySettings`], so the PowerShell layer validates parameters against the
/// same numbers the core enforces (one source: `rds_core::retry` and `rds_core::client`).
#[ffi]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryLimits {
    pub max_retry_count: u32,
    /// The shortest and longest first retry delay.
    pub min_retry_interval_ms: u64,
    pub max_retry_interval_ms: u64,
    /// The longest total retry window.
    pub max_retry_timeout_ms: u64,
    /// The longest per-request timeout.
    pub max_request_timeout_ms: u64,
}

impl RetryLimits {
    pub(crate) fn of_core() -> RetryLimits {
        RetryLimits {
            max_retry_count: rds_core::retry::MAX_RETRY_COUNT,
            min_retry_interval_ms: millis(rds_core::retry::MIN_RETRY_INTERVAL),
            max_retry_interval_ms: millis(rds_core::retry::MAX_RETRY_INTERVAL),
            max_retry_timeout_ms: millis(rds_core::retry::MAX_RETRY_WINDOW),
            max_request_timeout_ms: millis(rds_core::client::MAX_REQUEST_TIMEOUT),
        }
    }
}

/// How `Add-RdsAccount` signs in. Append only.
#[ffi]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInMode {
    /// `secret` is the bearer token.
    AccessToken,
    /// `client_id` + `secret` (a service principal).
    ClientSecret,
    /// `client_id` + `certificate_path`; `secret` is the PFX password (may be empty).
    CertificateFile,
    /// `client_id`; `secret` is PEM text with the certificate and its private key.
    CertificatePem,
    /// `user_name` + `secret` (a user's password); `tenant_id` and `client_id` optional.
    Password,
    /// Optional `client_id` (user-assigned); `secret` is `IDENTITY_HEADER`, and
    /// `identity_endpoint`/`imds_endpoint` the endpoint variables (empty when unset).
    ManagedIdentity,
    /// Interactive; `tenant_id` and `client_id` optional.
    DeviceCode,
}

/// Everything a sign-in needs, in one struct: every field empty when not given.
#[ffi]
#[derive(Clone, Debug)]
pub struct SignInOptions {
    pub mode: SignInMode,
    pub deployment_url: ffi::String,
    pub tenant_group: ffi::String,
    /// Entra ID host (sovereign clouds, the emulator); empty = public cloud.
    pub authority_host: ffi::String,
    pub tenant_id: ffi::String,
    pub client_id: ffi::String,
    pub user_name: ffi::String,
    /// The mode's secret (see [`SignInMode`]); moved into a zeroing container at once.
    pub secret: ffi::String,
    pub certificate_path: ffi::String,
    pub identity_endpoint: ffi::String,
    pub imds_endpoint: ffi::String,
    pub retry: RetrySettings,
    /// The ARM mapping's JSON text (empty: none configured) and where it came from (a file
    /// path or `-ArmMapping`), for messages.
    pub arm_mapping_json: ffi::String,
    pub arm_mapping_source: ffi::String,
    /// Where the per-user mapping file would be, for the message that says how to make one.
    pub default_mapping_path: ffi::String,
}

/// One change to an ARM mapping (`Set-RdsArmMapping`); empty fields are left as they are.
#[ffi]
#[derive(Clone, Debug)]
pub struct ArmMappingUpdate {
    pub tenant: ffi::String,
    pub subscription_id: ffi::String,
    pub resource_group: ffi::String,
    pub host_pool: ffi::String,
    pub arm_host_pool: ffi::String,
    pub arm_endpoint: ffi::String,
    pub api_version: ffi::String,
}

/// One row of an ARM mapping: a tenant's default, or one host pool's override.
#[ffi]
#[derive(Clone, Debug)]
pub struct ArmMappingEntry {
    pub tenant: ffi::String,
    pub subscription_id: ffi::String,
    /// Empty: discovered by name.
    pub resource_group: ffi::String,
    /// Empty for the tenant's own row.
    pub host_pool: ffi::String,
    /// Empty: the classic host pool name.
    pub arm_host_pool: ffi::String,
}
