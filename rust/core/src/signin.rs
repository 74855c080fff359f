//! Signing in: from what an admin gives `Add-RdsAccount` to a client whose token source renews
//! itself. In two steps, so a caller can cancel the slow one:
//!
//! 1. [`SignIn::new`] checks everything locally (URLs, ids, certificate file) and sends nothing;
//! 2. [`SignIn::start`] (device code only: asks for the code to show) and [`SignIn::complete`]
//!    acquire the first token, each request bounded by the request timeout; dropping their
//!    futures (Ctrl+C) stops them at once.
//!
//! Every mode acquires its first token before the client is handed out, so a wrong secret
//! fails `Add-RdsAccount` rather than the first logoff.

use crate::auth::certificate::ClientCertificate;
use crate::auth::entra::{
    Authority, ClientCertificateFlow, ClientSecretFlow, DEFAULT_AUTHORITY_HOST,
    DEFAULT_PUBLIC_CLIENT_ID, DEFAULT_USER_TENANT, DeviceCodePrompt, NoRenewal, PasswordFlow,
    application_id,
};
use crate::auth::managed_identity::{ManagedIdentityFlow, ManagedIdentitySource};
use crate::auth::{AccessToken, Acquire, Audience, AuthHttp, RefreshingToken, StaticToken};
use crate::backend::arm::{MappingSource, Selected, Selection, select};
use crate::client::{BrokerClient, DEFAULT_REQUEST_TIMEOUT, validate_request_timeout};
use crate::error::{Error, ErrorCode};
use crate::retry::RetryPolicy;
use crate::route::DEFAULT_TENANT_GROUP;
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where and how the client will talk, besides the credential.
#[derive(Clone, Debug)]
pub struct SignInOptions {
    pub deployment_url: String,
    pub tenant_group: String,
    /// The Entra ID host; `None` means the public cloud.
    pub authority_host: Option<String>,
    pub retry: RetryPolicy,
    /// Timeout of each request, sign-in requests included.
    pub request_timeout: Duration,
    /// The ARM mapping, when one is configured (a file, or `-ArmMapping`).
    pub arm_mapping: Option<MappingSource>,
    /// Where the per-user mapping file would be, for the message that says how to make one.
    pub default_mapping_path: Option<String>,
}

impl SignInOptions {
    pub fn new(deployment_url: impl Into<String>) -> SignInOptions {
        SignInOptions {
            deployment_url: deployment_url.into(),
            tenant_group: DEFAULT_TENANT_GROUP.to_owned(),
            authority_host: None,
            retry: RetryPolicy::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            arm_mapping: None,
            default_mapping_path: None,
        }
    }
}

/// Who signs in, and with what. Secrets are held in zeroing containers from here on.
pub enum Credential {
    /// A token obtained elsewhere, used as is.
    AccessToken(SecretString),
    /// A service principal with a client secret.
    ClientSecret {
        tenant_id: String,
        client_id: String,
        secret: SecretString,
    },
    /// A service principal with a certificate file (PFX/P12, or PEM with an unencrypted key).
    CertificateFile {
        tenant_id: String,
        client_id: String,
        path: PathBuf,
        password: Option<SecretString>,
    },
    /// A service principal with a certificate given as PEM text (from a certificate store).
    CertificatePem {
        tenant_id: String,
        client_id: String,
        pem: SecretString,
    },
    /// A user with a password (not for MFA-enabled users, like the original).
    Password {
        tenant_id: Option<String>,
        client_id: Option<String>,
        username: String,
        password: SecretString,
    },
    /// The managed identity of the machine or app. The endpoint variables are passed in by
    /// the caller: .NET keeps its own environment block on Unix, so `$env:` changes made in
    /// PowerShell are invisible to `std::env`.
    ManagedIdentity {
        client_id: Option<String>,
        identity_endpoint: Option<String>,
        identity_header: Option<SecretString>,
        imds_endpoint: Option<String>,
    },
    /// Interactive: a code the user enters in a browser.
    DeviceCode {
        tenant_id: Option<String>,
        client_id: Option<String>,
    },
}

