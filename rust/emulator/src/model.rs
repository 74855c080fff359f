//! The emulated broker's data: the seed/state document and the broker's vocabulary.
//!
//! One set of types serves three purposes: the seed file read at start-up, the live state the
//! server mutates, and the body of `GET`/`PUT /_emulator/state`. Keeping them identical means a
//! state snapshot can always be fed back in as a seed. How an API flavour shows this data on the
//! wire is the business of that flavour (`http::classic`).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::identity::config::IdentityConfig;
use crate::knobs::faults::FaultConfig;
use crate::knobs::latency::LatencyConfig;

/// The sample data set shipped with the crate (`data/sample.json`).
const SAMPLE_JSON: &str = include_str!("../data/sample.json");

/// The whole emulated broker: every tenant group and everything below it.
///
/// `Seed::default()` is an *empty* broker; [`Seed::sample`] is the demo data set.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// Tenant groups, in the order they were seeded.
    pub tenant_groups: Vec<TenantGroup>,
    /// The emulated Microsoft Entra ID (token endpoint, device code, managed identities).
    /// `None` behaves like `IdentityConfig::default()`: no client can sign in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityConfig>,
    /// Latency injected into every broker request (see [`LatencyConfig`]). `None`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyConfig>,
    /// Faults injected into broker requests (see [`FaultConfig`]). `None`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<FaultConfig>,
}

/// A tenant group (classic WVD's top level, usually `Default Tenant Group`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantGroup {
    /// The tenant group name, matched exactly (case-sensitive) against the decoded path segment.
    pub name: String,
    /// Tenants in this group.
    pub tenants: Vec<Tenant>,
}

/// A tenant inside a tenant group.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tenant {
    /// The tenant name.
    pub name: String,
    /// When true every request touching this tenant is refused with 403 `Forbidden`, the way the
    /// real broker answers a caller without an RDS role on the tenant. Defaults to false.
    #[serde(default)]
    pub forbidden: bool,
    /// Host pools of this tenant.
    pub host_pools: Vec<HostPool>,
}

/// A host pool inside a tenant.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostPool {
    /// The host pool name.
    pub name: String,
    /// Session hosts of this pool; their order is the order of the sessions list.
    pub session_hosts: Vec<SessionHost>,
}

/// A session host (a VM, named by its FQDN) inside a host pool.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionHost {
    /// The session host name, usually an FQDN.
    pub name: String,
    /// When false the host does not answer the broker: a logoff without `force=true` fails
    /// with 409 `SessionHostUnreachable`. Defaults to true.
    #[serde(default = "default_reachable")]
    pub reachable: bool,
    /// User sessions currently on this host.
    pub sessions: Vec<Session>,
}

/// One user session on a session host.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Session {
    /// The RDS session id; unique only within its session host.
    pub session_id: i32,
    /// The user's UPN, e.g. `alice@contoso.com`.
    pub user_principal_name: String,
    /// The user's down-level name, e.g. `CONTOSO\alice`.
    pub ad_user_name: String,
    /// `Desktop` or `RemoteApp` (kept as an open string, as the broker does).
    pub application_type: String,
    /// `Active`, `Disconnected`, ... (kept as an open string).
    pub session_state: String,
    /// Creation time, returned to clients verbatim.
    pub create_time: String,
    /// Messages sent to this session with `send-message-user`, oldest first. Not part of the
    /// broker's session listing; omitted from the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<SentMessage>,
}

/// A message delivered to a session by `send-message-user`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SentMessage {
    /// The decoded `MessageTitle`.
    pub title: String,
    /// The decoded `MessageBody`.
    pub body: String,
    /// When the emulator accepted it, e.g. `2026-11-23T07:58:12.345Z` (UTC).
    pub sent_at: String,
}

fn default_reachable() -> bool {
    true
}

impl Seed {
    /// The sample data set embedded from `data/sample.json`: tenant `Contoso` with pools
    /// `Pool-Desktop` and `Pool-Apps` (including an unreachable host) and tenant `Fabrikam`.
    ///
    /// Its `identity` section holds fake test credentials (see `data/README.md`):
    ///
    /// | what | value |
    /// | --- | --- |
    /// | tenants (one directory) | `contoso.onmicrosoft.com`, `11111111-1111-1111-1111-111111111111` (the `tid`) |
    /// | confidential app | client id `22222222-2222-2222-2222-222222222222`, secret `emulator-test-secret-NOT-A-REAL-SECRET` |
    /// | public client app | client id `44444444-4444-4444-4444-444444444444` (password and device code flows) |
    /// | user | `admin@contoso.com`, password `emulator-test-password-NOT-A-REAL-PASSWORD` |
    /// | system-assigned managed identity | client id `33333333-3333-3333-3333-333333333333` |
    /// | App Service `X-IDENTITY-HEADER` | `emulator-test-identity-header-NOT-A-REAL-SECRET` |
    /// | token lifetime, device code interval / expiry | 3600 s, 5 s / 900 s |
    pub fn sample() -> Seed {
        // The file is part of the crate and covered by a unit test, so this cannot fail at
        // run time unless the crate itself is broken.
        Seed::from_json(SAMPLE_JSON).expect("data/sample.json is a valid seed")
    }

