//! The classic broker's error responses: every status, header and body shape it answers with.
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

use crate::broker::error::BrokerError;
use crate::http::auth::Authentication;
use crate::http::reply::InjectedError;

/// Message of the 401 response. Deliberately generic: it must never echo what was sent.
const UNAUTHORIZED_MESSAGE: &str =
    "The access token is missing, malformed or not valid for this broker.";

/// Message of the 401 response for an expired token this emulator issued.
const EXPIRED_TOKEN_MESSAGE: &str =
    "The access token has expired. Acquire a new token and try again.";

/// Everything a classic broker route can fail with. Each variant knows its status and body, so
/// the handlers only decide *which* error applies, never how it is written on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ClassicError {
    /// What the broker operation failed with (403, 404, 400, 409).
    Broker(BrokerError),
    /// 401: missing bearer token, or a value that is neither the static token nor a JWT.
    Unauthorized,
    /// 401: a JWT the broker does not accept: not issued by this emulator, not for the broker,
    /// or expired. Answered with `WWW-Authenticate: Bearer error="invalid_token"`.
    InvalidToken { expired: bool },
    /// 404: no broker route has this path.
    RouteNotFound { method: Method, raw_path: String },
    /// 405: the path is a broker route, but not for this method.
    MethodNotAllowed { allow: Vec<Method> },
    /// 429 or 5xx from an injected fault.
    Injected(InjectedError),
}

impl From<BrokerError> for ClassicError {
    fn from(error: BrokerError) -> Self {
        Self::Broker(error)
    }
}

impl ClassicError {
    /// The 401 error for a request that did not authenticate.
    pub(crate) fn require(authentication: &Authentication) -> Result<(), Self> {
        match authentication {
            Authentication::Accepted(_) => Ok(()),
            Authentication::Missing | Authentication::Malformed | Authentication::NotAToken => {
                Err(Self::Unauthorized)
            }
            // A token for another resource (ARM's included) is not valid for this broker.
            Authentication::Invalid | Authentication::WrongAudience { .. } => {
                Err(Self::InvalidToken { expired: false })
            }
            Authentication::Expired { .. } => Err(Self::InvalidToken { expired: true }),
        }
    }
}

/// The HTTP status of a broker operation's error.
fn broker_status(error: &BrokerError) -> StatusCode {
    match error {
        BrokerError::Forbidden { .. } => StatusCode::FORBIDDEN,
        BrokerError::NotFound { .. } => StatusCode::NOT_FOUND,
        BrokerError::InvalidData { .. } => StatusCode::BAD_REQUEST,
        BrokerError::SessionHostUnreachable { .. } => StatusCode::CONFLICT,
    }
}

impl IntoResponse for ClassicError {
    fn into_response(self) -> Response {
        match self {
            Self::Broker(error @ BrokerError::InvalidData { .. }) => (
                broker_status(&error),
                Json(FlatError {
                    error: error.code(),
                    message: &error.message(),
                }),
            )
                .into_response(),
            Self::Broker(error) => (
                broker_status(&error),
                nested(error.code(), &error.message(), error.target()),
            )
                .into_response(),
            Self::Unauthorized => with_header(
                (
                    StatusCode::UNAUTHORIZED,
                    nested("Unauthorized", UNAUTHORIZED_MESSAGE, None),
                ),
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer"),
            ),
            Self::InvalidToken { expired } => {
                let message = if expired {
                    EXPIRED_TOKEN_MESSAGE
                } else {
                    UNAUTHORIZED_MESSAGE
                };
                with_header(
                    (
                        StatusCode::UNAUTHORIZED,
                        nested("Unauthorized", message, None),
                    ),
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                )
            }
            Self::RouteNotFound { method, raw_path } => {
                let message = format!("No broker route matches '{method} {raw_path}'.");
                (
                    StatusCode::NOT_FOUND,
                    nested("RouteNotFound", &message, None),
                )
                    .into_response()
            }
            Self::MethodNotAllowed { allow } => {
                let allowed: Vec<&str> = allow.iter().map(Method::as_str).collect();
                let allowed = allowed.join(", ");
                let message = format!("This broker route only accepts: {allowed}.");
                let response = (
                    StatusCode::METHOD_NOT_ALLOWED,
                    nested("MethodNotAllowed", &message, None),
                );
                // Method names are plain ASCII tokens, so this conversion cannot fail in
                // practice; if it ever did, omitting the header is better than failing the
                // response.
                match HeaderValue::from_str(&allowed) {
                    Ok(value) => with_header(response, header::ALLOW, value),
                    Err(_) => response.into_response(),
                }
            }
            Self::Injected(InjectedError::TooManyRequests {
                retry_after_seconds,
            }) => {
                let message = format!(
                    "The broker is throttling requests; retry after {retry_after_seconds} \
                     second(s). (Injected fault.)"
                );
                with_header(
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        nested("TooManyRequests", &message, None),
                    ),
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_seconds),
                )
            }
            Self::Injected(InjectedError::ServerError { status }) => {
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

/// `response` with one more header.
fn with_header(
    response: impl IntoResponse,
    name: header::HeaderName,
    value: HeaderValue,
) -> Response {
    let mut response = response.into_response();
    response.headers_mut().insert(name, value);
    response
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
