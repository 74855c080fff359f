//! Everything an ARM route can fail with, written in ARM's `CloudError` shape
//! `{"error":{"code":"...","message":"..."}}` with the headers ARM sends with it
//! (`WWW-Authenticate` on 401, `Retry-After` on 429, `Allow` on 405).
//!
//! Texts are ARM's where a source shows them: `InvalidApiVersionParameter` (message CONFIRMED
//! from a user report, code INFERRED), the user session 404 with code `"404"` and the
//! `ActivityId` of the response's `x-ms-correlation-id` (CONFIRMED from live recordings),
//! `SubscriptionNotFound`, `ResourceGroupNotFound`, `ResourceNotFound`, `AuthorizationFailed`,
//! `ScopeLocked`, `InvalidAuthenticationToken*`, `ExpiredAuthenticationToken` and
//! `MissingApiVersionParameter` (ARM's long-standing wording). The rest is INFERRED in ARM's
//! style and marked so on its variant.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::exchange::Exchange;
use crate::clock::{dotnet_general, now_epoch};
use crate::http::reply::InjectedError;
use crate::identity::audience::ARM_AUDIENCES;
use crate::knobs::rate_limits::OperationClass;
use crate::model::Action;

/// An ARM route's failure. Each variant knows its status, code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ArmError {
    /// 401: no `Authorization` header (or several).
    MissingAuthorization,
    /// 401: an `Authorization` header that is not `Bearer <token>` (message INFERRED).
    MalformedAuthorization,
    /// 401: not a token of this emulator (or not a token at all).
    InvalidToken,
    /// 401: an ARM token of this emulator that expired at `expires_at` (epoch seconds).
    ExpiredToken { expires_at: u64 },
    /// 401: a token for another audience (the classic broker's, typically).
    WrongAudience { audience: String },
    /// 400: no `api-version` query parameter.
    MissingApiVersion,
    /// 400: an `api-version` outside the configured set.
    InvalidApiVersion {
        given: String,
        supported: Vec<String>,
    },
    /// 429: a token bucket is empty (message INFERRED in ARM's style).
    Throttled {
        class: OperationClass,
        subscription: String,
        principal: String,
        retry_after_seconds: u64,
        global: bool,
    },
    /// 404: no tenant is in this subscription.
    SubscriptionNotFound { subscription: String },
    /// 404: no host pool is in this resource group (and no tenant uses it).
    ResourceGroupNotFound { resource_group: String },
    /// 404: no host pool of this name in the resource group.
    HostPoolNotFound {
        host_pool: String,
        resource_group: String,
    },
    /// 404 in the service's `ActivityId` style with code `"404"`, like the user session one
    /// (INFERRED: no recording shows a missing session host).
    SessionHostNotFound,
    /// 404 `"404"` `User session does not exist` (CONFIRMED).
    UserSessionNotFound,
    /// 404 `"404"` `User session ID not found`: the 2020 text, for a logoff of a missing
    /// session when `missingSessionOnDelete` is `notFound` (CONFIRMED from 2020 reports).
    UserSessionIdNotFound,
    /// 403: no role assignment allows `action` at `scope`.
    AuthorizationFailed {
        client: String,
        object_id: String,
        action: String,
        scope: String,
    },
    /// 409: a lock refuses the operation.
    ScopeLocked {
        scope: String,
        operation: &'static str,
        locks: Vec<String>,
    },
    /// 409: the session host cannot be reached; the classic broker's refusal in ARM's shape
    /// (code INFERRED: kept from the classic flavour so clients can tell it apart).
    SessionHostUnreachable {
        session_host: String,
        action: Action,
    },
    /// 400 `InvalidParameter`: a query parameter does not parse (INFERRED).
    InvalidParameter { message: String },
    /// 400 `InvalidRequestContent`: a body that is not the expected JSON.
    InvalidRequestContent { message: String },
    /// 404 `InvalidResourceType`: no ARM route has this path (INFERRED).
    NoSuchRoute { api_version: String },
    /// 405: the path is an ARM route, but not for this method (INFERRED).
    MethodNotAllowed { method: Method, allow: Vec<Method> },
    /// 400: a path segment is not UTF-8 once decoded (INFERRED).
    InvalidPath { segment: String },
    /// 429 or 5xx from an injected fault; the 429 is worded as a real throttle.
    Injected {
        error: InjectedError,
        class: OperationClass,
        subscription: String,
        principal: String,
    },
}

