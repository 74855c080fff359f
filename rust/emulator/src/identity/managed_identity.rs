//! The checks of the managed identity endpoints: `GET /metadata/identity/oauth2/token` (Azure VM
//! IMDS) and `GET`/`POST /msi/token` (App Service, Functions, Automation), and the grant they
//! end in.

use super::audience::Resource;
use super::directory::{Directory, Grant};
use super::error::{BAD_REQUEST, MsiError, UNAUTHORIZED};
use super::jwt::Subject;
use crate::form::Form;
use crate::secret::constant_time_eq;

/// The identity and resource a managed identity request resolved to.
pub(crate) struct ManagedIdentityGrant {
    pub(crate) grant: Grant,
    pub(crate) resource: String,
}

/// The checks of one managed identity endpoint: `directory`, the request's parameters, the
/// values of the endpoint's own header (`Metadata` or `X-IDENTITY-HEADER`), and where the
/// client id the request names is reported (for the request log, also when a check fails).
pub(crate) type ManagedIdentityCheck =
    fn(&Directory, &Form, &[&[u8]], &mut Option<String>) -> Result<ManagedIdentityGrant, MsiError>;

/// IMDS checks: exactly one `Metadata: true` header, `api-version`, then the shared ones.
pub(crate) fn imds_grant(
    directory: &Directory,
    params: &Form,
    metadata: &[&[u8]],
    client_id_seen: &mut Option<String>,
) -> Result<ManagedIdentityGrant, MsiError> {
    let metadata_ok = matches!(metadata, [value] if value.eq_ignore_ascii_case(b"true"));
    if !metadata_ok {
        return Err(MsiError::new(
            BAD_REQUEST,
            "invalid_request",
            "Required metadata header not specified",
        ));
    }
    if params.get("api-version").is_none() {
        return Err(MsiError::new(
            BAD_REQUEST,
            "invalid_request",
            "Required query variable 'api-version' is missing",
        ));
    }
    managed_identity_grant(directory, params, "imds", client_id_seen)
}

/// App Service checks: exactly one `X-IDENTITY-HEADER` with the configured secret (never
/// echoed), then the shared ones.
pub(crate) fn app_service_grant(
    directory: &Directory,
    params: &Form,
    identity_header: &[&[u8]],
    client_id_seen: &mut Option<String>,
) -> Result<ManagedIdentityGrant, MsiError> {
    let expected = directory.0.app_service_identity_header.as_deref();
    let header_ok = match (expected, identity_header) {
        (Some(expected), [value]) => constant_time_eq(expected.as_bytes(), value),
        _ => false,
    };
    if !header_ok {
        return Err(MsiError::new(
            UNAUTHORIZED,
            "unauthorized",
            "The X-IDENTITY-HEADER request header is missing or does not match the \
             IDENTITY_HEADER of this app.",
        ));
    }
    managed_identity_grant(directory, params, "app_service", client_id_seen)
}

/// Shared checks of both managed identity endpoints: resource, then identity.
fn managed_identity_grant(
    directory: &Directory,
    params: &Form,
    grant: &'static str,
    client_id_seen: &mut Option<String>,
) -> Result<ManagedIdentityGrant, MsiError> {
    let bad = |error: &'static str, text: String| MsiError::new(BAD_REQUEST, error, text);
    let client_id = params.get("client_id");
    *client_id_seen = client_id.map(str::to_owned);
    let resource = params.get("resource").ok_or_else(|| {
        bad(
            "invalid_request",
            "Required audience parameter not specified".into(),
        )
    })?;
    // The classic broker's resource or ARM's; the token's audience follows it.
    let Some(known) = Resource::from_resource(resource) else {
        return Err(bad(
            "invalid_resource",
            format!(
                "AADSTS500011: The resource principal named {resource} was not found in the \
                 tenant named {}. This can happen if the application has not been installed by \
                 the administrator of the tenant or consented to by any user in the tenant. You \
                 might have sent your authentication request to the wrong tenant.",
                directory.tenant_id()
            ),
        ));
    };
    let by_other_id = client_id.is_none()
        && ["object_id", "principal_id", "msi_res_id", "mi_res_id"]
            .iter()
            .any(|name| params.get(name).is_some());
    let identity = if by_other_id {
        None
    } else {
        directory.managed_identity(client_id)
    };
    let identity = identity.ok_or_else(|| bad("invalid_request", "Identity not found".into()))?;
    *client_id_seen = Some(identity.client_id.clone());
    Ok(ManagedIdentityGrant {
        grant: Grant {
            resource: known,
            subject: Subject::App {
                client_id: identity.client_id.clone(),
                display_name: identity.display_name.clone().unwrap_or_else(|| {
                    if identity.system_assigned {
                        "System-assigned managed identity".to_owned()
                    } else {
                        "User-assigned managed identity".to_owned()
                    }
                }),
            },
            grant,
            credential: None,
        },
        resource: resource.to_owned(),
    })
}
