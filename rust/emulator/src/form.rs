//! `application/x-www-form-urlencoded` text: the [`Form`] bodies and queries of the identity
//! endpoints, the decoding of one component that the broker's query parameters and HTTP Basic
//! credentials use as well, and the broker's case-insensitive query parameter lookup.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// A decoded form body (or query).
#[derive(Debug, Default)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    /// Parses leniently: a body that is not a form is an empty form, which then fails with the
    /// "missing parameter" error Entra gives for it.
    pub(crate) fn parse(bytes: &[u8]) -> Self {
        Self(serde_urlencoded::from_bytes(bytes).unwrap_or_default())
    }

    /// The first value of `name`, if it is not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// Appends the parameters of `other` (a body after a query).
    pub(crate) fn extend(&mut self, other: Form) {
        self.0.extend(other.0);
    }
}

/// The decoded values (`+` is a space) of every query parameter named `name`, compared
/// ASCII-case-insensitively as ASP.NET (and ARM) bind them, in order.
pub(crate) fn query_values<'q>(
    query: Option<&'q str>,
    name: &'q str,
) -> impl Iterator<Item = Cow<'q, str>> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .filter(move |(key, _)| decode_component(key).eq_ignore_ascii_case(name))
        .map(|(_, value)| decode_component(value))
}

/// Decodes one component (`+` is a space); invalid UTF-8 becomes U+FFFD.
pub(crate) fn decode_component(text: &str) -> Cow<'_, str> {
    if text.contains('+') {
        let spaced = text.replace('+', " ");
        Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
    } else {
        percent_decode_str(text).decode_utf8_lossy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_ignore_empty_values() {
        let form = Form::parse(b"a=&b=2&b=3");
        assert_eq!(form.get("a"), None);
        assert_eq!(form.get("b"), Some("2"));
    }

    #[test]
    fn components_decode_plus_and_percent() {
        assert_eq!(decode_component("a%26b+c"), "a&b c");
        assert_eq!(decode_component("%E2%9C%93%25%2B"), "\u{2713}%+");
    }
}
