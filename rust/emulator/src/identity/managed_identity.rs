//! Managed identity endpoints: `GET /metadata/identity/oauth2/token` (Azure VM IMDS) and
//! `GET`/`POST /msi/token` (App Service, Functions, Automation).

use axum::Json;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::BROKER_RESOURCE;
use super::aad_error::MsiError;
use super::directory::{Directory, Grant, issue};
use super::jwt::{IssuedJwt, Subject};
use super::request::{Form, MAX_FORM_BODY, constant_time_eq, identity_record, request_base_url};
use crate::state::{RequestRecord, SharedState};

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

/// The identity and resource a managed identity request resolved to.
struct ManagedIdentityGrant {
    grant: Grant,
    resource: String,
}

/// Shared checks of both managed identity endpoints: resource, then identity.
fn managed_identity_grant(
    directory: &Directory,
    params: &Form,
    grant: &'static str,
    record: &mut RequestRecord,
) -> Result<ManagedIdentityGrant, MsiError> {
    let bad =
        |error: &'static str, text: String| MsiError::new(StatusCode::BAD_REQUEST, error, text);
    let client_id = params.get("client_id");
    record.client_id = client_id.map(str::to_owned);
    let resource = params.get("resource").ok_or_else(|| {
        bad(
            "invalid_request",
            "Required audience parameter not specified".into(),
        )
    })?;
    if !resource
        .trim_end_matches('/')
        .eq_ignore_ascii_case(BROKER_RESOURCE)
    {
        return Err(bad(
            "invalid_resource",
            format!(
                "AADSTS500011: The resource principal named {resource} was not found in the \
                 tenant named {}. This can happen if the application has not been installed by \
                 the administrator of the tenant or consented to by any user in the tenant. You \
                 might have sent your authentication request to the wrong tenant.",
                directory.tenant_id()
            ),
        ));
    }
    let by_other_id = client_id.is_none()
        && ["object_id", "principal_id", "msi_res_id", "mi_res_id"]
            .iter()
            .any(|name| params.get(name).is_some());
    let identity = if by_other_id {
        None
    } else {
        directory.managed_identity(client_id)
    };
    let identity = identity.ok_or_else(|| bad("invalid_request", "Identity not found".into()))?;
    record.client_id = Some(identity.client_id.clone());
    Ok(ManagedIdentityGrant {
        grant: Grant {
            subject: Subject::App {
                client_id: identity.client_id.clone(),
                display_name: identity.display_name.clone().unwrap_or_else(|| {
                    if identity.system_assigned {
                        "System-assigned managed identity".to_owned()
                    } else {
                        "User-assigned managed identity".to_owned()
                    }
                }),
            },
            grant,
            credential: None,
        },
        resource: resource.to_owned(),
    })
}

/// IMDS checks: the `Metadata: true` header, `api-version`, then the shared ones.
fn imds_grant(
    directory: &Directory,
    params: &Form,
    headers: &HeaderMap,
    record: &mut RequestRecord,
) -> Result<ManagedIdentityGrant, MsiError> {
    let mut metadata = headers.get_all("metadata").iter();
    let metadata_ok = matches!(
        (metadata.next(), metadata.next()),
        (Some(value), None) if value.as_bytes().eq_ignore_ascii_case(b"true")
    );
    if !metadata_ok {
        return Err(MsiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required metadata header not specified",
        ));
    }
    if params.get("api-version").is_none() {
        return Err(MsiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'api-version' is missing",
        ));
    }
    managed_identity_grant(directory, params, "imds", record)
}

/// `GET /metadata/identity/oauth2/token` (Azure VM instance metadata service).
pub(crate) async fn imds(State(state): State<SharedState>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    let params = Form::parse(parts.uri.query().unwrap_or_default().as_bytes());
    managed_identity_response(&state, &parts, "imds", &params, imds_grant, |token| {
        ImdsTokenResponse {
            access_token: token.issued.token,
            refresh_token: "",
            expires_in: token.lifetime.to_string(),
            expires_on: token.issued.expires_at.to_string(),
            not_before: token.issued.not_before.to_string(),
            resource: token.resource,
            token_type: "Bearer",
            client_id: token.client_id,
        }
    })
}

/// App Service checks: the `X-IDENTITY-HEADER` secret (never echoed), then the shared ones.
fn app_service_grant(
    directory: &Directory,
    params: &Form,
    headers: &HeaderMap,
    record: &mut RequestRecord,
) -> Result<ManagedIdentityGrant, MsiError> {
    let expected = directory.0.app_service_identity_header.as_deref();
    let mut sent = headers.get_all("x-identity-header").iter();
    let header_ok = match (expected, sent.next(), sent.next()) {
        (Some(expected), Some(value), None) => {
            constant_time_eq(expected.as_bytes(), value.as_bytes())
        }
        _ => false,
    };
    if !header_ok {
        return Err(MsiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The X-IDENTITY-HEADER request header is missing or does not match the \
             IDENTITY_HEADER of this app.",
        ));
    }
    managed_identity_grant(directory, params, "app_service", record)
}

/// `GET` or `POST /msi/token` (App Service, Functions; Automation posts a form).
pub(crate) async fn app_service(State(state): State<SharedState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut params = Form::parse(parts.uri.query().unwrap_or_default().as_bytes());
    if parts.method == Method::POST {
        params.extend(Form::parse(
            &to_bytes(body, MAX_FORM_BODY).await.unwrap_or_default(),
        ));
    }
    let route = "appServiceMsi";
    managed_identity_response(&state, &parts, route, &params, app_service_grant, |token| {
        AppServiceTokenResponse {
            access_token: token.issued.token,
            expires_on: token.issued.expires_at.to_string(),
            resource: token.resource,
            token_type: "Bearer",
            client_id: token.client_id,
        }
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

/// The checks of one managed identity endpoint (header, then [`managed_identity_grant`]).
type ManagedIdentityCheck =
    fn(&Directory, &Form, &HeaderMap, &mut RequestRecord) -> Result<ManagedIdentityGrant, MsiError>;

/// The frame both managed identity endpoints share, so they record and answer a request the
/// same way: runs `check` on `params`, issues the token and shapes the 200 body with `body`,
/// answers an error in the managed identity shape, and records the final status.
fn managed_identity_response<B: Serialize>(
    state: &SharedState,
    parts: &Parts,
    route: &str,
    params: &Form,
    check: ManagedIdentityCheck,
    body: impl FnOnce(ManagedIdentityToken) -> B,
) -> Response {
    let mut record = identity_record(parts, route, true);
    let base = request_base_url(parts, state.bound_url());
    let directory = Directory::load(state);
    let response = match check(&directory, params, &parts.headers, &mut record) {
        Ok(mi) => {
            let issued = issue(state, &directory, &mi.grant, None, &base, &mut record);
            Json(body(ManagedIdentityToken {
                issued,
                lifetime: directory.0.token_lifetime_seconds,
                resource: mi.resource,
                client_id: record.client_id.clone().unwrap_or_default(),
            }))
            .into_response()
        }
        Err(error) => error.into_response(),
    };
    record.status = response.status().as_u16();
    state.record(record);
    response
}
