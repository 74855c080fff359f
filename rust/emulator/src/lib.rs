//! A faithful local emulator of the Windows Virtual Desktop (classic) RDS broker REST API.
//!
//! It serves the two broker operations the project needs over real HTTP on loopback:
//!
//! * `GET  /RdsManagement/V1/TenantGroups/{tg}/Tenants/{t}/HostPools/{hp}/Sessions`
//! * `POST /RdsManagement/V1/TenantGroups/{tg}/Tenants/{t}/HostPools/{hp}/SessionHosts/{sh}/Sessions/{id}/actions/logoff-user[?force=true]`
//!
//! with the broker's bearer-token check, its lookup order and both of its error body shapes,
//! plus unauthenticated admin routes under `/_emulator` (`state`, `requests`, `health`) for
//! tests and demos.
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
mod model;
mod routes;
mod server;
mod state;

pub use model::{HostPool, Seed, Session, SessionHost, Tenant, TenantGroup};
pub use server::{BackgroundEmulator, DEFAULT_ACCESS_TOKEN, Emulator, EmulatorConfig};
pub use state::RequestRecord;
