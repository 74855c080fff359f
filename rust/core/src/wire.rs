//! Parsing broker error bodies defensively: both shapes seen in the wild (docs/service-facts.md §1.6),
//! anything else yields no code and no message rather than a parse failure.

use crate::error::service_text;
use serde::Deserialize;

#[derive(Deserialize)]
struct Nested {
    error: NestedError,
}

#[derive(Deserialize)]
struct NestedError {
    code: Option<String>,
    message: Option<String>,
    target: Option<String>,
    #[serde(default)]
    details: Vec<NestedDetail>,
}

#[derive(Deserialize)]
struct NestedDetail {
    message: Option<String>,
    target: Option<String>,
}

/// `{"Error":"InvalidDataFormat","Message":null}` (seen in RDS-Templates issue 510).
#[derive(Deserialize)]
struct Flat {
    #[serde(rename = "Error", alias = "error")]
    error: Option<String>,
    #[serde(rename = "Message", alias = "message")]
    message: Option<String>,
}

/// Code, most specific message and target from an error body.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
    pub target: Option<String>,
}

/// Present, not blank, and cleaned: service text reaches messages only through
/// [`service_text`] (no control characters, bounded).
fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| service_text(&s)).filter(|s| !s.is_empty())
}

pub(crate) fn parse_error_body(body: &[u8]) -> ErrorBody {
    if let Ok(nested) = serde_json::from_slice::<Nested>(body) {
        let e = nested.error;
        // Microsoft's management UX prefers the last detail message: it is the most specific.
        let detail = e
            .details
            .into_iter()
            .rev()
            .find(|d| d.message.as_deref().is_some_and(|m| !m.trim().is_empty()));
        let (detail_message, detail_target) =
            detail.map(|d| (d.message, d.target)).unwrap_or_default();
        return ErrorBody {
            code: non_empty(e.code),
            message: non_empty(detail_message).or_else(|| non_empty(e.message)),
            target: non_empty(e.target).or_else(|| non_empty(detail_target)),
        };
    }
    if let Ok(flat) = serde_json::from_slice::<Flat>(body) {
        return ErrorBody {
            code: non_empty(flat.error),
            message: non_empty(flat.message),
            target: None,
        };
    }
    // A plain-text body (proxies, gateways) is still the best message there is; keep it short.
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = (!text.is_empty() && !text.starts_with('<'))
        .then(|| service_text(&text.chars().take(300).collect::<String>()));
    ErrorBody {
        code: None,
        message,
        target: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_shape_prefers_last_detail() {
        let body = br#"{"error":{"code":"TenantNotFound","message":"outer","target":"T","details":[{"code":"a","message":"first"},{"code":"b","message":"inner"}]}}"#;
        let e = parse_error_body(body);
        assert_eq!(e.code.as_deref(), Some("TenantNotFound"));
        assert_eq!(e.message.as_deref(), Some("inner"));
        assert_eq!(e.target.as_deref(), Some("T"));
    }

    #[test]
    fn nested_shape_without_details() {
        let e = parse_error_body(br#"{"error":{"code":"Unauthorized","message":"no"}}"#);
        assert_eq!(
            (e.code.as_deref(), e.message.as_deref()),
            (Some("Unauthorized"), Some("no"))
        );
    }

    #[test]
    fn flat_shape_with_null_message() {
        let e = parse_error_body(br#"{"Error":"InvalidDataFormat","Message":null}"#);
        assert_eq!(e.code.as_deref(), Some("InvalidDataFormat"));
        assert_eq!(e.message, None);
    }

    #[test]
    fn garbage_and_html_bodies_do_not_fail() {
        assert_eq!(parse_error_body(b"").message, None);
        assert_eq!(parse_error_body(b"<html>502</html>").message, None);
        assert_eq!(
            parse_error_body(b"upstream timed out").message.as_deref(),
            Some("upstream timed out")
        );
        assert_eq!(parse_error_body(b"{\"error\":42}").code, None);
    }

    #[test]
    fn control_characters_never_survive_parsing() {
        let e = parse_error_body(
            "{\"error\":{\"code\":\"X\\u001b[2J\",\"message\":\"gone\\u0007\\u001b]0;pwned\\u0007\"}}".as_bytes(),
        );
        assert_eq!(e.code.as_deref(), Some("X [2J"));
        assert_eq!(e.message.as_deref(), Some("gone ]0;pwned"));
        let e = parse_error_body(b"plain\x1b[31m red");
        assert_eq!(e.message.as_deref(), Some("plain [31m red"));
    }
}
