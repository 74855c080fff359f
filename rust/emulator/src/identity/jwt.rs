//! Access tokens issued by this emulator: HS256 JWTs under a key that lives only in memory,
//! and the metadata kept of each ([`IssuedToken`]).
//!
//! Each emulator instance draws its own random key, so a token from another instance, another
//! process or a forger fails the signature check, and only this instance's tokens reach the
//! broker routes. Which routes accept a token depends on its audience (`super::audience`).

use std::fmt;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::config::BROKER_RESOURCE;

/// One access token the emulator issued (never the token itself).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IssuedToken {
    /// The application's or managed identity's client id (the `appid` claim).
    pub client_id: String,
    /// The signed-in user (`upn`) for the password and device code flows.
    pub username: Option<String>,
    /// How the token was obtained: `client_credentials`, `password`, `device_code`, `imds`
    /// or `app_service`.
    pub grant: String,
    /// How the client proved itself at the token endpoint: `secret` or `certificate`;
    /// `None` for public clients and managed identities.
    pub credential: Option<String>,
    /// The tenant segment the request used (`None` for managed identity endpoints).
    pub tenant: Option<String>,
    /// The token's `aud`: the classic broker's resource or ARM's (`https://management.azure.com/`).
    /// Omitted from the JSON for classic tokens (so their records read as before).
    #[serde(
        default = "classic_audience",
        skip_serializing_if = "is_classic_audience"
    )]
    pub audience: String,
    /// Epoch seconds (`iat`).
    pub issued_at: u64,
    /// Epoch seconds (`exp`).
    pub expires_at: u64,
}

fn classic_audience() -> String {
    BROKER_RESOURCE.to_owned()
}

fn is_classic_audience(audience: &str) -> bool {
    audience == BROKER_RESOURCE
}

impl IssuedToken {
    /// Who the token was issued to: the user's `upn`, else the client id.
    pub(crate) fn caller(&self) -> &str {
        self.username.as_deref().unwrap_or(&self.client_id)
    }
}

/// Who a token is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Subject {
    /// An application or managed identity: `appid` + `app_displayname`.
    App {
        client_id: String,
        display_name: String,
    },
    /// A user signed in through a client application: `upn` + `name` (+ `appid`).
    User {
        client_id: String,
        username: String,
        display_name: String,
    },
}

/// What a route learns from a token this emulator signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenClaims {
    /// The `upn` (users) or `appid` (applications, managed identities).
    pub caller: String,
    /// The `oid`: stable per identity.
    pub object_id: String,
    /// The `appid`.
    pub app_id: Option<String>,
    /// The `upn` of a user token.
    pub upn: Option<String>,
    /// The `aud`.
    pub audience: String,
    /// The `exp` (epoch seconds).
    pub expires_at: u64,
}

/// The outcome of checking a bearer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    /// Signed by this emulator and usable now (whatever its audience: the route decides).
    Valid(TokenClaims),
    /// Signed by this emulator, but `exp` has passed.
    Expired(TokenClaims),
    /// Anything else: not a JWT, another key, malformed claims, not yet valid.
    Invalid,
}

/// The claims of an issued token.
#[derive(Debug, Serialize, Deserialize)]
struct AccessClaims {
    aud: String,
    iss: String,
    iat: u64,
    nbf: u64,
    exp: u64,
    tid: String,
    oid: String,
    sub: String,
    /// `app` or `user`, as Entra's optional `idtyp` claim.
    idtyp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    appid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app_displayname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scp: Option<String>,
    /// Unique per token, so two tokens issued in the same second still differ.
    uti: String,
}

/// A signed token and its times (epoch seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IssuedJwt {
    pub token: String,
    pub issued_at: u64,
    pub not_before: u64,
    pub expires_at: u64,
}

