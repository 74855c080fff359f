//! The emulated broker's data: the seed/state document and the broker's vocabulary.
//!
//! One set of types serves three purposes: the seed file read at start-up, the live state the
//! server mutates, and the body of `GET`/`PUT /_emulator/state`. Keeping them identical means a
//! state snapshot can always be fed back in as a seed. How an API flavour shows this data on the
//! wire is the business of that flavour (`http::classic`, `http::arm`).
//!
//! Every tenant and host pool also has Azure Resource Manager coordinates (optional fields with
//! defaults, see [`Tenant::subscription_id`], [`HostPool::resource_group`] and
//! [`HostPool::arm_name`]): the same data is served by the classic and the ARM flavour.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::broker::arm_config::ArmConfig;
use crate::identity::config::IdentityConfig;
use crate::identity::jwt::stable_guid;
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
    /// The ARM flavour's settings: api-versions, page size, rate limits, role assignments,
    /// locks (see [`ArmConfig`]). `None` behaves like `ArmConfig::default()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<ArmConfig>,
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
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tenant {
    /// The tenant name.
    pub name: String,
    /// When true every request touching this tenant is refused with 403 `Forbidden`, the way the
    /// real broker answers a caller without an RDS role on the tenant. Defaults to false.
    /// Classic routes only: ARM access is governed by role assignments.
    #[serde(default)]
    pub forbidden: bool,
    /// The Azure subscription (a GUID) the tenant's host pools live in under ARM; the classic
    /// `Get-RdsTenant` property `AzureSubscriptionId`. Default: a GUID derived from the tenant
    /// group and tenant names ([`Tenant::subscription_id`]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "guid"
    )]
    pub azure_subscription_id: Option<String>,
    /// The Entra tenant (`Get-RdsTenant`'s `AadTenantId`). Default: the emulated directory's
    /// tenant id (the `tid` of issued tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aad_tenant_id: Option<String>,
    /// The ARM resource group of this tenant's host pools that name none themselves.
    /// Default: none, so each pool is in `{Tenant}_{HostPool}` ([`HostPool::resource_group`]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "resource_group_name"
    )]
    pub resource_group: Option<String>,
    /// Host pools of this tenant.
    pub host_pools: Vec<HostPool>,
}

/// A host pool inside a tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostPool {
    /// The host pool name.
    pub name: String,
    /// The ARM resource group of this host pool (overrides the tenant's `resourceGroup`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "resource_group_name"
    )]
    pub arm_resource_group: Option<String>,
    /// The ARM host pool name (3-64 characters: letters, digits, `@._-` and space). Default:
    /// the classic name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "host_pool_name"
    )]
    pub arm_name: Option<String>,
    /// The ARM `location`. Default `eastus` (the migration tool only offered US regions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `BreadthFirst` (default), `DepthFirst` or `Persistent` (a personal host pool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_type: Option<LoadBalancerType>,
    /// The most sessions per session host. Default 999999 (the classic default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_session_limit: Option<u32>,
    /// Session hosts of this pool; their order is the order of the sessions list.
    pub session_hosts: Vec<SessionHost>,
}

/// How a host pool spreads its users, as the classic broker and ARM name it.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum LoadBalancerType {
    #[default]
    BreadthFirst,
    DepthFirst,
    /// A personal (persistent) host pool: each user has a host of their own.
    Persistent,
}

impl LoadBalancerType {
    /// The name on the wire, e.g. `BreadthFirst`.
    pub fn name(self) -> &'static str {
        match self {
            Self::BreadthFirst => "BreadthFirst",
            Self::DepthFirst => "DepthFirst",
            Self::Persistent => "Persistent",
        }
    }
}

/// A session host (a VM, named by its FQDN) inside a host pool.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionHost {
    /// The session host name, usually an FQDN.
    pub name: String,
    /// When false the host does not answer the broker: a logoff without `force=true` fails
    /// with 409 `SessionHostUnreachable`. Defaults to true.
    #[serde(default = "default_true")]
    pub reachable: bool,
    /// False when the host is in drain mode (no new sessions); set with the classic or ARM
    /// session host `PATCH`. Defaults to true; written to the state only when false.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub allow_new_session: bool,
    /// User sessions currently on this host.
    pub sessions: Vec<Session>,
}

