//! What every HTTP handler shares: the emulator's state, the token authority, the static tokens
//! and the bound URL.

use std::fmt;
use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::header;
use axum::http::request::Parts;

use crate::admin::Admin;
use crate::identity::jwt::TokenAuthority;
use crate::state::SharedState;

/// The router's state: cheap to clone (everything behind an `Arc`).
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) state: SharedState,
    /// Signs and checks the access tokens of this emulator instance.
    pub(crate) authority: Arc<TokenAuthority>,
    /// The exact `Authorization` header value the classic routes accept (`Bearer <token>`).
    static_authorization: Arc<str>,
    /// The exact `Authorization` header value the ARM routes accept (`Bearer <ARM token>`).
    static_arm_authorization: Arc<str>,
    /// `http://<bound address>`, the emulator's URL when a request names no host.
    bound_url: Arc<str>,
}

impl App {
    pub(crate) fn new(
        state: SharedState,
        access_token: &str,
        arm_access_token: &str,
        bound_url: &str,
    ) -> Self {
        Self {
            state,
            authority: Arc::new(TokenAuthority::new()),
            static_authorization: format!("Bearer {access_token}").into(),
            static_arm_authorization: format!("Bearer {arm_access_token}").into(),
            bound_url: bound_url.into(),
        }
    }

    /// `Bearer <static token>` (classic routes).
    pub(crate) fn static_authorization(&self) -> &str {
        &self.static_authorization
    }

    /// `Bearer <static ARM token>` (ARM routes).
    pub(crate) fn static_arm_authorization(&self) -> &str {
        &self.static_arm_authorization
    }

    pub(crate) fn bound_url(&self) -> &str {
        &self.bound_url
    }

    /// The emulator's URL as this request reached it: `http://` + the request's authority or
    /// `Host` header; the bound address when the request names no usable host.
    pub(crate) fn request_base_url(&self, parts: &Parts) -> String {
        let host = parts
            .uri
            .authority()
            .map(|authority| authority.as_str().to_owned())
            .or_else(|| {
                parts
                    .headers
                    .get(header::HOST)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            })
            .filter(|host| {
                !host.is_empty()
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
            });
        match host {
            Some(host) => format!("http://{host}"),
            None => self.bound_url.to_string(),
        }
    }
}

/// The admin routes take an [`Admin`] over the same state.
impl FromRef<App> for Admin {
    fn from_ref(app: &App) -> Admin {
        Admin::new(app.state.clone())
    }
}

impl fmt::Debug for App {
    // Hand-written so the token can never reach a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("state", &self.state)
            .field("authority", &self.authority)
            .field("static_authorization", &"<redacted>")
            .field("static_arm_authorization", &"<redacted>")
            .field("bound_url", &self.bound_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Seed;

    #[test]
    fn debug_output_redacts_the_token() {
        let app = App::new(
            SharedState::new(Seed::default()),
            "super-secret-token",
            "super-secret-arm-token",
            "http://127.0.0.1:1",
        );
        let text = format!("{app:?}");
        assert!(!text.contains("super-secret"), "{text}");
    }
}
