//! The bearer-token check of every broker request, for either API flavour: exactly one
//! `Authorization` header carrying that flavour's static token or an unexpired token this
//! emulator instance issued for that flavour's audience.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use super::app::App;
use crate::clock::since_epoch;
use crate::identity::audience::{Api, api_of_audience};
use crate::identity::config::BROKER_RESOURCE;
use crate::identity::jwt::{TokenCheck, TokenClaims};
use crate::secret::constant_time_eq;

/// The object id (and client id) of whoever presents the static ARM token: one fixed, clearly
/// fake principal, so rate limits, role assignments and error messages have somebody to name.
pub const STATIC_ARM_PRINCIPAL_ID: &str = "88888888-8888-8888-8888-888888888888";

/// Who an accepted request is from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Principal {
    /// `static` for a static token, else the token's `upn` or `appid` (the request log's
    /// `caller`).
    pub caller: String,
    /// The object id (`oid`); [`STATIC_ARM_PRINCIPAL_ID`] for the static ARM token and
    /// `static` for the classic one.
    pub object_id: String,
    /// The application (client) id of an application or managed identity token, or of the
    /// client a user signed in with.
    pub app_id: Option<String>,
    /// The user of a user token.
    pub upn: Option<String>,
}

impl Principal {
    fn static_token(api: Api) -> Self {
        let object_id = match api {
            Api::Classic => "static",
            Api::Arm => STATIC_ARM_PRINCIPAL_ID,
        };
        Self {
            caller: "static".to_owned(),
            object_id: object_id.to_owned(),
            app_id: None,
            upn: None,
        }
    }

    fn from_claims(claims: TokenClaims) -> Self {
        Self {
            caller: claims.caller,
            object_id: claims.object_id,
            app_id: claims.app_id,
            upn: claims.upn,
        }
    }

    /// How ARM names the client in its messages: the user, else the application, else the
    /// object id.
    pub(crate) fn client_name(&self) -> &str {
        self.upn
            .as_deref()
            .or(self.app_id.as_deref())
            .unwrap_or(&self.object_id)
    }

    /// Whether a role assignment's `principalId` names this principal: its object id, or (for
    /// convenience in tests) its application id or user name, compared case-insensitively.
    pub(crate) fn is_named_by(&self, principal_id: &str) -> bool {
        [
            Some(self.object_id.as_str()),
            self.app_id.as_deref(),
            self.upn.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|name| name.eq_ignore_ascii_case(principal_id))
    }
}

/// How a broker request authenticated, judged for one API flavour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Authentication {
    /// This flavour's static token, or an unexpired token this emulator issued for it.
    Accepted(Principal),
    /// No `Authorization` header, or more than one.
    Missing,
    /// An `Authorization` header that is not `Bearer <value>`.
    Malformed,
    /// A bearer value that is neither a static token nor JWT-shaped.
    NotAToken,
    /// A JWT this emulator did not sign, or with unusable claims.
    Invalid,
    /// A token of this emulator for this flavour, expired at `expires_at` (epoch seconds).
    Expired { expires_at: u64 },
    /// A token (static or issued) for another audience: the classic broker's on an ARM route,
    /// ARM's on a classic route, or any other resource.
    WrongAudience { audience: String },
}

impl Authentication {
    pub(crate) fn is_authorized(&self) -> bool {
        matches!(self, Self::Accepted(_))
    }

    /// `static`, the token's `upn`/`appid`, or `None`.
    pub(crate) fn caller(&self) -> Option<String> {
        match self {
            Self::Accepted(principal) => Some(principal.caller.clone()),
            _ => None,
        }
    }
}

