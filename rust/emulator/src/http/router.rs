//! The whole application: the admin routes, the identity endpoints, and behind the fallback
//! the broker: ARM below `/subscriptions/` (any case), the classic broker everywhere else.

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::admin;
use super::app::App;
use super::arm::handler as arm;
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
        // Everything else is a broker request, of one flavour or the other.
        .fallback(broker)
        .with_state(app)
}

/// Sends ARM paths (first segment `subscriptions`, compared case-insensitively as ARM does) to
/// the ARM flavour and every other path to the classic broker, which also answers unknown
/// paths with its own 404.
async fn broker(State(app): State<App>, request: Request) -> Response {
    let first = request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    if first.eq_ignore_ascii_case("subscriptions") {
        arm::handler(State(app), request).await
    } else {
        sessions::handler(State(app), request).await
    }
}
