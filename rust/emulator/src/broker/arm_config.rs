//! The ARM flavour's settings, the seed's optional top-level `arm` section ([`ArmConfig`]):
//! accepted api-versions, the default page size, how a logoff of a missing session answers,
//! the rate limits, role assignments and resource locks; and the built-in roles they name.

use serde::{Deserialize, Deserializer, Serialize};

use crate::knobs::rate_limits::RateLimitConfig;

/// The api-versions accepted unless configured otherwise: every stable version of
/// `Microsoft.DesktopVirtualization`, newest first (2025-10-10 is the newest stable one).
pub const DEFAULT_ARM_API_VERSIONS: [&str; 5] = [
    "2025-10-10",
    "2024-04-03",
    "2023-09-05",
    "2022-09-09",
    "2021-07-12",
];

/// The page size of ARM lists unless configured otherwise (a client's `pageSize` wins).
pub const DEFAULT_ARM_PAGE_SIZE: usize = 100;

/// The ARM flavour's settings (the seed's `arm`, `GET`/`PUT /_emulator/arm`). Every field is
/// optional; unknown fields are refused.
///
/// ```json
/// {"apiVersions": ["2025-10-10", "2024-04-03"], "pageSize": 100,
///  "missingSessionOnDelete": "noContent",
///  "rateLimits": {"enabled": true, "deletes": {"burst": 200, "perSecond": 10}},
///  "roleAssignments": [{"principalId": "...", "roleDefinitionName": "Reader",
///                       "scope": "/subscriptions/..."}],
///  "locks": [{"name": "no-delete", "scope": "/subscriptions/.../resourceGroups/rg",
///             "level": "CanNotDelete"}]}
/// ```
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ArmConfig {
    /// The accepted `api-version` values (compared case-insensitively); any other is refused
    /// with 400 `InvalidApiVersionParameter` listing these. Default
    /// [`DEFAULT_ARM_API_VERSIONS`].
    #[serde(deserialize_with = "api_versions")]
    pub api_versions: Vec<String>,
    /// Items per page of every ARM list when the client sends no `pageSize`. At least 1.
    /// Default [`DEFAULT_ARM_PAGE_SIZE`].
    #[serde(deserialize_with = "page_size")]
    pub page_size: usize,
    /// What `DELETE .../userSessions/{id}` answers when the session does not exist.
    pub missing_session_on_delete: MissingSessionOnDelete,
    /// Token-bucket rate limits per principal, subscription and operation class.
    pub rate_limits: RateLimitConfig,
    /// Role assignments. None at all means every authenticated principal may do everything.
    pub role_assignments: Vec<RoleAssignment>,
    /// Resource locks.
    pub locks: Vec<ResourceLock>,
}

impl Default for ArmConfig {
    fn default() -> Self {
        Self {
            api_versions: DEFAULT_ARM_API_VERSIONS.map(str::to_owned).to_vec(),
            page_size: DEFAULT_ARM_PAGE_SIZE,
            missing_session_on_delete: MissingSessionOnDelete::default(),
            rate_limits: RateLimitConfig::default(),
            role_assignments: Vec::new(),
            locks: Vec::new(),
        }
    }
}

/// Where a classic host pool is under ARM: one row of `GET /_emulator/arm/hostPools`, like the
/// migration tool's mapping (`Get-RdsHostPoolMigrationMapping`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ArmHostPool {
    /// The classic names.
    pub tenant_group: String,
    pub tenant: String,
    pub host_pool: String,
    /// The ARM coordinates.
    pub subscription_id: String,
    pub resource_group: String,
    pub arm_host_pool_name: String,
    /// The resource id as the service writes it (type segments in lower case).
    pub id: String,
}

/// What a logoff (`DELETE`) of a user session that does not exist answers.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum MissingSessionOnDelete {
    /// 204 with no body: the spec's "does not exist" answer, and what the service answers today
    /// (a recorded logoff got 204).
    #[default]
    NoContent,
    /// 404 `{"error":{"code":"404","message":"ActivityId: <id> Error: User session ID not
    /// found"}}`: what the service answered in 2020 (RDS-Templates issues 540, 570).
    NotFound,
}