/// Signs and checks the emulator's access tokens.
pub(crate) struct TokenAuthority {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenAuthority {
    /// A new authority with a fresh random 256-bit key.
    pub(crate) fn new() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
        }
    }

    /// Issues a token with audience `audience` at `now` (since the epoch). `issuer_base` is the
    /// emulator URL, `tid` the directory id.
    ///
    /// JWT times are whole seconds: `iat` is `now` rounded to the nearest second and
    /// `exp = iat + lifetime`, so measured against the precise clock a token lives within half
    /// a second of `lifetime` (a 1 s token is usable at once and dead after 1.5 s). `nbf` is
    /// `now` rounded down, so the token is usable immediately.
    pub(crate) fn issue(
        &self,
        subject: &Subject,
        audience: &str,
        issuer_base: &str,
        tid: &str,
        now: Duration,
        lifetime: u64,
    ) -> IssuedJwt {
        let not_before = now.as_secs();
        let issued_at = (now + Duration::from_millis(500)).as_secs();
        let expires_at = issued_at.saturating_add(lifetime);
        let (appid, app_displayname, upn, name, scp, idtyp, oid_seed) = match subject {
            Subject::App {
                client_id,
                display_name,
            } => (
                Some(client_id.clone()),
                Some(display_name.clone()),
                None,
                None,
                None,
                "app",
                format!("app:{client_id}"),
            ),
            Subject::User {
                client_id,
                username,
                display_name,
            } => (
                Some(client_id.clone()),
                None,
                Some(username.clone()),
                Some(display_name.clone()),
                Some("user_impersonation".to_owned()),
                "user",
                format!("user:{}", username.to_ascii_lowercase()),
            ),
        };
        let oid = stable_guid(&oid_seed);
        let claims = AccessClaims {
            aud: audience.to_owned(),
            iss: format!("{issuer_base}/{tid}/v2.0"),
            iat: issued_at,
            nbf: not_before,
            exp: expires_at,
            tid: tid.to_owned(),
            sub: oid.clone(),
            oid,
            idtyp: idtyp.to_owned(),
            appid,
            app_displayname,
            upn,
            name,
            scp,
            uti: uuid::Uuid::new_v4().simple().to_string(),
        };
        // HS256 over serializable claims cannot fail: there is no key parsing involved.
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail");
        IssuedJwt {
            token,
            issued_at,
            not_before,
            expires_at,
        }
    }

    /// Checks a bearer token at `now` (since the epoch): signature and claims, then `exp > now`
    /// with no clock skew allowance, so tests can observe expiry exactly. The audience is
    /// returned, not judged: each API flavour accepts its own.
    pub(crate) fn check(&self, token: &str, now: Duration) -> TokenCheck {
        let mut validation = Validation::new(Algorithm::HS256);
        // Claims are checked below, exactly; the library only verifies the signature.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        let Ok(data) = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
        else {
            return TokenCheck::Invalid;
        };
        let claims = data.claims;
        let Some(caller) = claims.upn.clone().or_else(|| claims.appid.clone()) else {
            return TokenCheck::Invalid;
        };
        let checked = TokenClaims {
            caller,
            object_id: claims.oid,
            app_id: claims.appid,
            upn: claims.upn,
            audience: claims.aud,
            expires_at: claims.exp,
        };
        if Duration::from_secs(claims.exp) <= now {
            return TokenCheck::Expired(checked);
        }
        if Duration::from_secs(claims.nbf) > now {
            return TokenCheck::Invalid;
        }
        TokenCheck::Valid(checked)
    }

    /// Signs arbitrary claims with this authority's key (unit tests of the checks only).
    #[cfg(test)]
    fn sign_raw(&self, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding).expect("signs")
    }
}

impl fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenAuthority { key: <redacted> }")
    }
}