impl Default for SessionHost {
    /// A reachable host that accepts new sessions, without a name or sessions.
    fn default() -> Self {
        Self {
            name: String::new(),
            reachable: true,
            allow_new_session: true,
            sessions: Vec::new(),
        }
    }
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

fn default_true() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// The ARM location of host pools that name none.
pub const DEFAULT_LOCATION: &str = "eastus";

/// The classic default `maxSessionLimit`.
pub const DEFAULT_MAX_SESSION_LIMIT: u32 = 999_999;

impl Tenant {
    /// The tenant's Azure subscription id: `azureSubscriptionId`, else a GUID derived from
    /// the tenant group and tenant names (stable across runs, so a generated tenant is still
    /// reachable over ARM).
    pub fn subscription_id(&self, tenant_group: &str) -> String {
        self.azure_subscription_id
            .clone()
            .unwrap_or_else(|| stable_guid(&format!("subscription:{tenant_group}/{}", self.name)))
    }
}

impl HostPool {
    /// The pool's ARM resource group: `armResourceGroup`, else the tenant's `resourceGroup`,
    /// else `{Tenant}_{HostPool}` as the automatic migration named it, made a valid resource
    /// group name: every character other than a letter, digit, `_`, `-`, `.`, `(` or `)`
    /// becomes `-`, a trailing `.` becomes `-`, and the name is cut to 90 characters.
    pub fn resource_group(&self, tenant: &Tenant) -> String {
        if let Some(group) = self
            .arm_resource_group
            .as_ref()
            .or(tenant.resource_group.as_ref())
        {
            return group.clone();
        }
        let mut name: String = format!("{}_{}", tenant.name, self.name)
            .chars()
            .map(|c| if is_resource_group_char(c) { c } else { '-' })
            .take(90)
            .collect();
        if name.ends_with('.') {
            name.pop();
            name.push('-');
        }
        name
    }

    /// The pool's ARM name: `armName`, else the classic name made a valid ARM host pool name
    /// (ARM could never hold `x?y` or `Zoë 東京`, so a migrated pool cannot be named so):
    /// every character other than an ASCII letter, digit, `@`, `.`, `-`, `_` or space becomes
    /// `-`, the name is cut to 64 characters and padded with `-` to 3.
    pub fn arm_name(&self) -> std::borrow::Cow<'_, str> {
        if let Some(name) = &self.arm_name {
            return std::borrow::Cow::Borrowed(name);
        }
        if is_arm_host_pool_name(&self.name) {
            return std::borrow::Cow::Borrowed(&self.name);
        }
        let mut name: String = self
            .name
            .chars()
            .map(|c| if is_arm_host_pool_char(c) { c } else { '-' })
            .take(64)
            .collect();
        while name.len() < 3 {
            name.push('-');
        }
        std::borrow::Cow::Owned(name)
    }

    /// The pool's ARM `location`.
    pub fn location(&self) -> &str {
        self.location.as_deref().unwrap_or(DEFAULT_LOCATION)
    }

    /// The most sessions per session host (`maxSessionLimit`, default 999999).
    pub fn max_session_limit(&self) -> u32 {
        self.max_session_limit.unwrap_or(DEFAULT_MAX_SESSION_LIMIT)
    }
}

/// What ARM allows in a resource group name: letters and digits (Unicode), `_`, `-`, `.`,
/// `(` and `)`.
fn is_resource_group_char(c: char) -> bool {
    c.is_alphanumeric() || "_-.()".contains(c)
}

/// Reads an optional GUID (an Azure subscription id), refusing anything else.
fn guid<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    if let Some(text) = &value
        && uuid::Uuid::try_parse(text).is_err()
    {
        return Err(serde::de::Error::custom(format!(
            "'{text}' is not a subscription id (a GUID)"
        )));
    }
    Ok(value)
}

/// Reads an optional ARM resource group name: 1-90 letters, digits, `_`, `-`, `.`, `(`, `)`,
/// not ending in `.`.
fn resource_group_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    if let Some(text) = &value {
        let valid = (1..=90).contains(&text.chars().count())
            && text.chars().all(is_resource_group_char)
            && !text.ends_with('.');
        if !valid {
            return Err(serde::de::Error::custom(format!(
                "'{text}' is not a valid resource group name (1-90 letters, digits, '_', '-', \
                 '.', '(' or ')', not ending in '.')"
            )));
        }
    }
    Ok(value)
}

/// What the ARM spec allows in a host pool name: ASCII letters, digits, `@`, `.`, `-`, `_`
/// and space.
fn is_arm_host_pool_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "@.-_ ".contains(c)
}

/// A valid ARM host pool name: 3-64 of [`is_arm_host_pool_char`].
fn is_arm_host_pool_name(text: &str) -> bool {
    (3..=64).contains(&text.len()) && text.chars().all(is_arm_host_pool_char)
}

/// Reads an optional ARM host pool name: 3-64 letters, digits, `@`, `.`, `-`, `_`, space.
fn host_pool_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    if let Some(text) = &value
        && !is_arm_host_pool_name(text)
    {
        return Err(serde::de::Error::custom(format!(
            "'{text}' is not a valid ARM host pool name (3-64 letters, digits, '@', '.', \
             '-', '_' or spaces)"
        )));
    }
    Ok(value)
}

impl Seed {
    /// The sample data set embedded from `data/sample.json`: tenant `Contoso` with pools
    /// `Pool-Desktop` and `Pool-Apps` (including an unreachable host) and tenant `Fabrikam`
    /// with pools `Fabrikam-Pool` and `Pool-Desktop` (no sessions), both tenants in
    /// subscription `aaaaaaaa-1111-4aaa-8aaa-000000000001` (see `data/README.md` for their ARM
    /// coordinates).
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