/// A role assignment: `roleDefinitionName` for `principalId` at `scope`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleAssignment {
    /// Whom the role is for: an object id (a token's `oid`; the static ARM token's is
    /// `88888888-8888-8888-8888-888888888888`), or, for convenience, an application (client) id
    /// or a user principal name. Compared case-insensitively.
    pub principal_id: String,
    /// A built-in role, by name or role definition id (see [`BuiltInRole`]).
    #[serde(deserialize_with = "role_name")]
    pub role_definition_name: String,
    /// `/subscriptions/{sub}`, `.../resourceGroups/{rg}` or
    /// `.../providers/Microsoft.DesktopVirtualization/hostPools/{hp}` (compared
    /// case-insensitively, segment by segment).
    #[serde(deserialize_with = "scope")]
    pub scope: String,
}

/// A management lock on a scope.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceLock {
    /// The lock's name (only shown back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The locked scope, as for [`RoleAssignment::scope`]; everything below it is locked too.
    #[serde(deserialize_with = "scope")]
    pub scope: String,
    /// `CanNotDelete` refuses deletes (so logoffs); `ReadOnly` also refuses writes (session
    /// host updates, disconnect, send message).
    pub level: LockLevel,
}

/// How much a lock refuses.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum LockLevel {
    CanNotDelete,
    ReadOnly,
}

/// The built-in roles the emulator knows, with Azure's role definition ids and the actions of
/// Azure's definitions that matter here (`NotActions` of Contributor and Owner concern
/// `Microsoft.Authorization` only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltInRole {
    Owner,
    Contributor,
    Reader,
    DesktopVirtualizationContributor,
    DesktopVirtualizationReader,
    DesktopVirtualizationSessionHostOperator,
    DesktopVirtualizationUserSessionOperator,
}

impl BuiltInRole {
    /// Every known role.
    pub const ALL: [BuiltInRole; 7] = [
        Self::Owner,
        Self::Contributor,
        Self::Reader,
        Self::DesktopVirtualizationContributor,
        Self::DesktopVirtualizationReader,
        Self::DesktopVirtualizationSessionHostOperator,
        Self::DesktopVirtualizationUserSessionOperator,
    ];

    /// The role's name, e.g. `Desktop Virtualization User Session Operator`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Contributor => "Contributor",
            Self::Reader => "Reader",
            Self::DesktopVirtualizationContributor => "Desktop Virtualization Contributor",
            Self::DesktopVirtualizationReader => "Desktop Virtualization Reader",
            Self::DesktopVirtualizationSessionHostOperator => {
                "Desktop Virtualization Session Host Operator"
            }
            Self::DesktopVirtualizationUserSessionOperator => {
                "Desktop Virtualization User Session Operator"
            }
        }
    }

    /// Azure's role definition id.
    pub fn id(self) -> &'static str {
        match self {
            Self::Owner => "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
            Self::Contributor => "b24988ac-6180-42a0-ab88-20f7382dd24c",
            Self::Reader => "acdd72a7-3385-48ef-bd42-f606fba81ae7",
            Self::DesktopVirtualizationContributor => "082f0a83-3be5-4ba1-904c-961cca79b387",
            Self::DesktopVirtualizationReader => "49a72310-ab8d-41df-bbb0-79b649203868",
            Self::DesktopVirtualizationSessionHostOperator => {
                "2ad6aaab-ead9-4eaa-8ac5-da422f562408"
            }
            Self::DesktopVirtualizationUserSessionOperator => {
                "ea4bfff8-7fb4-485a-aadd-d4129a0ffaa6"
            }
        }
    }

    /// The role's `Actions` (wildcards as Azure writes them) that concern this emulator.
    ///
    /// CONFIRMED from Azure's built-in role definitions: the Session Host Operator's
    /// `Microsoft.DesktopVirtualization/hostpools/sessionhosts/*` also covers the user
    /// sessions below the session hosts (so it may log users off too); the User Session
    /// Operator may read host pools and session hosts and do everything to user sessions.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Self::Owner | Self::Contributor => &["*"],
            Self::Reader => &["*/read"],
            Self::DesktopVirtualizationContributor => &["Microsoft.DesktopVirtualization/*"],
            Self::DesktopVirtualizationReader => &["Microsoft.DesktopVirtualization/*/read"],
            Self::DesktopVirtualizationSessionHostOperator => &[
                "Microsoft.DesktopVirtualization/hostpools/read",
                "Microsoft.DesktopVirtualization/hostpools/sessionhosts/*",
            ],
            Self::DesktopVirtualizationUserSessionOperator => &[
                "Microsoft.DesktopVirtualization/hostpools/read",
                "Microsoft.DesktopVirtualization/hostpools/sessionhosts/read",
                "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions/*",
            ],
        }
    }

    /// The role a `roleDefinitionName` names: its name or its id, compared case-insensitively.
    pub fn parse(text: &str) -> Option<BuiltInRole> {
        Self::ALL.into_iter().find(|role| {
            role.name().eq_ignore_ascii_case(text) || role.id().eq_ignore_ascii_case(text)
        })
    }
}

