//! The `RdsConnection` service: one signed-in client, its variants (tenant group, retry
//! settings, a pipeline's throttle) and the operations, as blocking or cancellable calls.

use crate::runtime::{self, SharedRuntime};
use crate::signin::SignIn;
use crate::types::{
    ErrorInfo, HostPoolInfo, HostPoolList, RetrySettings, SessionActionDone, SessionActionKind,
    SessionHostInfo, SessionHostList, SessionInfo, SessionList, TenantInfo, TenantList,
};
use interoptopus::pattern::asynk::Async;
use interoptopus::{AsyncRuntime, ffi};
use rds_core::{BrokerClient, LogoffOptions, SessionAction, SessionTarget};
use std::sync::{Arc, Mutex};

/// At most this many retry notes wait for `take_retry_notes`; later ones are dropped.
const MAX_PENDING_RETRY_NOTES: usize = 10_000;

/// A connection to one service: deployment URL, tenant group and credentials.
///
/// It is what `Add-RdsAccount` creates and the PowerShell session keeps; every cmdlet call
/// goes through it. Credentials and tokens live here, in Rust, and never cross back to C#.
/// Methods take `&self` and are safe to call from many threads at once.
#[ffi(service)]
#[derive(AsyncRuntime, Debug)]
pub struct RdsConnection {
    runtime: SharedRuntime,
    client: BrokerClient,
    user_name: String,
    /// Retries reported as they start waiting, until the caller takes them
    /// ([`RdsConnection::take_retry_notes`]); only pipeline connections have one.
    retry_notes: Option<Arc<Mutex<Vec<String>>>>,
}

impl RdsConnection {
    /// A connection for the same signed-in identity over `client`, a variant of this one's.
    fn derived(&self, client: BrokerClient) -> RdsConnection {
        RdsConnection {
            runtime: SharedRuntime,
            client,
            user_name: self.user_name.clone(),
            retry_notes: None,
        }
    }
}

fn target(
    tenant: ffi::String,
    host_pool: ffi::String,
    session_host: ffi::String,
    session_id: i32,
) -> SessionTarget {
    SessionTarget::new(
        tenant.into_string(),
        host_pool.into_string(),
        session_host.into_string(),
        session_id,
    )
}

/// An empty string is "not given".
fn optional(value: ffi::String) -> Option<String> {
    let value = value.into_string();
    (!value.is_empty()).then_some(value)
}

fn notes(notes: Vec<String>) -> ffi::String {
    ffi::String::from_string(notes.join("\n"))
}

fn session_hosts(listed: rds_core::Listed<rds_core::SessionHost>) -> SessionHostList {
    SessionHostList {
        items: ffi::Vec::from_vec(
            listed
                .items
                .into_iter()
                .map(SessionHostInfo::from)
                .collect(),
        ),
        notes: notes(listed.notes),
    }
}

#[ffi]
impl RdsConnection {
    /// The connection of a completed sign-in ([`SignIn::complete_async`]); a sign-in with a
    /// token obtained elsewhere needs no completing. Sends nothing.
    pub fn create(sign_in: &SignIn) -> ffi::Result<Self, ErrorInfo> {
        crate::catch_panics(|| {
            let signed_in = sign_in.take_signed_in()?;
            Ok(RdsConnection {
                runtime: SharedRuntime,
                client: signed_in.client,
                user_name: signed_in.user_name,
                retry_notes: None,
            })
        })
    }

    /// A connection identical to this one but for another tenant group (`Set-RdsContext`).
    /// It shares the credentials and token cache.
    pub fn create_for_tenant_group(
        source: &RdsConnection,
        tenant_group: ffi::String,
    ) -> ffi::Result<Self, ErrorInfo> {
        crate::catch_panics(|| {
            let client = source
                .client
                .with_tenant_group(tenant_group.as_str())
                .map_err(ErrorInfo::from)?;
            Ok(source.derived(client))
        })
    }