#[derive(Serialize)]
struct CloudError<'a> {
    error: CloudErrorBody<'a>,
}

#[derive(Serialize)]
struct CloudErrorBody<'a> {
    code: &'a str,
    message: String,
}

impl ArmError {
    fn status(&self) -> StatusCode {
        match self {
            Self::MissingAuthorization
            | Self::MalformedAuthorization
            | Self::InvalidToken
            | Self::ExpiredToken { .. }
            | Self::WrongAudience { .. } => StatusCode::UNAUTHORIZED,
            Self::MissingApiVersion
            | Self::InvalidApiVersion { .. }
            | Self::InvalidParameter { .. }
            | Self::InvalidRequestContent { .. }
            | Self::InvalidPath { .. } => StatusCode::BAD_REQUEST,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::SubscriptionNotFound { .. }
            | Self::ResourceGroupNotFound { .. }
            | Self::HostPoolNotFound { .. }
            | Self::SessionHostNotFound
            | Self::UserSessionNotFound
            | Self::UserSessionIdNotFound
            | Self::NoSuchRoute { .. } => StatusCode::NOT_FOUND,
            Self::AuthorizationFailed { .. } => StatusCode::FORBIDDEN,
            Self::ScopeLocked { .. } | Self::SessionHostUnreachable { .. } => StatusCode::CONFLICT,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Injected { error, .. } => match error {
                InjectedError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
                InjectedError::ServerError { status } => *status,
            },
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::MissingAuthorization | Self::MalformedAuthorization => "AuthenticationFailed",
            Self::InvalidToken => "InvalidAuthenticationToken",
            Self::ExpiredToken { .. } => "ExpiredAuthenticationToken",
            Self::WrongAudience { .. } => "InvalidAuthenticationTokenAudience",
            Self::MissingApiVersion => "MissingApiVersionParameter",
            Self::InvalidApiVersion { .. } => "InvalidApiVersionParameter",
            Self::Throttled { .. } => "SubscriptionRequestsThrottled",
            Self::SubscriptionNotFound { .. } => "SubscriptionNotFound",
            Self::ResourceGroupNotFound { .. } => "ResourceGroupNotFound",
            Self::HostPoolNotFound { .. } => "ResourceNotFound",
            Self::SessionHostNotFound | Self::UserSessionNotFound | Self::UserSessionIdNotFound => {
                "404"
            }
            Self::AuthorizationFailed { .. } => "AuthorizationFailed",
            Self::ScopeLocked { .. } => "ScopeLocked",
            Self::SessionHostUnreachable { .. } => "SessionHostUnreachable",
            Self::InvalidParameter { .. } => "InvalidParameter",
            Self::InvalidRequestContent { .. } => "InvalidRequestContent",
            Self::NoSuchRoute { .. } => "InvalidResourceType",
            Self::MethodNotAllowed { .. } => "MethodNotAllowed",
            Self::InvalidPath { .. } => "BadRequest",
            Self::Injected { error, .. } => match error {
                InjectedError::TooManyRequests { .. } => "SubscriptionRequestsThrottled",
                InjectedError::ServerError { status } => match *status {
                    StatusCode::INTERNAL_SERVER_ERROR => "InternalServerError",
                    StatusCode::BAD_GATEWAY => "BadGateway",
                    StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailable",
                    StatusCode::GATEWAY_TIMEOUT => "GatewayTimeout",
                    _ => "ServerError",
                },
            },
        }
    }

