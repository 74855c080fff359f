//! Entra's and the managed identity endpoints' errors on the wire.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::clock::{now_epoch, utc_timestamp};
use crate::identity::error::{AadError, MsiError};

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

/// Writes an Entra error; `correlation_id` is the client's `client-request-id` when it sent a
/// GUID, as Entra echoes it, else a fresh one.
pub(super) fn aad_error_response(error: AadError, request_headers: &HeaderMap) -> Response {
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
        error.code, error.message
    );
    let body = AadErrorBody {
        error: error.error,
        error_description: description,
        error_codes: [error.code],
        timestamp,
        trace_id,
        correlation_id,
        error_uri: format!(
            "https://login.microsoftonline.com/error?code={}",
            error.code
        ),
    };
    let status = status(error.status);
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        // Entra sends no challenge on its token endpoint, but a 401 without one is not
        // valid HTTP; a neutral one keeps strict clients happy.
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"token endpoint\""),
        );
    }
    response
}

/// Writes a managed identity error: `{"error", "error_description"}`.
pub(super) fn msi_error_response(error: MsiError) -> Response {
    (
        status(error.status),
        Json(serde_json::json!({
            "error": error.error,
            "error_description": error.description,
        })),
    )
        .into_response()
}

/// The domain's statuses are the fixed 4xx codes of `crate::identity::error`.
fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}
