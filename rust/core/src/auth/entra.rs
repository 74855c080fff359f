//! Microsoft Entra ID v2.0 token flows (docs/service-facts.md §2.3) on the `oauth2` crate: client secret,
//! client certificate (signed assertion), resource-owner password and device code.
//!
//! Why not `azure_identity`: its credentials refuse any authority host that is not HTTPS and
//! hard-code the IMDS address, so they cannot be pointed at the project's emulator on loopback,
//! and it has no device-code or password flow. `oauth2` speaks RFC 6749/8628 against any URL;
//! what is Entra-specific here is the client assertion and reading `AADSTS` codes.

use super::certificate::ClientCertificate;
use super::http::{AuthHttp, AuthHttpError};
use super::{AccessToken, Acquire, Audience, TokenFuture};
use crate::error::{Error, ErrorCode, service_text, shown, shown_url};
use crate::route::{check_url_length, is_loopback_host};
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthType, ClientId, ClientSecret, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet,
    RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername, Scope, TokenResponse,
    TokenUrl,
};
use oauth2::{DeviceAuthorizationResponse, ExtraDeviceAuthorizationFields};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

/// The public cloud's sign-in host.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// Client id used for user sign-in (password and device code). The classic "Windows Virtual
/// Desktop Client" application seen in password-grant samples (docs/service-facts.md §2.1-2.2). Which public
/// client the original module used is UNCONFIRMED; it can be overridden.
pub const DEFAULT_PUBLIC_CLIENT_ID: &str = "fa4345a4-a730-4230-84a8-7d9651b86739";

/// Tenant used for user sign-in when none is given: any work or school account.
pub const DEFAULT_USER_TENANT: &str = "organizations";

/// Where tokens come from: an authority host (public cloud, a sovereign cloud or the
/// emulator) and a tenant (GUID or domain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    host: Url,
    tenant: String,
}

impl Authority {
    /// Validates the host (https, or http on loopback) and the tenant.
    pub fn new(host: &str, tenant: &str) -> Result<Authority, Error> {
        check_url_length("AuthorityHost", host)?;
        let url = Url::parse(host.trim()).map_err(|e| {
            Error::invalid_input(
                "AuthorityHost",
                format!("{} is not an absolute URL ({e})", shown_url(host)),
            )
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid_input(
                "AuthorityHost",
                "it must not contain a user name or password",
            ));
        }
        let loopback = url.host_str().is_some_and(is_loopback_host);
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(Error::invalid_input(
                "AuthorityHost",
                format!(
                    "{} must use https (http only for loopback)",
                    shown_url(host)
                ),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() || url.host_str().is_none() {
            return Err(Error::invalid_input(
                "AuthorityHost",
                "it must be a host URL such as https://login.microsoftonline.com, without a query or fragment",
            ));
        }
        let tenant = tenant.trim();
        if !is_tenant_name(tenant) {
            return Err(Error::invalid_input(
                "AadTenantId",
                format!(
                    "{} is not a tenant id (GUID) or domain name such as contoso.onmicrosoft.com",
                    shown(tenant)
                ),
            ));
        }
        Ok(Authority {
            host: url,
            tenant: tenant.to_owned(),
        })
    }

    /// `{host}/{tenant}/oauth2/v2.0/{leaf}`. The tenant is one path segment by construction
    /// ([`is_tenant_name`] admits no `/`, `%`, `?`, `#` and no `.`/`..` segment).
    fn endpoint(&self, leaf: &str) -> String {
        format!(
            "{}/{}/oauth2/v2.0/{leaf}",
            self.host.as_str().trim_end_matches('/'),
            self.tenant
        )
    }

    /// `{host}/{tenant}/oauth2/v2.0/token`, also the `aud` of client assertions.
    pub fn token_endpoint(&self) -> String {
        self.endpoint("token")
    }

    pub fn host(&self) -> &str {
        self.host.as_str().trim_end_matches('/')
    }
}

/// The longest tenant name accepted: a DNS name has at most 253 characters.
const MAX_TENANT_CHARS: usize = 253;

/// A tenant id (GUID), a domain name (labels of letters, digits, `-` and `_` joined by single
/// dots) or a well-known tenant (`organizations`, `common`): what Entra ID accepts in the
/// authority path. Everything else could not be one path segment.
fn is_tenant_name(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= MAX_TENANT_CHARS
        && tenant.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        })
}

