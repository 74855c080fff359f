//! The emulator's HTTP side: every route, one small file per route family or behaviour, over
//! the domain modules (`broker`, `identity`), the knobs and the state.
//!
//! * `classic/`: the classic RDS broker API (another API flavour is a sibling of it);
//! * `identity/`: the emulated Entra ID and managed identity endpoints;
//! * `admin.rs`: the `/_emulator/*` admin routes;
//! * `frame.rs`, `auth.rs`, `reply.rs`: what every broker request goes through (in flight,
//!   latency, authentication, request log, injected faults);
//! * `app.rs`: what every handler shares.

pub(crate) mod action;
pub(crate) mod admin;
pub(crate) mod app;
pub(crate) mod auth;
pub(crate) mod classic;
pub(crate) mod frame;
pub(crate) mod identity;
pub(crate) mod path;
pub(crate) mod reply;
pub(crate) mod router;
