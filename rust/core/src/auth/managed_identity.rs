//! Managed identity: the Azure VM / VMSS instance metadata service (IMDS) and the App Service,
//! Functions and Automation endpoint announced by `IDENTITY_ENDPOINT` / `IDENTITY_HEADER`
//! (docs/service-facts.md §2.4). No crate here lets these endpoints be pointed at a test server
//! (azure_identity hard-codes the IMDS address), so this is a small hand-written client.

use super::http::{AuthHttp, AuthHttpError};
use super::{AccessToken, Acquire, Audience, TokenFuture};
use crate::error::{Error, ErrorCode, service_text, shown_url};
use crate::route::{check_url_length, is_loopback_host};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// The IMDS address on every Azure VM.
pub const IMDS_DEFAULT_ENDPOINT: &str = "http://169.254.169.254";

/// Where the identity endpoint is and how to authenticate to it.
#[derive(Clone)]
pub enum ManagedIdentitySource {
    /// Azure VM / VMSS: `GET {endpoint}/metadata/identity/oauth2/token` with `Metadata: true`.
    Imds { endpoint: Url },
    /// App Service, Functions, Automation: `GET {IDENTITY_ENDPOINT}` with `X-IDENTITY-HEADER`.
    AppService { endpoint: Url, header: SecretString },
}

impl std::fmt::Debug for ManagedIdentitySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManagedIdentitySource::Imds { endpoint } => f
                .debug_struct("Imds")
                .field("endpoint", &endpoint.as_str())
                .finish(),
            ManagedIdentitySource::AppService { endpoint, .. } => f
                .debug_struct("AppService")
                .field("endpoint", &endpoint.as_str())
                .finish_non_exhaustive(),
        }
    }
}

fn local_endpoint(name: &str, value: &str) -> Result<Url, Error> {
    check_url_length(name, value)?;
    let url = Url::parse(value).map_err(|e| {
        Error::invalid_input(name, format!("{} is not a URL ({e})", shown_url(value)))
    })?;
    let host = url.host_str().unwrap_or_default();
    // These endpoints are plain http by design, which is only safe because they never leave
    // the machine (or the link-local metadata address).
    let local = is_loopback_host(host) || host == "169.254.169.254";
    if url.scheme() != "https" && !(url.scheme() == "http" && local) {
        return Err(Error::invalid_input(
            name,
            format!(
                "{} must be https, or http on loopback or 169.254.169.254",
                shown_url(value)
            ),
        ));
    }
    Ok(url)
}

impl ManagedIdentitySource {
    /// Chooses the endpoint the way the Azure SDKs do: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`
    /// when both are set (App Service, Functions, Automation), else IMDS, at `IMDS_ENDPOINT`
    /// when set (tests, proxies) or the well-known address.
    pub fn from_environment(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<ManagedIdentitySource, Error> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        if let (Some(endpoint), Some(header)) = (get("IDENTITY_ENDPOINT"), get("IDENTITY_HEADER")) {
            return Ok(ManagedIdentitySource::AppService {
                endpoint: local_endpoint("IDENTITY_ENDPOINT", &endpoint)?,
                header: SecretString::from(header),
            });
        }
        let endpoint = get("IMDS_ENDPOINT").unwrap_or_else(|| IMDS_DEFAULT_ENDPOINT.to_owned());
        Ok(ManagedIdentitySource::Imds {
            endpoint: local_endpoint("IMDS_ENDPOINT", &endpoint)?,
        })
    }

    fn describe(&self) -> &'static str {
        match self {
            ManagedIdentitySource::Imds { .. } => "the Azure instance metadata service",
            ManagedIdentitySource::AppService { .. } => {
                "the managed identity endpoint (IDENTITY_ENDPOINT)"
            }
        }
    }
}

/// Token responses carry numbers as strings (IMDS) or numbers (some hosts): accept both.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(u64),
    Text(String),
}

