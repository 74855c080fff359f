//! The emulated directory: lookups over one snapshot of the identity configuration, the scope
//! rule, and issuing a token once a request passed its checks.

use std::time::Duration;

use super::audience::Resource;
use super::config::{
    ARM_SCOPE, ApplicationConfig, BROKER_SCOPE, DEFAULT_TENANT, IdentityConfig,
    ManagedIdentityConfig, UserConfig,
};
use super::error::AadError;
use super::jwt::{IssuedJwt, IssuedToken, Subject, TokenAuthority};
use crate::secret::constant_time_eq;

/// Scopes a user flow may ask for besides the resource's (they add nothing here).
const OIDC_SCOPES: &[&str] = &["openid", "profile", "offline_access", "email"];

/// One snapshot of the identity configuration with the lookups the endpoints need.
pub(crate) struct Directory(pub(crate) IdentityConfig);

impl Directory {
    pub(super) fn knows_tenant(&self, tenant: &str) -> bool {
        self.0
            .tenants
            .iter()
            .any(|t| t.eq_ignore_ascii_case(tenant))
    }

    /// The `tid`: the first configured tenant that is a GUID, else the first one.
    pub(crate) fn tenant_id(&self) -> String {
        self.0
            .tenants
            .iter()
            .find(|t| uuid::Uuid::parse_str(t).is_ok())
            .or_else(|| self.0.tenants.first())
            .cloned()
            .unwrap_or_else(|| DEFAULT_TENANT.to_owned())
    }

    pub(super) fn application(&self, client_id: &str) -> Option<&ApplicationConfig> {
        self.0
            .applications
            .iter()
            .find(|app| app.client_id.eq_ignore_ascii_case(client_id))
    }

    pub(super) fn check_tenant(&self, tenant: &str) -> Result<(), AadError> {
        if self.knows_tenant(tenant) {
            return Ok(());
        }
        Err(AadError::bad_request(
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                 and are signing into the correct cloud. Check with your subscription \
                 administrator, this may happen if there are no active subscriptions for the \
                 tenant."
            ),
        ))
    }

    pub(super) fn find_application(
        &self,
        client_id: &str,
        tenant: &str,
    ) -> Result<&ApplicationConfig, AadError> {
        self.application(client_id).ok_or_else(|| {
            AadError::bad_request(
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory \
                     '{tenant}'. This can happen if the application has not been installed by the \
                     administrator of the tenant or consented to by any user in the tenant. You \
                     may have sent your authentication request to the wrong tenant."
                ),
            )
        })
    }

    /// The configured user `username` (matched case-insensitively) if `password` is theirs.
    pub(crate) fn user_with_password(&self, username: &str, password: &str) -> Option<&UserConfig> {
        self.0.users.iter().find(|user| {
            user.username.eq_ignore_ascii_case(username)
                && user.password.as_deref().is_some_and(|expected| {
                    constant_time_eq(expected.as_bytes(), password.as_bytes())
                })
        })
    }

    /// The configured user `username`, matched case-insensitively.
    pub(crate) fn user(&self, username: &str) -> Option<&UserConfig> {
        self.0
            .users
            .iter()
            .find(|user| user.username.eq_ignore_ascii_case(username))
    }

    /// The managed identity a request names: by `client_id`, else the system-assigned one.
    pub(super) fn managed_identity(
        &self,
        client_id: Option<&str>,
    ) -> Option<&ManagedIdentityConfig> {
        let identities = &self.0.managed_identities;
        match client_id {
            Some(id) => identities
                .iter()
                .find(|mi| mi.client_id.eq_ignore_ascii_case(id)),
            None => identities.iter().find(|mi| mi.system_assigned),
        }
    }

    /// The assertion audiences accepted for a request to `tenant`: the token endpoint under
    /// the URL the request used and under the bound address, for every tenant alias.
    pub(super) fn assertion_audiences(
        &self,
        tenant: &str,
        request_base: &str,
        bound_url: &str,
    ) -> Vec<String> {
        let mut audiences = Vec::new();
        for base in [request_base, bound_url] {
            for alias in std::iter::once(tenant).chain(self.0.tenants.iter().map(String::as_str)) {
                let audience = format!("{base}/{alias}/oauth2/v2.0/token");
                if !audiences.contains(&audience) {
                    audiences.push(audience);
                }
            }
        }
        audiences
    }
}

