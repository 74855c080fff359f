//! The checks of `POST /{tenant}/oauth2/v2.0/token` and `POST /{tenant}/oauth2/v2.0/devicecode`,
//! in Entra's order, and the grant they end in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::assertion::{AssertionCheck, verify_client_assertion};
use super::audience::Resource;
use super::config::{ApplicationConfig, DeviceCodeConfig};
use super::device::PollOutcome;
use super::directory::{Directory, Grant, check_scope};
use super::error::AadError;
use super::jwt::Subject;
use crate::clock::now_epoch;
use crate::form::{Form, decode_component};
use crate::secret::constant_time_eq;

/// `client_assertion_type` of RFC 7523 client assertions.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How the client tried to authenticate.
enum Credential<'a> {
    None,
    Secret(&'a str),
    Assertion { kind: Option<&'a str>, jwt: &'a str },
}

/// One form post to `/{tenant}/oauth2/v2.0/token` or `/devicecode`, as the checks of either
/// endpoint see it.
#[derive(Clone, Copy)]
pub(crate) struct TenantRequest<'a> {
    pub directory: &'a Directory,
    /// The tenant segment of the path.
    pub tenant: &'a str,
    /// The form body.
    pub form: &'a Form,
    /// The (first) `Authorization` header, which may carry HTTP Basic client credentials.
    pub authorization: Option<&'a str>,
    /// The emulator's URL as the client used it.
    pub base: &'a str,
    /// The emulator's URL at its bound address.
    pub bound_url: &'a str,
}

impl TenantRequest<'_> {
    /// `Authorization: Basic` client credentials (RFC 6749 §2.3.1: both parts form-encoded).
    fn basic_credentials(&self) -> Option<(String, String)> {
        let (scheme, encoded) = self.authorization?.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(encoded.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        Some((
            decode_component(id).into_owned(),
            decode_component(secret).into_owned(),
        ))
    }
}

