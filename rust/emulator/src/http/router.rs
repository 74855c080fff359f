//! The whole application: the admin routes, the identity endpoints, and the classic broker
//! behind the fallback.

use axum::Router;
use axum::routing::{get, post};

use super::admin;
use super::app::App;
use super::classic::sessions;
use super::identity::{device_login, managed, tenant};

/// Builds the router over `app`.
pub(crate) fn router(app: App) -> Router {
    Router::new()
        .merge(admin::routes())
        // The emulated Entra ID and managed identity endpoints (logged like broker requests).
        .route("/{tenant}/oauth2/v2.0/token", post(tenant::token))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(tenant::device_code),
        )
        .route("/metadata/identity/oauth2/token", get(managed::imds))
        .route(
            "/msi/token",
            get(managed::app_service).post(managed::app_service),
        )
        .route(
            "/devicelogin",
            get(device_login::device_login_page).post(device_login::device_login_submit),
        )
        // Everything else is a classic broker request.
        .fallback(sessions::handler)
        .with_state(app)
}
