//! `POST /{tenant}/oauth2/v2.0/token` and `POST /{tenant}/oauth2/v2.0/devicecode`: Entra's
//! token and device code endpoints.

use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::aad_error_response;
use super::request::{directory, finish, identity_record, issue, read_form};
use crate::http::app::App;
use crate::identity::error::AadError;
use crate::identity::token::{TenantRequest, device_code_grant, token_grant};
use crate::record::RequestRecord;

#[derive(Serialize)]
struct TokenResponse {
    token_type: &'static str,
    scope: &'static str,
    expires_in: u64,
    ext_expires_in: u64,
    access_token: String,
}

#[derive(Serialize)]
struct DeviceCodeResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    expires_in: u64,
    interval: u64,
    message: String,
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(crate) async fn token(
    State(app): State<App>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    tenant_endpoint(app, tenant, request, "token", |app, request, record| {
        record.grant_type = request.form.get("grant_type").map(str::to_owned);
        let grant = token_grant(request, &mut record.client_id, |code, client_id, auto| {
            app.state.with(|inner| {
                inner
                    .device_codes
                    .poll(code, client_id, auto, Instant::now())
            })
        })?;
        let directory = request.directory;
        let issued = issue(
            app,
            directory,
            &grant,
            Some(request.tenant),
            request.base,
            record,
        );
        let lifetime = directory.0.token_lifetime_seconds;
        Ok(Json(TokenResponse {
            token_type: "Bearer",
            expires_in: lifetime,
            ext_expires_in: lifetime,
            access_token: issued.token,
            scope: grant.resource.scope,
        })
        .into_response())
    })
    .await
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub(crate) async fn device_code(
    State(app): State<App>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    tenant_endpoint(
        app,
        tenant,
        request,
        "deviceCode",
        |app, request, record| {
            let grant = device_code_grant(
                request,
                &mut record.client_id,
                |client_id, resource, config| {
                    app.state.with(|inner| {
                        inner
                            .device_codes
                            .issue(client_id, resource, config, Instant::now())
                    })
                },
            )?;
            let verification_uri = format!("{}/devicelogin", request.base);
            Ok(Json(DeviceCodeResponse {
            message: format!(
                "To sign in, use a web browser to open the page {verification_uri} and enter the \
                 code {} to authenticate.",
                grant.user_code
            ),
            device_code: grant.device_code,
            user_code: grant.user_code,
            verification_uri,
            expires_in: grant.expires_in,
            interval: grant.interval,
        })
        .into_response())
        },
    )
    .await
}

/// The frame the token and device code endpoints share, so both read, answer and record a
/// request the same way: reads the form, starts the request record for `route` and `tenant`,
/// runs `respond`, answers its error in Entra's shape and records the final status.
async fn tenant_endpoint(
    app: App,
    tenant: String,
    request: Request,
    route: &'static str,
    respond: impl FnOnce(&App, TenantRequest<'_>, &mut RequestRecord) -> Result<Response, AadError>,
) -> Response {
    let (parts, body) = request.into_parts();
    let form = read_form(body).await;
    let mut record = identity_record(&parts, route, false);
    record.tenant = Some(tenant.clone());
    let base = app.request_base_url(&parts);
    let directory = directory(&app);
    let request = TenantRequest {
        directory: &directory,
        tenant: &tenant,
        form: &form,
        authorization: parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok()),
        base: &base,
        bound_url: app.bound_url(),
    };
    let response = match respond(&app, request, &mut record) {
        Ok(response) => response,
        Err(error) => aad_error_response(error, &parts.headers),
    };
    finish(&app, record, response)
}
