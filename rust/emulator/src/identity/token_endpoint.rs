//! `POST /{tenant}/oauth2/v2.0/token` and `POST /{tenant}/oauth2/v2.0/devicecode`.

use std::time::Instant;

use axum::Json;
use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::aad_error::AadError;
use super::assertion::{AssertionCheck, verify_client_assertion};
use super::device::PollOutcome;
use super::directory::{Directory, Grant, check_scope, issue};
use super::jwt::Subject;
use super::request::{
    Form, MAX_FORM_BODY, basic_credentials, constant_time_eq, identity_record, request_base_url,
};
use super::time::now_epoch;
use super::{ApplicationConfig, BROKER_SCOPE};
use crate::state::{RequestRecord, SharedState};

/// `client_assertion_type` of RFC 7523 client assertions.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How the client tried to authenticate.
enum Credential<'a> {
    None,
    Secret(&'a str),
    Assertion { kind: Option<&'a str>, jwt: &'a str },
}

#[derive(Serialize)]
struct TokenResponse {
    token_type: &'static str,
    scope: &'static str,
    expires_in: u64,
    ext_expires_in: u64,
    access_token: String,
}

/// One form post to `/{tenant}/oauth2/v2.0/...`, as the checks of either endpoint see it.
struct TenantForm<'a> {
    state: &'a SharedState,
    directory: &'a Directory,
    tenant: &'a str,
    form: &'a Form,
    headers: &'a HeaderMap,
    /// The base URL the client used (see [`request_base_url`]).
    base: &'a str,
}

