//! The errors Microsoft Entra ID and the managed identity endpoints answer with: which error
//! applies, its status and texts. `http::identity::error` writes them on the wire.
//!
//! None of the texts built here may contain what the client sent as a credential (secret,
//! password, assertion, device code, identity header): only identifiers such as client ids,
//! tenant names, usernames and certificate thumbprints.

/// 400 Bad Request.
pub(crate) const BAD_REQUEST: u16 = 400;

/// 401 Unauthorized.
pub(crate) const UNAUTHORIZED: u16 = 401;

/// An Entra (security token service) error, written as `{"error", "error_description",
/// "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AadError {
    /// The HTTP status.
    pub status: u16,
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
            status: BAD_REQUEST,
            error,
            code,
            message: message.into(),
        }
    }

    /// 401 `invalid_client`: the client failed to authenticate.
    pub(crate) fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: UNAUTHORIZED,
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
}

/// A managed identity endpoint error, written as `{"error", "error_description"}`: the shape
/// IMDS and the App Service identity endpoint use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MsiError {
    /// The HTTP status.
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl MsiError {
    pub(crate) fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }
}