    /// A connection sharing this one's credentials, token cache and HTTP pool, with at most
    /// `limit` requests in flight at once: one per pipeline, for `-ThrottleLimit`.
    pub fn create_throttled(source: &RdsConnection, limit: u32) -> ffi::Result<Self, ErrorInfo> {
        crate::catch_panics(|| {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            let notes = Arc::new(Mutex::new(Vec::new()));
            let sink = notes.clone();
            let client = source
                .client
                .with_concurrency_limit(limit)
                .map_err(ErrorInfo::from)?
                .with_retry_observer(Arc::new(move |note: &str| {
                    // A poisoned lock only means a panic elsewhere; the note is still wanted.
                    let mut notes = sink.lock().unwrap_or_else(|p| p.into_inner());
                    // Bounded: a caller that never takes them must not grow this forever.
                    if notes.len() < MAX_PENDING_RETRY_NOTES {
                        notes.push(note.to_owned());
                    }
                }));
            let mut throttled = source.derived(client);
            throttled.retry_notes = Some(notes);
            Ok(throttled)
        })
    }

    /// The retries reported since the last call, one per line ("Contoso/Pool1/sh1/17:
    /// throttled (HTTP 429); retrying in 2.0 s (retry 1 of at most 4)"), for the pipeline
    /// thread to write as verbose records while it waits. Empty when there are none, or for a
    /// connection not made by `create_throttled` (its retries are in each result's notes).
    pub fn take_retry_notes(&self) -> ffi::String {
        let taken = match &self.retry_notes {
            Some(notes) => std::mem::take(&mut *notes.lock().unwrap_or_else(|p| p.into_inner())),
            None => Vec::new(),
        };
        ffi::String::from_string(taken.join("\n"))
    }

    /// A connection sharing this one's credentials, token cache, tenant group and HTTP pool,
    /// with other retry and timeout settings. Out-of-range values are an `InvalidInput` error
    /// naming the PowerShell parameter.
    pub fn create_with_retry_settings(
        source: &RdsConnection,
        settings: RetrySettings,
    ) -> ffi::Result<Self, ErrorInfo> {
        crate::catch_panics(|| {
            let (policy, timeout) = settings.to_core().map_err(ErrorInfo::from)?;
            let client = source
                .client
                .with_retry_settings(policy, timeout)
                .map_err(ErrorInfo::from)?;
            Ok(source.derived(client))
        })
    }

    /// A connection sharing this one's credentials and HTTP pool, pacing its ARM requests to
    /// ARM's token buckets or not (`-NoArmPacing`); a classic connection never paces.
    pub fn create_with_pacing(
        source: &RdsConnection,
        enabled: ffi::Bool,
    ) -> ffi::Result<Self, ErrorInfo> {
        crate::catch_panics(|| Ok(source.derived(source.client.with_pacing(enabled.is()))))
    }

    /// Whether ARM requests are paced to ARM's token buckets.
    pub fn pacing(&self) -> ffi::Bool {
        ffi::Bool::from(self.client.pacing())
    }

    /// The retry and timeout settings in effect.
    pub fn retry_settings(&self) -> RetrySettings {
        RetrySettings::of(&self.client)
    }

    /// The validated deployment URL (no trailing slash).
    pub fn deployment_url(&self) -> ffi::String {
        ffi::String::from_string(self.client.deployment_url().as_str().to_owned())
    }

    /// The tenant group used in every route.
    pub fn tenant_group(&self) -> ffi::String {
        ffi::String::from_string(self.client.tenant_group().to_owned())
    }

    /// Who signed in (user principal name or application id); empty when unknown.
    pub fn user_name(&self) -> ffi::String {
        ffi::String::from_string(self.user_name.clone())
    }

    /// Logs one session off and waits for the answer, blocking the calling thread: for C
    /// callers without an event loop (PowerShell uses `session_action_async`).
    pub fn logoff(
        &self,
        tenant: ffi::String,
        host_pool: ffi::String,
        session_host: ffi::String,
        session_id: i32,
        force: ffi::Bool,
    ) -> ffi::Result<SessionActionDone, ErrorInfo> {
        crate::catch_panics(|| {
            let target = target(tenant, host_pool, session_host, session_id);
            let options = LogoffOptions { force: force.is() };
            let outcome = runtime::block_on(self.client.logoff(&target, options))?
                .map_err(ErrorInfo::from)?;
            Ok(SessionActionDone::from(outcome))
        })
    }