impl std::fmt::Debug for Credential {
    // Names the mode only: never a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::AccessToken(_) => "Credential::AccessToken",
            Credential::ClientSecret { .. } => "Credential::ClientSecret",
            Credential::CertificateFile { .. } => "Credential::CertificateFile",
            Credential::CertificatePem { .. } => "Credential::CertificatePem",
            Credential::Password { .. } => "Credential::Password",
            Credential::ManagedIdentity { .. } => "Credential::ManagedIdentity",
            Credential::DeviceCode { .. } => "Credential::DeviceCode",
        })
    }
}

/// How the first token will be obtained.
enum Pending {
    Token(AccessToken),
    Flow(Box<dyn Acquire>),
    DeviceCode(Box<DeviceCodeState>),
}

/// A device-code sign-in: where to ask, and the code once asked for.
struct DeviceCodeState {
    authority: Authority,
    client_id: String,
    prompt: tokio::sync::Mutex<Option<DeviceCodePrompt>>,
}

/// A sign-in checked locally and ready to acquire its first token.
pub struct SignIn {
    options: SignInOptions,
    /// Classic or ARM (and which audience, which authority).
    selection: Selection,
    http: reqwest::Client,
    pending: Pending,
    /// Who signs in, when known before the token (application id, user name).
    user_name: Option<String>,
    /// Who to name when neither the credential nor the token says (a managed identity's
    /// client id, else "ManagedIdentity").
    user_fallback: Option<String>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("deployment_url", &self.options.deployment_url)
            .field("user_name", &self.user_name)
            .finish_non_exhaustive()
    }
}

/// A signed-in client and who signed in (for the context's UserName).
#[derive(Debug)]
pub struct SignedIn {
    pub client: BrokerClient,
    pub user_name: String,
}

/// An empty value means "not given" (PowerShell passes nothing for an absent parameter).
/// White space is not empty: it is a value, and validation refuses it, so a stray space never
/// silently selects the public cloud or another tenant.
fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

fn require(what: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(what, "the value is empty"));
    }
    Ok(())
}

/// A bearer token must match RFC 6750's `b64token` (letters, digits, `-._~+/`, then `=`
/// padding): anything else would be refused by the HTTP layer on every call, or worse, could
/// split the header. The token itself is never echoed, only where it goes wrong.
fn check_bearer_token(token: &str) -> Result<(), Error> {
    if token.trim().is_empty() {
        return Err(Error::invalid_input("AccessToken", "the value is empty"));
    }
    let body = token.trim_end_matches('=');
    let bad = body
        .char_indices()
        .find(|(_, c)| {
            !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/'))
        })
        .map(|(i, _)| token[..i].chars().count() + 1);
    if body.is_empty() || bad.is_some() {
        let at = bad.map_or_else(String::new, |p| format!(" (character {p})"));
        return Err(Error::invalid_input(
            "AccessToken",
            format!(
                "a bearer token has only letters, digits and - . _ ~ + / (then = padding); this one does not{at}"
            ),
        ));
    }
    Ok(())
}

impl SignIn {
    /// Checks everything that can be checked without a request. Input errors are
    /// `InvalidAccountParameters` (what `Add-RdsAccount` reports for a bad parameter).
    pub fn new(
        options: SignInOptions,
        credential: Credential,
        http: reqwest::Client,
    ) -> Result<SignIn, Error> {
        SignIn::prepare(options, credential, http).map_err(|e| {
            if e.code() == ErrorCode::InvalidInput {
                e.with_code(ErrorCode::InvalidAccountParameters)
            } else {
                e
            }
        })
    }

