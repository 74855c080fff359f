//! ARM's query parameters: `api-version`, the paging parameters (`pageSize`, `initialSkip`,
//! `isDescending`), `$filter` on user sessions and `force`. Names compare case-insensitively;
//! the first of repeated parameters counts.

use super::error::ArmError;
use crate::form::query_values;

/// The first value of parameter `name`, decoded.
pub(super) fn first(query: Option<&str>, name: &str) -> Option<String> {
    query_values(query, name)
        .next()
        .map(|value| value.into_owned())
}

/// The paging a list request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Paging {
    /// Items per page (the client's `pageSize`, else the configured one).
    pub page_size: usize,
    /// Items to skip before the page (`initialSkip`; `nextLink` carries the next one).
    pub skip: usize,
    /// `isDescending`: the list in reverse order.
    pub descending: bool,
}

impl Paging {
    /// Reads `pageSize` (an integer of at least 1), `initialSkip` (at least 0) and
    /// `isDescending` (`true`/`false`, any case) from `query`; `default_page_size` when the
    /// client names no page size. INFERRED: the service's own checks are not documented.
    pub(super) fn parse(query: Option<&str>, default_page_size: usize) -> Result<Self, ArmError> {
        let invalid = |name: &str, value: &str, expected: &str| ArmError::InvalidParameter {
            message: format!(
                "The value '{value}' is not valid for parameter '{name}': {expected}."
            ),
        };
        let page_size = match first(query, "pageSize") {
            None => default_page_size,
            Some(text) => match text.parse::<usize>() {
                Ok(size) if size >= 1 => size,
                _ => {
                    return Err(invalid(
                        "pageSize",
                        &text,
                        "expected an integer of at least 1",
                    ));
                }
            },
        };
        let skip = match first(query, "initialSkip") {
            None => 0,
            Some(text) => text
                .parse::<usize>()
                .map_err(|_| invalid("initialSkip", &text, "expected an integer of at least 0"))?,
        };
        let descending = match first(query, "isDescending") {
            None => false,
            Some(text) => parse_bool(&text)
                .ok_or_else(|| invalid("isDescending", &text, "expected 'true' or 'false'"))?,
        };
        Ok(Self {
            page_size,
            skip,
            descending,
        })
    }
}

/// `force` of a logoff or update: absent is false.
pub(super) fn parse_force(query: Option<&str>) -> Result<Option<bool>, ArmError> {
    match first(query, "force") {
        None => Ok(None),
        Some(text) => parse_bool(&text).map(Some).ok_or_else(|| ArmError::InvalidParameter {
            message: format!(
                "The value '{text}' is not valid for parameter 'force': expected 'true' or 'false'."
            ),
        }),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A property `$filter` can test on user sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FilterProperty {
    UserPrincipalName,
    /// `sessionState`, or `state` as the spec's example writes it.
    SessionState,
}

/// A `$filter` on user sessions: `<property> eq '<value>'` clauses joined by `and`. The spec
/// names `userprincipalname` and `sessionstate`; its example uses `state`, so both are taken
/// (UNCONFIRMED which one the service accepts). Values compare case-insensitively.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct SessionFilter {
    clauses: Vec<(FilterProperty, String)>,
}

impl SessionFilter {
    /// Parses `$filter`; INFERRED 400 `InvalidParameter` for anything else.
    pub(super) fn parse(text: &str) -> Result<Self, ArmError> {
        let unsupported = || ArmError::InvalidParameter {
            message: format!(
                "The $filter '{text}' is not supported. Filter user sessions by userPrincipalName \
                 and sessionState with 'eq', joined by 'and'."
            ),
        };
        let mut clauses = Vec::new();
        let mut rest = text.trim();
        loop {
            let (property, after) = rest
                .split_once(char::is_whitespace)
                .ok_or_else(unsupported)?;
            let property = if property.eq_ignore_ascii_case("userPrincipalName") {
                FilterProperty::UserPrincipalName
            } else if property.eq_ignore_ascii_case("sessionState")
                || property.eq_ignore_ascii_case("state")
            {
                FilterProperty::SessionState
            } else {
                return Err(unsupported());
            };
            let after = after.trim_start();
            let (operator, after) = after
                .split_once(char::is_whitespace)
                .ok_or_else(unsupported)?;
            if !operator.eq_ignore_ascii_case("eq") {
                return Err(unsupported());
            }
            let (value, after) = quoted(after.trim_start()).ok_or_else(unsupported)?;
            clauses.push((property, value));
            rest = after.trim_start();
            if rest.is_empty() {
                break;
            }
            let (joiner, after) = rest
                .split_once(char::is_whitespace)
                .ok_or_else(unsupported)?;
            if !joiner.eq_ignore_ascii_case("and") {
                return Err(unsupported());
            }
            rest = after.trim_start();
        }
        Ok(Self { clauses })
    }

    /// Whether a session with this UPN and state passes.
    pub(super) fn matches(&self, user_principal_name: &str, session_state: &str) -> bool {
        self.clauses.iter().all(|(property, value)| match property {
            FilterProperty::UserPrincipalName => user_principal_name.eq_ignore_ascii_case(value),
            FilterProperty::SessionState => session_state.eq_ignore_ascii_case(value),
        })
    }
}

/// An OData string literal at the start of `text` (`''` is a quote), and what follows it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let mut value = String::new();
    let mut pending_quote = false;
    for (index, c) in chars {
        if pending_quote {
            if c == '\'' {
                value.push('\'');
                pending_quote = false;
                continue;
            }
            return Some((value, &text[index..]));
        }
        if c == '\'' {
            pending_quote = true;
        } else {
            value.push(c);
        }
    }
    pending_quote.then_some((value, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_parameters() {
        assert_eq!(
            Paging::parse(None, 100),
            Ok(Paging {
                page_size: 100,
                skip: 0,
                descending: false
            })
        );
        assert_eq!(
            Paging::parse(Some("PAGESIZE=10&initialSkip=20&isDescending=True"), 100),
            Ok(Paging {
                page_size: 10,
                skip: 20,
                descending: true
            })
        );
        for bad in [
            "pageSize=0",
            "pageSize=x",
            "initialSkip=-1",
            "isDescending=yes",
        ] {
            assert!(Paging::parse(Some(bad), 100).is_err(), "{bad}");
        }
        assert_eq!(parse_force(Some("force=TRUE")), Ok(Some(true)));
        assert!(parse_force(Some("force=1")).is_err());
    }

    #[test]
    fn filters_on_upn_and_state() {
        let filter =
            SessionFilter::parse("userPrincipalName eq 'Alice@contoso.com' and state eq 'active'")
                .expect("valid");
        assert!(filter.matches("alice@contoso.com", "Active"));
        assert!(!filter.matches("alice@contoso.com", "Disconnected"));
        assert!(!filter.matches("bob@contoso.com", "Active"));
        let quote = SessionFilter::parse("sessionstate eq 'it''s'").expect("valid");
        assert!(quote.matches("x", "IT'S"));
        for bad in [
            "",
            "userPrincipalName eq alice",
            "userPrincipalName ne 'a'",
            "createTime eq 'a'",
            "userPrincipalName eq 'a' or state eq 'b'",
            "userPrincipalName eq 'a",
        ] {
            assert!(SessionFilter::parse(bad).is_err(), "{bad}");
        }
    }
}
