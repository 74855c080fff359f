//! `rds_sessions`: the C ABI of RdsSessions.
//!
//! A thin layer over [`rds_core`]: its own `#[ffi]` types (core types are never annotated, so
//! the core can change without breaking the ABI), one process-wide tokio runtime and HTTP
//! connection pool, and a guarantee that no panic crosses the boundary: every synchronous
//! export runs under [`catch_panics`], and async ones run as tasks whose panics end the task.
//! It holds no policy of its own: sign-in, retries and errors are the core's.
//!
//! C# bindings are generated from [`ffi_inventory`] by the `rds-bindgen` crate.

// `#[ffi]` generates companion types for every exported item; they carry no data worth a Debug.
#![allow(missing_debug_implementations)]

mod connection;
mod runtime;
mod signin;
mod types;

pub use connection::RdsConnection;
pub use runtime::SharedRuntime;
pub use signin::SignIn;
pub use types::{
    ArmMappingEntry, ArmMappingUpdate, ErrorInfo, ErrorKind, HostPoolInfo, HostPoolList,
    RetryLimits, RetrySettings, SessionActionDone, SessionActionKind, SessionHostInfo,
    SessionHostList, SessionInfo, SignInMode, SignInOptions, TenantInfo, TenantList,
};

use interoptopus::inventory::RustInventory;
use interoptopus::{builtins_string, builtins_vec, ffi, function, service};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The version of the native library; the module refuses to load a library whose version
/// differs from its own (one version number everywhere).
#[ffi]
pub fn rds_version() -> ffi::String {
    ffi::String::from_string(rds_core::VERSION.to_owned())
}

/// Every ErrorId the core can report, one per line as the ErrorId, a tab and its kind, so the PowerShell
/// layer (and its tests) can check that each has a row in its category table.
#[ffi]
pub fn rds_error_ids() -> ffi::String {
    let lines: Vec<String> = rds_core::ErrorCode::ALL
        .iter()
        .map(|code| format!("{}\t{:?}", code.as_str(), ErrorKind::from(code.kind())))
        .collect();
    ffi::String::from_string(lines.join("\n"))
}

/// A URL as every message shows it: quoted and cut, and not at all when it may hold a
/// password or key (user-info, a query). The one redaction function, for the C# side too.
#[ffi]
pub fn rds_shown_url(url: ffi::String) -> ffi::String {
    ffi::String::from_string(rds_core::shown_url(url.as_str()))
}

/// A user's value as every message shows it: quoted, control characters escaped, cut at 100
/// characters with the length said.
#[ffi]
pub fn rds_shown(text: ffi::String) -> ffi::String {
    ffi::String::from_string(rds_core::shown(text.as_str()))
}

/// The limits of the retry settings, as the core enforces them.
#[ffi]
pub fn rds_retry_limits() -> RetryLimits {
    RetryLimits::of_core()
}

/// Checks an ARM mapping (`source` names the file for messages) and returns its rows: each
/// tenant's default, then its host pool overrides.
#[ffi]
pub fn rds_arm_mapping_entries(
    text: ffi::String,
    source: ffi::String,
) -> ffi::Result<ffi::Vec<ArmMappingEntry>, ErrorInfo> {
    catch_panics(|| {
        let mapping = rds_core::arm::ArmMapping::parse(text.as_str(), source.as_str())
            .map_err(ErrorInfo::from)?;
        let s = |v: &str| ffi::String::from_string(v.to_owned());
        let mut rows = Vec::new();
        for (tenant, entry) in &mapping.tenants {
            let group = entry.resource_group.as_deref().unwrap_or_default();
            rows.push(ArmMappingEntry {
                tenant: s(tenant),
                subscription_id: s(&entry.subscription_id),
                resource_group: s(group),
                host_pool: s(""),
                arm_host_pool: s(""),
            });
            for (pool, over) in &entry.host_pools {
                rows.push(ArmMappingEntry {
                    tenant: s(tenant),
                    subscription_id: s(&entry.subscription_id),
                    resource_group: s(over.resource_group.as_deref().unwrap_or(group)),
                    host_pool: s(pool),
                    arm_host_pool: s(over.name.as_deref().unwrap_or_default()),
                });
            }
        }
        Ok(ffi::Vec::from_vec(rows))
    })
}

