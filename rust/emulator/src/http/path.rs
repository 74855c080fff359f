//! Matching a raw request path against a flavour's route table.
//!
//! Broker routes are not given to axum's router on purpose. Names may contain any character,
//! and a client that percent-encodes `/` as `%2F` must get *one* segment back; matching on the
//! still-encoded path and decoding each segment afterwards guarantees that, independent of how
//! any router library treats encoded slashes. It also lets one handler per flavour produce that
//! flavour's own 404/405 bodies and log every request with its final status.

use axum::http::Method;
use percent_encoding::percent_decode_str;

/// A route: method plus path template (without the leading `/`). `{name}` is a parameter (one
/// non-empty segment), anything else a literal compared ASCII-case-insensitively (as ASP.NET
/// routing and ARM do).
#[derive(Debug)]
pub(crate) struct RouteDef<Id> {
    pub id: Id,
    pub method: Method,
    pub template: &'static str,
}

/// The decoded parameters of a matched template, in template order.
pub(crate) type Captures = Vec<(&'static str, String)>;

/// Result of matching a raw path against a route table.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PathMatch<Id> {
    /// Path and method match.
    Found(Id, Captures),
    /// The path matches routes, but none for this method (those it allows are listed).
    WrongMethod(Id, Captures, Vec<Method>),
    /// The path matches a route, but a parameter segment is not UTF-8 once decoded.
    Undecodable(Id, String),
    /// No route has this path.
    NotFound,
}

/// Matches one template against the raw segments, returning the decoded parameters, or the
/// first raw segment that does not decode to UTF-8.
///
/// Decoding happens per segment *after* splitting, which is what makes `a%2Fb` one segment.
fn match_template(template: &'static str, segments: &[&str]) -> Option<Result<Captures, String>> {
    let parts: Vec<&'static str> = template.split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut captures = Captures::new();
    let mut undecodable = None;
    for (part, raw) in parts.into_iter().zip(segments) {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if raw.is_empty() {
                return None;
            }
            match percent_decode_str(raw).decode_utf8() {
                Ok(value) => captures.push((name, value.into_owned())),
                Err(_) => {
                    undecodable.get_or_insert_with(|| (*raw).to_owned());
                }
            }
        } else if !part.eq_ignore_ascii_case(raw) {
            return None;
        }
    }
    Some(match undecodable {
        Some(raw) => Err(raw),
        None => Ok(captures),
    })
}

/// Finds the route of `routes` for `method` and the raw (still encoded) `path`.
pub(crate) fn match_route<Id: Copy>(
    routes: &[RouteDef<Id>],
    method: &Method,
    path: &str,
) -> PathMatch<Id> {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let mut path_match: Option<(Id, Captures)> = None;
    let mut allowed = Vec::new();
    for route in routes {
        let Some(result) = match_template(route.template, &segments) else {
            continue;
        };
        let captures = match result {
            Ok(captures) => captures,
            Err(raw) => return PathMatch::Undecodable(route.id, raw),
        };
        if route.method == *method {
            return PathMatch::Found(route.id, captures);
        }
        allowed.push(route.method.clone());
        path_match.get_or_insert((route.id, captures));
    }
    match path_match {
        Some((id, captures)) => PathMatch::WrongMethod(id, captures, allowed),
        None => PathMatch::NotFound,
    }
}

/// The value of capture `name`, if the template has it.
pub(crate) fn capture<'c>(captures: &'c Captures, name: &str) -> Option<&'c str> {
    captures
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.as_str())
}