/// Checks a request's credentials for `api`: exactly one `Authorization` header carrying
/// `Bearer <static token of api>` or `Bearer <unexpired JWT issued by this emulator for api>`.
pub(crate) fn authenticate(app: &App, headers: &HeaderMap, api: Api) -> Authentication {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (Some(value), None) => value.as_bytes(),
        _ => return Authentication::Missing,
    };
    let (own, other) = match api {
        Api::Classic => (app.static_authorization(), app.static_arm_authorization()),
        Api::Arm => (app.static_arm_authorization(), app.static_authorization()),
    };
    if constant_time_eq(value, own.as_bytes()) {
        return Authentication::Accepted(Principal::static_token(api));
    }
    if constant_time_eq(value, other.as_bytes()) {
        let audience = match api {
            Api::Classic => crate::identity::config::ARM_RESOURCE,
            Api::Arm => BROKER_RESOURCE,
        };
        return Authentication::WrongAudience {
            audience: audience.to_owned(),
        };
    }
    let Some(token) = value
        .strip_prefix(b"Bearer ")
        .and_then(|token| std::str::from_utf8(token).ok())
    else {
        return Authentication::Malformed;
    };
    // Only JWT-shaped values are judged as tokens; anything else is simply not the static
    // token, answered (on the classic routes) as before with a plain challenge.
    if token.split('.').count() != 3 {
        return Authentication::NotAToken;
    }
    let (claims, expired) = match app.authority.check(token, since_epoch()) {
        TokenCheck::Valid(claims) => (claims, false),
        TokenCheck::Expired(claims) => (claims, true),
        TokenCheck::Invalid => return Authentication::Invalid,
    };
    // The audience is judged before the expiry: a token for another resource is refused as
    // such even when it has expired too.
    if api_of_audience(&claims.audience) != Some(api) {
        return Authentication::WrongAudience {
            audience: claims.audience,
        };
    }
    if expired {
        return Authentication::Expired {
            expires_at: claims.expires_at,
        };
    }
    Authentication::Accepted(Principal::from_claims(claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::config::ARM_RESOURCE;
    use crate::identity::jwt::Subject;
    use crate::model::Seed;
    use crate::state::SharedState;
    use axum::http::HeaderValue;

    const URL: &str = "http://127.0.0.1:1";

    fn new_app() -> App {
        App::new(SharedState::new(Seed::default()), "tok", "arm-tok", URL)
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_str(value).expect("header"));
        }
        map
    }

    fn authorized(app: &App, values: &[&str]) -> bool {
        authenticate(app, &headers(values), Api::Classic).is_authorized()
    }

    #[test]
    fn only_the_exact_bearer_header_is_authorized() {
        let app = new_app();
        assert_eq!(
            authenticate(&app, &headers(&["Bearer tok"]), Api::Classic).caller(),
            Some("static".to_owned())
        );
        assert!(!authorized(&app, &[]));
        assert!(!authorized(&app, &["bearer tok"]));
        assert!(!authorized(&app, &["Bearer tok2"]));
        assert!(!authorized(&app, &["Bearer  tok"]));
        assert!(!authorized(&app, &["Bearer tok", "Bearer tok"]));
        assert_eq!(
            authenticate(&app, &headers(&["Bearer a.b.c"]), Api::Classic),
            Authentication::Invalid
        );
    }

    #[test]
    fn each_flavour_accepts_its_own_static_token_only() {
        let app = new_app();
        let arm = authenticate(&app, &headers(&["Bearer arm-tok"]), Api::Arm);
        let Authentication::Accepted(principal) = arm else {
            panic!("the ARM static token is accepted on ARM: {arm:?}");
        };
        assert_eq!(principal.object_id, STATIC_ARM_PRINCIPAL_ID);
        assert_eq!(
            authenticate(&app, &headers(&["Bearer tok"]), Api::Arm),
            Authentication::WrongAudience {
                audience: BROKER_RESOURCE.to_owned()
            }
        );
        assert!(!authorized(&app, &["Bearer arm-tok"]));
    }

    #[test]
    fn issued_tokens_are_authorized_with_their_caller_for_their_audience_only() {
        let app = new_app();
        let subject = Subject::App {
            client_id: "app-7".into(),
            display_name: "App".into(),
        };
        let token = |audience| {
            let token = app
                .authority
                .issue(&subject, audience, URL, "tid", since_epoch(), 600)
                .token;
            headers(&[&format!("Bearer {token}")])
        };
        let classic = token(BROKER_RESOURCE);
        assert_eq!(
            authenticate(&app, &classic, Api::Classic)
                .caller()
                .as_deref(),
            Some("app-7")
        );
        assert_eq!(
            authenticate(&app, &classic, Api::Arm),
            Authentication::WrongAudience {
                audience: BROKER_RESOURCE.to_owned()
            }
        );
        let arm = token(ARM_RESOURCE);
        let Authentication::Accepted(principal) = authenticate(&app, &arm, Api::Arm) else {
            panic!("ARM token on ARM");
        };
        assert_eq!(principal.app_id.as_deref(), Some("app-7"));
        assert!(principal.is_named_by("APP-7"));
        assert!(!authorized(
            &app,
            &[arm["authorization"].to_str().expect("ascii")]
        ));
        let other = new_app();
        assert_eq!(
            authenticate(&other, &classic, Api::Classic),
            Authentication::Invalid
        );
    }
}
