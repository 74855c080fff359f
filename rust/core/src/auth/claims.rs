//! Reading (not validating) a JWT's payload: the expiry for the refresh decision and a
//! display name for the context. The broker is the one that validates tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Deserialize, Default)]
struct Claims {
    exp: Option<u64>,
    upn: Option<String>,
    unique_name: Option<String>,
    preferred_username: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
}

fn payload(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub(crate) fn expiry(token: &str) -> Option<SystemTime> {
    payload(token)?
        .exp
        .map(|exp| UNIX_EPOCH + Duration::from_secs(exp))
}

pub(crate) fn subject(token: &str) -> Option<String> {
    let c = payload(token)?;
    c.upn
        .or(c.preferred_username)
        .or(c.unique_name)
        .or(c.appid)
        .or(c.azp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn reads_expiry_and_subject() {
        let t = jwt(r#"{"exp":2000000000,"upn":"admin@contoso.com","appid":"x"}"#);
        assert_eq!(
            expiry(&t),
            Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000))
        );
        assert_eq!(subject(&t).as_deref(), Some("admin@contoso.com"));
        assert_eq!(
            subject(&jwt(r#"{"appid":"app-1"}"#)).as_deref(),
            Some("app-1")
        );
    }

    #[test]
    fn opaque_tokens_have_neither() {
        assert_eq!(expiry("opaque-token"), None);
        assert_eq!(subject("a.b.c"), None);
    }
}
