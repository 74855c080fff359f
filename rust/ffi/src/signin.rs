//! Building the broker client for each sign-in mode. Every mode acquires its first token
//! right away, so `Add-RdsAccount` fails on a wrong secret instead of the first logoff.

use crate::runtime;
use crate::types::ErrorInfo;
use rds_core::auth::certificate::ClientCertificate;
use rds_core::auth::entra::{
    Authority, ClientCertificateFlow, ClientSecretFlow, DEFAULT_AUTHORITY_HOST,
    DEFAULT_PUBLIC_CLIENT_ID, DEFAULT_USER_TENANT, PasswordFlow, application_id,
};
use rds_core::auth::managed_identity::{ManagedIdentityFlow, ManagedIdentitySource};
use rds_core::auth::{Acquire, RefreshingToken};
use rds_core::{AccessToken, BrokerClient, StaticToken, TokenSource};
use secrecy::SecretString;
use std::sync::Arc;

/// A client plus who signed in (for the context's UserName).
pub(crate) struct SignedIn {
    pub client: BrokerClient,
    pub user_name: String,
}

/// An empty value means "not given" (C# passes "" for an absent parameter). White space is
/// not empty: it is a value, and validation refuses it, so a stray space never silently
/// selects the public cloud or another tenant.
fn or_default<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.is_empty() { default } else { value }
}

pub(crate) fn authority(
    host: &str,
    tenant: &str,
    default_tenant: &str,
) -> Result<Authority, ErrorInfo> {
    Authority::new(
        or_default(host, DEFAULT_AUTHORITY_HOST),
        or_default(tenant, default_tenant),
    )
    .map_err(ErrorInfo::from)
}

/// A bearer token must match RFC 6750's `b64token` (letters, digits, `-._~+/`, then `=`
/// padding): anything else would be refused by the HTTP layer on every call, or worse, could
/// split the header. The token itself is never echoed, only where it goes wrong.
fn check_bearer_token(token: &str) -> Result<(), ErrorInfo> {
    if token.trim().is_empty() {
        return Err(ErrorInfo::invalid_input(
            "Invalid AccessToken: the value is empty",
        ));
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
        return Err(ErrorInfo::invalid_input(&format!(
            "Invalid AccessToken: a bearer token has only letters, digits and - . _ ~ + / (then = padding); this one does not{at}"
        )));
    }
    Ok(())
}

fn require(what: &str, value: &str) -> Result<(), ErrorInfo> {
    if value.trim().is_empty() {
        return Err(ErrorInfo::invalid_input(&format!(
            "Invalid {what}: the value is empty"
        )));
    }
    Ok(())
}

fn client(
    deployment_url: &str,
    tenant_group: &str,
    tokens: Arc<dyn TokenSource>,
) -> Result<BrokerClient, ErrorInfo> {
    BrokerClient::builder(deployment_url, tokens)
        .tenant_group(tenant_group)
        .http_client(runtime::shared_http_client().map_err(ErrorInfo::from)?)
        .build()
        .map_err(ErrorInfo::from)
}

/// Validates the deployment URL before any sign-in traffic: a typo should not cost a token.
fn check_deployment(deployment_url: &str, tenant_group: &str) -> Result<(), ErrorInfo> {
    client(
        deployment_url,
        tenant_group,
        Arc::new(StaticToken::new(AccessToken::new("unused"))),
    )
    .map(|_| ())
}

/// Acquires the first token now, then keeps renewing it with the same flow.
fn signed_in(
    deployment_url: &str,
    tenant_group: &str,
    flow: Box<dyn Acquire>,
    user_name: String,
) -> Result<SignedIn, ErrorInfo> {
    check_deployment(deployment_url, tenant_group)?;
    let first = runtime::block_on(flow.acquire())?.map_err(ErrorInfo::from)?;
    let tokens = Arc::new(RefreshingToken::with_initial(flow, first));
    Ok(SignedIn {
        client: client(deployment_url, tenant_group, tokens)?,
        user_name,
    })
}

