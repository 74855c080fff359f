//! Deployment URL and route building.
//!
//! Every user-supplied name becomes exactly one path segment: it is validated, then
//! percent-encoded with a strict set (everything but RFC 3986 unreserved characters), so
//! `/`, `?`, `#`, `%` and spaces can never split, end or re-root the path.

use crate::error::{Error, shown, shown_url};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::net::IpAddr;
use url::Url;

/// The tenant group `Add-RdsAccount` selects unless told otherwise (docs/service-facts.md §1.1).
pub const DEFAULT_TENANT_GROUP: &str = "Default Tenant Group";

/// The longest name accepted. Classic names are far shorter (ARM caps host pools at 64
/// characters); the cap exists so a runaway value fails clearly instead of producing a
/// multi-kilobyte URL that proxies reject with an opaque error.
pub const MAX_NAME_CHARS: usize = 1024;

/// The longest deployment URL or authority host accepted: real ones are under 100
/// characters; a longer value is a mistake, and would otherwise be repeated in every message.
pub const MAX_URL_CHARS: usize = 2048;

/// Everything except `A-Z a-z 0-9 - . _ ~` is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A validated broker base URL (for example `https://rdbroker.wvd.microsoft.com`).
///
/// HTTPS is required, except for loopback hosts (the emulator, local tests), because the
/// bearer token travels in every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentUrl {
    base: Url,
}