/// An application (client) id as Entra ID issues them: a GUID, in any form the `uuid` crate
/// reads (hyphenated, braces, URN); returned hyphenated and lower case. `what` names the
/// parameter it came from.
pub fn application_id(what: &str, value: &str) -> Result<String, Error> {
    uuid::Uuid::try_parse(value.trim())
        .map(|id| id.hyphenated().to_string())
        .map_err(|_| {
            Error::invalid_input(
                what,
                format!(
                    "{} is not an application id; it is a GUID such as 00000000-0000-0000-0000-000000000000",
                    shown(value)
                ),
            )
        })
}

type TokenClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn client(authority: &Authority, client_id: &str) -> Result<TokenClient, Error> {
    let token_url = TokenUrl::new(authority.token_endpoint()).map_err(|e| {
        Error::invalid_input(
            "AuthorityHost",
            format!("the token endpoint is not a URL: {e}"),
        )
    })?;
    Ok(BasicClient::new(ClientId::new(client_id.to_owned()))
        // Entra expects client credentials in the form body.
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url))
}

fn to_access_token(response: &BasicTokenResponse) -> AccessToken {
    let secret = response.access_token().secret().clone();
    match response.expires_in() {
        Some(lifetime) => AccessToken::with_lifetime(secret, lifetime),
        None => AccessToken::new(secret),
    }
}

/// The `AADSTSnnnnn` code in an Entra error description, if any.
pub(crate) fn aadsts_code(description: &str) -> Option<String> {
    let start = description.find("AADSTS")?;
    let digits: String = description[start + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
}

/// The useful part of an Entra error description (it ends with trace and correlation ids).
fn short_description(description: &str) -> String {
    let cut = description.find(" Trace ID:").unwrap_or(description.len());
    description[..cut].trim().trim_end_matches('.').to_owned()
}

/// The final ErrorId of an Entra refusal, from its `AADSTS` code or OAuth `error` value.
pub(crate) fn sign_in_code(code: &str) -> ErrorCode {
    match code {
        "AADSTS7000215" => ErrorCode::InvalidClientSecret,
        "AADSTS700016" => ErrorCode::ApplicationNotFound,
        "AADSTS50126" => ErrorCode::InvalidUserCredentials,
        "AADSTS700027" => ErrorCode::InvalidClientCertificate,
        "AADSTS700024" => ErrorCode::ClientAssertionExpired,
        "AADSTS90002" => ErrorCode::AadTenantNotFound,
        "AADSTS70011" => ErrorCode::InvalidScope,
        // Device-code outcomes are OAuth errors (RFC 8628).
        "expired_token" => ErrorCode::DeviceCodeExpired,
        "authorization_declined" | "access_denied" => ErrorCode::DeviceCodeDeclined,
        _ => ErrorCode::AuthenticationFailed,
    }
}

/// Turns an `oauth2` error into a classified [`Error`] with the Entra code.
pub(crate) fn token_error<TE>(
    e: RequestTokenError<AuthHttpError, TE>,
    what: &str,
    authority: &Authority,
) -> Error
where
    TE: oauth2::ErrorResponse + EntraErrorText + 'static,
{
    match e {
        RequestTokenError::ServerResponse(response) => {
            let (error, description) = response.error_and_description();
            let error = service_text(&error);
            // The device-code outcomes are decided by the OAuth error, not by the AADSTS code
            // Entra adds to them.
            let code = match sign_in_code(&error) {
                ErrorCode::AuthenticationFailed => description
                    .as_deref()
                    .and_then(aadsts_code)
                    .unwrap_or_else(|| error.clone()),
                _ => error.clone(),
            };
            let detail = description
                .as_deref()
                .map(|d| service_text(&short_description(d)))
                .unwrap_or_else(|| error.clone());
            Error::new(
                sign_in_code(&code),
                format!("{what} failed: {detail} ({error})"),
            )
            .with_service_code(code)
        }
        RequestTokenError::Request(AuthHttpError::TooLarge) => Error::new(
            ErrorCode::BrokerProtocolError,
            format!(
                "{what} failed: the answer of the sign-in authority {} is larger than {} KiB",
                authority.host(),
                super::http::MAX_AUTH_BODY_BYTES / 1024
            ),
        ),
        RequestTokenError::Request(AuthHttpError::Timeout(secs)) => Error::new(
            ErrorCode::AuthorityUnreachable,
            format!(
                "{what} failed: the sign-in authority {} did not answer within {secs} s",
                authority.host()
            ),
        ),
        RequestTokenError::Request(e) => Error::new(
            ErrorCode::AuthorityUnreachable,
            format!(
                "{what} failed: the sign-in authority {} could not be reached ({e})",
                authority.host()
            ),
        ),
        RequestTokenError::Parse(e, _) => Error::new(
            ErrorCode::BrokerProtocolError,
            format!(
                "{what} failed: the answer of {} is not a token response ({})",
                authority.host(),
                service_text(&e.to_string())
            ),
        ),
        RequestTokenError::Other(message) => Error::new(
            ErrorCode::BrokerProtocolError,
            format!("{what} failed: {}", service_text(&message)),
        ),
    }
}

/// The error code and description of an OAuth error response.
pub(crate) trait EntraErrorText {
    fn error_and_description(&self) -> (String, Option<String>);
}

impl EntraErrorText for BasicErrorResponse {
    fn error_and_description(&self) -> (String, Option<String>) {
        (
            self.error().as_ref().to_owned(),
            self.error_description().cloned(),
        )
    }
}

impl EntraErrorText for oauth2::DeviceCodeErrorResponse {
    fn error_and_description(&self) -> (String, Option<String>) {
        (
            self.error().as_ref().to_owned(),
            self.error_description().cloned(),
        )
    }
}

/// Client credentials with a secret (service principal). Keeps the secret (zeroed on drop)
/// so tokens can be renewed unattended.
pub struct ClientSecretFlow {
    authority: Authority,
    audience: Audience,
    client_id: String,
    secret: SecretString,
    http: AuthHttp,
}

impl ClientSecretFlow {
    pub fn new(
        authority: Authority,
        audience: Audience,
        client_id: &str,
        secret: SecretString,
        http: AuthHttp,
    ) -> ClientSecretFlow {
        ClientSecretFlow {
            authority,
            audience,
            client_id: client_id.to_owned(),
            secret,
            http,
        }
    }
}

impl std::fmt::Debug for ClientSecretFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecretFlow")
            .field("authority", &self.authority)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Acquire for ClientSecretFlow {
    fn acquire(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let response = client(&self.authority, &self.client_id)?
                .set_client_secret(ClientSecret::new(self.secret.expose_secret().to_owned()))
                .exchange_client_credentials()
                .add_scope(Scope::new(self.audience.scope()))
                .request_async(&self.http)
                .await
                .map_err(|e| {
                    token_error(
                        e,
                        &format!("Sign-in as application {}", self.client_id),
                        &self.authority,
                    )
                })?;
            Ok(to_access_token(&response))
        })
    }
}

