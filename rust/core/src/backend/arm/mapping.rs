//! The ARM mapping: which Azure resources the classic names of a script stand for.
//!
//! A classic script names a tenant and a host pool; ARM needs a subscription, a resource
//! group and a host pool name. The mapping says, per tenant, the subscription and (optionally)
//! the resource group, with optional per-host-pool overrides; whatever it leaves out is
//! discovered (see `discovery`). It is JSON, written by `Set-RdsArmMapping` or by hand:
//!
//! ```json
//! {
//!   "armEndpoint": "https://management.azure.com",
//!   "apiVersion": "2025-10-10",
//!   "tenants": {
//!     "Contoso": {
//!       "subscriptionId": "00000000-0000-0000-0000-000000000000",
//!       "resourceGroup": "rg-avd",
//!       "hostPools": { "Pool-Desktop": { "resourceGroup": "rg-desktop", "name": "hp-desktop" } }
//!     }
//!   }
//! }
//! ```
//!
//! A bad file fails with the file, line, column and field named; nothing is sent.

use crate::error::{Error, ErrorCode, shown};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest mapping accepted: thousands of tenants fit in far less.
pub const MAX_MAPPING_BYTES: usize = 4 * 1024 * 1024;

/// The whole mapping file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArmMapping {
    /// The Resource Manager endpoint; default `https://management.azure.com` (sovereign
    /// clouds have their own; tests point it at the emulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm_endpoint: Option<String>,
    /// The api-version to send (default `2025-10-10`, falling back to `2024-04-03` once when
    /// ARM calls it invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Per classic tenant name (matched case-insensitively, as the classic service did).
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantMapping>,
}

/// Where one classic tenant's host pools live.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantMapping {
    pub subscription_id: String,
    /// The resource group of the tenant's host pools; absent: found by discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// Overrides per classic host pool name (matched case-insensitively).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub host_pools: BTreeMap<String, HostPoolMapping>,
}

/// Where one classic host pool lives, when it differs from its tenant's default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostPoolMapping {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// The ARM host pool name, when it is not the classic one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What the mapping says about one classic host pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub subscription_id: String,
    /// `None`: the resource group is to be discovered.
    pub resource_group: Option<String>,
    /// The ARM host pool name.
    pub host_pool: String,
}

