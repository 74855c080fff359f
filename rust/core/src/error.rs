//! Errors: one coarse [`ErrorKind`] that callers branch on, plus the broker's own
//! error ([`ApiError`]) when the failure came from an HTTP response.

use std::fmt;

/// The coarse classification every failure is reduced to. It is what the FFI layer
/// exposes and what the PowerShell layer maps to an `ErrorCategory` and ErrorId.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller's input cannot be sent (empty name, a name that is a dot segment, ...).
    /// Nothing was sent to the broker.
    InvalidInput,
    /// The broker answered 404; [`Error::not_found`] says which object.
    NotFound,
    /// 401: no, a malformed, an expired or a foreign token.
    Unauthorized,
    /// 403: the identity is known but lacks an RDS role on the object.
    Forbidden,
    /// 429: the broker asks the caller to slow down.
    Throttled,
    /// 400 and other 4xx the broker uses for requests it cannot accept.
    BadRequest,
    /// 409: the request conflicts with the object's state (for example the session host is
    /// unreachable and the logoff was not forced).
    Conflict,
    /// 5xx.
    ServerError,
    /// The connection could not be made or broke (DNS, refused, reset, TLS).
    Network,
    /// No answer within the request timeout (or the broker answered 408).
    Timeout,
    /// The broker answered, but with something this client cannot understand.
    Protocol,
    /// The operation was cancelled by the caller before it completed.
    Cancelled,
    /// Microsoft Entra ID (or a managed identity endpoint) refused to issue a token: wrong
    /// secret, unknown application, bad certificate, wrong password, declined device code.
    /// [`Error::code`] carries the `AADSTSnnnnn` code or the OAuth `error` value.
    Authentication,
}

impl ErrorKind {
    /// Stable, human-readable name (also used in messages).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::NotFound => "not found",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Throttled => "throttled",
            ErrorKind::BadRequest => "bad request",
            ErrorKind::Conflict => "conflict",
            ErrorKind::ServerError => "server error",
            ErrorKind::Network => "network error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Authentication => "authentication failed",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which broker object a 404 (or an input error) is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BrokerObject {
    TenantGroup,
    Tenant,
    HostPool,
    SessionHost,
    Session,
    /// The broker did not say (or said something this client does not recognise).
    Unknown,
}

impl BrokerObject {
    /// Classifies a broker error code such as `TenantNotFound` (rds-api.md §1.6), falling back
    /// to the message text the broker uses for vanished sessions ("User session ID not found").
    pub(crate) fn from_broker_error(code: Option<&str>, message: Option<&str>) -> BrokerObject {
        let code = code.unwrap_or_default().to_ascii_lowercase();
        match code.as_str() {
            "tenantgroupnotfound" => return BrokerObject::TenantGroup,
            "tenantnotfound" => return BrokerObject::Tenant,
            "hostpoolnotfound" => return BrokerObject::HostPool,
            "sessionhostnotfound" => return BrokerObject::SessionHost,
            "sessionnotfound" | "usersessionnotfound" => return BrokerObject::Session,
            _ => {}
        }
        let message = message.unwrap_or_default().to_ascii_lowercase();
        if message.contains("session id not found") || message.contains("session not found") {
            BrokerObject::Session
        } else {
            BrokerObject::Unknown
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BrokerObject::TenantGroup => "tenant group",
            BrokerObject::Tenant => "tenant",
            BrokerObject::HostPool => "host pool",
            BrokerObject::SessionHost => "session host",
            BrokerObject::Session => "session",
            BrokerObject::Unknown => "object",
        }
    }
}

/// The broker's own description of a failed request, from either error body shape
/// (`{"error":{code,message,target,details}}` or the flat `{"Error","Message"}`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code of the response.
    pub status: u16,
    /// Broker error code, e.g. `TenantNotFound`, `InvalidDataFormat`.
    pub code: Option<String>,
    /// The most specific message the broker gave (last `details[].message`, else `error.message`).
    pub message: Option<String>,
    /// The object the broker named as the target, if any.
    pub target: Option<String>,
    /// Seconds from a `Retry-After` header, when the broker sent one.
    pub retry_after_secs: Option<u64>,
    /// The `x-ms-correlation-id` this client sent, to quote in a support case.
    pub correlation_id: Option<String>,
}

