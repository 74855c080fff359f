//! The broker's bearer-token check: exactly one `Authorization` header carrying the static
//! token or an unexpired token this emulator instance issued for the broker.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use super::app::App;
use crate::clock::since_epoch;
use crate::identity::jwt::TokenCheck;
use crate::secret::constant_time_eq;

/// How a broker request authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Authentication {
    /// The configured static token.
    Static,
    /// An unexpired token this emulator issued for the broker.
    Issued { caller: String },
    /// No usable `Authorization` header, or a bearer value that is not a JWT.
    Missing,
    /// A JWT this emulator does not accept (other key, other audience, malformed) or expired.
    Rejected { expired: bool },
}

impl Authentication {
    pub(crate) fn is_authorized(&self) -> bool {
        matches!(self, Self::Static | Self::Issued { .. })
    }

    /// `static`, the token's `upn`/`appid`, or `None`.
    pub(crate) fn caller(&self) -> Option<String> {
        match self {
            Self::Static => Some("static".to_owned()),
            Self::Issued { caller } => Some(caller.clone()),
            Self::Missing | Self::Rejected { .. } => None,
        }
    }
}

/// Checks a broker request's credentials: exactly one `Authorization` header carrying
/// `Bearer <static token>` or `Bearer <unexpired JWT issued by this emulator>`.
pub(crate) fn authenticate(app: &App, headers: &HeaderMap) -> Authentication {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (Some(value), None) => value.as_bytes(),
        _ => return Authentication::Missing,
    };
    if constant_time_eq(value, app.static_authorization().as_bytes()) {
        return Authentication::Static;
    }
    let Some(token) = value
        .strip_prefix(b"Bearer ")
        .and_then(|token| std::str::from_utf8(token).ok())
    else {
        return Authentication::Missing;
    };
    // Only JWT-shaped values are judged as tokens; anything else is simply not the static
    // token, answered as before with a plain challenge.
    if token.split('.').count() != 3 {
        return Authentication::Missing;
    }
    match app.authority.check(token, since_epoch()) {
        TokenCheck::Valid { caller } => Authentication::Issued { caller },
        TokenCheck::Expired => Authentication::Rejected { expired: true },
        TokenCheck::Invalid => Authentication::Rejected { expired: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::jwt::Subject;
    use crate::model::Seed;
    use crate::state::SharedState;
    use axum::http::HeaderValue;

    const URL: &str = "http://127.0.0.1:1";

    fn new_app() -> App {
        App::new(SharedState::new(Seed::default()), "tok", URL)
    }

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_static(value));
        }
        map
    }

    fn authorized(app: &App, values: &[&'static str]) -> bool {
        authenticate(app, &headers(values)).is_authorized()
    }

    #[test]
    fn only_the_exact_bearer_header_is_authorized() {
        let app = new_app();
        assert_eq!(
            authenticate(&app, &headers(&["Bearer tok"])),
            Authentication::Static
        );
        assert!(!authorized(&app, &[]));
        assert!(!authorized(&app, &["bearer tok"]));
        assert!(!authorized(&app, &["Bearer tok2"]));
        assert!(!authorized(&app, &["Bearer  tok"]));
        assert!(!authorized(&app, &["Bearer tok", "Bearer tok"]));
        assert_eq!(
            authenticate(&app, &headers(&["Bearer a.b.c"])),
            Authentication::Rejected { expired: false }
        );
    }

    #[test]
    fn issued_tokens_are_authorized_with_their_caller() {
        let app = new_app();
        let subject = Subject::App {
            client_id: "app-7".into(),
            display_name: "App".into(),
        };
        let token = app
            .authority
            .issue(&subject, URL, "tid", since_epoch(), 600)
            .token;
        let mut map = HeaderMap::new();
        map.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
        let auth = authenticate(&app, &map);
        assert_eq!(auth.caller().as_deref(), Some("app-7"));
        let other = new_app();
        assert_eq!(
            authenticate(&other, &map),
            Authentication::Rejected { expired: false }
        );
    }
}
