//! An emulated Microsoft Entra ID for the broker: token endpoint (client secret, certificate
//! assertion, password, device code), device code endpoint, managed identity endpoints (Azure
//! VM IMDS and App Service / Functions / Automation), and the tokens the broker accepts.
//!
//! Everything is configured by the seed's optional `identity` section ([`IdentityConfig`]).
//! Tokens are HS256 JWTs under a random key held by one emulator instance, so the broker
//! accepts exactly the tokens this instance issued (plus the configured static token).

mod aad_error;
pub(crate) mod admin;
pub(crate) mod assertion;
mod config;
pub(crate) mod device;
mod directory;
pub(crate) mod jwt;
pub(crate) mod managed_identity;
mod request;
pub(crate) mod time;
pub(crate) mod token_endpoint;

use serde::{Deserialize, Serialize};

pub use config::{
    ApplicationConfig, DEFAULT_TENANT, DEFAULT_TOKEN_LIFETIME_SECONDS, DeviceCodeConfig,
    IdentityConfig, ManagedIdentityConfig, UserConfig,
};

/// The classic broker's resource: the audience of every token the emulator issues and the
/// only `resource` the managed identity endpoints serve.
pub const BROKER_RESOURCE: &str = "https://mrs-prod.ame.gbl/mrs-RDInfra-prod";

/// The v2.0 scope for [`BROKER_RESOURCE`]: the only scope the token endpoint grants.
pub const BROKER_SCOPE: &str = "https://mrs-prod.ame.gbl/mrs-RDInfra-prod/.default";

/// One access token the emulator issued (never the token itself).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IssuedToken {
    /// The application's or managed identity's client id (the `appid` claim).
    pub client_id: String,
    /// The signed-in user (`upn`) for the password and device code flows.
    pub username: Option<String>,
    /// How the token was obtained: `client_credentials`, `password`, `device_code`, `imds`
    /// or `app_service`.
    pub grant: String,
    /// How the client proved itself at the token endpoint: `secret` or `certificate`;
    /// `None` for public clients and managed identities.
    pub credential: Option<String>,
    /// The tenant segment the request used (`None` for managed identity endpoints).
    pub tenant: Option<String>,
    /// Epoch seconds (`iat`).
    pub issued_at: u64,
    /// Epoch seconds (`exp`).
    pub expires_at: u64,
}
