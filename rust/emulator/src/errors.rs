//! The broker's error responses.
//!
//! The real broker answers with two different body shapes, and clients have to cope with both
//! (see `RDS-Templates` issue 510), so the emulator reproduces both:
//!
//! * nested: `{"error":{"code","message","target","details":[{"code","message","target"}]}}`
//!   for lookups, authorization and conflicts;
//! * flat: `{"Error":"InvalidDataFormat","Message":"..."}` for request values that do not parse.

use axum::Json;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::activity::Action;

/// Message of the 401 response. Deliberately generic: it must never echo what was sent.
pub(crate) const UNAUTHORIZED_MESSAGE: &str =
    "The access token is missing, malformed or not valid for this broker.";

/// Message of the 401 response for an expired token this emulator issued.
pub(crate) const EXPIRED_TOKEN_MESSAGE: &str =
    "The access token has expired. Acquire a new token and try again.";

/// Message of the 403 response, worded as the classic PowerShell module reports it.
pub(crate) const FORBIDDEN_MESSAGE: &str =
    "The user isn't authorized to query the management service.";

/// Message of the 404 `SessionNotFound` response, as seen from the real broker.
pub(crate) const SESSION_NOT_FOUND_MESSAGE: &str = "User session ID not found";

/// Everything a broker route can fail with. Each variant knows its status and body, so the
/// handlers only decide *which* error applies, never how it is written on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BrokerError {
    /// 401: missing bearer token, or a value that is neither the static token nor a JWT.
    Unauthorized,
    /// 401: a JWT the broker does not accept: not issued by this emulator, not for the broker,
    /// or expired. Answered with `WWW-Authenticate: Bearer error="invalid_token"`.
    InvalidToken { expired: bool },
    /// 403: the tenant is marked `forbidden`.
    Forbidden { tenant: String },
    /// 404 with a nested body naming the missing object.
    NotFound {
        code: &'static str,
        message: String,
        target: String,
    },
    /// 400 with the flat `InvalidDataFormat` body.
    InvalidData { message: String },
    /// 409: a session action on an unreachable session host (a logoff without `force=true`,
    /// any disconnect or message).
    SessionHostUnreachable {
        session_host: String,
        action: Action,
    },
    /// 404: no broker route has this path.
    RouteNotFound { method: Method, raw_path: String },
    /// 405: the path is a broker route, but not for this method.
    MethodNotAllowed { allow: Vec<Method> },
    /// 429 from an injected `throttle` fault, with `Retry-After`.
    TooManyRequests { retry_after_seconds: u64 },
    /// A 5xx from an injected `serverError` fault.
    ServerError { status: StatusCode },
}

impl BrokerError {
    /// 404 `TenantGroupNotFound`.
    pub(crate) fn tenant_group_not_found(tenant_group: &str) -> Self {
        Self::NotFound {
            code: "TenantGroupNotFound",
            message: format!("Tenant group '{tenant_group}' does not exist."),
            target: tenant_group.to_owned(),
        }
    }

    /// 404 `TenantNotFound`.
    pub(crate) fn tenant_not_found(tenant: &str, tenant_group: &str) -> Self {
        Self::NotFound {
            code: "TenantNotFound",
            message: format!("Tenant '{tenant}' does not exist in tenant group '{tenant_group}'."),
            target: tenant.to_owned(),
        }
    }

    /// 404 `HostPoolNotFound`.
    pub(crate) fn host_pool_not_found(host_pool: &str, tenant: &str) -> Self {
        Self::NotFound {
            code: "HostPoolNotFound",
            message: format!("Host pool '{host_pool}' does not exist in tenant '{tenant}'."),
            target: host_pool.to_owned(),
        }
    }

    /// 404 `SessionHostNotFound`.
    pub(crate) fn session_host_not_found(session_host: &str, host_pool: &str) -> Self {
        Self::NotFound {
            code: "SessionHostNotFound",
            message: format!(
                "Session host '{session_host}' does not exist in host pool '{host_pool}'."
            ),
            target: session_host.to_owned(),
        }
    }

    /// 404 `SessionNotFound`; the target is the session id as it appeared in the path.
    pub(crate) fn session_not_found(session_id: &str) -> Self {
        Self::NotFound {
            code: "SessionNotFound",
            message: SESSION_NOT_FOUND_MESSAGE.to_owned(),
            target: session_id.to_owned(),
        }
    }