/// Runs the checks of one token request, in Entra's order: tenant, grant type, client,
/// client authentication, scope, then the grant itself.
///
/// `client_id_seen` learns the client the request names as soon as it is known (for the
/// request log, also when a later check fails); `poll` polls a device code (`device_code`,
/// client id, automatic approval) in the emulator's state.
pub(crate) fn token_grant(
    request: TenantRequest<'_>,
    client_id_seen: &mut Option<String>,
    poll: impl FnOnce(&str, &str, Option<(&str, u32)>) -> PollOutcome,
) -> Result<Grant, AadError> {
    let TenantRequest {
        directory,
        tenant,
        form,
        base,
        bound_url,
        ..
    } = request;
    directory.check_tenant(tenant)?;
    let grant_type = form
        .get("grant_type")
        .ok_or_else(|| AadError::missing_parameter("grant_type"))?;
    let user_flow = match grant_type {
        "client_credentials" => false,
        "password" | GRANT_DEVICE_CODE => true,
        other => {
            return Err(AadError::bad_request(
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            ));
        }
    };

    // Who is the client, and what does it present?
    let basic = request.basic_credentials();
    let assertion = form.get("client_assertion");
    let form_client_id = form.get("client_id");
    if let (Some((basic_id, _)), Some(form_id)) = (&basic, form_client_id)
        && !basic_id.eq_ignore_ascii_case(form_id)
    {
        return Err(AadError::bad_request(
            "invalid_request",
            900144,
            "The client_id in the request body does not match the one in the Authorization header.",
        ));
    }
    let assertion_issuer = assertion.and_then(|jwt| {
        jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(jwt)
            .ok()
            .and_then(|claims| claims.get("iss")?.as_str().map(str::to_owned))
    });
    let client_id = basic
        .as_ref()
        .map(|(id, _)| id.clone())
        .or_else(|| form_client_id.map(str::to_owned))
        .or(assertion_issuer)
        .ok_or_else(|| AadError::missing_parameter("client_id"))?;
    *client_id_seen = Some(client_id.clone());
    let credential = match (assertion, &basic, form.get("client_secret")) {
        (Some(jwt), _, _) => Credential::Assertion {
            kind: form.get("client_assertion_type"),
            jwt,
        },
        (None, Some((_, secret)), _) if !secret.is_empty() => Credential::Secret(secret),
        (None, _, Some(secret)) => Credential::Secret(secret),
        _ => Credential::None,
    };

    let app = directory.find_application(&client_id, tenant)?;
    let audiences = directory.assertion_audiences(tenant, base, bound_url);
    let credential = authenticate_client(app, &credential, user_flow, &audiences)?;
    let client_id = app.client_id.clone();

    match grant_type {
        "client_credentials" => {
            let resource = check_scope(form.get("scope"), false)?;
            Ok(Grant {
                resource,
                subject: Subject::App {
                    display_name: app
                        .display_name
                        .clone()
                        .unwrap_or_else(|| client_id.clone()),
                    client_id,
                },
                grant: "client_credentials",
                credential,
            })
        }
        "password" => {
            let resource = check_scope(form.get("scope"), true)?;
            let username = form
                .get("username")
                .ok_or_else(|| AadError::missing_parameter("username"))?;
            let password = form
                .get("password")
                .ok_or_else(|| AadError::missing_parameter("password"))?;
            let Some(user) = directory.user_with_password(username, password) else {
                return Err(AadError::bad_request(
                    "invalid_grant",
                    50126,
                    "Error validating credentials due to invalid username or password.",
                ));
            };
            Ok(Grant {
                resource,
                subject: Subject::User {
                    client_id,
                    username: user.username.clone(),
                    display_name: user
                        .display_name
                        .clone()
                        .unwrap_or_else(|| user.username.clone()),
                },
                grant: "password",
                credential,
            })
        }
        _ => {
            let device_code = form
                .get("device_code")
                .ok_or_else(|| AadError::missing_parameter("device_code"))?;
            let device = &directory.0.device_code;
            let auto_approve = device
                .auto_approve_user
                .as_deref()
                .map(|user| (user, device.approve_after_polls));
            // The token is for the resource the device code was requested for.
            let (username, resource) =
                device_poll_result(poll(device_code, &client_id, auto_approve))?;
            let user = directory.user(&username);
            Ok(Grant {
                resource,
                subject: Subject::User {
                    client_id,
                    display_name: user
                        .and_then(|user| user.display_name.clone())
                        .unwrap_or_else(|| username.clone()),
                    username: user.map_or(username, |user| user.username.clone()),
                },
                grant: "device_code",
                credential,
            })
        }
    }
}

/// Authenticates the client. Confidential clients must always present a credential; public
/// clients ("allow public client flows") must not present one in user flows.
fn authenticate_client(
    app: &ApplicationConfig,
    credential: &Credential<'_>,
    user_flow: bool,
    audiences: &[String],
) -> Result<Option<&'static str>, AadError> {
    let public = user_flow && app.public_client;
    if public && !matches!(credential, Credential::None) {
        return Err(AadError::invalid_client(
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        ));
    }
    match credential {
        Credential::None if public => Ok(None),
        Credential::None => Err(AadError::invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'.",
        )),
        Credential::Secret(secret) => {
            let matches = app
                .client_secret
                .as_deref()
                .is_some_and(|expected| constant_time_eq(expected.as_bytes(), secret.as_bytes()));
            if matches {
                Ok(Some("secret"))
            } else {
                Err(AadError::invalid_client(
                    7000215,
                    format!(
                        "Invalid client secret provided. Ensure the secret being sent in the \
                         request is the client secret value, not the client secret ID, for a \
                         secret added to app '{}'.",
                        app.client_id
                    ),
                ))
            }
        }
        Credential::Assertion { kind, jwt } => {
            match kind {
                Some(JWT_BEARER) => {}
                Some(_) => {
                    return Err(AadError::bad_request(
                        "invalid_request",
                        900144,
                        format!("The 'client_assertion_type' parameter must be '{JWT_BEARER}'."),
                    ));
                }
                None => return Err(AadError::missing_parameter("client_assertion_type")),
            }
            verify_client_assertion(
                jwt,
                AssertionCheck {
                    client_id: &app.client_id,
                    certificates: &app.certificates,
                    audiences,
                    now: now_epoch(),
                },
            )?;
            Ok(Some("certificate"))
        }
    }
}