/// Client credentials with a certificate: a fresh signed assertion for every token.
pub struct ClientCertificateFlow {
    authority: Authority,
    audience: Audience,
    client_id: String,
    certificate: Arc<ClientCertificate>,
    http: AuthHttp,
}

impl ClientCertificateFlow {
    pub fn new(
        authority: Authority,
        audience: Audience,
        client_id: &str,
        certificate: Arc<ClientCertificate>,
        http: AuthHttp,
    ) -> ClientCertificateFlow {
        ClientCertificateFlow {
            authority,
            audience,
            client_id: client_id.to_owned(),
            certificate,
            http,
        }
    }
}

impl std::fmt::Debug for ClientCertificateFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificateFlow")
            .field("authority", &self.authority)
            .field("client_id", &self.client_id)
            .field("certificate", &self.certificate)
            .finish()
    }
}

impl Acquire for ClientCertificateFlow {
    fn acquire(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            // An expired certificate fails here, clearly, instead of as an opaque AADSTS error.
            self.certificate.check_validity(SystemTime::now())?;
            let assertion = self
                .certificate
                .assertion(&self.client_id, &self.authority.token_endpoint())?;
            let response = client(&self.authority, &self.client_id)?
                .exchange_client_credentials()
                .add_scope(Scope::new(self.audience.scope()))
                .add_extra_param(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .add_extra_param("client_assertion", assertion)
                .request_async(&self.http)
                .await
                .map_err(|e| {
                    token_error(
                        e,
                        &format!("Sign-in as application {} with certificate", self.client_id),
                        &self.authority,
                    )
                })?;
            Ok(to_access_token(&response))
        })
    }
}