    /// The HTTP status of this error.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::InvalidToken { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } | Self::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            Self::InvalidData { .. } => StatusCode::BAD_REQUEST,
            Self::SessionHostUnreachable { .. } => StatusCode::CONFLICT,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::ServerError { status } => *status,
        }
    }
}

impl IntoResponse for BrokerError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            Self::Unauthorized => {
                let mut response =
                    (status, nested("Unauthorized", UNAUTHORIZED_MESSAGE, None)).into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            Self::InvalidToken { expired } => {
                let message = if expired {
                    EXPIRED_TOKEN_MESSAGE
                } else {
                    UNAUTHORIZED_MESSAGE
                };
                let mut response = (status, nested("Unauthorized", message, None)).into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
                response
            }
            Self::Forbidden { tenant } => (
                status,
                nested("Forbidden", FORBIDDEN_MESSAGE, Some(&tenant)),
            )
                .into_response(),
            Self::NotFound {
                code,
                message,
                target,
            } => (status, nested(code, &message, Some(&target))).into_response(),
            Self::InvalidData { message } => (
                status,
                Json(FlatError {
                    error: "InvalidDataFormat",
                    message: &message,
                }),
            )
                .into_response(),
            Self::SessionHostUnreachable {
                session_host,
                action,
            } => {
                let message = match action {
                    Action::Logoff => format!(
                        "Session host '{session_host}' is not reachable; the session was not logged off. \
                         Use -Force to remove the session record."
                    ),
                    Action::Disconnect => format!(
                        "Session host '{session_host}' is not reachable; the session was not disconnected."
                    ),
                    Action::Message => format!(
                        "Session host '{session_host}' is not reachable; the message was not sent."
                    ),
                };
                (
                    status,
                    nested("SessionHostUnreachable", &message, Some(&session_host)),
                )
                    .into_response()
            }
            Self::RouteNotFound { method, raw_path } => {
                let message = format!("No broker route matches '{method} {raw_path}'.");
                (status, nested("RouteNotFound", &message, None)).into_response()
            }
            Self::MethodNotAllowed { allow } => {
                let allowed: Vec<&str> = allow.iter().map(Method::as_str).collect();
                let allowed = allowed.join(", ");
                let message = format!("This broker route only accepts: {allowed}.");
                let mut response =
                    (status, nested("MethodNotAllowed", &message, None)).into_response();
                // Method names are plain ASCII tokens, so this conversion cannot fail in practice;
                // if it ever did, omitting the header is better than failing the response.
                if let Ok(value) = HeaderValue::from_str(&allowed) {
                    response.headers_mut().insert(header::ALLOW, value);
                }
                response
            }
            Self::TooManyRequests {
                retry_after_seconds,
            } => {
                let message = format!(
                    "The broker is throttling requests; retry after {retry_after_seconds} \
                     second(s). (Injected fault.)"
                );
                let mut response =
                    (status, nested("TooManyRequests", &message, None)).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
                response
            }
            Self::ServerError { status } => {
                let code = match status {
                    StatusCode::INTERNAL_SERVER_ERROR => "InternalServerError",
                    StatusCode::BAD_GATEWAY => "BadGateway",
                    StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailable",
                    StatusCode::GATEWAY_TIMEOUT => "GatewayTimeout",
                    _ => "ServerError",
                };
                let message = "The broker could not process the request. (Injected fault.)";
                (status, nested(code, message, None)).into_response()
            }
        }
    }
}

/// Builds the nested body. With a target, `details` repeats the error once, which is what the
/// real broker does and what clients that prefer `details[].message` rely on.
fn nested(code: &str, message: &str, target: Option<&str>) -> Json<NestedBody> {
    let details = target
        .map(|target| {
            vec![ErrorDetail {
                code: code.to_owned(),
                message: message.to_owned(),
                target: target.to_owned(),
            }]
        })
        .unwrap_or_default();
    Json(NestedBody {
        error: NestedError {
            code: code.to_owned(),
            message: message.to_owned(),
            target: target.map(str::to_owned),
            details,
        },
    })
}

#[derive(Serialize)]
struct NestedBody {
    error: NestedError,
}

#[derive(Serialize)]
struct NestedError {
    code: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<ErrorDetail>,
}

#[derive(Serialize)]
struct ErrorDetail {
    code: String,
    message: String,
    target: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FlatError<'a> {
    error: &'a str,
    message: &'a str,
}