impl ArmMapping {
    /// Parses and validates mapping JSON. `source` names where it came from (a file path, or
    /// `-ArmMapping`) for the error message, which also gives the line, column and field.
    pub fn parse(text: &str, source: &str) -> Result<ArmMapping, Error> {
        let invalid = |why: String| {
            Error::new(
                ErrorCode::ArmMappingInvalid,
                format!("The ARM mapping {} is not valid: {why}", shown(source)),
            )
        };
        if text.len() > MAX_MAPPING_BYTES {
            return Err(invalid(format!(
                "it is {} bytes long; the limit is {MAX_MAPPING_BYTES}",
                text.len()
            )));
        }
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let mapping: ArmMapping =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
                let inner = e.inner();
                let text = crate::error::service_text(&inner.to_string());
                // A syntax error has no field yet; a wrong value or name has one.
                invalid(if inner.is_syntax() || inner.is_eof() {
                    format!("line {}, column {}: {text}", inner.line(), inner.column())
                } else {
                    format!(
                        "line {}, column {}, field '{}': {text}",
                        inner.line(),
                        inner.column(),
                        e.path()
                    )
                })
            })?;
        deserializer
            .end()
            .map_err(|e| invalid(format!("line {}, column {}: {}", e.line(), e.column(), e)))?;
        mapping.validate().map_err(|(field, why)| {
            let line = line_of(text, &field);
            invalid(match line {
                Some(line) => format!("line {line}, field '{field}': {why}"),
                None => format!("field '{field}': {why}"),
            })
        })?;
        Ok(mapping)
    }

    /// The JSON this mapping is written as (two-space indented, keys sorted).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks every value; the error names the field by its JSON path.
    fn validate(&self) -> Result<(), (String, String)> {
        if let Some(endpoint) = &self.arm_endpoint {
            crate::route::DeploymentUrl::parse(endpoint)
                .map_err(|e| ("armEndpoint".to_owned(), strip_invalid(e.message())))?;
        }
        if let Some(version) = &self.api_version
            && !is_api_version(version)
        {
            return Err((
                "apiVersion".to_owned(),
                format!(
                    "{} is not an api-version such as 2025-10-10 or 2026-03-01-preview",
                    shown(version)
                ),
            ));
        }
        let mut seen = BTreeMap::new();
        for (tenant, mapping) in &self.tenants {
            let at = |field: &str| format!("tenants.{tenant}.{field}");
            if let Some(other) = seen.insert(tenant.to_lowercase(), tenant) {
                return Err((
                    format!("tenants.{tenant}"),
                    format!("tenant names are not case-sensitive, and '{other}' is listed too"),
                ));
            }
            check_subscription(&mapping.subscription_id)
                .map_err(|why| (at("subscriptionId"), why))?;
            if let Some(group) = &mapping.resource_group {
                check_resource_group(group).map_err(|why| (at("resourceGroup"), why))?;
            }
            let mut pools = BTreeMap::new();
            for (pool, over) in &mapping.host_pools {
                let at = |field: &str| format!("tenants.{tenant}.hostPools.{pool}.{field}");
                if let Some(other) = pools.insert(pool.to_lowercase(), pool) {
                    return Err((
                        format!("tenants.{tenant}.hostPools.{pool}"),
                        format!(
                            "host pool names are not case-sensitive, and '{other}' is listed too"
                        ),
                    ));
                }
                if let Some(group) = &over.resource_group {
                    check_resource_group(group).map_err(|why| (at("resourceGroup"), why))?;
                }
                if let Some(name) = &over.name {
                    check_host_pool_name(name).map_err(|why| (at("name"), why))?;
                }
            }
        }
        Ok(())
    }

    /// The tenant's entry, by classic name (case-insensitive).
    pub fn tenant(&self, tenant: &str) -> Option<(&str, &TenantMapping)> {
        self.tenants
            .iter()
            .find(|(name, _)| name.to_lowercase() == tenant.to_lowercase())
            .map(|(name, mapping)| (name.as_str(), mapping))
    }

    /// Where the classic `tenant`/`host_pool` live, or `ArmMappingNotFound` naming the tenant
    /// and how to add it.
    pub fn place(&self, tenant: &str, host_pool: &str) -> Result<Placement, Error> {
        let Some((_, mapping)) = self.tenant(tenant) else {
            return Err(Error::new(
                ErrorCode::ArmMappingNotFound,
                format!(
                    "The ARM mapping has no entry for tenant {}: add one with Set-RdsArmMapping -TenantName {} -SubscriptionId <subscription id> (or in the mapping file), so its host pools can be found in Azure Resource Manager",
                    shown(tenant),
                    shown(tenant)
                ),
            ));
        };
        let over = mapping
            .host_pools
            .iter()
            .find(|(name, _)| name.to_lowercase() == host_pool.to_lowercase())
            .map(|(_, over)| over);
        Ok(Placement {
            subscription_id: mapping.subscription_id.clone(),
            resource_group: over
                .and_then(|o| o.resource_group.clone())
                .or_else(|| mapping.resource_group.clone()),
            host_pool: over
                .and_then(|o| o.name.clone())
                .unwrap_or_else(|| host_pool.to_owned()),
        })
    }

    /// Adds or replaces what `update` says about one tenant (and one host pool), keeping the
    /// rest; the result is validated like a file.
    pub fn with_update(&self, update: &MappingUpdate) -> Result<ArmMapping, Error> {
        update.validate()?;
        let mut next = self.clone();
        let key = next
            .tenant(&update.tenant)
            .map(|(name, _)| name.to_owned())
            .unwrap_or_else(|| update.tenant.clone());
        let entry = next.tenants.entry(key).or_default();
        if let Some(subscription) = &update.subscription_id {
            entry.subscription_id = subscription.clone();
        }
        match &update.host_pool {
            None => {
                if update.resource_group.is_some() {
                    entry.resource_group = update.resource_group.clone();
                }
            }
            Some(pool) => {
                let key = entry
                    .host_pools
                    .keys()
                    .find(|name| name.to_lowercase() == pool.to_lowercase())
                    .cloned()
                    .unwrap_or_else(|| pool.clone());
                let over = entry.host_pools.entry(key).or_default();
                if update.resource_group.is_some() {
                    over.resource_group = update.resource_group.clone();
                }
                if update.arm_host_pool.is_some() {
                    over.name = update.arm_host_pool.clone();
                }
            }
        }
        if let Some(endpoint) = &update.arm_endpoint {
            next.arm_endpoint = Some(endpoint.clone());
        }
        if let Some(version) = &update.api_version {
            next.api_version = Some(version.clone());
        }
        let text = next.to_json();
        ArmMapping::parse(&text, "the updated mapping")
    }
}

