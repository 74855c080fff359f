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
mod types;

pub use runtime::SharedRuntime;
pub use types::{BrokerObject, ErrorInfo, ErrorKind, LogoffDone};

use interoptopus::inventory::RustInventory;
use interoptopus::pattern::asynk::Async;
use interoptopus::{AsyncRuntime, builtins_string, ffi, function, guard, service};
use rds_core::{AccessToken, BrokerClient, LogoffOptions, SessionTarget, StaticToken};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// The version of the native library; the module refuses to load a library whose version
/// differs from its own (one version number everywhere).
#[ffi]
pub fn rds_version() -> ffi::String {
    ffi::String::from_string(rds_core::VERSION.to_owned())
}

/// Runs `body`, turning a panic into an `Internal` error so no unwind crosses the C ABI.
fn guard<T>(body: impl FnOnce() -> Result<T, ErrorInfo>) -> ffi::Result<T, ErrorInfo>
where
    T: interoptopus::lang::types::TypeInfo,
{
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => ffi::Ok(value),
        Ok(Err(error)) => ffi::Err(error),
        Err(panic) => ffi::Err(ErrorInfo::internal(&panic)),
    }
}

/// A connection to one broker: deployment URL, tenant group and credentials.
///
/// It is what `Add-RdsAccount` creates and the PowerShell session keeps; every cmdlet call
/// goes through it. Methods take `&self` and are safe to call from many threads at once.
#[ffi(service)]
#[derive(AsyncRuntime, Debug)]
pub struct RdsConnection {
    runtime: SharedRuntime,
    client: BrokerClient,
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
            let token = AccessToken::new(access_token.into_string());
            if token.is_empty() {
                return Err(ErrorInfo::invalid_input(
                    "Invalid AccessToken: the value is empty",
                ));
            }
            let client =
                BrokerClient::builder(deployment_url.as_str(), Arc::new(StaticToken::new(token)))
                    .tenant_group(tenant_group.as_str())
                    .http_client(runtime::shared_http_client().map_err(ErrorInfo::from)?)
                    .build()
                    .map_err(ErrorInfo::from)?;
            Ok(RdsConnection {
                runtime: SharedRuntime,
                client,
            })
        })
    }

    /// A connection identical to this one but for another tenant group (`Set-RdsContext`).
    pub fn create_for_tenant_group(
        source: &RdsConnection,
        tenant_group: ffi::String,
    ) -> ffi::Result<Self, ErrorInfo> {
        guard(|| {
            let client = source
                .client
                .with_tenant_group(tenant_group.as_str())
                .map_err(ErrorInfo::from)?;
            Ok(RdsConnection {
                runtime: SharedRuntime,
                client,
            })
        })
    }

    /// The validated deployment URL (no trailing slash).
    pub fn deployment_url(&self) -> ffi::String {
        ffi::String::from_string(self.client.deployment_url().as_str().to_owned())
    }

    /// The tenant group used in every route.
    pub fn tenant_group(&self) -> ffi::String {
        ffi::String::from_string(self.client.tenant_group().to_owned())
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

    /// Logs one session off without blocking: the C# side gets a `Task` and may cancel it with
    /// a `CancellationToken` (the request future is dropped at its next await point).
    pub async fn logoff_async(
        this: Async<Self>,
        tenant: ffi::String,
        host_pool: ffi::String,
        session_host: ffi::String,
        session_id: i32,
        force: ffi::Bool,
    ) -> ffi::Result<LogoffDone, ErrorInfo> {
        let target = SessionTarget::new(
            tenant.into_string(),
            host_pool.into_string(),
            session_host.into_string(),
            session_id,
        );
        let options = LogoffOptions { force: force.is() };
        // A panic inside the future is caught by the runtime's task; it surfaces on the C# side
        // as a cancelled Task, never as an unwind through the ABI.
        match this.client.logoff(&target, options).await {
            Ok(outcome) => ffi::Ok(LogoffDone::from(outcome)),
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }
}

/// Everything the C# bindings are generated from.
pub fn ffi_inventory() -> RustInventory {
    RustInventory::new()
        // The generated C# compares this hash with its own on first use, so a library and
        // bindings from different builds fail loudly instead of corrupting memory.
        .register(guard!(ffi_inventory))
        .register(builtins_string!())
        .register(function!(rds_version))
        .register(service!(RdsConnection))
        .validate()
}