impl DeploymentUrl {
    /// Validates `text` as a deployment URL.
    pub fn parse(text: &str) -> Result<DeploymentUrl, Error> {
        const WHAT: &str = "DeploymentUrl";
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Error::invalid_input(WHAT, "it is empty"));
        }
        check_url_length(WHAT, trimmed)?;
        let url = Url::parse(trimmed).map_err(|e| {
            Error::invalid_input(
                WHAT,
                format!("{} is not an absolute URL ({e})", shown_url(trimmed)),
            )
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            // Do not echo the URL: the user-info part may hold a secret.
            return Err(Error::invalid_input(
                WHAT,
                "it contains a user name or password; put credentials in Add-RdsAccount parameters, not in the URL",
            ));
        }
        let host = url.host_str().ok_or_else(|| {
            Error::invalid_input(WHAT, format!("{} has no host", shown_url(trimmed)))
        })?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(host) => {}
            "http" => {
                return Err(Error::invalid_input(
                    WHAT,
                    format!(
                        "{} uses http; https is required except for loopback addresses (127.0.0.1, ::1, localhost)",
                        shown_url(trimmed)
                    ),
                ));
            }
            other => {
                return Err(Error::invalid_input(
                    WHAT,
                    format!("scheme {} is not supported; use https", shown(other)),
                ));
            }
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::invalid_input(
                WHAT,
                // Not echoed whole: a query may carry a signature or key.
                format!(
                    "{}://{}{} must not have a query or fragment",
                    url.scheme(),
                    host,
                    url.path()
                ),
            ));
        }
        let mut base = url;
        // Normalise "https://host/prefix/" to "https://host/prefix" so joining is uniform.
        let path = base.path().trim_end_matches('/').to_owned();
        base.set_path(&path);
        Ok(DeploymentUrl { base })
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Builds `{base}/RdsManagement/V1/{literal or encoded name}/...` (the classic routes).
    pub(crate) fn join(&self, parts: &[PathPart<'_>]) -> Url {
        let mut all = vec![PathPart::Literal("RdsManagement"), PathPart::Literal("V1")];
        all.extend_from_slice(parts);
        self.join_path(&all)
    }

    /// Builds `{base}/{literal or encoded name}/...`: every name exactly one segment.
    pub(crate) fn join_path(&self, parts: &[PathPart<'_>]) -> Url {
        let mut text = String::from(self.as_str());
        for part in parts {
            text.push('/');
            match part {
                PathPart::Literal(s) => text.push_str(s),
                PathPart::Name(name) => text.extend(utf8_percent_encode(name.as_str(), SEGMENT)),
            }
        }
        // Cannot fail: the base parsed, literals are ASCII and names are fully encoded.
        let url = Url::parse(&text).unwrap_or_else(|_| self.base.clone());
        debug_assert_eq!(
            url.path_segments().map(|s| s.count()),
            self.base
                .path_segments()
                .map(|s| s.filter(|x| !x.is_empty()).count() + parts.len())
        );
        url
    }

    /// Whether `url` has this URL's scheme, host and port (a `nextLink` may only point there:
    /// the bearer token goes with it).
    pub(crate) fn same_origin(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str().map(str::to_ascii_lowercase)
                == self.base.host_str().map(str::to_ascii_lowercase)
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    /// The host, lower case.
    pub fn host(&self) -> String {
        self.base
            .host_str()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    /// Whether the host is a loopback address (the emulator, local tests).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host())
    }
}

impl std::fmt::Display for DeploymentUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Refuses a URL longer than [`MAX_URL_CHARS`] before anything else looks at it.
pub(crate) fn check_url_length(what: &str, text: &str) -> Result<(), Error> {
    let chars = text.chars().count();
    if chars > MAX_URL_CHARS {
        return Err(Error::invalid_input(
            what,
            format!("the value is {chars} characters long; the limit is {MAX_URL_CHARS}"),
        ));
    }
    Ok(())
}

/// True for `localhost`, `127.0.0.0/8` and `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// One piece of a route.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PathPart<'a> {
    /// A fixed route word such as `Tenants`.
    Literal(&'static str),
    /// A validated user-supplied name, encoded as one segment.
    Name(&'a Name),
}

/// A name that can safely be sent as one path segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// Validates `value` as the parameter `what` (for example `TenantName`).
    pub fn new(what: &str, value: &str) -> Result<Name, Error> {
        if value.trim().is_empty() {
            return Err(Error::invalid_input(
                what,
                "the value is empty or only white space",
            ));
        }
        if value == "." || value == ".." {
            // The WHATWG URL rules treat these (even percent-encoded) as relative path steps,
            // so they cannot be sent as a name without changing the route.
            return Err(Error::invalid_input(
                what,
                format!(
                    "'{value}' cannot be used as a name because URLs treat it as a relative path step"
                ),
            ));
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(Error::invalid_input(
                what,
                format!(
                    "the value contains the control character U+{:04X}",
                    u32::from(c)
                ),
            ));
        }
        let chars = value.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(Error::invalid_input(
                what,
                format!("the value is {chars} characters long; the limit is {MAX_NAME_CHARS}"),
            ));
        }
        Ok(Name(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn route(base: &str, names: &[&str]) -> String {
        let base = DeploymentUrl::parse(base).expect("valid base");
        let names: Vec<Name> = names
            .iter()
            .map(|n| Name::new("Name", n).expect("valid name"))
            .collect();
        let parts: Vec<PathPart<'_>> = names.iter().map(PathPart::Name).collect();
        base.join(&parts).to_string()
    }

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for ok in [
            "https://rdbroker.wvd.microsoft.com",
            "https://rdbroker.wvd.microsoft.com/",
            "http://127.0.0.1:8080",
            "http://127.5.6.7",
            "http://localhost:1234/prefix/",
            "http://[::1]:9000",
        ] {
            assert!(DeploymentUrl::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn unsafe_deployment_urls_are_rejected_with_a_reason() {
        for (bad, reason) in [
            ("", "empty"),
            ("   ", "empty"),
            ("rdbroker.wvd.microsoft.com", "absolute URL"),
            ("http://rdbroker.wvd.microsoft.com", "https is required"),
            ("http://10.0.0.1", "https is required"),
            ("ftp://rdbroker", "not supported"),
            (
                "https://user:pw@rdbroker.wvd.microsoft.com",
                "user name or password",
            ),
            (
                "https://rdbroker.wvd.microsoft.com/?x=1",
                "query or fragment",
            ),
            (
                "https://rdbroker.wvd.microsoft.com/#frag",
                "query or fragment",
            ),
        ] {
            let err = DeploymentUrl::parse(bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.message().contains(reason), "{bad}: {}", err.message());
        }
    }

    #[test]
    fn user_info_is_never_echoed() {
        for text in [
            "https://admin:hunter2@broker",
            "admin:hunter2@broker",
            "http://admin:hunter2@example.com",
            "https://broker/?key=hunter2",
            "ftp://broker/?hunter2",
        ] {
            let err = DeploymentUrl::parse(text).expect_err(text);
            assert!(!err.message().contains("hunter2"), "{}", err.message());
            assert!(
                err.message().starts_with("Invalid DeploymentUrl:"),
                "{}",
                err.message()
            );
        }
    }

    #[test]
    fn long_or_control_values_are_shown_cut_and_escaped() {
        let long = format!("broker{}", "x".repeat(65_536));
        let err = DeploymentUrl::parse(&long).expect_err("not absolute");
        assert!(err.message().len() < 400, "{}", err.message());
        let long = format!("https://broker/{}", "x".repeat(100_000));
        let err = DeploymentUrl::parse(&long).expect_err("too long");
        assert!(
            err.message().contains("the limit is 2048"),
            "{}",
            err.message()
        );
        assert!(err.message().len() < 200, "{}", err.message());
        let err = DeploymentUrl::parse("a\u{1b}[2Jb").expect_err("not absolute");
        assert!(!err.message().contains('\u{1b}'), "{}", err.message());
        assert!(err.message().contains("\\u{1B}"), "{}", err.message());
    }

    #[test]
    fn hostile_names_stay_one_segment() {
        let url = route(
            "https://broker",
            &["a/b", "x?y", "#h", "100%", "%2F", "a b", "Zoë 東京", "..."],
        );
        assert_eq!(
            url,
            "https://broker/RdsManagement/V1/a%2Fb/x%3Fy/%23h/100%25/%252F/a%20b/Zo%C3%AB%20%E6%9D%B1%E4%BA%AC/..."
        );
        let parsed = Url::parse(&url).expect("url");
        assert_eq!(parsed.path_segments().expect("segments").count(), 2 + 8);
    }

    #[test]
    fn base_path_prefix_is_kept() {
        assert_eq!(
            route("http://127.0.0.1:1/api/", &["t"]),
            "http://127.0.0.1:1/api/RdsManagement/V1/t"
        );
    }

    #[test]
    fn names_that_cannot_be_one_segment_are_rejected() {
        for bad in ["", " ", "\t", ".", "..", "a\nb", "nul\0"] {
            let err = Name::new("TenantName", bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(
                err.message().starts_with("Invalid TenantName: "),
                "{}",
                err.message()
            );
        }
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        assert!(Name::new("HostPoolName", &long).is_err());
        assert!(Name::new("HostPoolName", &"x".repeat(MAX_NAME_CHARS)).is_ok());
    }
}