/// Every failure of this crate.
///
/// The message never contains a token or secret: tokens are held in
/// [`secrecy::SecretString`] and never formatted.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    not_found: BrokerObject,
    // Boxed: the broker details are rare on the happy path and would make every Result large.
    api: Option<Box<ApiError>>,
    /// The most specific machine-readable code: the broker's error code, an `AADSTSnnnnn`
    /// code, an OAuth `error` value, or one of this crate's own (`CertificateExpired`, ...).
    code: Option<String>,
    /// How many requests were sent for the operation (1 = no retry).
    attempts: u32,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// A new error of `kind` with a complete, user-facing message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            not_found: BrokerObject::Unknown,
            api: None,
            code: None,
            attempts: 1,
            message: message.into(),
            source: None,
        }
    }

    /// Input that cannot be sent; `what` names the parameter (as PowerShell spells it, so the
    /// admin knows which one to fix). Echo the value only through [`shown`].
    pub fn invalid_input(what: &str, why: impl fmt::Display) -> Error {
        Error::new(ErrorKind::InvalidInput, format!("Invalid {what}: {why}"))
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        self.source = Some(Box::new(source));
        self
    }

    /// Sets the machine-readable code (see [`Error::code`]).
    pub fn with_code(mut self, code: impl Into<String>) -> Error {
        self.code = Some(code.into());
        self
    }

    pub(crate) fn with_api(mut self, api: ApiError, not_found: BrokerObject) -> Error {
        if self.code.is_none() {
            self.code = api.code.clone();
        }
        self.api = Some(Box::new(api));
        self.not_found = not_found;
        self
    }

    /// The coarse kind to branch on.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// For [`ErrorKind::NotFound`]: which object the broker could not find.
    pub fn not_found(&self) -> BrokerObject {
        self.not_found
    }

    /// The broker's error, when the failure was an HTTP error response.
    pub fn api(&self) -> Option<&ApiError> {
        self.api.as_deref()
    }

    /// How many requests were sent for the operation (1 = no retry).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Error {
        if attempts > 1 {
            self.message = format!("{} (after {attempts} attempts)", self.message);
        }
        self.attempts = attempts;
        self
    }

    /// The most specific machine-readable code, when there is one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        self.api.as_ref().map(|a| a.status)
    }

    /// The user-facing message (same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The longest piece of a user's value an error message repeats.
const SHOWN_CHARS: usize = 100;

/// A user-supplied value as an error message shows it: quoted, control characters escaped
/// (`\u{1B}` rather than a terminal escape sequence in a log), and cut at 100 characters
/// with the full length said, so a 64 KB value never floods a log.
pub fn shown(value: &str) -> String {
    let mut out = String::from("'");
    for c in value.chars().take(SHOWN_CHARS) {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:X}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    let length = value.chars().count();
    if length > SHOWN_CHARS {
        out.push_str(&format!("... ({length} characters)"));
    }
    out
}

#[cfg(test)]
mod shown_tests {
    use super::shown;

    #[test]
    fn values_are_quoted_escaped_and_cut() {
        assert_eq!(shown("Pool 1"), "'Pool 1'");
        assert_eq!(
            shown("a\u{1}b\nc\u{1b}[31m"),
            "'a\\u{1}b\\u{A}c\\u{1B}[31m'"
        );
        let long = "x".repeat(65_536);
        let text = shown(&long);
        assert!(text.len() < 200, "{text}");
        assert!(text.ends_with("... (65536 characters)"), "{text}");
        assert_eq!(shown("Zoë 東京"), "'Zoë 東京'");
    }
}
