//! `rds_sessions`: the C ABI of RdsSessions.
//!
//! A thin layer over [`rds_core`]: its own `#[ffi]` types and error enum (core types are never
//! annotated, so the core can change without breaking the ABI), one process-wide tokio runtime
//! and HTTP connection pool, and a guarantee that no panic crosses the boundary: every exported
//! body runs under [`guard`], which turns a panic into an `ErrorKind::Internal` result.
//!
//! C# bindings are generated from [`ffi_inventory`] by the `rds-bindgen` crate.

// `#[ffi]` generates companion types for every exported item; they carry no data worth a Debug.
#![allow(missing_debug_implementations)]

mod runtime;
mod signin;
mod types;

pub use runtime::SharedRuntime;
pub use types::{
    BrokerObject, ErrorInfo, ErrorKind, LogoffDone, RetrySettings, SessionActionKind, SessionInfo,
};

use interoptopus::inventory::RustInventory;
use interoptopus::pattern::asynk::Async;
use interoptopus::{AsyncRuntime, builtins_string, builtins_vec, ffi, function, guard, service};
use rds_core::auth::certificate::ClientCertificate;
use rds_core::auth::entra::{DEFAULT_PUBLIC_CLIENT_ID, DEFAULT_USER_TENANT, DeviceCodePrompt};
use rds_core::{BrokerClient, LogoffOptions, SessionAction, SessionTarget};
use secrecy::{ExposeSecret, SecretString};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

/// At most this many retry notes wait for `take_retry_notes`; later ones are dropped.
const MAX_PENDING_RETRY_NOTES: usize = 10_000;

/// The version of the native library; the module refuses to load a library whose version
/// differs from its own (one version number everywhere).
#[ffi]
pub fn rds_version() -> ffi::String {
    ffi::String::from_string(rds_core::VERSION.to_owned())
}

/// Diagnostics: panics inside the library on purpose, under the same guard as every other
/// export, so a caller (and the project's tests) can check that a panic comes back as an
/// `Internal` error and never unwinds across the C ABI. Changes no state.
#[ffi]
pub fn rds_check_panic_barrier() -> ffi::Result<u32, ErrorInfo> {
    guard(|| -> Result<u32, ErrorInfo> {
        panic!("deliberate panic to check the FFI panic barrier")
    })
}

/// Runs `body`, turning a panic into an `Internal` error so no unwind crosses the C ABI.
fn guard<T>(body: impl FnOnce() -> Result<T, ErrorInfo>) -> ffi::Result<T, ErrorInfo>
where
    T: interoptopus::lang::types::TypeInfo,
{
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => ffi::Ok(value),
        Ok(Err(error)) => ffi::Err(error),
        Err(panic) => ffi::Err(ErrorInfo::internal(panic.as_ref())),
    }
}

/// A connection to one broker: deployment URL, tenant group and credentials.
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
    fn from_signed_in(signed_in: signin::SignedIn) -> RdsConnection {
        RdsConnection {
            runtime: SharedRuntime,
            client: signed_in.client,
            user_name: signed_in.user_name,
            retry_notes: None,
        }
    }

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

/// A secret handed over from C#: moved into a zeroing container at once.
fn secret(value: ffi::String) -> SecretString {
    SecretString::from(value.into_string())
}

#[ffi]
impl RdsConnection {
    /// Connects with a bearer token obtained elsewhere. Nothing is sent yet: the URL, tenant
    /// group and token are validated locally.
    pub fn create_with_token(
        deployment_url: ffi::String,
        tenant_group: ffi::String,
        access_token: ffi::String,
    ) -> ffi::Result<Self, ErrorInfo> {
        guard(move || {
            signin::with_token(
                deployment_url.as_str(),
                tenant_group.as_str(),
                access_token.into_string(),
            )
            .map(RdsConnection::from_signed_in)
        })
    }

    /// Signs in as a service principal with a client secret (Entra ID client credentials).
    /// An empty `authority_host` means the public cloud.
    pub fn create_with_client_secret(
        deployment_url: ffi::String,
        tenant_group: ffi::String,
        authority_host: ffi::String,
        tenant_id: ffi::String,
        client_id: ffi::String,
        client_secret: ffi::String,
    ) -> ffi::Result<Self, ErrorInfo> {
        guard(move || {
            signin::with_client_secret(
                deployment_url.as_str(),
                tenant_group.as_str(),
                authority_host.as_str(),
                tenant_id.as_str(),
                client_id.as_str(),
                secret(client_secret),
            )
            .map(RdsConnection::from_signed_in)
        })
    }

