//! The classic broker's request values: the query parameters (bound as ASP.NET binds them)
//! and the session id segment.

use std::borrow::Cow;

use crate::broker::error::BrokerError;
use crate::form::query_values as values;

/// Parses the `force` query parameter: absent means `Ok(None)`; `true`/`false` in any case
/// are accepted; anything else, including an empty or repeated value, is a flat 400.
pub(super) fn parse_force(query: Option<&str>) -> Result<Option<bool>, BrokerError> {
    let mut found: Option<bool> = None;
    for value in values(query, "force") {
        let invalid = |reason: &str| BrokerError::InvalidData {
            message: format!("The value '{value}' is not valid for parameter 'force': {reason}."),
        };
        if found.is_some() {
            return Err(invalid("the parameter was given more than once"));
        }
        found = Some(if value.eq_ignore_ascii_case("true") {
            true
        } else if value.eq_ignore_ascii_case("false") {
            false
        } else {
            return Err(invalid("expected 'true' or 'false'"));
        });
    }
    Ok(found)
}

/// Finds one query parameter by name and decodes its value. Absent means `Ok(None)`; a
/// repeated parameter is a flat 400.
pub(super) fn query_value(query: Option<&str>, name: &str) -> Result<Option<String>, BrokerError> {
    let mut found = values(query, name);
    let first = found.next().map(Cow::into_owned);
    if found.next().is_some() {
        return Err(BrokerError::InvalidData {
            message: format!("The parameter '{name}' was given more than once."),
        });
    }
    Ok(first)
}

/// A required query parameter: absent is a flat 400. An empty value is accepted.
pub(super) fn required_query_value(
    value: Result<Option<String>, BrokerError>,
    name: &str,
) -> Result<String, BrokerError> {
    value?.ok_or_else(|| BrokerError::InvalidData {
        message: format!("The query parameter '{name}' is required."),
    })
}

/// Parses the session id segment; the real broker binds it to an `int`.
pub(super) fn parse_session_id(text: &str) -> Result<i32, BrokerError> {
    text.parse().map_err(|_| BrokerError::InvalidData {
        message: format!("Session id '{text}' is not a valid number."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn force_parsing() {
        assert_eq!(parse_force(None), Ok(None));
        assert_eq!(parse_force(Some("")), Ok(None));
        assert_eq!(parse_force(Some("force=true")), Ok(Some(true)));
        assert_eq!(parse_force(Some("Force=TRUE")), Ok(Some(true)));
        assert_eq!(parse_force(Some("x=1&force=False")), Ok(Some(false)));
        assert_eq!(parse_force(Some("forceful=yes")), Ok(None));
        assert!(parse_force(Some("force=yes")).is_err());
        assert!(parse_force(Some("force=")).is_err());
        assert!(parse_force(Some("force")).is_err());
        assert!(parse_force(Some("force=true&force=true")).is_err());
    }

    #[test]
    fn query_values_are_decoded_and_must_not_repeat() {
        let query = Some("messagetitle=a%26b+c&MessageBody=%E2%9C%93%25%2B&x=1");
        assert_eq!(
            query_value(query, "MessageTitle"),
            Ok(Some("a&b c".to_owned()))
        );
        assert_eq!(
            query_value(query, "MessageBody"),
            Ok(Some("\u{2713}%+".to_owned()))
        );
        assert_eq!(query_value(query, "Missing"), Ok(None));
        assert_eq!(
            query_value(Some("MessageTitle="), "MessageTitle"),
            Ok(Some(String::new()))
        );
        assert!(query_value(Some("MessageTitle=a&messageTitle=b"), "MessageTitle").is_err());
        assert_eq!(
            required_query_value(Ok(None), "MessageBody"),
            Err(BrokerError::InvalidData {
                message: "The query parameter 'MessageBody' is required.".into()
            })
        );
    }

    #[test]
    fn session_id_must_be_an_i32() {
        assert_eq!(parse_session_id("17"), Ok(17));
        assert_eq!(parse_session_id("-3"), Ok(-3));
        assert_eq!(
            parse_session_id("abc"),
            Err(BrokerError::InvalidData {
                message: "Session id 'abc' is not a valid number.".into()
            })
        );
        assert!(parse_session_id("2147483648").is_err());
    }
}