/// One change to a mapping (`Set-RdsArmMapping`): absent fields are kept as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappingUpdate {
    pub tenant: String,
    pub subscription_id: Option<String>,
    pub resource_group: Option<String>,
    pub host_pool: Option<String>,
    pub arm_host_pool: Option<String>,
    pub arm_endpoint: Option<String>,
    pub api_version: Option<String>,
}

/// A value check: why the value is refused.
type Check = fn(&str) -> Result<(), String>;

impl MappingUpdate {
    /// Checks each given value, naming the `Set-RdsArmMapping` parameter it came from.
    fn validate(&self) -> Result<(), Error> {
        crate::route::Name::new("TenantName", &self.tenant)?;
        if let Some(pool) = &self.host_pool {
            crate::route::Name::new("HostPoolName", pool)?;
        }
        let checks: [(&str, &Option<String>, Check); 4] = [
            ("SubscriptionId", &self.subscription_id, check_subscription),
            (
                "ResourceGroupName",
                &self.resource_group,
                check_resource_group,
            ),
            ("ArmHostPoolName", &self.arm_host_pool, check_host_pool_name),
            ("ApiVersion", &self.api_version, |v| {
                if is_api_version(v) {
                    Ok(())
                } else {
                    Err(format!(
                        "{} is not an api-version such as 2025-10-10",
                        shown(v)
                    ))
                }
            }),
        ];
        for (parameter, value, check) in checks {
            if let Some(value) = value {
                check(value).map_err(|why| Error::invalid_input(parameter, why))?;
            }
        }
        if let Some(endpoint) = &self.arm_endpoint {
            crate::route::DeploymentUrl::parse(endpoint)
                .map_err(|e| Error::invalid_input("ArmEndpoint", strip_invalid(e.message())))?;
        }
        Ok(())
    }
}

/// The first line of `text` that mentions the last key of `field` (for messages).
fn line_of(text: &str, field: &str) -> Option<usize> {
    let parts: Vec<&str> = field.split('.').collect();
    let last = parts.last()?;
    // The parent key disambiguates ("tenants.Contoso.subscriptionId": after "Contoso").
    let parent = parts.iter().rev().nth(1).copied();
    let mut after_parent = parent.is_none();
    for (index, line) in text.lines().enumerate() {
        if let Some(parent) = parent
            && line.contains(&format!("\"{parent}\""))
        {
            after_parent = true;
        }
        if after_parent && line.contains(&format!("\"{last}\"")) {
            return Some(index + 1);
        }
    }
    None
}

fn strip_invalid(message: &str) -> String {
    message
        .strip_prefix("Invalid DeploymentUrl: ")
        .unwrap_or(message)
        .to_owned()
}

fn check_subscription(value: &str) -> Result<(), String> {
    uuid::Uuid::try_parse(value)
        .map(|_| ())
        .map_err(|_| format!("{} is not a subscription id (a GUID)", shown(value)))
}

/// ARM resource group names: 1-90 letters, digits, `_-.()`, not ending in a period.
pub fn check_resource_group(value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.chars().count() <= 90
        && !value.ends_with('.')
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a resource group name (1-90 letters, digits and _ - . ( ), not ending in a period)",
            shown(value)
        ))
    }
}

/// ARM host pool names: 3-64 letters, digits and `@ . - _` or spaces (the spec's pattern).
pub fn check_host_pool_name(value: &str) -> Result<(), String> {
    let chars = value.chars().count();
    let ok = (3..=64).contains(&chars)
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | ' '));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not an ARM host pool name (3-64 letters, digits, spaces and @ . - _)",
            shown(value)
        ))
    }
}

