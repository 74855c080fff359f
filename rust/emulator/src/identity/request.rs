//! Reading identity requests: form bodies, Basic client credentials, the URL the client used,
//! and the request log record.

use std::borrow::Cow;

use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;

use crate::state::RequestRecord;

/// Largest accepted form body on the identity endpoints.
pub(super) const MAX_FORM_BODY: usize = 1024 * 1024;

/// A decoded `application/x-www-form-urlencoded` body (or query).
#[derive(Debug, Default)]
pub(super) struct Form(Vec<(String, String)>);

impl Form {
    /// Parses leniently: a body that is not a form is an empty form, which then fails with the
    /// "missing parameter" error Entra gives for it.
    pub(super) fn parse(bytes: &[u8]) -> Self {
        Self(serde_urlencoded::from_bytes(bytes).unwrap_or_default())
    }

    /// The first value of `name`, if it is not empty.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    pub(super) fn extend(&mut self, other: Form) {
        self.0.extend(other.0);
    }
}

/// The emulator's URL as this request reached it: `http://` + the request's authority or
/// `Host` header; the bound address when the request names no usable host.
pub(super) fn request_base_url(parts: &Parts, bound_url: &str) -> String {
    let host = parts
        .uri
        .authority()
        .map(|authority| authority.as_str().to_owned())
        .or_else(|| {
            parts
                .headers
                .get(header::HOST)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        })
        .filter(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
        });
    match host {
        Some(host) => format!("http://{host}"),
        None => bound_url.to_owned(),
    }
}

/// `Authorization: Basic` client credentials (RFC 6749 §2.3.1: both parts form-encoded).
pub(super) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((
        form_decode(id).into_owned(),
        form_decode(secret).into_owned(),
    ))
}

fn form_decode(text: &str) -> Cow<'_, str> {
    if text.contains('+') {
        Cow::Owned(
            percent_decode_str(&text.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned(),
        )
    } else {
        percent_decode_str(text).decode_utf8_lossy()
    }
}

/// A record for an identity endpoint. The query is kept only where it carries no credential.
pub(super) fn identity_record(parts: &Parts, route: &str, keep_query: bool) -> RequestRecord {
    let mut record = RequestRecord::new(
        parts.method.to_string(),
        parts.uri.path().to_owned(),
        if keep_query {
            parts.uri.query().map(str::to_owned)
        } else {
            None
        },
    );
    record.route = route.to_owned();
    record
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = STANDARD.encode("my%20app:p%40ss+word");
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {encoded}").parse().expect("header"),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("my app".to_owned(), "p@ss word".to_owned()))
        );
    }

    #[test]
    fn forms_ignore_empty_values() {
        let form = Form::parse(b"a=&b=2&b=3");
        assert_eq!(form.get("a"), None);
        assert_eq!(form.get("b"), Some("2"));
    }
}