    /// Signs in as a service principal with a certificate file (PFX/P12, or PEM with an
    /// unencrypted key); `password` may be empty.
    pub fn create_with_certificate_file(
        deployment_url: ffi::String,
        tenant_group: ffi::String,
        authority_host: ffi::String,
        tenant_id: ffi::String,
        client_id: ffi::String,
        path: ffi::String,
        password: ffi::String,
    ) -> ffi::Result<Self, ErrorInfo> {
        guard(move || {
            let password = secret(password);
            let pw = password.expose_secret();
            let certificate = ClientCertificate::from_file(
                std::path::Path::new(path.as_str()),
                (!pw.is_empty()).then_some(pw),
            )
            .map_err(ErrorInfo::from)?;
            signin::with_certificate(
                deployment_url.as_str(),
                tenant_group.as_str(),
                authority_host.as_str(),
                tenant_id.as_str(),
                client_id.as_str(),
                certificate,
            )
            .map(RdsConnection::from_signed_in)
        })
    }

    /// Signs in as a service principal with a certificate given as PEM text (certificate and
    /// private key), as exported from the Windows certificate store by thumbprint.
    pub fn create_with_certificate_pem(
        deployment_url: ffi::String,
        tenant_group: ffi::String,
        authority_host: ffi::String,
        tenant_id: ffi::String,
        client_id: ffi::String,
        pem: ffi::String,
    ) -> ffi::Result<Self, ErrorInfo> {
        guard(move || {
            let pem = secret(pem);
            let certificate =
                ClientCertificate::from_pem(pem.expose_secret()).map_err(ErrorInfo::from)?;
            signin::with_certificate(
                deployment_url.as_str(),
                tenant_group.as_str(),
                authority_host.as_str(),
                tenant_id.as_str(),
                client_id.as_str(),
                certificate,
            )
            .map(RdsConnection::from_signed_in)
        })
    }

    /// Signs in as a user with a password (a PSCredential). Empty `tenant_id` means any work
    /// or school account (`organizations`); empty `client_id` the default public client.
    pub fn create_with_password(
        deployment_url: ffi::String,
        tenant_group: ffi::String,
        authority_host: ffi::String,
        tenant_id: ffi::String,
        client_id: ffi::String,
        username: ffi::String,
        password: ffi::String,
    ) -> ffi::Result<Self, ErrorInfo> {
        guard(move || {
            signin::with_password(
                deployment_url.as_str(),
                tenant_group.as_str(),
                authority_host.as_str(),
                tenant_id.as_str(),
                client_id.as_str(),
                username.as_str(),
                secret(password),
            )
            .map(RdsConnection::from_signed_in)
        })
    }

    /// Signs in with the managed identity of the machine or app (system-assigned, or the
    /// user-assigned identity `client_id`). The caller passes the process environment's
    /// `IDENTITY_ENDPOINT`, `IDENTITY_HEADER` and `IMDS_ENDPOINT` (empty when unset): .NET keeps
    /// its own environment block on Unix, so `$env:` changes made in PowerShell are invisible
    /// to `std::env` here. App Service when the first two are set, else IMDS.
    pub fn create_with_managed_identity(
        deployment_url: ffi::String,
        tenant_group: ffi::String,
        client_id: ffi::String,
        identity_endpoint: ffi::String,
        identity_header: ffi::String,
        imds_endpoint: ffi::String,
    ) -> ffi::Result<Self, ErrorInfo> {
        guard(move || {
            let header = secret(identity_header);
            let environment = |name: &str| -> Option<String> {
                match name {
                    "IDENTITY_ENDPOINT" => Some(identity_endpoint.as_str().to_owned()),
                    "IDENTITY_HEADER" => Some(header.expose_secret().to_owned()),
                    "IMDS_ENDPOINT" => Some(imds_endpoint.as_str().to_owned()),
                    _ => None,
                }
            };
            signin::with_managed_identity(
                deployment_url.as_str(),
                tenant_group.as_str(),
                client_id.as_str(),
                environment,
            )
            .map(RdsConnection::from_signed_in)
        })
    }

    /// Waits until the user completes the device-code sign-in `sign_in` (or it fails, expires
    /// or is cancelled with [`DeviceCodeSignIn::cancel`]), then connects with its token.
    pub fn create_from_device_code(
        deployment_url: ffi::String,
        tenant_group: ffi::String,
        sign_in: &DeviceCodeSignIn,
    ) -> ffi::Result<Self, ErrorInfo> {
        guard(move || {
            sign_in
                .complete(deployment_url.as_str(), tenant_group.as_str())
                .map(RdsConnection::from_signed_in)
        })
    }

