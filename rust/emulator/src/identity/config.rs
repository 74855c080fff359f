//! The `identity` section of the seed: the emulated Microsoft Entra ID directory, and the
//! resources (classic broker, Azure Resource Manager) tokens are issued for.
//!
//! Every field is optional. An absent `identity` section behaves like
//! `IdentityConfig::default()`: one tenant, no applications, users or managed identities, so
//! every sign-in fails the way Entra fails for unknown clients.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// The tenant a directory has when none is configured.
pub const DEFAULT_TENANT: &str = "contoso.onmicrosoft.com";

/// Token lifetime when none is configured (seconds), Entra's usual one hour.
pub const DEFAULT_TOKEN_LIFETIME_SECONDS: u64 = 3600;

/// The classic broker's resource: the audience of the tokens the classic broker routes accept
/// (requested as scope [`BROKER_SCOPE`] or managed identity `resource`).
pub const BROKER_RESOURCE: &str = "https://mrs-prod.ame.gbl/mrs-RDInfra-prod";

/// The v2.0 scope for [`BROKER_RESOURCE`].
pub const BROKER_SCOPE: &str = "https://mrs-prod.ame.gbl/mrs-RDInfra-prod/.default";

/// Azure Resource Manager's resource: the audience of tokens requested with [`ARM_SCOPE`] (or
/// managed identity `resource=https://management.azure.com/`), the tokens the ARM routes
/// accept. `https://management.core.windows.net/` is accepted as ARM's resource as well.
pub const ARM_RESOURCE: &str = "https://management.azure.com/";

/// The v2.0 scope for [`ARM_RESOURCE`].
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// The emulated directory: tenants, app registrations, users, managed identities and the
/// device code flow's behaviour.
///
/// `Debug` never shows client secrets, passwords or the App Service identity header.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityConfig {
    /// Names under which the directory answers, as they appear in
    /// `/{tenant}/oauth2/v2.0/token`: usually a domain (`contoso.onmicrosoft.com`) and the
    /// tenant id. They are aliases of one directory; the first one that is a GUID becomes the
    /// `tid` claim (else the first entry). Matched case-insensitively.
    /// Default `["contoso.onmicrosoft.com"]`.
    #[serde(default = "default_tenants")]
    pub tenants: Vec<String>,
    /// Lifetime of every issued access token, in seconds. Default 3600.
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime_seconds: u64,
    /// App registrations (service principals) that may sign in.
    #[serde(default)]
    pub applications: Vec<ApplicationConfig>,
    /// Users for the password and device code flows.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Managed identities served by the IMDS and App Service endpoints.
    #[serde(default)]
    pub managed_identities: Vec<ManagedIdentityConfig>,
    /// The value `X-IDENTITY-HEADER` must have on `/msi/token` (App Service, Functions,
    /// Automation). When absent, that endpoint refuses every request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_service_identity_header: Option<String>,
    /// How the device code flow behaves.
    #[serde(default)]
    pub device_code: DeviceCodeConfig,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            tenants: default_tenants(),
            token_lifetime_seconds: DEFAULT_TOKEN_LIFETIME_SECONDS,
            applications: Vec::new(),
            users: Vec::new(),
            managed_identities: Vec::new(),
            app_service_identity_header: None,
            device_code: DeviceCodeConfig::default(),
        }
    }
}

impl fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("tenants", &self.tenants)
            .field("token_lifetime_seconds", &self.token_lifetime_seconds)
            .field("applications", &self.applications)
            .field("users", &self.users)
            .field("managed_identities", &self.managed_identities)
            .field(
                "app_service_identity_header",
                &self.app_service_identity_header.as_ref().map(|_| REDACTED),
            )
            .field("device_code", &self.device_code)
            .finish()
    }
}

/// An app registration.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationConfig {
    /// The application (client) id.
    pub client_id: String,
    /// Shown as `app_displayname` in issued tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The client secret; when absent, secret authentication always fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Registered certificates, each PEM (`-----BEGIN CERTIFICATE-----...`) or bare base64
    /// DER. Client assertions must be signed by one of them. Checked when the seed is read.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "certificates"
    )]
    pub certificates: Vec<String>,
    /// "Allow public client flows": the password and device code flows then need no client
    /// credential (and refuse one). Default false (a confidential client).
    #[serde(default)]
    pub public_client: bool,
}

