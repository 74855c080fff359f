//! `rds-core`: the pure Rust heart of RdsSessions.
//!
//! A client for the Windows Virtual Desktop (classic) RDS broker REST API
//! (`/RdsManagement/V1/...`). It knows the routes, the wire format, how broker
//! errors look and how to classify them; it knows nothing about FFI or PowerShell.
//!
//! Layers, from the outside in:
//! - [`client`]: the builder and one method per operation;
//! - `backend`: how each service spells an operation (routes, bodies, parsing, what an error
//!   answer means) behind one seam; today the classic broker;
//! - [`retry`]: the retry policy and its loop (backoff, `Retry-After`, deadline, observer);
//! - [`transport`]: one HTTP attempt (token, timeout, bounded read, failure classification);
//! - [`auth`]: where the bearer token comes from (a [`auth::TokenSource`]);
//! - [`route`]: validated deployment URL and names, each name percent-encoded as exactly one
//!   path segment so user input can never change the route;
//! - [`error`]: every failure's final ErrorId ([`ErrorCode`]) and coarse [`ErrorKind`].

pub mod auth;
mod backend;
pub mod client;
pub mod error;
pub mod model;
pub mod pacing;
pub mod retry;
pub mod route;
pub mod signin;
pub mod transport;
mod wire;

/// Azure Resource Manager: the mapping from classic names to ARM resources, and the defaults.
pub mod arm {
    pub use crate::backend::arm::mapping::{
        ArmMapping, HostPoolMapping, MappingUpdate, TenantMapping,
    };
    pub use crate::backend::arm::{
        CLASSIC_DEPLOYMENT_HOST, DEFAULT_API_VERSION, FALLBACK_API_VERSION, MappingSource,
        PUBLIC_ARM_ENDPOINT, SESSION_HOST_OPERATOR_ROLE, USER_SESSION_OPERATOR_ROLE,
    };
}

pub use auth::{
    AccessToken, BROKER_RESOURCE, BROKER_SCOPE, RefreshingToken, StaticToken, TokenSource,
};
pub use backend::{MAX_MESSAGE_BODY_CHARS, MAX_MESSAGE_TITLE_CHARS, SessionAction};
pub use client::{
    ActionOutcome, BrokerClient, BrokerClientBuilder, Listed, LogoffOptions, RetryObserver,
};
pub use error::{
    ApiError, BrokerObject, Error, ErrorCode, ErrorKind, service_text, shown, shown_url,
};
pub use model::{HostPool, SessionHost, SessionTarget, Tenant, UserSession};
pub use retry::RetryPolicy;
pub use route::{DEFAULT_TENANT_GROUP, DeploymentUrl};

/// Version of this crate, which is the one version of the whole project
/// (`[workspace.package].version`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