    /// Parses a seed from its JSON text, and checks that no two host pools share ARM
    /// coordinates (subscription, resource group and ARM name, compared case-insensitively as
    /// ARM compares names).
    pub fn from_json(text: &str) -> Result<Seed, serde_json::Error> {
        let seed: Seed = serde_json::from_str(text)?;
        seed.check_arm_ids().map_err(serde::de::Error::custom)?;
        Ok(seed)
    }

    /// Fails, naming the resource id, when two host pools have the same ARM id.
    pub fn check_arm_ids(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for group in &self.tenant_groups {
            for tenant in &group.tenants {
                let subscription = tenant.subscription_id(&group.name);
                for pool in &tenant.host_pools {
                    let id = format!(
                        "/subscriptions/{subscription}/resourceGroups/{}/providers/\
                         Microsoft.DesktopVirtualization/hostPools/{}",
                        pool.resource_group(tenant),
                        pool.arm_name()
                    );
                    if !seen.insert(id.to_lowercase()) {
                        return Err(format!(
                            "two host pools have the ARM id '{id}'; give one of them another \
                             armResourceGroup or armName"
                        ));
                    }
                }
            }
        }
        Ok(())
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
        assert!(tenant.host_pools[0].session_hosts[0].allow_new_session);
        assert_eq!(tenant.azure_subscription_id, None);
        assert_eq!(seed.arm, None);
        let text = serde_json::to_string(&seed).expect("serializes");
        assert_eq!(Seed::from_json(&text).expect("round trip"), seed);
    }

    #[test]
    fn arm_coordinates_have_defaults_and_overrides() {
        let seed = Seed::sample();
        let contoso = &seed.tenant_groups[0].tenants[0];
        let fabrikam = &seed.tenant_groups[0].tenants[1];
        let subscription = "aaaaaaaa-1111-4aaa-8aaa-000000000001";
        assert_eq!(contoso.subscription_id("x"), subscription);
        assert_eq!(fabrikam.subscription_id("x"), subscription);
        let desktop = &contoso.host_pools[0];
        assert_eq!(desktop.resource_group(contoso), "Contoso_Pool-Desktop");
        assert_eq!(desktop.arm_name(), "Pool-Desktop");
        assert_eq!(desktop.location(), "eastus");
        let apps = &contoso.host_pools[1];
        assert_eq!(apps.resource_group(contoso), "rg-avd-apps");
        assert_eq!(apps.arm_name(), "hp-contoso-apps");
        // Fabrikam's pools are in its default group; one shares a name with Contoso's pool.
        assert_eq!(fabrikam.host_pools[1].arm_name(), "Pool-Desktop");
        assert_eq!(
            fabrikam.host_pools[1].resource_group(fabrikam),
            "rg-fabrikam-avd"
        );

        let odd = Tenant {
            name: "My Tenant".into(),
            ..Tenant::default()
        };
        let pool = HostPool {
            name: "Pool #1.".into(),
            ..HostPool::default()
        };
        assert_eq!(pool.resource_group(&odd), "My-Tenant_Pool--1-");
        let derived = odd.subscription_id("Default Tenant Group");
        assert!(uuid::Uuid::try_parse(&derived).is_ok());
        assert_eq!(derived, odd.subscription_id("Default Tenant Group"));
        assert_ne!(derived, odd.subscription_id("Other Group"));
        // A classic name ARM could not hold gets a valid ARM name by default.
        assert_eq!(pool.arm_name(), "Pool -1.");
        let unicode = HostPool {
            name: "Zo\u{eb} \u{6771}".into(),
            ..HostPool::default()
        };
        assert_eq!(unicode.arm_name(), "Zo- -");
        let short = HostPool {
            name: "x".into(),
            ..HostPool::default()
        };
        assert_eq!(short.arm_name(), "x--");
    }

    #[test]
    fn invalid_arm_coordinates_are_refused() {
        let seed = |tenant: &str, pool: &str| {
            format!(
                r#"{{"tenantGroups":[{{"name":"g","tenants":[{{"name":"t",{tenant}
                "hostPools":[{{"name":"pool1",{pool}"sessionHosts":[]}},
                             {{"name":"pool2","armName":"POOL1","armResourceGroup":"t_pool1",
                               "sessionHosts":[]}}]}}]}}]}}"#
            )
        };
        for (tenant, pool, reason) in [
            (
                r#""azureSubscriptionId":"not-a-guid","#,
                "",
                "not a subscription id",
            ),
            (
                "",
                r#""armResourceGroup":"a/b","#,
                "not a valid resource group",
            ),
            ("", r#""armName":"x","#, "not a valid ARM host pool name"),
            ("", "", "two host pools have the ARM id"),
        ] {
            let err = Seed::from_json(&seed(tenant, pool)).expect_err(reason);
            assert!(err.to_string().contains(reason), "{err}");
        }
        Seed::from_json(&seed("", r#""armName":"pool3","#)).expect("distinct ARM names");
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