/// Resource-owner password (a user's PSCredential). Does not work for MFA-enabled users,
/// exactly like the original; the password is kept (zeroed on drop) for unattended renewal.
pub struct PasswordFlow {
    authority: Authority,
    audience: Audience,
    client_id: String,
    username: String,
    password: SecretString,
    http: AuthHttp,
}

impl PasswordFlow {
    pub fn new(
        authority: Authority,
        audience: Audience,
        client_id: &str,
        username: &str,
        password: SecretString,
        http: AuthHttp,
    ) -> PasswordFlow {
        PasswordFlow {
            authority,
            audience,
            client_id: client_id.to_owned(),
            username: username.to_owned(),
            password,
            http,
        }
    }
}

impl std::fmt::Debug for PasswordFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordFlow")
            .field("authority", &self.authority)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Acquire for PasswordFlow {
    fn acquire(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let password = ResourceOwnerPassword::new(self.password.expose_secret().to_owned());
            let response = client(&self.authority, &self.client_id)?
                .exchange_password(
                    &ResourceOwnerUsername::new(self.username.clone()),
                    &password,
                )
                .add_scope(Scope::new(self.audience.scope()))
                .request_async(&self.http)
                .await
                .map_err(|e| {
                    token_error(e, &format!("Sign-in as {}", self.username), &self.authority)
                })?;
            Ok(to_access_token(&response))
        })
    }
}

/// Entra adds a ready-made `message` to the RFC 8628 device authorization response.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct EntraDeviceFields {
    #[serde(default)]
    message: Option<String>,
}

impl ExtraDeviceAuthorizationFields for EntraDeviceFields {}

type EntraDeviceAuthorization = DeviceAuthorizationResponse<EntraDeviceFields>;

/// An interactive device-code sign-in in progress: show [`DeviceCodePrompt::message`] to the
/// user, then [`DeviceCodePrompt::complete`] polls until they finish.
pub struct DeviceCodePrompt {
    authority: Authority,
    client_id: String,
    details: EntraDeviceAuthorization,
    http: AuthHttp,
}

impl std::fmt::Debug for DeviceCodePrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCodePrompt")
            .field("authority", &self.authority)
            .field("user_code", &self.user_code())
            .finish_non_exhaustive()
    }
}

impl DeviceCodePrompt {
    /// Asks the authority for a device code.
    pub async fn start(
        authority: Authority,
        audience: &Audience,
        client_id: &str,
        http: AuthHttp,
    ) -> Result<DeviceCodePrompt, Error> {
        let device_url =
            DeviceAuthorizationUrl::new(authority.endpoint("devicecode")).map_err(|e| {
                Error::invalid_input(
                    "AuthorityHost",
                    format!("the device code endpoint is not a URL: {e}"),
                )
            })?;
        let details: EntraDeviceAuthorization = client(&authority, client_id)?
            .set_device_authorization_url(device_url)
            .exchange_device_code()
            .add_scope(Scope::new(audience.scope()))
            .request_async(&http)
            .await
            .map_err(|e| token_error(e, "Starting the device-code sign-in", &authority))?;
        Ok(DeviceCodePrompt {
            authority,
            client_id: client_id.to_owned(),
            details,
            http,
        })
    }

    /// What to tell the user: the authority's own message, else one built from code and URL.
    pub fn message(&self) -> String {
        self.details.extra_fields().message.clone().unwrap_or_else(|| {
            format!(
                "To sign in, use a web browser to open the page {} and enter the code {} to authenticate.",
                self.details.verification_uri().as_str(),
                self.user_code()
            )
        })
    }

    pub fn user_code(&self) -> &str {
        self.details.user_code().secret()
    }

    pub fn verification_uri(&self) -> &str {
        self.details.verification_uri().as_str()
    }

    /// Polls at the authority's interval (slowing down when told to) until the user signs in,
    /// declines, or the code expires.
    pub async fn complete(&self) -> Result<AccessToken, Error> {
        let device_url = DeviceAuthorizationUrl::new(self.authority.endpoint("devicecode"))
            .map_err(|e| Error::invalid_input("AuthorityHost", e.to_string()))?;
        let response: BasicTokenResponse = client(&self.authority, &self.client_id)?
            .set_device_authorization_url(device_url)
            .exchange_device_access_token(&self.details)
            .request_async(&self.http, tokio::time::sleep, None)
            .await
            .map_err(|e| token_error(e, "The device-code sign-in", &self.authority))?;
        Ok(to_access_token(&response))
    }
}

