//! The emulator's HTTP side: every route, one small file per route family or behaviour, over
//! the domain modules (`broker`, `identity`), the knobs and the state.
//!
//! * `classic/`: the classic RDS broker API; `arm/`: the same data as Azure Resource Manager
//!   serves it (`/subscriptions/...`);
//! * `identity/`: the emulated Entra ID and managed identity endpoints;
//! * `admin.rs`: the `/_emulator/*` admin routes;
//! * `frame.rs`, `auth.rs`, `reply.rs`, `path.rs`, `action.rs`: what every broker request of
//!   either flavour goes through (in flight, latency, authentication, route matching, request
//!   log, state-changing actions, injected faults);
//! * `app.rs`: what every handler shares.

pub(crate) mod action;
pub(crate) mod admin;
pub(crate) mod app;
pub(crate) mod arm;
pub(crate) mod auth;
pub(crate) mod classic;
pub(crate) mod frame;
pub(crate) mod identity;
pub(crate) mod path;
pub(crate) mod reply;
pub(crate) mod router;
