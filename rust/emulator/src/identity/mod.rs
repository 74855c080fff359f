//! An emulated Microsoft Entra ID for the broker, free of HTTP: the directory and its
//! configuration, the checks of the token endpoint (client secret, certificate assertion,
//! password, device code), the device code endpoint and the managed identity endpoints (Azure
//! VM IMDS and App Service / Functions / Automation), Entra's errors, and the tokens the broker
//! accepts.
//!
//! Everything is configured by the seed's optional `identity` section
//! ([`config::IdentityConfig`]). Tokens are HS256 JWTs under a random key held by one emulator
//! instance, so the broker accepts exactly the tokens this instance issued (plus the configured
//! static token). A token's audience follows the scope or resource it was requested for
//! ([`audience`]): the classic routes accept classic tokens only, the ARM routes ARM tokens only.
//! The endpoints themselves live in `http::identity`.

pub(crate) mod assertion;
pub(crate) mod audience;
pub(crate) mod config;
pub(crate) mod device;
pub(crate) mod directory;
pub(crate) mod error;
pub(crate) mod jwt;
pub(crate) mod managed_identity;
pub(crate) mod token;