pub(crate) fn with_token(
    deployment_url: &str,
    tenant_group: &str,
    token: String,
) -> Result<SignedIn, ErrorInfo> {
    check_bearer_token(&token)?;
    let token = AccessToken::new(token);
    let user_name = token.subject().unwrap_or_default();
    Ok(SignedIn {
        client: client(
            deployment_url,
            tenant_group,
            Arc::new(StaticToken::new(token)),
        )?,
        user_name,
    })
}

pub(crate) fn with_client_secret(
    deployment_url: &str,
    tenant_group: &str,
    authority_host: &str,
    tenant_id: &str,
    client_id: &str,
    secret: SecretString,
) -> Result<SignedIn, ErrorInfo> {
    require("AadTenantId", tenant_id)?;
    let client_id = application_id(
        "Credential (its user name is the application id)",
        client_id,
    )
    .map_err(ErrorInfo::from)?;
    let authority = authority(authority_host, tenant_id, "")?;
    let flow = ClientSecretFlow::new(
        authority,
        &client_id,
        secret,
        runtime::shared_http_client().map_err(ErrorInfo::from)?,
    );
    signed_in(deployment_url, tenant_group, Box::new(flow), client_id)
}

pub(crate) fn with_certificate(
    deployment_url: &str,
    tenant_group: &str,
    authority_host: &str,
    tenant_id: &str,
    client_id: &str,
    certificate: ClientCertificate,
) -> Result<SignedIn, ErrorInfo> {
    require("AadTenantId", tenant_id)?;
    let client_id = application_id("ApplicationId", client_id).map_err(ErrorInfo::from)?;
    let authority = authority(authority_host, tenant_id, "")?;
    let http = runtime::shared_http_client().map_err(ErrorInfo::from)?;
    let flow = ClientCertificateFlow::new(authority, &client_id, Arc::new(certificate), http);
    signed_in(deployment_url, tenant_group, Box::new(flow), client_id)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn with_password(
    deployment_url: &str,
    tenant_group: &str,
    authority_host: &str,
    tenant_id: &str,
    client_id: &str,
    username: &str,
    password: SecretString,
) -> Result<SignedIn, ErrorInfo> {
    require("Credential (its user name)", username)?;
    let authority = authority(authority_host, tenant_id, DEFAULT_USER_TENANT)?;
    let client_id = or_default(client_id, DEFAULT_PUBLIC_CLIENT_ID);
    let flow = PasswordFlow::new(
        authority,
        client_id,
        username.trim(),
        password,
        runtime::shared_http_client().map_err(ErrorInfo::from)?,
    );
    signed_in(
        deployment_url,
        tenant_group,
        Box::new(flow),
        username.trim().to_owned(),
    )
}

pub(crate) fn with_managed_identity(
    deployment_url: &str,
    tenant_group: &str,
    client_id: &str,
    environment: impl Fn(&str) -> Option<String>,
) -> Result<SignedIn, ErrorInfo> {
    // Empty means "not given": the system-assigned identity. Anything else must be a GUID, so
    // a stray space never silently selects the system-assigned identity instead.
    let client_id = if client_id.is_empty() {
        None
    } else {
        Some(application_id("ClientId", client_id).map_err(ErrorInfo::from)?)
    };
    let source = ManagedIdentitySource::from_environment(environment).map_err(ErrorInfo::from)?;
    let flow = ManagedIdentityFlow::new(
        source,
        client_id.clone(),
        runtime::shared_http_client().map_err(ErrorInfo::from)?,
    );
    check_deployment(deployment_url, tenant_group)?;
    let first = runtime::block_on(flow.acquire())?.map_err(ErrorInfo::from)?;
    let user_name = first
        .subject()
        .or(client_id)
        .unwrap_or_else(|| "ManagedIdentity".to_owned());
    let tokens = Arc::new(RefreshingToken::with_initial(Box::new(flow), first));
    Ok(SignedIn {
        client: client(deployment_url, tenant_group, tokens)?,
        user_name,
    })
}