    /// The message; `activity_id` is the response's `x-ms-correlation-id`.
    fn message(&self, activity_id: &str) -> String {
        match self {
            Self::MissingAuthorization => {
                "Authentication failed. The 'Authorization' header is missing.".to_owned()
            }
            Self::MalformedAuthorization => {
                "Authentication failed. The 'Authorization' header is provided in an invalid \
                 format."
                    .to_owned()
            }
            Self::InvalidToken => "The access token is invalid.".to_owned(),
            Self::ExpiredToken { expires_at } => format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                dotnet_general(*expires_at),
                dotnet_general(now_epoch())
            ),
            Self::WrongAudience { audience } => format!(
                "The access token has been obtained for wrong audience or resource \
                 '{audience}'. It should exactly match with one of the allowed audiences {}.",
                allowed_audiences()
            ),
            Self::MissingApiVersion => {
                "The api-version query parameter (?api-version=) is required for all requests."
                    .to_owned()
            }
            Self::InvalidApiVersion { given, supported } => format!(
                "The api-version '{given}' is invalid. The supported versions are '{}'. Please \
                 refer to https://aka.ms/arm-api-versions for more details.",
                supported.join(",")
            ),
            Self::Throttled {
                class,
                subscription,
                principal,
                retry_after_seconds,
                global,
            } => throttled_message(
                *class,
                subscription,
                principal,
                *retry_after_seconds,
                *global,
            ),
            Self::SubscriptionNotFound { subscription } => {
                format!("The subscription '{subscription}' could not be found.")
            }
            Self::ResourceGroupNotFound { resource_group } => {
                format!("Resource group '{resource_group}' could not be found.")
            }
            Self::HostPoolNotFound {
                host_pool,
                resource_group,
            } => format!(
                "The Resource 'Microsoft.DesktopVirtualization/hostPools/{host_pool}' under \
                 resource group '{resource_group}' was not found. For more details please go to \
                 https://aka.ms/ARMResourceNotFoundFix"
            ),
            Self::SessionHostNotFound => {
                format!("ActivityId: {activity_id} Error: Session host does not exist")
            }
            Self::UserSessionNotFound => {
                format!("ActivityId: {activity_id} Error: User session does not exist")
            }
            Self::UserSessionIdNotFound => {
                format!("ActivityId: {activity_id} Error: User session ID not found")
            }
            Self::AuthorizationFailed {
                client,
                object_id,
                action,
                scope,
            } => format!(
                "The client '{client}' with object id '{object_id}' does not have authorization \
                 to perform action '{action}' over scope '{scope}' or the scope is invalid. If \
                 access was recently granted, please refresh your credentials."
            ),
            Self::ScopeLocked {
                scope,
                operation,
                locks,
            } => {
                let locked: Vec<String> = locks.iter().map(|lock| format!("'{lock}'")).collect();
                format!(
                    "The scope '{scope}' cannot perform {operation} operation because following \
                     scope(s) are locked: {}. Please remove the lock and try again.",
                    locked.join(",")
                )
            }
            Self::SessionHostUnreachable {
                session_host,
                action,
            } => match action {
                Action::Logoff => format!(
                    "Session host '{session_host}' is not reachable; the user session was not \
                     logged off. Retry with force=true to remove the user session record."
                ),
                Action::Disconnect => format!(
                    "Session host '{session_host}' is not reachable; the user session was not \
                     disconnected."
                ),
                Action::Message => format!(
                    "Session host '{session_host}' is not reachable; the message was not sent."
                ),
            },
            Self::InvalidParameter { message } => message.clone(),
            Self::InvalidRequestContent { message } => format!(
                "The request content was invalid and could not be deserialized: '{message}'."
            ),
            Self::NoSuchRoute { api_version } => format!(
                "The resource type could not be found in the namespace \
                 'Microsoft.DesktopVirtualization' for api version '{api_version}'."
            ),
            Self::MethodNotAllowed { method, .. } => {
                format!("The requested resource does not support http method '{method}'.")
            }
            Self::InvalidPath { segment } => format!(
                "The request URI is invalid: the path segment '{segment}' is not UTF-8 once \
                 decoded."
            ),
            Self::Injected {
                error,
                class,
                subscription,
                principal,
            } => match error {
                InjectedError::TooManyRequests {
                    retry_after_seconds,
                } => {
                    throttled_message(*class, subscription, principal, *retry_after_seconds, false)
                }
                InjectedError::ServerError { status } => match *status {
                    StatusCode::BAD_GATEWAY => "The gateway received an invalid response from \
                        'Microsoft.DesktopVirtualization'."
                        .to_owned(),
                    StatusCode::SERVICE_UNAVAILABLE => {
                        "The service is currently unavailable. Please try again later.".to_owned()
                    }
                    StatusCode::GATEWAY_TIMEOUT => "The gateway did not receive a response from \
                        'Microsoft.DesktopVirtualization' within the specified time period."
                        .to_owned(),
                    _ => format!(
                        "Encountered internal server error. Diagnostic information: request \
                         correlation id '{activity_id}'."
                    ),
                },
            },
        }
    }

    /// The `Retry-After` seconds of a 429.
    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Throttled {
                retry_after_seconds,
                ..
            }
            | Self::Injected {
                error:
                    InjectedError::TooManyRequests {
                        retry_after_seconds,
                    },
                ..
            } => Some(*retry_after_seconds),
            _ => None,
        }
    }

    /// The response: `CloudError` body, status and the error's own headers (the exchange adds
    /// the headers every ARM answer has).
    pub(super) fn into_response(self, exchange: &Exchange) -> Response {
        let body = CloudError {
            error: CloudErrorBody {
                code: self.code(),
                message: self.message(exchange.correlation_id()),
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        let mut insert = |name: HeaderName, value: String| {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        };
        if let Some(seconds) = self.retry_after() {
            insert(header::RETRY_AFTER, seconds.to_string());
        }
        if let Some(description) = self.challenge() {
            insert(
                header::WWW_AUTHENTICATE,
                format!(
                    "Bearer authorization_uri=\"{}/\", error=\"invalid_token\", \
                     error_description=\"{description}\"",
                    exchange.base_url()
                ),
            );
        }
        if let Self::MethodNotAllowed { allow, .. } = &self {
            let allowed: Vec<&str> = allow.iter().map(Method::as_str).collect();
            insert(header::ALLOW, allowed.join(", "));
        }
        response
    }

    /// The `error_description` of a 401's `WWW-Authenticate` challenge.
    fn challenge(&self) -> Option<String> {
        Some(match self {
            Self::MissingAuthorization => {
                "The authentication failed because of missing 'Authorization' header.".to_owned()
            }
            Self::MalformedAuthorization => {
                "The authentication failed because of invalid 'Authorization' header.".to_owned()
            }
            Self::InvalidToken | Self::ExpiredToken { .. } => {
                "The access token is invalid.".to_owned()
            }
            Self::WrongAudience { audience } => format!(
                "The access token has been obtained from wrong audience or resource '{audience}'. \
                 It should exactly match with one of the allowed audiences {}.",
                allowed_audiences()
            ),
            _ => return None,
        })
    }
}

/// `'https://management.core.windows.net/','https://management.core.windows.net',...`
fn allowed_audiences() -> String {
    let quoted: Vec<String> = ARM_AUDIENCES.iter().map(|a| format!("'{a}'")).collect();
    quoted.join(",")
}

/// ARM's throttling message: `read`, `delete` or `write` requests of a principal (or of the
/// whole subscription, for the global bucket).
fn throttled_message(
    class: OperationClass,
    subscription: &str,
    principal: &str,
    seconds: u64,
    global: bool,
) -> String {
    let kind = match class {
        OperationClass::Reads => "read",
        OperationClass::Deletes => "delete",
        OperationClass::Writes => "write",
    };
    let who = if global {
        "exceeded the global limit".to_owned()
    } else {
        format!("actor '{principal}' exceeded")
    };
    format!(
        "Number of '{kind}' requests for subscription '{subscription}' {who}. Please try again \
         after '{seconds}' seconds after additional tokens are available. Refer to \
         https://aka.ms/arm-throttling"
    )
}