    /// Performs one session action without blocking: the C# side gets a `Task` and may cancel
    /// it with a `CancellationToken` (the request future is dropped at its next await point;
    /// one still waiting for a throttle permit is dropped unsent). `force` applies to logoff,
    /// `title`/`body` to messages.
    #[allow(clippy::too_many_arguments)]
    pub async fn session_action_async(
        this: Async<Self>,
        kind: SessionActionKind,
        tenant: ffi::String,
        host_pool: ffi::String,
        session_host: ffi::String,
        session_id: i32,
        force: ffi::Bool,
        title: ffi::String,
        body: ffi::String,
    ) -> ffi::Result<SessionActionDone, ErrorInfo> {
        let target = target(tenant, host_pool, session_host, session_id);
        let action = match kind {
            SessionActionKind::Logoff => SessionAction::Logoff { force: force.is() },
            SessionActionKind::Disconnect => SessionAction::Disconnect,
            SessionActionKind::SendMessage => SessionAction::SendMessage {
                title: title.into_string(),
                body: body.into_string(),
            },
        };
        // A panic inside the future is caught by the runtime's task; it surfaces on the C# side
        // as a cancelled Task, never as an unwind through the ABI.
        match this.client.session_action(&target, &action).await {
            Ok(outcome) => ffi::Ok(SessionActionDone::from(outcome)),
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }

    /// Lists the sessions of a host pool (`Get-RdsUserSession`), cancellable like the actions.
    pub async fn list_sessions_async(
        this: Async<Self>,
        tenant: ffi::String,
        host_pool: ffi::String,
    ) -> ffi::Result<SessionList, ErrorInfo> {
        match this
            .client
            .list_sessions_with_notes(tenant.as_str(), host_pool.as_str())
            .await
        {
            Ok(listed) => ffi::Ok(SessionList {
                sessions: ffi::Vec::from_vec(
                    listed.items.into_iter().map(SessionInfo::from).collect(),
                ),
                notes: ffi::String::from_string(listed.notes.join("\n")),
            }),
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }

    /// The tenants (`Get-RdsTenant`), or the one named (`name` empty: all). Cancellable.
    pub async fn list_tenants_async(
        this: Async<Self>,
        name: ffi::String,
    ) -> ffi::Result<TenantList, ErrorInfo> {
        let name = optional(name);
        match this.client.list_tenants(name.as_deref()).await {
            Ok(listed) => ffi::Ok(TenantList {
                items: ffi::Vec::from_vec(listed.items.into_iter().map(TenantInfo::from).collect()),
                notes: notes(listed.notes),
            }),
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }

    /// The host pools of a tenant (`Get-RdsHostPool`), or the one named. Cancellable.
    pub async fn list_host_pools_async(
        this: Async<Self>,
        tenant: ffi::String,
        name: ffi::String,
    ) -> ffi::Result<HostPoolList, ErrorInfo> {
        let name = optional(name);
        match this
            .client
            .list_host_pools(tenant.as_str(), name.as_deref())
            .await
        {
            Ok(listed) => ffi::Ok(HostPoolList {
                items: ffi::Vec::from_vec(
                    listed.items.into_iter().map(HostPoolInfo::from).collect(),
                ),
                notes: notes(listed.notes),
            }),
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }

    /// The session hosts of a host pool (`Get-RdsSessionHost`), or the one named. Cancellable.
    pub async fn list_session_hosts_async(
        this: Async<Self>,
        tenant: ffi::String,
        host_pool: ffi::String,
        name: ffi::String,
    ) -> ffi::Result<SessionHostList, ErrorInfo> {
        let name = optional(name);
        match this
            .client
            .list_session_hosts(tenant.as_str(), host_pool.as_str(), name.as_deref())
            .await
        {
            Ok(listed) => ffi::Ok(session_hosts(listed)),
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }

    /// Drains (`allow_new_session` false) or undrains a session host (`Set-RdsSessionHost`);
    /// the updated session host. Cancellable.
    pub async fn set_allow_new_session_async(
        this: Async<Self>,
        tenant: ffi::String,
        host_pool: ffi::String,
        name: ffi::String,
        allow_new_session: ffi::Bool,
    ) -> ffi::Result<SessionHostList, ErrorInfo> {
        match this
            .client
            .set_allow_new_session(
                tenant.as_str(),
                host_pool.as_str(),
                name.as_str(),
                allow_new_session.is(),
            )
            .await
        {
            Ok(listed) => ffi::Ok(session_hosts(listed)),
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }

    /// The Azure Resource Manager endpoint this connection talks to; empty for a classic broker.
    pub fn arm_endpoint(&self) -> ffi::String {
        ffi::String::from_string(
            self.client
                .arm_endpoint()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
        )
    }

    /// The ARM api-version in use (after a fallback, the fallback); empty for a classic broker.
    pub fn arm_api_version(&self) -> ffi::String {
        ffi::String::from_string(self.client.arm_api_version().unwrap_or_default())
    }
}
