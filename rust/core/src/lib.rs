//! `rds-core`: the pure Rust heart of RdsSessions.
//!
//! A client for the Windows Virtual Desktop (classic) RDS broker REST API
//! (`/RdsManagement/V1/...`). It knows the routes, the wire format, how broker
//! errors look and how to classify them; it knows nothing about FFI or PowerShell.
//!
//! Layers, from the outside in:
//! - [`route`]: validated deployment URL and names, each name percent-encoded as exactly one
//!   path segment so user input can never change the route;
//! - [`auth`]: where the bearer token comes from (a [`auth::TokenSource`]);
//! - [`client`]: one HTTP exchange per operation on a caller-supplied `reqwest::Client`
//!   (the caller owns the runtime and the connection pool);
//! - [`error`]: a coarse [`ErrorKind`] plus the typed broker error ([`ApiError`]).

pub mod auth;
pub mod client;
pub mod error;
pub mod model;
pub mod retry;
pub mod route;
mod wire;

pub use auth::{
    AccessToken, BROKER_RESOURCE, BROKER_SCOPE, RefreshingToken, StaticToken, TokenSource,
};
pub use client::{
    ActionOutcome, BrokerClient, BrokerClientBuilder, LogoffOptions, LogoffOutcome, RetryObserver,
    SessionAction,
};
pub use error::{ApiError, BrokerObject, Error, ErrorKind, shown};
pub use model::{SessionTarget, UserSession};
pub use retry::RetryPolicy;
pub use route::{DEFAULT_TENANT_GROUP, DeploymentUrl};

/// Version of this crate, which is the one version of the whole project
/// (`[workspace.package].version`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