/// The frame the token and device code endpoints share, so both read, answer and record a
/// request the same way: reads the form, starts the request record for `route` and `tenant`,
/// runs `respond`, answers its error in Entra's shape and records the final status.
async fn tenant_form_endpoint(
    state: SharedState,
    tenant: String,
    request: Request,
    route: &'static str,
    respond: impl FnOnce(&TenantForm<'_>, &mut RequestRecord) -> Result<Response, AadError>,
) -> Response {
    let (parts, body) = request.into_parts();
    let form = Form::parse(&to_bytes(body, MAX_FORM_BODY).await.unwrap_or_default());
    let mut record = identity_record(&parts, route, false);
    record.tenant = Some(tenant.clone());
    let base = request_base_url(&parts, state.bound_url());
    let directory = Directory::load(&state);
    let request = TenantForm {
        state: &state,
        directory: &directory,
        tenant: &tenant,
        form: &form,
        headers: &parts.headers,
        base: &base,
    };
    let response = match respond(&request, &mut record) {
        Ok(response) => response,
        Err(error) => error.into_response_for(&parts.headers),
    };
    record.status = response.status().as_u16();
    state.record(record);
    response
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(crate) async fn token(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    tenant_form_endpoint(state, tenant, request, "token", |request, record| {
        record.grant_type = request.form.get("grant_type").map(str::to_owned);
        let grant = token_grant(request, record)?;
        let TenantForm {
            state,
            directory,
            tenant,
            base,
            ..
        } = *request;
        let issued = issue(state, directory, &grant, Some(tenant), base, record);
        let lifetime = directory.0.token_lifetime_seconds;
        Ok(Json(TokenResponse {
            token_type: "Bearer",
            scope: BROKER_SCOPE,
            expires_in: lifetime,
            ext_expires_in: lifetime,
            access_token: issued.token,
        })
        .into_response())
    })
    .await
}

/// Runs the checks of one token request, in Entra's order: tenant, grant type, client,
/// client authentication, scope, then the grant itself.
fn token_grant(request: &TenantForm<'_>, record: &mut RequestRecord) -> Result<Grant, AadError> {
    let TenantForm {
        state,
        directory,
        tenant,
        form,
        headers,
        base,
    } = *request;
    directory.check_tenant(tenant)?;
    let grant_type = form
        .get("grant_type")
        .ok_or_else(|| AadError::missing_parameter("grant_type"))?;
    let user_flow = match grant_type {
        "client_credentials" => false,
        "password" | GRANT_DEVICE_CODE => true,
        other => {
            return Err(AadError::bad_request(
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            ));
        }
    };

    // Who is the client, and what does it present?
    let basic = basic_credentials(headers);
    let assertion = form.get("client_assertion");
    let form_client_id = form.get("client_id");
    if let (Some((basic_id, _)), Some(form_id)) = (&basic, form_client_id)
        && !basic_id.eq_ignore_ascii_case(form_id)
    {
        return Err(AadError::bad_request(
            "invalid_request",
            900144,
            "The client_id in the request body does not match the one in the Authorization header.",
        ));
    }
    let assertion_issuer = assertion.and_then(|jwt| {
        jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(jwt)
            .ok()
            .and_then(|claims| claims.get("iss")?.as_str().map(str::to_owned))
    });
    let client_id = basic
        .as_ref()
        .map(|(id, _)| id.clone())
        .or_else(|| form_client_id.map(str::to_owned))
        .or(assertion_issuer)
        .ok_or_else(|| AadError::missing_parameter("client_id"))?;
    record.client_id = Some(client_id.clone());
    let credential = match (assertion, &basic, form.get("client_secret")) {
        (Some(jwt), _, _) => Credential::Assertion {
            kind: form.get("client_assertion_type"),
            jwt,
        },
        (None, Some((_, secret)), _) if !secret.is_empty() => Credential::Secret(secret),
        (None, _, Some(secret)) => Credential::Secret(secret),
        _ => Credential::None,
    };

    let app = directory.find_application(&client_id, tenant)?;
    let audiences = directory.assertion_audiences(tenant, base, state.bound_url());
    let credential = authenticate_client(app, &credential, user_flow, &audiences)?;
    let client_id = app.client_id.clone();

    match grant_type {
        "client_credentials" => {
            check_scope(form.get("scope"), false)?;
            Ok(Grant {
                subject: Subject::App {
                    display_name: app
                        .display_name
                        .clone()
                        .unwrap_or_else(|| client_id.clone()),
                    client_id,
                },
                grant: "client_credentials",
                credential,
            })
        }
        "password" => {
            check_scope(form.get("scope"), true)?;
            let username = form
                .get("username")
                .ok_or_else(|| AadError::missing_parameter("username"))?;
            let password = form
                .get("password")
                .ok_or_else(|| AadError::missing_parameter("password"))?;
            let user = directory.0.users.iter().find(|user| {
                user.username.eq_ignore_ascii_case(username)
                    && user.password.as_deref().is_some_and(|expected| {
                        constant_time_eq(expected.as_bytes(), password.as_bytes())
                    })
            });
            let Some(user) = user else {
                return Err(AadError::bad_request(
                    "invalid_grant",
                    50126,
                    "Error validating credentials due to invalid username or password.",
                ));
            };
            Ok(Grant {
                subject: Subject::User {
                    client_id,
                    username: user.username.clone(),
                    display_name: user
                        .display_name
                        .clone()
                        .unwrap_or_else(|| user.username.clone()),
                },
                grant: "password",
                credential,
            })
        }
        _ => {
            let device_code = form
                .get("device_code")
                .ok_or_else(|| AadError::missing_parameter("device_code"))?;
            let device = &directory.0.device_code;
            let auto_approve = device
                .auto_approve_user
                .as_deref()
                .map(|user| (user, device.approve_after_polls));
            let outcome = state.with(|inner| {
                inner
                    .device_codes
                    .poll(device_code, &client_id, auto_approve, Instant::now())
            });
            let username = device_poll_result(outcome)?;
            let user = directory
                .0
                .users
                .iter()
                .find(|user| user.username.eq_ignore_ascii_case(&username));
            Ok(Grant {
                subject: Subject::User {
                    client_id,
                    display_name: user
                        .and_then(|user| user.display_name.clone())
                        .unwrap_or_else(|| username.clone()),
                    username: user.map_or(username, |user| user.username.clone()),
                },
                grant: "device_code",
                credential,
            })
        }
    }
}

/// Authenticates the client. Confidential clients must always present a credential; public
/// clients ("allow public client flows") must not present one in user flows.
fn authenticate_client(
    app: &ApplicationConfig,
    credential: &Credential<'_>,
    user_flow: bool,
    audiences: &[String],
) -> Result<Option<&'static str>, AadError> {
    let public = user_flow && app.public_client;
    if public && !matches!(credential, Credential::None) {
        return Err(AadError::invalid_client(
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        ));
    }
    match credential {
        Credential::None if public => Ok(None),
        Credential::None => Err(AadError::invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'.",
        )),
        Credential::Secret(secret) => {
            let matches = app
                .client_secret
                .as_deref()
                .is_some_and(|expected| constant_time_eq(expected.as_bytes(), secret.as_bytes()));
            if matches {
                Ok(Some("secret"))
            } else {
                Err(AadError::invalid_client(
                    7000215,
                    format!(
                        "Invalid client secret provided. Ensure the secret being sent in the \
                         request is the client secret value, not the client secret ID, for a \
                         secret added to app '{}'.",
                        app.client_id
                    ),
                ))
            }
        }
        Credential::Assertion { kind, jwt } => {
            match kind {
                Some(JWT_BEARER) => {}
                Some(_) => {
                    return Err(AadError::bad_request(
                        "invalid_request",
                        900144,
                        format!("The 'client_assertion_type' parameter must be '{JWT_BEARER}'."),
                    ));
                }
                None => return Err(AadError::missing_parameter("client_assertion_type")),
            }
            verify_client_assertion(
                jwt,
                AssertionCheck {
                    client_id: &app.client_id,
                    certificates: &app.certificates,
                    audiences,
                    now: now_epoch(),
                },
            )?;
            Ok(Some("certificate"))
        }
    }
}

