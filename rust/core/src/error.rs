//! Errors: every failure carries its final PowerShell ErrorId ([`ErrorCode`], named here and
//! nowhere else), the coarse [`ErrorKind`] that code belongs to, and the service's own
//! description ([`ApiError`]) when the failure came from an HTTP answer.
//!
//! Adding an error means one new line in [`error_codes!`] below (and one row in the C# table
//! that gives it an `ErrorCategory`; a test fails when that row is missing).

use std::fmt;

/// The coarse classification every failure is reduced to: what a caller branches on and what
/// the PowerShell layer falls back to when it meets an ErrorId it does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller's input cannot be sent. Nothing was sent.
    InvalidInput,
    /// The service answered 404 (or an equivalent); the [`ErrorCode`] says which object.
    NotFound,
    /// 401: no, a malformed, an expired or a foreign token.
    Unauthorized,
    /// 403: the identity is known but lacks a role on the object.
    Forbidden,
    /// 429: the service asks the caller to slow down.
    Throttled,
    /// 400 and other 4xx the service uses for requests it cannot accept.
    BadRequest,
    /// 409: the request conflicts with the object's state.
    Conflict,
    /// 5xx.
    ServerError,
    /// The connection could not be made or broke (DNS, refused, reset, TLS).
    Network,
    /// No answer within the request timeout (or the service answered 408).
    Timeout,
    /// The service answered, but with something this client cannot use.
    Protocol,
    /// The operation was cancelled by the caller before it completed.
    Cancelled,
    /// Microsoft Entra ID (or a managed identity endpoint) refused to issue a token.
    Authentication,
    /// A bug in this library.
    Internal,
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
            ErrorKind::Internal => "internal error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Defines [`ErrorCode`]: each variant's name is its PowerShell ErrorId.
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $code:ident => $kind:ident, )*) => {
        /// The final, stable PowerShell ErrorId of a failure. Scripts match on these names
        /// (`$_.FullyQualifiedErrorId -like 'SessionNotFound,*'`), so they never change.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $code, )*
        }

        impl ErrorCode {
            /// Every code, for the table checks on both sides of the FFI.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$code,)*];

            /// The ErrorId, e.g. `SessionNotFound`.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$code => stringify!($code),)* }
            }

            /// The coarse kind this code belongs to.
            pub fn kind(self) -> ErrorKind {
                match self { $(ErrorCode::$code => ErrorKind::$kind,)* }
            }
        }
    };
}

error_codes! {
    /// A value that cannot be sent safely (empty, control characters, too long, a dot segment).
    InvalidInput => InvalidInput,
    /// `Add-RdsAccount` with an unusable URL, token or identifier.
    InvalidAccountParameters => InvalidInput,
    /// `-CertificateThumbprint` that is not 40 hex digits.
    InvalidCertificateThumbprint => InvalidInput,
    /// The tenant group of the context does not exist.
    TenantGroupNotFound => NotFound,
    /// The tenant does not exist.
    TenantNotFound => NotFound,
    /// The host pool does not exist.
    HostPoolNotFound => NotFound,
    /// The session host does not exist.
    SessionHostNotFound => NotFound,
    /// The session does not exist (already logged off?).
    SessionNotFound => NotFound,
    /// A 404 that does not say which object is missing.
    BrokerObjectNotFound => NotFound,
    /// 401.
    BrokerUnauthorized => Unauthorized,
    /// 403.
    BrokerForbidden => Forbidden,
    /// 429 after every retry.
    BrokerThrottled => Throttled,
    /// 400 and other 4xx.
    BrokerBadRequest => BadRequest,
    /// 409: the session host is unreachable and the logoff was not forced.
    BrokerConflict => Conflict,
    /// 5xx after every retry.
    BrokerServerError => ServerError,
    /// The service answered with a redirect, which is never followed (the token would go along).
    BrokerRedirectRefused => Protocol,
    /// The answer is larger than this client reads.
    BrokerResponseTooLarge => Protocol,
    /// The answer could not be understood.
    BrokerProtocolError => Protocol,
    /// The service could not be reached (refused, reset, DNS, TLS).
    BrokerUnreachable => Network,
    /// No answer within the request timeout.
    BrokerTimeout => Timeout,
    /// Ctrl+C (or another cancellation) stopped the operation.
    OperationCancelled => Cancelled,
    /// The sign-in authority could not be reached or did not answer in time.
    AuthorityUnreachable => Network,
    /// No managed identity endpoint answered.
    ManagedIdentityUnavailable => Network,
    /// AADSTS7000215.
    InvalidClientSecret => Authentication,
    /// AADSTS700016.
    ApplicationNotFound => Authentication,
    /// AADSTS50126.
    InvalidUserCredentials => Authentication,
    /// AADSTS700027.
    InvalidClientCertificate => Authentication,
    /// AADSTS700024.
    ClientAssertionExpired => Authentication,
    /// AADSTS90002.
    AadTenantNotFound => Authentication,
    /// AADSTS70011.
    InvalidScope => Authentication,
    /// A token that cannot be renewed unattended (device code) has expired.
    SignInExpired => Authentication,
    /// The device code expired before the user signed in.
    DeviceCodeExpired => Authentication,
    /// The user declined the device-code sign-in.
    DeviceCodeDeclined => Authentication,
    /// Any other refusal to issue a token (the message quotes the Entra code).
    AuthenticationFailed => Authentication,
    /// The certificate's validity period has ended (checked before any request).
    CertificateExpired => Authentication,
    /// The certificate's validity period has not started.
    CertificateNotYetValid => Authentication,
    /// No certificate file, or none with that thumbprint in the store.
    CertificateNotFound => InvalidInput,
    /// The PFX password is wrong.
    CertificatePasswordInvalid => InvalidInput,
    /// The certificate file cannot be used (format, key, size, not a regular file).
    CertificateInvalid => InvalidInput,
    /// The subscription of an ARM mapping does not exist (or the identity cannot see it).
    SubscriptionNotFound => NotFound,
    /// The resource group of an ARM mapping does not exist.
    ResourceGroupNotFound => NotFound,
    /// An ARM resource lock forbids the operation (logoff is an ARM DELETE).
    ResourceLocked => Conflict,
    /// ARM refused the identity the operation (403 AuthorizationFailed): a role is missing.
    AuthorizationFailed => Forbidden,
    /// ARM accepts none of the api-versions this client can send.
    ApiVersionNotSupported => BadRequest,
    /// The classic deployment URL without an ARM mapping: the classic service is retired.
    ArmMappingRequired => InvalidInput,
    /// The ARM mapping file or `-ArmMapping` value is not valid.
    ArmMappingInvalid => InvalidInput,
    /// The ARM mapping has no entry for the tenant.
    ArmMappingNotFound => NotFound,
    /// Discovery found the host pool name in more than one resource group.
    HostPoolAmbiguous => Conflict,
    /// A bug in this library (a caught panic, a runtime that could not start).
    NativeLibraryError => Internal,
}