    fn prepare(
        options: SignInOptions,
        credential: Credential,
        http: reqwest::Client,
    ) -> Result<SignIn, Error> {
        validate_request_timeout(options.request_timeout)?;
        let deployment = crate::route::DeploymentUrl::parse(&options.deployment_url)?;
        let selection = select(
            &deployment,
            options.arm_mapping.clone(),
            options.default_mapping_path.as_deref(),
        )?;
        let audience = selection.audience.clone();
        let auth_http = AuthHttp::new(http.clone(), options.request_timeout);
        // A sovereign cloud's Resource Manager signs in at that cloud's authority.
        let host = given(options.authority_host.as_deref())
            .or(selection.authority_host)
            .unwrap_or(DEFAULT_AUTHORITY_HOST);
        let mut user_fallback = None;
        let (pending, user_name) = match credential {
            Credential::AccessToken(token) => {
                check_bearer_token(token.expose_secret())?;
                let token = AccessToken::new(token.expose_secret().to_owned());
                let user = token.subject();
                (Pending::Token(token), user)
            }
            Credential::ClientSecret {
                tenant_id,
                client_id,
                secret,
            } => {
                require("AadTenantId", &tenant_id)?;
                let client_id = application_id(
                    "Credential (its user name is the application id)",
                    &client_id,
                )?;
                let authority = Authority::new(host, &tenant_id)?;
                let flow = ClientSecretFlow::new(
                    authority,
                    audience.clone(),
                    &client_id,
                    secret,
                    auth_http,
                );
                (Pending::Flow(Box::new(flow)), Some(client_id))
            }
            Credential::CertificateFile {
                tenant_id,
                client_id,
                path,
                password,
            } => {
                let certificate = ClientCertificate::from_file(
                    &path,
                    password
                        .as_ref()
                        .map(|p| p.expose_secret())
                        .filter(|p| !p.is_empty()),
                )?;
                certificate_flow(
                    host,
                    tenant_id,
                    client_id,
                    certificate,
                    &audience,
                    auth_http,
                )?
            }
            Credential::CertificatePem {
                tenant_id,
                client_id,
                pem,
            } => {
                let certificate = ClientCertificate::from_pem(pem.expose_secret())?;
                certificate_flow(
                    host,
                    tenant_id,
                    client_id,
                    certificate,
                    &audience,
                    auth_http,
                )?
            }
            Credential::Password {
                tenant_id,
                client_id,
                username,
                password,
            } => {
                require("Credential (its user name)", &username)?;
                let tenant = given(tenant_id.as_deref()).unwrap_or(DEFAULT_USER_TENANT);
                let authority = Authority::new(host, tenant)?;
                let client_id = given(client_id.as_deref()).unwrap_or(DEFAULT_PUBLIC_CLIENT_ID);
                let flow = PasswordFlow::new(
                    authority,
                    audience.clone(),
                    client_id,
                    username.trim(),
                    password,
                    auth_http,
                );
                (
                    Pending::Flow(Box::new(flow)),
                    Some(username.trim().to_owned()),
                )
            }
            Credential::ManagedIdentity {
                client_id,
                identity_endpoint,
                identity_header,
                imds_endpoint,
            } => {
                // Empty means "not given": the system-assigned identity. Anything else must be
                // a GUID, so a stray space never silently selects the system-assigned identity.
                let client_id = match given(client_id.as_deref()) {
                    None => None,
                    Some(id) => Some(application_id("ClientId", id)?),
                };
                let header = identity_header.map(|h| h.expose_secret().to_owned());
                let source = ManagedIdentitySource::from_environment(|name| match name {
                    "IDENTITY_ENDPOINT" => identity_endpoint.clone(),
                    "IDENTITY_HEADER" => header.clone(),
                    "IMDS_ENDPOINT" => imds_endpoint.clone(),
                    _ => None,
                })?;
                user_fallback = Some(
                    client_id
                        .clone()
                        .unwrap_or_else(|| "ManagedIdentity".to_owned()),
                );
                let flow = ManagedIdentityFlow::new(source, audience.clone(), client_id, auth_http);
                (Pending::Flow(Box::new(flow)), None)
            }
            Credential::DeviceCode {
                tenant_id,
                client_id,
            } => {
                let tenant = given(tenant_id.as_deref()).unwrap_or(DEFAULT_USER_TENANT);
                let authority = Authority::new(host, tenant)?;
                let client_id = match given(client_id.as_deref()) {
                    None => DEFAULT_PUBLIC_CLIENT_ID.to_owned(),
                    Some(id) => application_id("ClientId", id)?,
                };
                (
                    Pending::DeviceCode(Box::new(DeviceCodeState {
                        authority,
                        client_id,
                        prompt: tokio::sync::Mutex::new(None),
                    })),
                    None,
                )
            }
        };
        // A typo in the deployment URL should not cost a token: build (and so validate) a
        // client before any sign-in traffic.
        build_client(
            &options,
            &selection,
            Arc::new(StaticToken::new(AccessToken::new("unused"))),
            &http,
        )?;
        Ok(SignIn {
            options,
            selection,
            http,
            pending,
            user_name,
            user_fallback,
        })
    }

    /// What to tell the admin about the sign-in before it happens (a classic URL routed to
    /// ARM), for verbose output.
    pub fn notes(&self) -> Vec<String> {
        self.selection.note.iter().cloned().collect()
    }

