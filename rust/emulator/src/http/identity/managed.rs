//! The managed identity endpoints: `GET /metadata/identity/oauth2/token` (Azure VM IMDS) and
//! `GET`/`POST /msi/token` (App Service, Functions, Automation).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::msi_error_response;
use super::request::{directory, finish, identity_record, issue, read_form};
use crate::form::Form;
use crate::http::app::App;
use crate::identity::jwt::IssuedJwt;
use crate::identity::managed_identity::{ManagedIdentityCheck, app_service_grant, imds_grant};

/// IMDS response: every number is a string, as IMDS sends them.
#[derive(Serialize)]
struct ImdsTokenResponse {
    access_token: String,
    refresh_token: &'static str,
    expires_in: String,
    expires_on: String,
    not_before: String,
    resource: String,
    token_type: &'static str,
    client_id: String,
}

#[derive(Serialize)]
struct AppServiceTokenResponse {
    access_token: String,
    expires_on: String,
    resource: String,
    token_type: &'static str,
    client_id: String,
}

/// The Azure VM instance metadata service: checks `Metadata: true`.
const IMDS: Endpoint = Endpoint {
    route: "imds",
    header: "metadata",
    check: imds_grant,
};

/// App Service, Functions, Automation: check `X-IDENTITY-HEADER`.
const APP_SERVICE: Endpoint = Endpoint {
    route: "appServiceMsi",
    header: "x-identity-header",
    check: app_service_grant,
};

/// `GET /metadata/identity/oauth2/token` (Azure VM instance metadata service).
pub(crate) async fn imds(State(app): State<App>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    let params = Form::parse(parts.uri.query().unwrap_or_default().as_bytes());
    IMDS.respond(&app, &parts, &params, |token| ImdsTokenResponse {
        access_token: token.issued.token,
        refresh_token: "",
        expires_in: token.lifetime.to_string(),
        expires_on: token.issued.expires_at.to_string(),
        not_before: token.issued.not_before.to_string(),
        resource: token.resource,
        token_type: "Bearer",
        client_id: token.client_id,
    })
}

/// `GET` or `POST /msi/token` (App Service, Functions; Automation posts a form).
pub(crate) async fn app_service(State(app): State<App>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut params = Form::parse(parts.uri.query().unwrap_or_default().as_bytes());
    if parts.method == Method::POST {
        params.extend(read_form(body).await);
    }
    APP_SERVICE.respond(&app, &parts, &params, |token| AppServiceTokenResponse {
        access_token: token.issued.token,
        expires_on: token.issued.expires_at.to_string(),
        resource: token.resource,
        token_type: "Bearer",
        client_id: token.client_id,
    })
}

/// A managed identity token as either endpoint's body needs it.
struct ManagedIdentityToken {
    issued: IssuedJwt,
    /// The token lifetime configured for the directory, in seconds.
    lifetime: u64,
    resource: String,
    client_id: String,
}

/// One managed identity endpoint: its name in the request log, the header its check reads,
/// and the check.
struct Endpoint {
    route: &'static str,
    header: &'static str,
    check: ManagedIdentityCheck,
}

impl Endpoint {
    /// The frame both managed identity endpoints share, so they record and answer a request
    /// the same way: runs the check on `params`, issues the token and shapes the 200 body with
    /// `body`, answers an error in the managed identity shape, and records the final status.
    fn respond<B: Serialize>(
        &self,
        app: &App,
        parts: &Parts,
        params: &Form,
        body: impl FnOnce(ManagedIdentityToken) -> B,
    ) -> Response {
        let mut record = identity_record(parts, self.route, true);
        let base = app.request_base_url(parts);
        let directory = directory(app);
        let header: Vec<&[u8]> = parts
            .headers
            .get_all(self.header)
            .iter()
            .map(|value| value.as_bytes())
            .collect();
        let response = match (self.check)(&directory, params, &header, &mut record.client_id) {
            Ok(mi) => {
                let issued = issue(app, &directory, &mi.grant, None, &base, &mut record);
                Json(body(ManagedIdentityToken {
                    issued,
                    lifetime: directory.0.token_lifetime_seconds,
                    resource: mi.resource,
                    client_id: record.client_id.clone().unwrap_or_default(),
                }))
                .into_response()
            }
            Err(error) => msi_error_response(error),
        };
        finish(app, record, response)
    }
}
