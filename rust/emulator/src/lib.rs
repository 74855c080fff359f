//! A faithful local emulator of the Windows Virtual Desktop (classic) RDS broker REST API.
//!
//! It serves the broker's session operations over real HTTP on loopback:
//!
//! * `GET  /RdsManagement/V1/TenantGroups/{tg}/Tenants/{t}/HostPools/{hp}/Sessions`
//! * `POST .../HostPools/{hp}/SessionHosts/{sh}/Sessions/{id}/actions/logoff-user[?force=true]`
//! * `POST .../HostPools/{hp}/SessionHosts/{sh}/Sessions/{id}/actions/disconnect-user`
//! * `POST .../HostPools/{hp}/SessionHosts/{sh}/Sessions/{id}/actions/send-message-user?MessageTitle=..&MessageBody=..`
//!
//! with the broker's bearer-token check, its lookup order and both of its error body shapes,
//! plus unauthenticated admin routes under `/_emulator` (`state`, `requests`, `health`,
//! `activity`, `latency`, `faults`, `faults/stats`, `settings`, `generate`, `tokens`,
//! `devicecode/approve`, `devicecode/deny`) for tests and demos.
//!
//! For concurrency tests and benchmarks it can inject latency into every broker request
//! ([`LatencyConfig`]), records every session action and the peak number of broker requests in
//! flight ([`Activity`]), and generates large host pools ([`GenerateSpec`]).
//!
//! For testing a client's retry layer it injects deterministic faults into broker requests
//! ([`FaultConfig`]): 429 with `Retry-After`, 5xx, a connection closed without a response, a
//! stalled response, a malformed body, or an action applied whose response is then lost;
//! counted in [`FaultStats`].
//!
//! It also emulates the Microsoft Entra ID sign-in the broker's clients perform, configured by
//! the seed's optional `identity` section ([`IdentityConfig`]):
//!
//! * `POST /{tenant}/oauth2/v2.0/token`: client secret (body or HTTP Basic), certificate client
//!   assertion (PS256/RS256 with `x5t#S256`/`x5t`), resource-owner password, device code;
//! * `POST /{tenant}/oauth2/v2.0/devicecode` and the `/devicelogin` page;
//! * `GET /metadata/identity/oauth2/token` (Azure VM IMDS) and `GET`/`POST /msi/token`
//!   (App Service, Functions, Automation).
//!
//! Errors follow Entra's body shape and AADSTS codes. Broker routes accept the configured static
//! token and the unexpired tokens this emulator instance issued (audience [`BROKER_RESOURCE`]).
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
// - the domain, free of HTTP: `broker/` (shared by every API flavour), `identity/` (Entra's
//   checks), `knobs::generate`;
// - `state`: one lock over the data; `admin`: every admin feature once;
// - `http/`: every route (`classic/` is the classic broker API; another API flavour is its
//   sibling); `server`: starting, stopping and the public handle.
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
    ArmConfig, BuiltInRole, DEFAULT_ARM_API_VERSIONS, DEFAULT_ARM_PAGE_SIZE, LockLevel,
    MissingSessionOnDelete, ResourceLock, RoleAssignment,
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