    /// The token audience the sign-in asks for (the classic broker or Resource Manager).
    pub fn audience(&self) -> &Audience {
        &self.selection.audience
    }

    /// Whether completing needs no request (a token obtained elsewhere), so a caller may
    /// complete it synchronously.
    pub fn needs_no_request(&self) -> bool {
        matches!(self.pending, Pending::Token(_))
    }

    /// For a device-code sign-in, asks the authority for a code and returns the text to show
    /// the user (URL and code); `None` for every other mode. Nothing is waited for besides the
    /// one request, which has the request timeout.
    pub async fn start(&self) -> Result<Option<String>, Error> {
        let Pending::DeviceCode(state) = &self.pending else {
            return Ok(None);
        };
        let DeviceCodeState {
            authority,
            client_id,
            prompt,
        } = state.as_ref();
        let http = AuthHttp::new(self.http.clone(), self.options.request_timeout);
        let started =
            DeviceCodePrompt::start(authority.clone(), &self.selection.audience, client_id, http)
                .await?;
        let message = started.message();
        *prompt.lock().await = Some(started);
        Ok(Some(message))
    }

    /// Acquires the first token and returns the signed-in client. A device-code sign-in waits
    /// until the user finishes (or declines, or the code expires) and needs [`SignIn::start`]
    /// first; every other request is bounded by the request timeout.
    pub async fn complete(self) -> Result<SignedIn, Error> {
        let timeout = self.options.request_timeout;
        let (tokens, user_name): (Arc<dyn crate::TokenSource>, Option<String>) = match self.pending
        {
            Pending::Token(token) => (Arc::new(StaticToken::new(token)), self.user_name),
            Pending::Flow(flow) => {
                // Each request of the flow has the timeout; this backstop (a little longer, so
                // the flow's own, more specific error wins) bounds a flow of several requests.
                let first = tokio::time::timeout(timeout + Duration::from_secs(1), flow.acquire())
                    .await
                    .map_err(|_| {
                        Error::new(
                            ErrorCode::AuthorityUnreachable,
                            format!(
                                "Sign-in failed: no token within {} s (-TimeoutSec)",
                                timeout.as_secs_f64()
                            ),
                        )
                    })??;
                let user = self
                    .user_name
                    .or_else(|| first.subject())
                    .or(self.user_fallback);
                (Arc::new(RefreshingToken::with_initial(flow, first)), user)
            }
            Pending::DeviceCode(state) => {
                let prompt = state.prompt.into_inner().ok_or_else(|| {
                    Error::new(
                        ErrorCode::NativeLibraryError,
                        "The device-code sign-in was completed before it was started",
                    )
                })?;
                let first = prompt.complete().await?;
                let user = first.subject();
                let renewal = NoRenewal::new("device-code sign-in");
                (
                    Arc::new(RefreshingToken::with_initial(Box::new(renewal), first)),
                    user,
                )
            }
        };
        let client = build_client(&self.options, &self.selection, tokens, &self.http)?;
        Ok(SignedIn {
            client,
            user_name: user_name.unwrap_or_default(),
        })
    }
}

fn certificate_flow(
    host: &str,
    tenant_id: String,
    client_id: String,
    certificate: ClientCertificate,
    audience: &Audience,
    http: AuthHttp,
) -> Result<(Pending, Option<String>), Error> {
    require("AadTenantId", &tenant_id)?;
    let client_id = application_id("ApplicationId", &client_id)?;
    let authority = Authority::new(host, &tenant_id)?;
    let flow = ClientCertificateFlow::new(
        authority,
        audience.clone(),
        &client_id,
        Arc::new(certificate),
        http,
    );
    Ok((Pending::Flow(Box::new(flow)), Some(client_id)))
}

fn build_client(
    options: &SignInOptions,
    selection: &Selection,
    tokens: Arc<dyn crate::TokenSource>,
    http: &reqwest::Client,
) -> Result<BrokerClient, Error> {
    let mut builder = BrokerClient::builder(options.deployment_url.clone(), tokens)
        .tenant_group(options.tenant_group.clone())
        .http_client(http.clone())
        .retry_policy(options.retry.clone())
        .request_timeout(options.request_timeout);
    if let Selected::Arm { endpoint, mapping } = &selection.selected {
        builder = builder.arm_routed(endpoint.as_str().to_owned(), mapping.clone());
    }
    builder.build()
}