/// `2025-10-10` or `2026-03-01-preview`.
fn is_api_version(value: &str) -> bool {
    let (date, rest) = value.split_at(value.len().min(10));
    let date_ok = date.len() == 10
        && date.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    date_ok
        && (rest.is_empty()
            || rest.strip_prefix('-').is_some_and(|tag| {
                !tag.is_empty() && tag.chars().all(|c| c.is_ascii_alphanumeric())
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
  "armEndpoint": "http://127.0.0.1:5000",
  "tenants": {
    "Contoso": {
      "subscriptionId": "11111111-1111-1111-1111-111111111111",
      "resourceGroup": "rg-avd",
      "hostPools": {
        "Pool-Desktop": { "resourceGroup": "rg-desktop", "name": "hp-desktop" }
      }
    },
    "Fabrikam": { "subscriptionId": "22222222-2222-2222-2222-222222222222" }
  }
}"#;

    #[test]
    fn placements_follow_tenant_defaults_overrides_and_case() {
        let mapping = ArmMapping::parse(GOOD, "arm-mapping.json").expect("valid");
        assert_eq!(
            mapping.place("contoso", "pool-desktop").expect("mapped"),
            Placement {
                subscription_id: "11111111-1111-1111-1111-111111111111".into(),
                resource_group: Some("rg-desktop".into()),
                host_pool: "hp-desktop".into(),
            }
        );
        assert_eq!(
            mapping.place("Contoso", "Pool-Apps").expect("mapped"),
            Placement {
                subscription_id: "11111111-1111-1111-1111-111111111111".into(),
                resource_group: Some("rg-avd".into()),
                host_pool: "Pool-Apps".into(),
            }
        );
        assert_eq!(
            mapping
                .place("Fabrikam", "Pool1")
                .expect("mapped")
                .resource_group,
            None,
            "no resource group: discovered"
        );
        let missing = mapping.place("Northwind", "Pool1").expect_err("unmapped");
        assert_eq!(missing.code(), ErrorCode::ArmMappingNotFound);
        assert!(
            missing
                .message()
                .contains("Set-RdsArmMapping -TenantName 'Northwind'"),
            "{missing}"
        );
    }

    #[test]
    fn bad_files_name_the_file_line_and_field() {
        let cases = [
            (
                GOOD.replace("\"22222222-2222-2222-2222-222222222222\"", "\"not-a-guid\""),
                "line 11, field 'tenants.Fabrikam.subscriptionId'",
            ),
            (
                GOOD.replace("\"rg-desktop\"", "\"rg desktop!\""),
                "field 'tenants.Contoso.hostPools.Pool-Desktop.resourceGroup'",
            ),
            (
                GOOD.replace("\"subscriptionId\": \"1111", "\"subscription\": \"1111"),
                "field 'tenants.Contoso.subscription'",
            ),
            (
                GOOD.replace("\"rg-avd\",", "\"rg-avd\""),
                "line 7, column 7: expected `,` or `}`",
            ),
            (
                GOOD.replace("http://127.0.0.1:5000", "http://example.com"),
                "field 'armEndpoint'",
            ),
        ];
        for (text, needle) in cases {
            let err = ArmMapping::parse(&text, "/home/admin/.config/RdsSessions/arm-mapping.json")
                .expect_err(needle);
            assert_eq!(err.code(), ErrorCode::ArmMappingInvalid);
            assert!(err.message().contains(needle), "{needle}: {err}");
            assert!(err.message().contains("arm-mapping.json"), "{err}");
        }
    }

    #[test]
    fn updates_keep_the_rest_and_are_validated() {
        let mapping = ArmMapping::parse(GOOD, "x").expect("valid");
        let next = mapping
            .with_update(&MappingUpdate {
                tenant: "contoso".into(),
                host_pool: Some("Pool-Apps".into()),
                resource_group: Some("rg-apps".into()),
                ..MappingUpdate::default()
            })
            .expect("valid update");
        assert_eq!(
            next.place("Contoso", "Pool-Apps")
                .expect("mapped")
                .resource_group
                .as_deref(),
            Some("rg-apps")
        );
        assert_eq!(
            next.place("Contoso", "Pool-Desktop")
                .expect("mapped")
                .host_pool,
            "hp-desktop"
        );
        assert!(
            next.tenants.contains_key("Contoso"),
            "the tenant's spelling is kept"
        );
        let bad = mapping
            .with_update(&MappingUpdate {
                tenant: "New".into(),
                subscription_id: Some("nope".into()),
                ..MappingUpdate::default()
            })
            .expect_err("invalid");
        assert_eq!(bad.code(), ErrorCode::InvalidInput);
        assert!(
            bad.message().starts_with("Invalid SubscriptionId: "),
            "{bad}"
        );
        // A new tenant without a subscription is still an invalid mapping as a whole.
        let incomplete = mapping
            .with_update(&MappingUpdate {
                tenant: "New".into(),
                ..MappingUpdate::default()
            })
            .expect_err("no subscription");
        assert_eq!(incomplete.code(), ErrorCode::ArmMappingInvalid);
    }

    #[test]
    fn api_versions_are_dates_with_an_optional_tag() {
        for ok in ["2025-10-10", "2024-04-03", "2026-03-01-preview"] {
            assert!(is_api_version(ok), "{ok}");
        }
        for bad in [
            "",
            "2025-10",
            "2025/10/10",
            "2025-10-10-",
            "latest",
            "2025-10-10&x=1",
        ] {
            assert!(!is_api_version(bad), "{bad}");
        }
    }
}