/// Checks `scope`: exactly one resource's `.default` scope (the classic broker's or ARM's, see
/// [`Resource::from_scope`]), plus (for user flows) OpenID scopes. Answers the resource the
/// token is for.
pub(super) fn check_scope(scope: Option<&str>, allow_oidc: bool) -> Result<Resource, AadError> {
    let scope = scope.ok_or_else(|| AadError::missing_parameter("scope"))?;
    let mut resources = Vec::new();
    let mut valid = true;
    for item in scope.split_whitespace() {
        if let Some(resource) = Resource::from_scope(item) {
            resources.push(resource);
        } else if !(allow_oidc && OIDC_SCOPES.iter().any(|s| s.eq_ignore_ascii_case(item))) {
            valid = false;
        }
    }
    // One resource per request, as Entra requires.
    match resources.as_slice() {
        [resource] if valid => Ok(*resource),
        _ => Err(AadError::bad_request(
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope \
                 '{scope}' is not valid. The scopes this emulator grants are '{BROKER_SCOPE}' \
                 (the classic broker) and '{ARM_SCOPE}' (Azure Resource Manager), one per request."
            ),
        )),
    }
}

/// A successful token request, before the token is signed.
pub(crate) struct Grant {
    pub(crate) subject: Subject,
    /// The resource the token is for (its audience).
    pub(crate) resource: Resource,
    /// How the token is obtained, as [`IssuedToken::grant`].
    pub(crate) grant: &'static str,
    /// How the client proved itself, as [`IssuedToken::credential`].
    pub(crate) credential: Option<&'static str>,
}

/// A signed token and what the emulator keeps of it.
pub(crate) struct Issued {
    pub(crate) jwt: IssuedJwt,
    pub(crate) token: IssuedToken,
}

impl Directory {
    /// Signs a token for `grant` at `now` (since the epoch). `tenant` is the tenant segment the
    /// request used (none for managed identities), `base` the emulator URL the client used.
    pub(crate) fn issue(
        &self,
        authority: &TokenAuthority,
        grant: &Grant,
        tenant: Option<&str>,
        base: &str,
        now: Duration,
    ) -> Issued {
        let jwt = authority.issue(
            &grant.subject,
            grant.resource.audience,
            base,
            &self.tenant_id(),
            now,
            self.0.token_lifetime_seconds,
        );
        let (client_id, username) = match &grant.subject {
            Subject::App { client_id, .. } => (client_id.clone(), None),
            Subject::User {
                client_id,
                username,
                ..
            } => (client_id.clone(), Some(username.clone())),
        };
        let token = IssuedToken {
            client_id,
            username,
            grant: grant.grant.to_owned(),
            credential: grant.credential.map(str::to_owned),
            tenant: tenant.map(str::to_owned),
            audience: grant.resource.audience.to_owned(),
            issued_at: jwt.issued_at,
            expires_at: jwt.expires_at,
        };
        Issued { jwt, token }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::config::BROKER_RESOURCE;

    #[test]
    fn scope_must_be_one_resource_default_scope() {
        use crate::identity::audience::{ARM, BROKER};
        assert_eq!(check_scope(Some(BROKER_SCOPE), false), Ok(BROKER));
        assert_eq!(check_scope(Some(ARM_SCOPE), false), Ok(ARM));
        assert!(check_scope(Some(&format!("openid {BROKER_SCOPE} offline_access")), true).is_ok());
        assert!(check_scope(Some(&format!("{BROKER_SCOPE} {ARM_SCOPE}")), false).is_err());
        assert!(check_scope(Some(&format!("openid {BROKER_SCOPE}")), false).is_err());
        assert!(check_scope(Some("https://graph.microsoft.com/.default"), false).is_err());
        assert!(check_scope(Some(&format!("{BROKER_SCOPE} {BROKER_SCOPE}")), false).is_err());
        assert!(check_scope(Some(BROKER_RESOURCE), false).is_err());
        assert_eq!(check_scope(None, false).expect_err("missing").code, 900144);
    }
}