impl ErrorCode {
    /// The code for a missing object of `kind`.
    pub fn not_found(object: BrokerObject) -> ErrorCode {
        match object {
            BrokerObject::TenantGroup => ErrorCode::TenantGroupNotFound,
            BrokerObject::Tenant => ErrorCode::TenantNotFound,
            BrokerObject::HostPool => ErrorCode::HostPoolNotFound,
            BrokerObject::SessionHost => ErrorCode::SessionHostNotFound,
            BrokerObject::Session => ErrorCode::SessionNotFound,
            BrokerObject::Unknown => ErrorCode::BrokerObjectNotFound,
        }
    }

    /// For a not-found code, which object is missing.
    pub fn missing_object(self) -> BrokerObject {
        match self {
            ErrorCode::TenantGroupNotFound => BrokerObject::TenantGroup,
            ErrorCode::TenantNotFound => BrokerObject::Tenant,
            ErrorCode::HostPoolNotFound => BrokerObject::HostPool,
            ErrorCode::SessionHostNotFound => BrokerObject::SessionHost,
            ErrorCode::SessionNotFound => BrokerObject::Session,
            _ => BrokerObject::Unknown,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which object a 404 is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BrokerObject {
    TenantGroup,
    Tenant,
    HostPool,
    SessionHost,
    Session,
    /// The service did not say (or said something this client does not recognise).
    Unknown,
}

impl BrokerObject {
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

/// The service's own description of a failed request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code of the response.
    pub status: u16,
    /// The service's error code, e.g. `TenantNotFound`, `InvalidDataFormat` (cleaned).
    pub code: Option<String>,
    /// The most specific message the service gave (cleaned with [`service_text`]).
    pub message: Option<String>,
    /// The object the service named as the target, if any (cleaned).
    pub target: Option<String>,
    /// Seconds from a `Retry-After` header, when the service sent one.
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
    code: ErrorCode,
    // Boxed: the service details are rare on the happy path and would make every Result large.
    api: Option<Box<ApiError>>,
    /// The service's own code, when there is one: the broker's (`TenantNotFound`), Entra's
    /// (`AADSTS7000215`, `invalid_client`), ARM's (`ScopeLocked`).
    service_code: Option<String>,
    /// How many requests were sent for the operation (1 = no retry).
    attempts: u32,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// A new error with its final ErrorId and a complete, user-facing message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            api: None,
            service_code: None,
            attempts: 1,
            message: message.into(),
            source: None,
        }
    }

    /// Input that cannot be sent; `what` names the parameter (as PowerShell spells it, so the
    /// admin knows which one to fix). Echo the value only through [`shown`].
    pub fn invalid_input(what: &str, why: impl fmt::Display) -> Error {
        Error::new(ErrorCode::InvalidInput, format!("Invalid {what}: {why}"))
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        self.source = Some(Box::new(source));
        self
    }

    /// Sets the service's own code (see [`Error::service_code`]).
    pub(crate) fn with_service_code(mut self, code: impl Into<String>) -> Error {
        self.service_code = Some(code.into());
        self
    }

    pub(crate) fn with_api(mut self, api: ApiError) -> Error {
        if self.service_code.is_none() {
            self.service_code = api.code.clone();
        }
        self.api = Some(Box::new(api));
        self
    }

    /// The same failure under another ErrorId (for example input errors of `Add-RdsAccount`,
    /// which are `InvalidAccountParameters`).
    pub fn with_code(mut self, code: ErrorCode) -> Error {
        self.code = code;
        self
    }

    /// The final ErrorId.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The coarse kind to branch on.
    pub fn kind(&self) -> ErrorKind {
        self.code.kind()
    }

    /// For a not-found error: which object is missing.
    pub fn not_found(&self) -> BrokerObject {
        self.code.missing_object()
    }

    /// The service's error, when the failure was an HTTP error response.
    pub fn api(&self) -> Option<&ApiError> {
        self.api.as_deref()
    }

    /// How many requests were sent for the operation (1 = no retry).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Error {
        if attempts > 1 && self.attempts <= 1 {
            self.message = format!("{} (after {attempts} attempts)", self.message);
        }
        self.attempts = attempts;
        self
    }