impl Number {
    fn value(&self) -> Option<u64> {
        match self {
            Number::Int(n) => Some(*n),
            Number::Text(s) => s.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<Number>,
    expires_on: Option<Number>,
}

#[derive(Deserialize, Default)]
struct ErrorResponse {
    error: Option<String>,
    error_description: Option<String>,
}

/// Acquires broker tokens for a system-assigned or (with `client_id`) user-assigned identity.
#[derive(Debug)]
pub struct ManagedIdentityFlow {
    source: ManagedIdentitySource,
    audience: Audience,
    client_id: Option<String>,
    http: AuthHttp,
}

impl ManagedIdentityFlow {
    pub fn new(
        source: ManagedIdentitySource,
        audience: Audience,
        client_id: Option<String>,
        http: AuthHttp,
    ) -> ManagedIdentityFlow {
        let client_id = client_id.filter(|c| !c.trim().is_empty());
        ManagedIdentityFlow {
            source,
            audience,
            client_id,
            http,
        }
    }

    fn describe_identity(&self) -> String {
        match &self.client_id {
            Some(id) => format!("user-assigned managed identity {id}"),
            None => "system-assigned managed identity".to_owned(),
        }
    }
}

impl Acquire for ManagedIdentityFlow {
    fn acquire(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let what = format!(
                "Sign-in with the {} via {}",
                self.describe_identity(),
                self.source.describe()
            );
            let request = match &self.source {
                ManagedIdentitySource::Imds { endpoint } => {
                    let mut url = endpoint.clone();
                    url.set_path("/metadata/identity/oauth2/token");
                    url.query_pairs_mut()
                        .append_pair("api-version", "2018-02-01")
                        .append_pair("resource", self.audience.resource());
                    if let Some(id) = &self.client_id {
                        url.query_pairs_mut().append_pair("client_id", id);
                    }
                    self.http.client().get(url).header("Metadata", "true")
                }
                ManagedIdentitySource::AppService { endpoint, header } => {
                    let mut url = endpoint.clone();
                    url.query_pairs_mut()
                        .append_pair("resource", self.audience.resource())
                        .append_pair("api-version", "2019-08-01");
                    if let Some(id) = &self.client_id {
                        url.query_pairs_mut().append_pair("client_id", id);
                    }
                    self.http
                        .client()
                        .get(url)
                        .header("X-IDENTITY-HEADER", header.expose_secret())
                }
            };
            let (status, _, body) = self.http.send(request).await.map_err(|e| {
                let why = match e {
                    AuthHttpError::Timeout(secs) => format!("did not answer within {secs} s"),
                    AuthHttpError::TooLarge => format!("answered with {e}"),
                    e => format!("could not be reached ({e})"),
                };
                Error::new(
                    ErrorCode::ManagedIdentityUnavailable,
                    format!("{what} failed: the endpoint {why}"),
                )
            })?;
            if !status.is_success() {
                let parsed: ErrorResponse = serde_json::from_slice(&body).unwrap_or_default();
                let code = parsed
                    .error
                    .map(|c| service_text(&c))
                    .unwrap_or_else(|| format!("http_{}", status.as_u16()));
                let detail = parsed
                    .error_description
                    .map(|d| service_text(&d))
                    .unwrap_or_else(|| status.to_string());
                return Err(Error::new(
                    ErrorCode::AuthenticationFailed,
                    format!("{what} failed: {detail} ({code}, HTTP {})", status.as_u16()),
                )
                .with_service_code(code));
            }
            let token: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
                Error::new(
                    ErrorCode::BrokerProtocolError,
                    format!("{what} failed: the answer is not a token response ({e})"),
                )
            })?;
            let now = SystemTime::now();
            let lifetime = token
                .expires_in
                .as_ref()
                .and_then(Number::value)
                .map(Duration::from_secs)
                .or_else(|| {
                    let on = UNIX_EPOCH + Duration::from_secs(token.expires_on.as_ref()?.value()?);
                    on.duration_since(now).ok()
                });
            Ok(match lifetime {
                Some(lifetime) => AccessToken::with_lifetime(token.access_token, lifetime),
                None => AccessToken::new(token.access_token),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn app_service_wins_when_both_variables_are_set() {
        let source = ManagedIdentitySource::from_environment(env(&[
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/MSI/token/"),
            ("IDENTITY_HEADER", "h"),
        ]))
        .expect("valid");
        assert!(matches!(source, ManagedIdentitySource::AppService { .. }));
        assert!(!format!("{source:?}").contains("\"h\""));
    }

    #[test]
    fn imds_is_the_default_and_can_be_redirected() {
        let default = ManagedIdentitySource::from_environment(env(&[])).expect("valid");
        assert!(
            matches!(default, ManagedIdentitySource::Imds { ref endpoint } if endpoint.as_str() == "http://169.254.169.254/")
        );
        let local = ManagedIdentitySource::from_environment(env(&[(
            "IMDS_ENDPOINT",
            "http://127.0.0.1:9",
        )]))
        .expect("valid");
        assert!(matches!(local, ManagedIdentitySource::Imds { .. }));
    }

    #[test]
    fn remote_http_endpoints_are_refused() {
        assert!(
            ManagedIdentitySource::from_environment(env(&[("IMDS_ENDPOINT", "http://10.1.2.3")]))
                .is_err()
        );
        assert!(
            ManagedIdentitySource::from_environment(env(&[
                ("IDENTITY_ENDPOINT", "http://evil.example/"),
                ("IDENTITY_HEADER", "h")
            ]))
            .is_err()
        );
    }
}