fn api_versions<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let versions = Vec::<String>::deserialize(deserializer)?;
    if versions.is_empty() || versions.iter().any(|v| v.trim().is_empty()) {
        return Err(serde::de::Error::custom(
            "apiVersions must name at least one api-version, none empty",
        ));
    }
    Ok(versions)
}

fn page_size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    let size = usize::deserialize(deserializer)?;
    if size == 0 {
        return Err(serde::de::Error::custom("pageSize must be at least 1"));
    }
    Ok(size)
}

fn role_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let name = String::deserialize(deserializer)?;
    if BuiltInRole::parse(&name).is_none() {
        let known: Vec<&str> = BuiltInRole::ALL.iter().map(|role| role.name()).collect();
        return Err(serde::de::Error::custom(format!(
            "unknown role '{name}'; the emulator knows: {}",
            known.join(", ")
        )));
    }
    Ok(name)
}

/// A scope must be a subscription, resource group or host pool path.
fn scope<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let scope = String::deserialize(deserializer)?;
    let segments: Vec<&str> = scope.trim_end_matches('/').split('/').collect();
    let literal = |index: usize, expected: &str| {
        segments
            .get(index)
            .is_some_and(|s| s.eq_ignore_ascii_case(expected))
    };
    let named = |index: usize| segments.get(index).is_some_and(|s| !s.is_empty());
    let valid = segments.first() == Some(&"")
        && literal(1, "subscriptions")
        && named(2)
        && match segments.len() {
            3 => true,
            5 => literal(3, "resourceGroups") && named(4),
            9 => {
                literal(3, "resourceGroups")
                    && named(4)
                    && literal(5, "providers")
                    && literal(6, "Microsoft.DesktopVirtualization")
                    && literal(7, "hostPools")
                    && named(8)
            }
            _ => false,
        };
    if !valid {
        return Err(serde::de::Error::custom(format!(
            "'{scope}' is not a scope: use /subscriptions/{{id}}, \
             /subscriptions/{{id}}/resourceGroups/{{name}} or \
             /subscriptions/{{id}}/resourceGroups/{{name}}/providers/\
             Microsoft.DesktopVirtualization/hostPools/{{name}}"
        )));
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_optional() {
        let config: ArmConfig = serde_json::from_str("{}").expect("empty object");
        assert_eq!(config, ArmConfig::default());
        assert_eq!(config.api_versions[0], "2025-10-10");
        assert_eq!(config.api_versions[1], "2024-04-03");
        assert_eq!(config.page_size, 100);
        assert_eq!(
            config.missing_session_on_delete,
            MissingSessionOnDelete::NoContent
        );
    }

    #[test]
    fn assignments_and_locks_parse_and_typos_surface() {
        let config: ArmConfig = serde_json::from_str(
            r#"{"missingSessionOnDelete": "notFound",
                "roleAssignments": [{"principalId": "p",
                    "roleDefinitionName": "desktop virtualization user session operator",
                    "scope": "/subscriptions/s/resourceGroups/rg"},
                    {"principalId": "p", "roleDefinitionName": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
                    "scope": "/subscriptions/s/resourcegroups/rg/providers/microsoft.desktopvirtualization/hostpools/hp"}],
                "locks": [{"scope": "/subscriptions/s", "level": "ReadOnly"}]}"#,
        )
        .expect("valid");
        assert_eq!(config.role_assignments.len(), 2);
        assert_eq!(config.locks[0].level, LockLevel::ReadOnly);
        for bad in [
            r#"{"roleAssignments": [{"principalId": "p", "roleDefinitionName": "Operator", "scope": "/subscriptions/s"}]}"#,
            r#"{"roleAssignments": [{"principalId": "p", "roleDefinitionName": "Reader", "scope": "subscriptions/s"}]}"#,
            r#"{"locks": [{"scope": "/subscriptions/s/resourceGroups", "level": "ReadOnly"}]}"#,
            r#"{"locks": [{"scope": "/subscriptions/s", "level": "NoDelete"}]}"#,
            r#"{"apiVersions": []}"#,
            r#"{"pageSize": 0}"#,
            r#"{"pagesize": 5}"#,
        ] {
            assert!(serde_json::from_str::<ArmConfig>(bad).is_err(), "{bad}");
        }
    }
}