    /// Parses a seed from its JSON text.
    pub fn from_json(text: &str) -> Result<Seed, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Reads and parses a seed file. The error message names the file.
    pub fn from_file(path: &Path) -> Result<Seed, Box<dyn std::error::Error + Send + Sync>> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedFileError {
            path: path.to_path_buf(),
            kind: SeedFileErrorKind::Read(source),
        })?;
        Seed::from_json(&text).map_err(|source| {
            SeedFileError {
                path: path.to_path_buf(),
                kind: SeedFileErrorKind::Parse(source),
            }
            .into()
        })
    }
}

/// Why [`Seed::from_file`] failed; the path is part of the message so callers can print it as is.
#[derive(Debug)]
struct SeedFileError {
    path: PathBuf,
    kind: SeedFileErrorKind,
}

#[derive(Debug)]
enum SeedFileErrorKind {
    Read(std::io::Error),
    Parse(serde_json::Error),
}

impl fmt::Display for SeedFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SeedFileErrorKind::Read(e) => {
                write!(f, "cannot read data file '{}': {e}", self.path.display())
            }
            SeedFileErrorKind::Parse(e) => {
                write!(
                    f,
                    "data file '{}' is not a valid seed: {e}",
                    self.path.display()
                )
            }
        }
    }
}

impl std::error::Error for SeedFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SeedFileErrorKind::Read(e) => Some(e),
            SeedFileErrorKind::Parse(e) => Some(e),
        }
    }
}

/// The broker's session actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// `logoff-user`: the session ends.
    Logoff,
    /// `disconnect-user`: the session stays, disconnected.
    Disconnect,
    /// `send-message-user`: a message is shown in the session.
    Message,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_parses_and_has_the_documented_shape() {
        let seed = Seed::sample();
        let contoso = &seed.tenant_groups[0].tenants[0];
        assert_eq!(seed.tenant_groups[0].name, "Default Tenant Group");
        assert_eq!(contoso.name, "Contoso");
        let pools: Vec<&str> = contoso.host_pools.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(pools, ["Pool-Desktop", "Pool-Apps"]);
        let apps = &contoso.host_pools[1];
        assert!(apps.session_hosts.iter().any(|h| !h.reachable));
        assert!(
            seed.tenant_groups[0]
                .tenants
                .iter()
                .any(|t| t.name == "Fabrikam")
        );
    }

    #[test]
    fn the_sample_identity_has_the_documented_test_credentials() {
        let identity = Seed::sample().identity.expect("identity section");
        assert_eq!(
            identity.tenants,
            [
                "contoso.onmicrosoft.com",
                "11111111-1111-1111-1111-111111111111",
                // Lets user sign-in without -AadTenantId (the module's default tenant) work.
                "organizations"
            ]
        );
        let app = &identity.applications[0];
        assert_eq!(app.client_id, "22222222-2222-2222-2222-222222222222");
        assert_eq!(
            app.client_secret.as_deref(),
            Some("emulator-test-secret-NOT-A-REAL-SECRET")
        );
        assert!(!app.public_client);
        assert!(identity.applications[1].public_client);
        assert_eq!(identity.users[0].username, "admin@contoso.com");
        assert!(identity.managed_identities[0].system_assigned);
        assert!(identity.app_service_identity_header.is_some());
        let text = serde_json::to_string(&Seed::sample()).expect("serializes");
        assert_eq!(Seed::from_json(&text).expect("round trip"), Seed::sample());
    }

    #[test]
    fn optional_flags_default_and_round_trip() {
        let seed = Seed::from_json(
            r#"{"tenantGroups":[{"name":"g","tenants":[{"name":"t","hostPools":[
                {"name":"p","sessionHosts":[{"name":"h","sessions":[]}]}]}]}]}"#,
        )
        .expect("valid seed");
        let tenant = &seed.tenant_groups[0].tenants[0];
        assert_eq!(seed.identity, None);
        assert!(!tenant.forbidden);
        assert!(tenant.host_pools[0].session_hosts[0].reachable);
        let text = serde_json::to_string(&seed).expect("serializes");
        assert_eq!(Seed::from_json(&text).expect("round trip"), seed);
    }

    #[test]
    fn unknown_fields_are_rejected_so_typos_surface() {
        let err =
            Seed::from_json(r#"{"tenantGroups":[],"tenantGroup":[]}"#).expect_err("unknown field");
        assert!(err.to_string().contains("tenantGroup"), "{err}");
    }

    #[test]
    fn from_file_names_the_file_in_errors() {
        let missing = Path::new("/definitely/not/here.json");
        let err = Seed::from_file(missing).expect_err("missing file");
        assert!(
            err.to_string().contains("/definitely/not/here.json"),
            "{err}"
        );
    }
}