/// Maps a device code poll to the approving user and the code's resource, or Entra's error.
fn device_poll_result(outcome: PollOutcome) -> Result<(String, Resource), AadError> {
    let error = |error: &'static str, code: u32, message: &str| {
        Err(AadError::bad_request(error, code, message))
    };
    match outcome {
        PollOutcome::Approved { username, resource } => Ok((username, resource)),
        PollOutcome::Pending => error(
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        ),
        PollOutcome::SlowDown => error(
            "slow_down",
            70016,
            "OAuth 2.0 device flow error. The client is polling too fast: wait at least \
             'interval' seconds between polls.",
        ),
        PollOutcome::Declined => error(
            "authorization_declined",
            70000,
            "The user declined the authentication request.",
        ),
        PollOutcome::Expired => error("expired_token", 70019, "Verification code expired."),
        PollOutcome::AlreadyRedeemed => error(
            "invalid_grant",
            70000,
            "The provided value for the 'device_code' parameter was already redeemed.",
        ),
        PollOutcome::Unknown => error(
            "bad_verification_code",
            70018,
            "The provided value for the 'device_code' parameter is not valid for this client.",
        ),
    }
}

/// A new device code, as the device code endpoint hands it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeviceCodeGrant {
    /// The secret the client polls with.
    pub device_code: String,
    /// What the user types on the verification page.
    pub user_code: String,
    /// Seconds the code lives.
    pub expires_in: u64,
    /// Seconds the client should wait between polls.
    pub interval: u64,
}

/// Runs the checks of one device code request (tenant, client, scope) and hands out a new code.
///
/// `client_id_seen` learns the client as in [`token_grant`]; `issue` creates the code (for a
/// client id and the resource its token will be for, under a configuration) in the emulator's
/// state and returns `(device_code, user_code)`.
pub(crate) fn device_code_grant(
    request: TenantRequest<'_>,
    client_id_seen: &mut Option<String>,
    issue: impl FnOnce(&str, Resource, &DeviceCodeConfig) -> (String, String),
) -> Result<DeviceCodeGrant, AadError> {
    let TenantRequest {
        directory,
        tenant,
        form,
        ..
    } = request;
    directory.check_tenant(tenant)?;
    let client_id = request
        .basic_credentials()
        .map(|(id, _)| id)
        .or_else(|| form.get("client_id").map(str::to_owned))
        .ok_or_else(|| AadError::missing_parameter("client_id"))?;
    *client_id_seen = Some(client_id.clone());
    let app = directory.find_application(&client_id, tenant)?;
    let resource = check_scope(form.get("scope"), true)?;
    let config = &directory.0.device_code;
    let (device_code, user_code) = issue(&app.client_id, resource, config);
    Ok(DeviceCodeGrant {
        device_code,
        user_code,
        expires_in: config.expires_in_seconds,
        interval: config.interval_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::config::IdentityConfig;

    fn request<'a>(
        directory: &'a Directory,
        form: &'a Form,
        authorization: Option<&'a str>,
    ) -> TenantRequest<'a> {
        TenantRequest {
            directory,
            tenant: "contoso.onmicrosoft.com",
            form,
            authorization,
            base: "http://h",
            bound_url: "http://h",
        }
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let directory = Directory(IdentityConfig::default());
        let form = Form::default();
        let header = format!("Basic {}", STANDARD.encode("my%20app:p%40ss+word"));
        assert_eq!(
            request(&directory, &form, Some(&header)).basic_credentials(),
            Some(("my app".to_owned(), "p@ss word".to_owned()))
        );
        assert_eq!(
            request(&directory, &form, Some("Bearer x")).basic_credentials(),
            None
        );
    }
}
