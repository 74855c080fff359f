//! A faithful local emulator of the Windows Virtual Desktop (classic) RDS broker REST API, and
//! of its successor on Azure Resource Manager, over the same data.
//!
//! The classic broker (`/RdsManagement/V1/TenantGroups/{tg}/...`):
//!
//! * `GET  .../Tenants/{t}/HostPools/{hp}/Sessions`
//! * `POST .../HostPools/{hp}/SessionHosts/{sh}/Sessions/{id}/actions/logoff-user[?force=true]`
//! * `POST .../HostPools/{hp}/SessionHosts/{sh}/Sessions/{id}/actions/disconnect-user`
//! * `POST .../HostPools/{hp}/SessionHosts/{sh}/Sessions/{id}/actions/send-message-user?MessageTitle=..&MessageBody=..`
//! * the read side: `GET .../Tenants`, `.../Tenants/{t}`, `.../Tenants/{t}/HostPools`,
//!   `.../HostPools/{hp}`, `.../HostPools/{hp}/SessionHosts`, `.../SessionHosts/{sh}`, and
//!   `PATCH .../SessionHosts/{sh}` `{"allowNewSession": false}` (drain mode)
//!
//! with the broker's bearer-token check, its lookup order and both of its error body shapes.
//!
//! Azure Resource Manager (`Microsoft.DesktopVirtualization`, every path below
//! `/subscriptions/`): host pools (list by subscription or resource group, get), session hosts
//! (list, get, `PATCH` drain mode), user sessions (list by host pool with `$filter`, list per
//! host, get, `DELETE` = logoff with `force`, `disconnect`, `sendMessage`), as the live service
//! answers them: the live names, ids and property order, paging with an absolute `nextLink` and
//! a final `"nextLink": null`, ARM's headers, `CloudError` bodies, api-version checks, token-bucket
//! rate limits with `x-ms-ratelimit-remaining-*` headers and 429 `Retry-After`, role assignments
//! ([`RoleAssignment`], Azure's built-in roles) and resource locks ([`ResourceLock`]). Every
//! classic tenant and host pool has ARM coordinates (a subscription per tenant, a resource group
//! and an ARM name per host pool, with the migration tool's defaults, see [`Tenant`] and
//! [`HostPool`]); the ARM settings are the seed's `arm` section ([`ArmConfig`]). What a
//! reference does not establish is marked INFERRED in the code and in `data/README.md`.
//!
//! Unauthenticated admin routes under `/_emulator` (`state`, `requests`, `health`, `activity`,
//! `latency`, `faults`, `faults/stats`, `settings`, `generate`, `tokens`, `devicecode/approve`,
//! `devicecode/deny`, `arm`, `arm/hostPools`, `arm/ratelimits`, `arm/ratelimits/reset`,
//! `arm/roleAssignments`, `arm/locks`) serve tests and demos.
//!
//! For concurrency tests and benchmarks it can inject latency into every broker request of
//! either flavour ([`LatencyConfig`]), records every session action (with the API it came
//! through), the ARM requests and 429s per operation class and the peak number of broker
//! requests in flight ([`Activity`]), and generates large host pools ([`GenerateSpec`]).
//!
//! For testing a client's retry layer it injects deterministic faults into broker requests
//! ([`FaultConfig`], routes named by [`FaultRoute`]): 429 with `Retry-After`, 5xx, a connection
//! closed without a response, a stalled response, a malformed body, or an action applied whose
//! response is then lost; counted in [`FaultStats`].
//!
//! It also emulates the Microsoft Entra ID sign-in the clients perform, configured by the seed's
//! optional `identity` section ([`IdentityConfig`]):
//!
//! * `POST /{tenant}/oauth2/v2.0/token`: client secret (body or HTTP Basic), certificate client
//!   assertion (PS256/RS256 with `x5t#S256`/`x5t`), resource-owner password, device code;
//! * `POST /{tenant}/oauth2/v2.0/devicecode` and the `/devicelogin` page;
//! * `GET /metadata/identity/oauth2/token` (Azure VM IMDS) and `GET`/`POST /msi/token`
//!   (App Service, Functions, Automation).
//!
//! Errors follow Entra's body shape and AADSTS codes. A token's audience follows the scope or
//! resource it was requested for: the classic broker's ([`BROKER_SCOPE`], audience
//! [`BROKER_RESOURCE`]) or ARM's ([`ARM_SCOPE`], audience [`ARM_RESOURCE`]). Classic routes accept
//! the static token ([`DEFAULT_ACCESS_TOKEN`]) and the unexpired classic tokens this instance
//! issued; ARM routes the static ARM token ([`DEFAULT_ARM_ACCESS_TOKEN`], principal
//! [`STATIC_ARM_PRINCIPAL_ID`]) and its unexpired ARM tokens.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use rds_emulator::{Emulator, EmulatorConfig};
//!
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! println!("broker at {}", emulator.url());
//! // ... point a client at emulator.url(), then inspect:
//! let _log = emulator.requests();
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! For synchronous tests use [`BackgroundEmulator`], which runs on its own thread and runtime.