/// After a device-code sign-in there is nothing to renew with: a clear error once the token
/// expires, instead of an opaque 401 from the broker.
#[derive(Debug)]
pub struct NoRenewal {
    what: String,
}

impl NoRenewal {
    pub fn new(what: impl Into<String>) -> NoRenewal {
        NoRenewal { what: what.into() }
    }
}

impl Acquire for NoRenewal {
    fn acquire(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            Err(Error::new(
                ErrorCode::SignInExpired,
                format!(
                    "The token from the {} has expired and cannot be renewed unattended; run Add-RdsAccount again",
                    self.what
                ),
            ))
        })
    }
}

/// Used by tests and callers that want a bounded wait.
pub const DEVICE_CODE_DEFAULT_WAIT: Duration = Duration::from_secs(900);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aadsts_codes_are_found() {
        assert_eq!(
            aadsts_code("AADSTS7000215: Invalid client secret provided. Trace ID: x").as_deref(),
            Some("AADSTS7000215")
        );
        assert_eq!(aadsts_code("no code"), None);
        assert_eq!(
            short_description(
                "AADSTS50126: Error validating credentials. Trace ID: 1 Correlation ID: 2"
            ),
            "AADSTS50126: Error validating credentials"
        );
    }

    #[test]
    fn tenants_are_one_path_segment_or_refused() {
        let host = "https://login.microsoftonline.com";
        for good in [
            "contoso.onmicrosoft.com",
            "organizations",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
        ] {
            assert!(Authority::new(host, good).is_ok(), "{good}");
        }
        let long = "a".repeat(254);
        for bad in [
            "..", ".", "a..b", ".a", "a.", "a/b", "a%2Fb", "a?b", "a#b", "Zoë", &long,
        ] {
            let e = Authority::new(host, bad).expect_err(bad);
            assert!(e.to_string().contains("Invalid AadTenantId"), "{e}");
            assert!(e.to_string().len() < 400, "{e}");
        }
    }

    #[test]
    fn application_ids_are_guids_in_any_usual_form() {
        let canonical = "22222222-2222-2222-2222-22222222222a";
        for form in [
            canonical,
            "22222222-2222-2222-2222-22222222222A",
            "{22222222-2222-2222-2222-22222222222a}",
            " 2222222222222222222222222222222a ",
        ] {
            assert_eq!(
                application_id("ApplicationId", form).expect(form),
                canonical
            );
        }
        for bad in ["", " ", "app", "22222222-2222", "../x", "a\u{1}"] {
            let e = application_id("ApplicationId", bad).expect_err(bad);
            assert!(e.to_string().starts_with("Invalid ApplicationId:"), "{e}");
        }
    }

    #[test]
    fn authority_host_errors_name_the_parameter_and_never_echo_user_info() {
        let e = Authority::new("admin:Secret1@login.example.com", "t").expect_err("no scheme");
        assert!(e.to_string().contains("Invalid AuthorityHost"), "{e}");
        assert!(!e.to_string().contains("Secret1"), "{e}");
        let e = Authority::new("https://u:Secret1@login.example.com", "t").expect_err("user-info");
        assert!(!e.to_string().contains("Secret1"), "{e}");
        let e = Authority::new("https://login.example.com/?sig=Secret1", "t").expect_err("query");
        assert!(!e.to_string().contains("Secret1"), "{e}");
    }

    #[test]
    fn authorities_must_be_https_or_loopback() {
        assert!(
            Authority::new(
                "https://login.microsoftonline.us",
                "contoso.onmicrosoft.com"
            )
            .is_ok()
        );
        assert!(Authority::new("http://127.0.0.1:5000", "contoso").is_ok());
        assert!(Authority::new("http://login.example.com", "contoso").is_err());
        assert!(Authority::new("https://login.microsoftonline.com", "../evil").is_err());
        assert!(Authority::new("https://login.microsoftonline.com", "").is_err());
        assert_eq!(
            Authority::new("https://login.microsoftonline.com/", "t1")
                .expect("valid")
                .token_endpoint(),
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
    }
}
