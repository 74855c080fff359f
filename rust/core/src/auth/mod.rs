//! Where bearer tokens come from.
//!
//! The client asks its [`TokenSource`] for a token before every request, so a source that
//! refreshes (sign-in flows, managed identity) slots in without touching the client.

use crate::error::Error;
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::pin::Pin;

/// A bearer token. Its `Debug` is redacted and its memory is zeroed on drop.
#[derive(Clone)]
pub struct AccessToken(SecretString);

impl AccessToken {
    pub fn new(token: impl Into<String>) -> AccessToken {
        AccessToken(SecretString::from(token.into()))
    }

    /// The raw token, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.0.expose_secret().trim().is_empty()
    }
}

impl std::fmt::Debug for AccessToken {
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