// The crate by job, lowest layer first (`tests/module_graph.rs` keeps the graph acyclic and
// the layers in order):
// - plain data and helpers: `model`, `record`, `clock`, `form`, `secret`, the configurations
//   and run-time records in `knobs/` and `identity/`;
// - the domain, free of HTTP: `broker/` (shared by every API flavour: lookups, actions, ARM
//   coordinates, role assignments and locks), `identity/` (Entra's checks), `knobs::generate`;
// - `state`: one lock over the data; `admin`: every admin feature once;
// - `http/`: every route (`classic/` is the classic broker API, `arm/` its Azure Resource
//   Manager sibling over the same domain); `server`: starting, stopping and the public handle.
mod admin;
mod broker;
mod clock;
mod form;
mod http;
mod identity;
mod knobs;
mod model;
mod record;
mod secret;
mod server;
mod state;

pub use broker::arm_config::{
    ArmConfig, ArmHostPool, BuiltInRole, DEFAULT_ARM_API_VERSIONS, DEFAULT_ARM_PAGE_SIZE,
    LockLevel, MissingSessionOnDelete, ResourceLock, RoleAssignment,
};
pub use http::auth::STATIC_ARM_PRINCIPAL_ID;
pub use identity::config::{
    ARM_RESOURCE, ARM_SCOPE, ApplicationConfig, BROKER_RESOURCE, BROKER_SCOPE, DEFAULT_TENANT,
    DEFAULT_TOKEN_LIFETIME_SECONDS, DeviceCodeConfig, IdentityConfig, ManagedIdentityConfig,
    UserConfig,
};
pub use identity::jwt::IssuedToken;
pub use knobs::activity::{
    Activity, ApiFlavour, ArmActivity, ClassCounts, DisconnectRecord, LogoffRecord, MessageRecord,
    SessionCalls,
};
pub use knobs::fault_sequence::{FaultCounts, FaultSampler, FaultStats};
pub use knobs::faults::{
    DEFAULT_RETRY_AFTER_SECONDS, DEFAULT_SERVER_ERROR_STATUSES, DEFAULT_STALL_MS, FaultConfig,
    FaultKind, FaultRoute, FaultWeights,
};
pub use knobs::generate::{GenerateError, GenerateSpec, GeneratedPool, MAX_GENERATED_SESSIONS};
pub use knobs::latency::{LatencyConfig, LatencySampler};
pub use knobs::rate_limits::{BucketConfig, OperationClass, RateLimitConfig};
pub use model::{
    DEFAULT_LOCATION, DEFAULT_MAX_SESSION_LIMIT, HostPool, LoadBalancerType, Seed, SentMessage,
    Session, SessionHost, Tenant, TenantGroup,
};
pub use record::RequestRecord;
pub use server::{
    BackgroundEmulator, DEFAULT_ACCESS_TOKEN, DEFAULT_ARM_ACCESS_TOKEN, Emulator, EmulatorConfig,
    EmulatorHandle,
};
pub use state::{DEFAULT_REQUEST_LOG_CAPACITY, EmulatorSettings};