/// Maps a device code poll to the approving user or Entra's error.
fn device_poll_result(outcome: PollOutcome) -> Result<String, AadError> {
    let error = |error: &'static str, code: u32, message: &str| {
        Err(AadError::bad_request(error, code, message))
    };
    match outcome {
        PollOutcome::Approved { username } => Ok(username),
        PollOutcome::Pending => error(
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        ),
        PollOutcome::SlowDown => error(
            "slow_down",
            70016,
            "OAuth 2.0 device flow error. The client is polling too fast: wait at least \
             'interval' seconds between polls.",
        ),
        PollOutcome::Declined => error(
            "authorization_declined",
            70000,
            "The user declined the authentication request.",
        ),
        PollOutcome::Expired => error("expired_token", 70019, "Verification code expired."),
        PollOutcome::AlreadyRedeemed => error(
            "invalid_grant",
            70000,
            "The provided value for the 'device_code' parameter was already redeemed.",
        ),
        PollOutcome::Unknown => error(
            "bad_verification_code",
            70018,
            "The provided value for the 'device_code' parameter is not valid for this client.",
        ),
    }
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

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub(crate) async fn device_code(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    tenant_form_endpoint(state, tenant, request, "deviceCode", |request, record| {
        device_code_grant(request, record).map(|body| Json(body).into_response())
    })
    .await
}

/// The checks and the new code of one device code request.
fn device_code_grant(
    request: &TenantForm<'_>,
    record: &mut RequestRecord,
) -> Result<DeviceCodeResponse, AadError> {
    let TenantForm {
        state,
        directory,
        tenant,
        form,
        headers,
        base,
    } = *request;
    directory.check_tenant(tenant)?;
    let client_id = basic_credentials(headers)
        .map(|(id, _)| id)
        .or_else(|| form.get("client_id").map(str::to_owned))
        .ok_or_else(|| AadError::missing_parameter("client_id"))?;
    record.client_id = Some(client_id.clone());
    let app = directory.find_application(&client_id, tenant)?;
    check_scope(form.get("scope"), true)?;
    let config = &directory.0.device_code;
    let (device_code, user_code) = state.with(|inner| {
        inner
            .device_codes
            .issue(&app.client_id, config, Instant::now())
    });
    let verification_uri = format!("{base}/devicelogin");
    Ok(DeviceCodeResponse {
        message: format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the \
             code {user_code} to authenticate."
        ),
        device_code,
        user_code,
        verification_uri,
        expires_in: config.expires_in_seconds,
        interval: config.interval_seconds,
    })
}
