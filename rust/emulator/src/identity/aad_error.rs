//! Error responses in the shapes Microsoft Entra ID and the managed identity endpoints use.
//!
//! None of the texts built here may contain what the client sent as a credential (secret,
//! password, assertion, device code, identity header): only identifiers such as client ids,
//! tenant names, usernames and certificate thumbprints.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::time::{now_epoch, utc_timestamp};

/// An Entra (security token service) error: `{"error", "error_description", "error_codes",
/// "timestamp", "trace_id", "correlation_id", "error_uri"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AadError {
    pub status: StatusCode,
    /// The OAuth error code, e.g. `invalid_client`.
    pub error: &'static str,
    /// The AADSTS number, e.g. 7000215.
    pub code: u32,
    /// The text after `AADSTSnnn: `.
    pub message: String,
}

impl AadError {
    /// 400 with the given OAuth error code.
    pub(crate) fn bad_request(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            message: message.into(),
        }
    }

    /// 401 `invalid_client`: the client failed to authenticate.
    pub(crate) fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            code,
            message: message.into(),
        }
    }

    /// 400 `invalid_request` AADSTS900144 for a missing form parameter.
    pub(crate) fn missing_parameter(name: &str) -> Self {
        Self::bad_request(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// Renders the error; `correlation_id` is the client's `client-request-id` when it sent a
    /// GUID, as Entra echoes it, else a fresh one.
    pub(crate) fn into_response_for(self, request_headers: &HeaderMap) -> Response {
        let correlation_id = request_headers
            .get("client-request-id")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| uuid::Uuid::parse_str(value).ok())
            .unwrap_or_else(uuid::Uuid::new_v4)
            .to_string();
        let trace_id = uuid::Uuid::new_v4().to_string();
        let timestamp = utc_timestamp(now_epoch());
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            self.code, self.message
        );
        let body = AadErrorBody {
            error: self.error,
            error_description: description,
            error_codes: [self.code],
            timestamp,
            trace_id,
            correlation_id,
            error_uri: format!("https://login.microsoftonline.com/error?code={}", self.code),
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // Entra sends no challenge on its token endpoint, but a 401 without one is not
            // valid HTTP; a neutral one keeps strict clients happy.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"token endpoint\""),
            );
        }
        response
    }
}

#[derive(Serialize)]
struct AadErrorBody {
    error: &'static str,
    error_description: String,
    error_codes: [u32; 1],
    timestamp: String,
    trace_id: String,
    correlation_id: String,
    error_uri: String,
}

/// A managed identity endpoint error: `{"error", "error_description"}`, the shape IMDS and
/// the App Service identity endpoint use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MsiError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl MsiError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }
}

impl IntoResponse for MsiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({
                "error": self.error,
                "error_description": self.description,
            })),
        )
            .into_response()
    }
}