    /// The service's own code, when there is one.
    pub fn service_code(&self) -> Option<&str> {
        self.service_code.as_deref()
    }

    /// HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        self.api.as_ref().map(|a| a.status)
    }

    /// The user-facing message (same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with another message.
    pub(crate) fn with_message(mut self, message: String) -> Error {
        self.message = message;
        self
    }

    /// Prefixes the message with what was being done.
    pub(crate) fn context(mut self, operation: &str) -> Error {
        self.message = format!("{operation}: {}", self.message);
        self
    }
}

/// The innermost error message of a chain: library errors repeat the URL in their own text and
/// hide the reason, which is at the bottom.
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    service_text(&current.to_string())
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

/// A URL as an error message may show it: through [`shown`], and not at all when it has an
/// `@` (user-info such as `admin:secret@host` may hold a password, even in text that did not
/// parse as a URL) or a `?` (a query may hold a signature). Every URL echo goes through here.
pub fn shown_url(text: &str) -> String {
    if text.contains('@') || text.contains('?') {
        "the value (not shown: it may contain a password or key)".to_owned()
    } else {
        shown(text)
    }
}

/// The longest piece of a service's own text (an error message, a code) a message repeats.
pub const SERVICE_TEXT_CHARS: usize = 1000;

/// Text a remote service sent, made safe to put in a message: every control character
/// (terminal escape sequences, bell, backspace, C1 controls, line breaks) becomes a space, runs
/// of white space collapse, and it is cut at [`SERVICE_TEXT_CHARS`] with the full length said.
/// A hostile or broken service can then neither repaint the admin's console nor flood the log.
pub fn service_text(raw: &str) -> String {
    let mut out = String::new();
    let mut kept = 0usize;
    let mut total = 0usize;
    let mut last_space = true;
    for c in raw.chars() {
        total += 1;
        if kept >= SERVICE_TEXT_CHARS {
            continue;
        }
        let c = if c.is_control() || c.is_whitespace() || is_format_control(c) {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        out.push(c);
        kept += 1;
    }
    let mut out = out.trim_end().to_owned();
    if total > SERVICE_TEXT_CHARS {
        out.push_str(&format!("... ({total} characters)"));
    }
    out
}

/// Invisible characters that reorder or hide text on a console (bidirectional overrides and
/// isolates, zero-width characters): a message must read as it is.
fn is_format_control(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn service_text_cannot_drive_a_terminal_or_flood_a_log() {
        assert_eq!(
            service_text("Session\u{1b}[2J\u{1b}[31m gone\u{7}\u{8}\r\nnow"),
            "Session [2J [31m gone now"
        );
        assert_eq!(service_text("a\u{9b}31mb"), "a 31mb");
        assert_eq!(service_text("evil\u{202E}txt.exe"), "evil txt.exe");
        let flood = "y".repeat(50_000_000 / 100);
        let text = service_text(&flood);
        assert!(
            text.chars().count() < SERVICE_TEXT_CHARS + 40,
            "{}",
            text.len()
        );
        assert!(
            text.ends_with("(500000 characters)"),
            "{}",
            &text[text.len() - 40..]
        );
        assert_eq!(service_text("  ok  "), "ok");
    }

    #[test]
    fn every_code_has_a_unique_pascal_case_name_and_a_kind() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert!(
            names
                .iter()
                .all(|n| n.chars().next().is_some_and(char::is_uppercase))
        );
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate ErrorIds");
        for object in [
            BrokerObject::TenantGroup,
            BrokerObject::Tenant,
            BrokerObject::HostPool,
            BrokerObject::SessionHost,
            BrokerObject::Session,
        ] {
            let code = ErrorCode::not_found(object);
            assert_eq!(code.kind(), ErrorKind::NotFound);
            assert_eq!(code.missing_object(), object);
        }
    }

    #[test]
    fn url_echoes_never_show_user_info_or_a_query() {
        assert!(!shown_url("http://u:pw@h").contains("pw"));
        assert!(!shown_url("https://h/?sig=abc").contains("abc"));
        assert_eq!(shown_url("https://h"), "'https://h'");
    }
}