impl fmt::Debug for ApplicationConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationConfig")
            .field("client_id", &self.client_id)
            .field("display_name", &self.display_name)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| REDACTED),
            )
            .field("certificates", &self.certificates.len())
            .field("public_client", &self.public_client)
            .finish()
    }
}

/// A user account for the password and device code flows.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserConfig {
    /// The user principal name, matched case-insensitively; the `upn` claim.
    pub username: String,
    /// The password for the resource-owner password flow. When absent, that flow always fails
    /// for this user (device code approval still works).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The `name` claim; defaults to the username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserConfig")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .field("display_name", &self.display_name)
            .finish()
    }
}

/// A managed identity.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedIdentityConfig {
    /// The identity's client id (`appid` claim, `client_id` in responses).
    pub client_id: String,
    /// True for the system-assigned identity (used when a request names no `client_id`);
    /// false for a user-assigned one (only used when its `client_id` is requested).
    #[serde(default)]
    pub system_assigned: bool,
    /// Shown as `app_displayname`; defaults to a generic name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// Device code flow behaviour.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceCodeConfig {
    /// The `interval` announced to clients; a poll sooner than this after the previous poll
    /// of the same code gets `slow_down`. 0 disables that check. Default 5.
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
    /// How long a device code lives (`expires_in`). Default 900.
    #[serde(default = "default_expires_in")]
    pub expires_in_seconds: u64,
    /// When set, pending codes are approved for this user automatically on the
    /// `approveAfterPolls`-th poll, so tests need no second actor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_approve_user: Option<String>,
    /// The poll (counting from 1, `slow_down` answers not counted) on which
    /// `autoApproveUser` approves; that poll already receives the token. 0 and 1 both mean
    /// the first poll. Default 1.
    #[serde(default = "default_approve_after_polls")]
    pub approve_after_polls: u32,
}

impl Default for DeviceCodeConfig {
    fn default() -> Self {
        Self {
            interval_seconds: default_interval(),
            expires_in_seconds: default_expires_in(),
            auto_approve_user: None,
            approve_after_polls: default_approve_after_polls(),
        }
    }
}

const REDACTED: &str = "<redacted>";

fn default_tenants() -> Vec<String> {
    vec![DEFAULT_TENANT.to_owned()]
}

fn default_token_lifetime() -> u64 {
    DEFAULT_TOKEN_LIFETIME_SECONDS
}

fn default_interval() -> u64 {
    5
}

fn default_expires_in() -> u64 {
    900
}

fn default_approve_after_polls() -> u32 {
    1
}

/// Reads the certificate list and rejects one that does not parse, so a broken seed fails
/// when it is loaded rather than with a confusing sign-in error later.
fn certificates<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    for (index, text) in texts.iter().enumerate() {
        super::assertion::RegisteredCertificate::parse(text).map_err(|reason| {
            serde::de::Error::custom(format!("certificates[{index}] is not usable: {reason}"))
        })?;
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_optional() {
        let config: IdentityConfig = serde_json::from_str("{}").expect("empty object");
        assert_eq!(config, IdentityConfig::default());
        assert_eq!(config.tenants, [DEFAULT_TENANT]);
        assert_eq!(config.token_lifetime_seconds, 3600);
        assert_eq!(config.device_code.interval_seconds, 5);
        assert_eq!(config.device_code.expires_in_seconds, 900);
    }

    #[test]
    fn debug_redacts_every_secret() {
        let config: IdentityConfig = serde_json::from_str(
            r#"{"applications":[{"clientId":"a","clientSecret":"s3cret-app"}],
                "users":[{"username":"u@x","password":"s3cret-pw"}],
                "appServiceIdentityHeader":"s3cret-header"}"#,
        )
        .expect("valid");
        let text = format!("{config:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("u@x"), "{text}");
    }

    #[test]
    fn a_broken_certificate_fails_the_seed() {
        let err = serde_json::from_str::<IdentityConfig>(
            r#"{"applications":[{"clientId":"a","certificates":["not a certificate"]}]}"#,
        )
        .expect_err("invalid certificate");
        assert!(err.to_string().contains("certificates[0]"), "{err}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_json::from_str::<IdentityConfig>(r#"{"tenant":"x"}"#).expect_err("typo");
        assert!(err.to_string().contains("tenant"), "{err}");
    }
}