/// Applies one change to a mapping's JSON (`existing` may be empty: a new mapping) and
/// returns the new JSON, validated like a file.
#[ffi]
pub fn rds_arm_mapping_update(
    existing: ffi::String,
    source: ffi::String,
    update: ArmMappingUpdate,
) -> ffi::Result<ffi::String, ErrorInfo> {
    catch_panics(move || {
        let mapping = if existing.as_str().trim().is_empty() {
            rds_core::arm::ArmMapping::default()
        } else {
            rds_core::arm::ArmMapping::parse(existing.as_str(), source.as_str())
                .map_err(ErrorInfo::from)?
        };
        let given = |v: ffi::String| {
            let v = v.into_string();
            (!v.is_empty()).then_some(v)
        };
        let update = rds_core::arm::MappingUpdate {
            tenant: update.tenant.into_string(),
            subscription_id: given(update.subscription_id),
            resource_group: given(update.resource_group),
            host_pool: given(update.host_pool),
            arm_host_pool: given(update.arm_host_pool),
            arm_endpoint: given(update.arm_endpoint),
            api_version: given(update.api_version),
        };
        let next = mapping.with_update(&update).map_err(ErrorInfo::from)?;
        Ok(ffi::String::from_string(next.to_json()))
    })
}

/// The defaults of the retry settings (`Add-RdsAccount` without retry parameters).
#[ffi]
pub fn rds_default_retry_settings() -> RetrySettings {
    RetrySettings::defaults()
}

/// Diagnostics: panics inside the library on purpose, under the same barrier as every other
/// export, so a caller (and the project's tests) can check that a panic comes back as an
/// `Internal` error and never unwinds across the C ABI. Changes no state.
#[ffi]
pub fn rds_check_panic_barrier() -> ffi::Result<u32, ErrorInfo> {
    catch_panics(|| -> Result<u32, ErrorInfo> {
        panic!("deliberate panic to check the FFI panic barrier")
    })
}

/// Runs `body`, turning a panic into an `Internal` error so no unwind crosses the C ABI.
pub(crate) fn catch_panics<T>(
    body: impl FnOnce() -> Result<T, ErrorInfo>,
) -> ffi::Result<T, ErrorInfo>
where
    T: interoptopus::lang::types::TypeInfo,
{
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => ffi::Ok(value),
        Ok(Err(error)) => ffi::Err(error),
        Err(panic) => ffi::Err(ErrorInfo::internal(panic.as_ref())),
    }
}

/// Everything the C# bindings are generated from.
pub fn ffi_inventory() -> RustInventory {
    RustInventory::new()
        // The generated C# compares this hash with its own on first use, so a library and
        // bindings from different builds fail loudly instead of corrupting memory.
        .register(interoptopus::guard!(ffi_inventory))
        .register(builtins_string!())
        // Frees the session lists that cross to C#.
        .register(builtins_vec!(SessionInfo))
        .register(builtins_vec!(ArmMappingEntry))
        .register(builtins_vec!(TenantInfo))
        .register(builtins_vec!(HostPoolInfo))
        .register(builtins_vec!(SessionHostInfo))
        .register(function!(rds_version))
        .register(function!(rds_error_ids))
        .register(function!(rds_retry_limits))
        .register(function!(rds_shown_url))
        .register(function!(rds_shown))
        .register(function!(rds_default_retry_settings))
        .register(function!(rds_arm_mapping_entries))
        .register(function!(rds_arm_mapping_update))
        .register(function!(rds_check_panic_barrier))
        .register(service!(SignIn))
        .register(service!(RdsConnection))
        .validate()
}
