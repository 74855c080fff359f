//! Where bearer tokens come from.
//!
//! The client asks its [`TokenSource`] for a token before every request, so a source that
//! refreshes (sign-in flows, managed identity) slots in without touching the client.
//!
//! - [`entra`]: Microsoft Entra ID v2.0 flows (client secret, certificate assertion,
//!   resource-owner password, device code) on the `oauth2` crate;
//! - [`certificate`]: client certificates from PFX or PEM and the signed client assertion;
//! - [`managed_identity`]: Azure VM (IMDS) and App Service / Functions / Automation endpoints;
//! - [`RefreshingToken`]: caches a token per context and renews it before it expires.

pub mod certificate;
mod claims;
pub mod entra;
pub mod http;
pub mod managed_identity;
mod refresh;

pub use http::AuthHttp;
pub use refresh::{Acquire, RefreshingToken};

use crate::error::Error;
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// The classic broker's resource (token audience), docs/service-facts.md §2.1-2.2.
pub const BROKER_RESOURCE: &str = "https://mrs-prod.ame.gbl/mrs-RDInfra-prod";

/// The v2.0 scope for [`BROKER_RESOURCE`] (resource + `/.default`).
pub const BROKER_SCOPE: &str = "https://mrs-prod.ame.gbl/mrs-RDInfra-prod/.default";

/// Whom a token is for: the service's resource (v1 / managed identity) and its v2.0 scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audience {
    resource: String,
}

impl Audience {
    /// The classic broker ([`BROKER_RESOURCE`]).
    pub fn classic() -> Audience {
        Audience::new(BROKER_RESOURCE)
    }

    /// Any resource, e.g. `https://management.azure.com/`.
    pub fn new(resource: impl Into<String>) -> Audience {
        Audience {
            resource: resource.into(),
        }
    }

    /// The resource, as managed identity endpoints take it.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The v2.0 scope: the resource (without a trailing slash) and `/.default`.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.resource.trim_end_matches('/'))
    }
}

/// A bearer token. Its `Debug` is redacted and its memory is zeroed on drop.
#[derive(Clone)]
pub struct AccessToken {
    secret: SecretString,
    acquired_at: SystemTime,
    expires_at: Option<SystemTime>,
}

impl AccessToken {
    /// A token whose lifetime is unknown (taken from its `exp` claim when it is a JWT).
    pub fn new(token: impl Into<String>) -> AccessToken {
        let token = token.into();
        let expires_at = claims::expiry(&token);
        AccessToken {
            secret: SecretString::from(token),
            acquired_at: SystemTime::now(),
            expires_at,
        }
    }

    /// A token the authority said is valid for `lifetime` from now.
    pub fn with_lifetime(token: impl Into<String>, lifetime: Duration) -> AccessToken {
        let now = SystemTime::now();
        AccessToken {
            secret: SecretString::from(token.into()),
            acquired_at: now,
            expires_at: Some(now + lifetime),
        }
    }

    /// The raw token, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.secret.expose_secret().trim().is_empty()
    }

    /// When the token stops being valid, if known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// Whether the token should be renewed at `now`: when less than a fifth of its lifetime, and
    /// at most five minutes, is left. Renewing early keeps a long pipeline from sending a token
    /// that expires in flight; the fraction keeps short-lived tokens usable at all.
    pub fn needs_refresh(&self, now: SystemTime) -> bool {
        let Some(expires_at) = self.expires_at else {
            return false;
        };
        let lifetime = expires_at
            .duration_since(self.acquired_at)
            .unwrap_or_default();
        let margin = (lifetime / 5).min(Duration::from_secs(300));
        match expires_at.duration_since(now) {
            Ok(left) => left <= margin,
            Err(_) => true,
        }
    }

    /// Who the token was issued to (`upn`, `unique_name`, `appid`/`azp`), read from the JWT
    /// payload for display only: the broker validates the token, not this client.
    pub fn subject(&self) -> Option<String> {
        claims::subject(self.secret.expose_secret())
    }
}

impl std::fmt::Debug for AccessToken {
    // Never the token itself: Debug output ends up in logs and panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Boxed future returned by [`TokenSource::token`] (object-safe).
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, Error>> + Send + 'a>>;

/// Supplies a valid token for the broker audience on demand.
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    fn token(&self) -> TokenFuture<'_>;
}

/// A token obtained elsewhere (`Add-RdsAccount -AccessToken`). It is used as is.
#[derive(Debug, Clone)]
pub struct StaticToken(AccessToken);

impl StaticToken {
    pub fn new(token: AccessToken) -> StaticToken {
        StaticToken(token)
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> TokenFuture<'_> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }
}