    /// A connection identical to this one but for another tenant group (`Set-RdsContext`).
    /// It shares the credentials and token cache.
    pub fn create_for_tenant_group(
        source: &RdsConnection,
        tenant_group: ffi::String,
    ) -> ffi::Result<Self, ErrorInfo> {
        guard(|| {
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
        guard(|| {
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
        guard(|| {
            let (policy, timeout) = settings.to_core().map_err(ErrorInfo::from)?;
            let client = source
                .client
                .with_retry_settings(policy, timeout)
                .map_err(ErrorInfo::from)?;
            Ok(source.derived(client))
        })
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

    /// Logs one session off and waits for the broker's answer (blocking the calling thread).
    pub fn logoff(
        &self,
        tenant: ffi::String,
        host_pool: ffi::String,
        session_host: ffi::String,
        session_id: i32,
        force: ffi::Bool,
    ) -> ffi::Result<LogoffDone, ErrorInfo> {
        guard(|| {
            let target = SessionTarget::new(
                tenant.as_str(),
                host_pool.as_str(),
                session_host.as_str(),
                session_id,
            );
            let options = LogoffOptions { force: force.is() };
            let outcome = runtime::block_on(self.client.logoff(&target, options))?
                .map_err(ErrorInfo::from)?;
            Ok(LogoffDone::from(outcome))
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
    ) -> ffi::Result<LogoffDone, ErrorInfo> {
        let target = SessionTarget::new(
            tenant.into_string(),
            host_pool.into_string(),
            session_host.into_string(),
            session_id,
        );
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
            Ok(outcome) => ffi::Ok(LogoffDone::from(outcome)),
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }

    /// Lists the sessions of a host pool (`Get-RdsUserSession`), cancellable like the actions.
    pub async fn list_sessions_async(
        this: Async<Self>,
        tenant: ffi::String,
        host_pool: ffi::String,
    ) -> ffi::Result<ffi::Vec<SessionInfo>, ErrorInfo> {
        match this
            .client
            .list_sessions(tenant.as_str(), host_pool.as_str())
            .await
        {
            Ok(sessions) => ffi::Ok(ffi::Vec::from_vec(
                sessions.into_iter().map(SessionInfo::from).collect(),
            )),
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }
}

/// An interactive device-code sign-in: `start` gets a code, the caller shows `message` to the
/// user, then `RdsConnection::create_from_device_code` waits for them.
#[ffi(service)]
pub struct DeviceCodeSignIn {
    prompt: DeviceCodePrompt,
    cancel: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for DeviceCodeSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCodeSignIn")
            .field("prompt", &self.prompt)
            .finish_non_exhaustive()
    }
}

impl DeviceCodeSignIn {
    fn complete(
        &self,
        deployment_url: &str,
        tenant_group: &str,
    ) -> Result<signin::SignedIn, ErrorInfo> {
        let mut cancelled = self.cancel.subscribe();
        let token = runtime::block_on(async {
            tokio::select! {
                token = self.prompt.complete() => token.map_err(ErrorInfo::from),
                _ = cancelled.wait_for(|c| *c) => Err(ErrorInfo::new(ErrorKind::Cancelled, "The device-code sign-in was cancelled".to_owned())),
            }
        })??;
        let user_name = token.subject().unwrap_or_default();
        let tokens = Arc::new(rds_core::RefreshingToken::with_initial(
            Box::new(rds_core::auth::entra::NoRenewal::new("device-code sign-in")),
            token,
        ));
        let client = BrokerClient::builder(deployment_url, tokens)
            .tenant_group(tenant_group)
            .http_client(runtime::shared_http_client().map_err(ErrorInfo::from)?)
            .build()
            .map_err(ErrorInfo::from)?;
        Ok(signin::SignedIn { client, user_name })
    }
}

#[ffi]
impl DeviceCodeSignIn {
    /// Asks the authority for a device code. Empty `tenant_id` means `organizations`, empty
    /// `client_id` the default public client, empty `authority_host` the public cloud.
    pub fn start(
        authority_host: ffi::String,
        tenant_id: ffi::String,
        client_id: ffi::String,
    ) -> ffi::Result<Self, ErrorInfo> {
        guard(move || {
            let authority = signin::authority(
                authority_host.as_str(),
                tenant_id.as_str(),
                DEFAULT_USER_TENANT,
            )?;
            let client_id = if client_id.as_str().trim().is_empty() {
                DEFAULT_PUBLIC_CLIENT_ID
            } else {
                client_id.as_str().trim()
            };
            let http = runtime::shared_http_client().map_err(ErrorInfo::from)?;
            let prompt = runtime::block_on(DeviceCodePrompt::start(authority, client_id, http))?
                .map_err(ErrorInfo::from)?;
            Ok(DeviceCodeSignIn {
                prompt,
                cancel: tokio::sync::watch::channel(false).0,
            })
        })
    }

    /// The text to show the user (URL and code).
    pub fn message(&self) -> ffi::String {
        ffi::String::from_string(self.prompt.message())
    }

    /// The code the user enters.
    pub fn user_code(&self) -> ffi::String {
        ffi::String::from_string(self.prompt.user_code().to_owned())
    }

    /// Stops a waiting `create_from_device_code` (Ctrl+C); it returns a `Cancelled` error.
    pub fn cancel(&self) {
        self.cancel.send_replace(true);
    }
}

/// Everything the C# bindings are generated from.
pub fn ffi_inventory() -> RustInventory {
    RustInventory::new()
        // The generated C# compares this hash with its own on first use, so a library and
        // bindings from different builds fail loudly instead of corrupting memory.
        .register(guard!(ffi_inventory))
        .register(builtins_string!())
        // Frees the session lists that cross to C#.
        .register(builtins_vec!(SessionInfo))
        .register(function!(rds_version))
        .register(function!(rds_check_panic_barrier))
        .register(service!(DeviceCodeSignIn))
        .register(service!(RdsConnection))
        .validate()
}
