//! A faithful local emulator of the Windows Virtual Desktop (classic) RDS broker REST API.
//!
//! It serves the two broker operations the project needs over real HTTP on loopback:
//!
//! * `GET  /RdsManagement/V1/TenantGroups/{tg}/Tenants/{t}/HostPools/{hp}/Sessions`
//! * `POST /RdsManagement/V1/TenantGroups/{tg}/Tenants/{t}/HostPools/{hp}/SessionHosts/{sh}/Sessions/{id}/actions/logoff-user[?force=true]`
//!
//! with the broker's bearer-token check, its lookup order and both of its error body shapes,
//! plus unauthenticated admin routes under `/_emulator` (`state`, `requests`, `health`,
//! `tokens`, `devicecode/approve`, `devicecode/deny`) for tests and demos.
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

mod broker;
mod errors;
mod identity;
mod model;
mod routes;
mod server;
mod state;

pub use identity::{
    ApplicationConfig, BROKER_RESOURCE, BROKER_SCOPE, DEFAULT_TENANT,
    DEFAULT_TOKEN_LIFETIME_SECONDS, DeviceCodeConfig, IdentityConfig, IssuedToken,
    ManagedIdentityConfig, UserConfig,
};
pub use model::{HostPool, Seed, Session, SessionHost, Tenant, TenantGroup};
pub use server::{BackgroundEmulator, DEFAULT_ACCESS_TOKEN, Emulator, EmulatorConfig};
pub use state::RequestRecord;