/// A GUID derived from `seed`, so an identity keeps its `oid` across tokens and restarts.
pub(crate) fn stable_guid(seed: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The caller of a valid token, `None` otherwise.
    fn valid_caller(check: &TokenCheck) -> Option<&str> {
        match check {
            TokenCheck::Valid(claims) => Some(&claims.caller),
            _ => None,
        }
    }

    fn is_expired(check: &TokenCheck) -> bool {
        matches!(check, TokenCheck::Expired(_))
    }

    const NOW: Duration = Duration::from_secs(1_800_000_000);
    const SECOND: Duration = Duration::from_secs(1);

    fn app() -> Subject {
        Subject::App {
            client_id: "app-1".into(),
            display_name: "App".into(),
        }
    }

    #[test]
    fn issued_tokens_pass_until_they_expire() {
        let authority = TokenAuthority::new();
        let token = authority
            .issue(
                &app(),
                BROKER_RESOURCE,
                "http://127.0.0.1:1",
                "tid",
                NOW,
                10,
            )
            .token;
        assert_eq!(valid_caller(&authority.check(&token, NOW)), Some("app-1"));
        assert_eq!(
            valid_caller(&authority.check(&token, NOW + 9 * SECOND)),
            Some("app-1")
        );
        assert!(is_expired(&authority.check(&token, NOW + 10 * SECOND)));
    }

    #[test]
    fn user_tokens_name_the_user() {
        let authority = TokenAuthority::new();
        let user = Subject::User {
            client_id: "cli".into(),
            username: "Admin@Contoso.com".into(),
            display_name: "Admin".into(),
        };
        let token = authority
            .issue(&user, BROKER_RESOURCE, "http://h", "tid", NOW, 60)
            .token;
        let TokenCheck::Valid(checked) = authority.check(&token, NOW) else {
            panic!("valid");
        };
        assert_eq!(checked.caller, "Admin@Contoso.com");
        assert_eq!(checked.upn.as_deref(), Some("Admin@Contoso.com"));
        assert_eq!(checked.object_id, stable_guid("user:admin@contoso.com"));
        assert_eq!(checked.audience, BROKER_RESOURCE);
        let claims: serde_json::Value =
            jsonwebtoken::dangerous::insecure_decode_claims(&token).expect("claims");
        assert_eq!(claims["iss"], "http://h/tid/v2.0");
        assert_eq!(claims["aud"], BROKER_RESOURCE);
        assert_eq!(claims["exp"], NOW.as_secs() + 60);
        assert_eq!(claims["name"], "Admin");
        assert_eq!(claims["appid"], "cli");
    }

    #[test]
    fn another_authority_is_rejected_and_the_audience_is_reported() {
        let authority = TokenAuthority::new();
        let other = TokenAuthority::new();
        let foreign = other
            .issue(&app(), BROKER_RESOURCE, "http://h", "tid", NOW, 60)
            .token;
        assert_eq!(authority.check(&foreign, NOW), TokenCheck::Invalid);

        let now = NOW.as_secs();
        let graph = authority.sign_raw(&json!({
            "aud": "https://graph.microsoft.com", "iss": "x", "iat": now, "nbf": now,
            "exp": now + 60, "tid": "t", "oid": "o", "sub": "o", "idtyp": "app",
            "appid": "app-1", "uti": "u",
        }));
        let TokenCheck::Valid(checked) = authority.check(&graph, NOW) else {
            panic!("signed by this authority");
        };
        assert_eq!(checked.audience, "https://graph.microsoft.com");
        assert_eq!(checked.object_id, "o");

        let no_exp = authority.sign_raw(&json!({"aud": BROKER_RESOURCE, "appid": "a"}));
        assert_eq!(authority.check(&no_exp, NOW), TokenCheck::Invalid);
        assert_eq!(authority.check("not-a-jwt", NOW), TokenCheck::Invalid);
    }

    #[test]
    fn sub_second_issue_times_round_to_the_nearest_second() {
        let authority = TokenAuthority::new();
        let late = NOW + Duration::from_millis(700);
        let issued = authority.issue(&app(), BROKER_RESOURCE, "http://h", "tid", late, 1);
        assert_eq!(issued.not_before, NOW.as_secs());
        assert_eq!(issued.issued_at, NOW.as_secs() + 1);
        assert_eq!(issued.expires_at, NOW.as_secs() + 2);
        let valid = Some("app-1");
        assert_eq!(valid_caller(&authority.check(&issued.token, late)), valid);
        assert_eq!(
            valid_caller(&authority.check(&issued.token, late + Duration::from_millis(1299))),
            valid
        );
        assert!(is_expired(
            &authority.check(&issued.token, late + Duration::from_millis(1300))
        ));
        let early = NOW + Duration::from_millis(300);
        let issued = authority.issue(&app(), BROKER_RESOURCE, "http://h", "tid", early, 1);
        assert_eq!(issued.expires_at, NOW.as_secs() + 1);
        assert_eq!(valid_caller(&authority.check(&issued.token, early)), valid);
    }

    #[test]
    fn stable_guids_are_stable_and_distinct() {
        assert_eq!(stable_guid("a"), stable_guid("a"));
        assert_ne!(stable_guid("a"), stable_guid("b"));
        assert!(uuid::Uuid::parse_str(&stable_guid("a")).is_ok());
    }
}
