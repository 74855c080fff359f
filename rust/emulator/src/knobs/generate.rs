//! Large generated host pools for scale tests and benchmarks (`POST /_emulator/generate`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clock::{now_epoch, rfc3339};
use crate::model::{HostPool, Seed, Session, SessionHost, Tenant, TenantGroup};

/// The most sessions one generated pool may hold.
pub const MAX_GENERATED_SESSIONS: u64 = 1_000_000;

/// How far back the generated `createTime`s reach (seven days).
const CREATE_TIME_SPREAD_SECONDS: u64 = 7 * 86_400;

/// What [`GenerateSpec::apply`] (and `POST /_emulator/generate`) builds: one host pool of
/// `hosts` session hosts `host-0001.<domain>`, `host-0002.<domain>`, ... each holding
/// `sessionsPerHost` sessions with ids `firstSessionId`, `firstSessionId + 1`, ...
///
/// Session number `n` (1-based across the pool, host by host) belongs to `user{n}@<domain>`
/// (`adUserName` `<DOMAIN LABEL>\user{n}`), is `Active` when `n` is odd and `Disconnected`
/// when even, a `RemoteApp` session when `n` is a multiple of 5 (else `Desktop`), and was
/// created at a deterministic point within the last seven days.
///
/// JSON, every field optional (defaults shown):
/// `{"tenantGroup":"Default Tenant Group","tenant":"Bulk","hostPool":"Pool-Bulk","hosts":40,
///   "sessionsPerHost":250,"firstSessionId":1,"domain":"bulk.test","unreachableHosts":0}`
/// plus the optional ARM coordinates `subscriptionId` (the tenant's, see
/// [`GenerateSpec::subscription_id`]), `armResourceGroup` and `armName` (the pool's).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GenerateSpec {
    /// Tenant group of the pool; created when missing.
    pub tenant_group: String,
    /// Tenant of the pool; created (not forbidden) when missing.
    pub tenant: String,
    /// The host pool; an existing pool of that name is replaced.
    pub host_pool: String,
    /// Number of session hosts.
    pub hosts: u32,
    /// Sessions on each host.
    pub sessions_per_host: u32,
    /// The id of each host's first session.
    pub first_session_id: i32,
    /// DNS suffix of host names and UPNs.
    pub domain: String,
    /// How many of the hosts (the last ones) are unreachable (`reachable: false`).
    pub unreachable_hosts: u32,
    /// The tenant's Azure subscription, set when the tenant is created or has none yet (a
    /// tenant in another subscription is refused). Default: none, so the tenant keeps its own
    /// or the derived one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// The pool's ARM resource group (default: its tenant's, else `{Tenant}_{HostPool}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arm_resource_group: Option<String>,
    /// The pool's ARM name (default: `hostPool`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arm_name: Option<String>,
}

impl Default for GenerateSpec {
    fn default() -> Self {
        Self {
            tenant_group: "Default Tenant Group".to_owned(),
            tenant: "Bulk".to_owned(),
            host_pool: "Pool-Bulk".to_owned(),
            hosts: 40,
            sessions_per_host: 250,
            first_session_id: 1,
            domain: "bulk.test".to_owned(),
            unreachable_hosts: 0,
            subscription_id: None,
            arm_resource_group: None,
            arm_name: None,
        }
    }
}

/// What was generated (the body of a successful `POST /_emulator/generate`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedPool {
    pub tenant_group: String,
    pub tenant: String,
    pub host_pool: String,
    /// Number of session hosts created.
    pub hosts: u32,
    /// Number of sessions created.
    pub sessions: u64,
    /// True when a pool of that name existed and was replaced.
    pub replaced: bool,
}

/// Why a [`GenerateSpec`] cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateError {
    message: String,
}

impl GenerateError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GenerateError {}

impl GenerateSpec {
    /// Checks the spec without building anything.
    pub fn validate(&self) -> Result<(), GenerateError> {
        for (name, value) in [
            ("tenantGroup", &self.tenant_group),
            ("tenant", &self.tenant),
            ("hostPool", &self.host_pool),
            ("domain", &self.domain),
        ] {
            if value.is_empty() {
                return Err(GenerateError::new(format!("'{name}' must not be empty")));
            }
        }
        if let Some(id) = &self.subscription_id
            && uuid::Uuid::try_parse(id).is_err()
        {
            return Err(GenerateError::new(format!(
                "'subscriptionId' must be a GUID, got '{id}'"
            )));
        }
        // The same checks as a seed's (names, characters, lengths).
        let coordinates = serde_json::json!({
            "name": "p", "armResourceGroup": self.arm_resource_group,
            "armName": self.arm_name, "sessionHosts": []
        });
        serde_json::from_value::<HostPool>(coordinates)
            .map_err(|e| GenerateError::new(e.to_string()))?;
        let total = u64::from(self.hosts) * u64::from(self.sessions_per_host);
        if total > MAX_GENERATED_SESSIONS {
            return Err(GenerateError::new(format!(
                "{total} sessions requested; at most {MAX_GENERATED_SESSIONS} per pool"
            )));
        }
        let last = i64::from(self.first_session_id) + i64::from(self.sessions_per_host) - 1;
        if self.sessions_per_host > 0 && last > i64::from(i32::MAX) {
            return Err(GenerateError::new(
                "firstSessionId + sessionsPerHost - 1 does not fit a 32-bit session id",
            ));
        }
        if self.unreachable_hosts > self.hosts {
            return Err(GenerateError::new("unreachableHosts exceeds hosts"));
        }
        Ok(())
    }

    /// Builds the host pool (without adding it anywhere).
    pub fn host_pool(&self) -> Result<HostPool, GenerateError> {
        self.validate()?;
        let now = now_epoch();
        let label = self
            .domain
            .split('.')
            .next()
            .unwrap_or_default()
            .to_uppercase();
        let first_unreachable = self.hosts - self.unreachable_hosts;
        let mut n: u64 = 0;
        let session_hosts = (0..self.hosts)
            .map(|host| SessionHost {
                name: format!("host-{:04}.{}", host + 1, self.domain),
                reachable: host < first_unreachable,
                allow_new_session: true,
                sessions: (0..self.sessions_per_host)
                    .map(|offset| {
                        n += 1;
                        // Validated above: the id fits an i32.
                        let id = i64::from(self.first_session_id) + i64::from(offset);
                        let spread = n.wrapping_mul(7_919) % CREATE_TIME_SPREAD_SECONDS;
                        Session {
                            session_id: i32::try_from(id).unwrap_or(i32::MAX),
                            user_principal_name: format!("user{n}@{}", self.domain),
                            ad_user_name: format!("{label}\\user{n}"),
                            application_type: if n.is_multiple_of(5) {
                                "RemoteApp"
                            } else {
                                "Desktop"
                            }
                            .to_owned(),
                            session_state: if n % 2 == 1 { "Active" } else { "Disconnected" }
                                .to_owned(),
                            create_time: rfc3339(now.saturating_sub(60 + spread)),
                            messages: Vec::new(),
                        }
                    })
                    .collect(),
            })
            .collect();
        Ok(HostPool {
            name: self.host_pool.clone(),
            arm_resource_group: self.arm_resource_group.clone(),
            arm_name: self.arm_name.clone(),
            session_hosts,
            ..HostPool::default()
        })
    }

    /// Adds the pool to `seed` (creating its tenant group and tenant when missing) or replaces
    /// the pool of that name. Everything else in the seed, identity included, stays as it is.
    pub fn apply(&self, seed: &mut Seed) -> Result<GeneratedPool, GenerateError> {
        let pool = self.host_pool()?;
        self.insert(seed, pool)
    }

    /// Adds or replaces `pool` (built by [`GenerateSpec::host_pool`]) in `seed`. Fails, changing
    /// nothing, when the tenant is in another subscription than `subscriptionId` or the pool's
    /// ARM id is another pool's.
    pub(crate) fn insert(
        &self,
        seed: &mut Seed,
        pool: HostPool,
    ) -> Result<GeneratedPool, GenerateError> {
        let mut candidate = seed.clone();
        let summary = self.insert_unchecked(&mut candidate, pool)?;
        candidate.check_arm_ids().map_err(GenerateError::new)?;
        *seed = candidate;
        Ok(summary)
    }

    fn insert_unchecked(
        &self,
        seed: &mut Seed,
        pool: HostPool,
    ) -> Result<GeneratedPool, GenerateError> {
        let group = match seed
            .tenant_groups
            .iter()
            .position(|g| g.name == self.tenant_group)
        {
            Some(index) => &mut seed.tenant_groups[index],
            None => {
                seed.tenant_groups.push(TenantGroup {
                    name: self.tenant_group.clone(),
                    tenants: Vec::new(),
                });
                let last = seed.tenant_groups.len() - 1;
                &mut seed.tenant_groups[last]
            }
        };
        let tenant = match group.tenants.iter().position(|t| t.name == self.tenant) {
            Some(index) => &mut group.tenants[index],
            None => {
                group.tenants.push(Tenant {
                    name: self.tenant.clone(),
                    ..Tenant::default()
                });
                let last = group.tenants.len() - 1;
                &mut group.tenants[last]
            }
        };
        if let Some(wanted) = &self.subscription_id {
            match &tenant.azure_subscription_id {
                Some(current) if !current.eq_ignore_ascii_case(wanted) => {
                    return Err(GenerateError::new(format!(
                        "tenant '{}' is in subscription '{current}', not '{wanted}'",
                        self.tenant
                    )));
                }
                Some(_) => {}
                None => tenant.azure_subscription_id = Some(wanted.clone()),
            }
        }
        let replaced = match tenant
            .host_pools
            .iter_mut()
            .find(|p| p.name == self.host_pool)
        {
            Some(existing) => {
                *existing = pool;
                true
            }
            None => {
                tenant.host_pools.push(pool);
                false
            }
        };
        Ok(GeneratedPool {
            tenant_group: self.tenant_group.clone(),
            tenant: self.tenant.clone(),
            host_pool: self.host_pool.clone(),
            hosts: self.hosts,
            sessions: u64::from(self.hosts) * u64::from(self.sessions_per_host),
            replaced,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_spec_builds_ten_thousand_varied_sessions() {
        let pool = GenerateSpec::default().host_pool().expect("valid");
        assert_eq!(pool.session_hosts.len(), 40);
        assert_eq!(pool.session_hosts[0].name, "host-0001.bulk.test");
        assert_eq!(pool.session_hosts[39].name, "host-0040.bulk.test");
        let sessions: Vec<&Session> = pool
            .session_hosts
            .iter()
            .flat_map(|h| &h.sessions)
            .collect();
        assert_eq!(sessions.len(), 10_000);
        let first = sessions[0];
        assert_eq!(first.session_id, 1);
        assert_eq!(first.user_principal_name, "user1@bulk.test");
        assert_eq!(first.ad_user_name, "BULK\\user1");
        assert_eq!(first.session_state, "Active");
        assert_eq!(sessions[1].session_state, "Disconnected");
        assert_eq!(sessions[4].application_type, "RemoteApp");
        assert_eq!(pool.session_hosts[1].sessions[0].session_id, 1);
        assert_eq!(
            pool.session_hosts[1].sessions[0].user_principal_name,
            "user251@bulk.test"
        );
        assert!(first.create_time.ends_with('Z'));
        assert!(pool.session_hosts.iter().all(|h| h.reachable));
    }

    #[test]
    fn apply_adds_or_replaces_and_keeps_the_rest() {
        let mut seed = Seed::sample();
        let spec = GenerateSpec {
            hosts: 2,
            sessions_per_host: 3,
            first_session_id: 10,
            unreachable_hosts: 1,
            ..GenerateSpec::default()
        };
        let summary = spec.apply(&mut seed).expect("applies");
        assert!(!summary.replaced);
        assert_eq!(summary.sessions, 6);
        let bulk = &seed.tenant_groups[0].tenants[2];
        assert_eq!(bulk.name, "Bulk");
        assert_eq!(
            bulk.host_pools[0].session_hosts[0].sessions[2].session_id,
            12
        );
        assert!(!bulk.host_pools[0].session_hosts[1].reachable);
        let again = GenerateSpec { hosts: 1, ..spec };
        assert!(again.apply(&mut seed).expect("applies").replaced);
        let bulk = &seed.tenant_groups[0].tenants[2];
        assert_eq!(bulk.host_pools.len(), 1);
        assert_eq!(bulk.host_pools[0].session_hosts.len(), 1);
        assert_eq!(seed.identity, Seed::sample().identity);
        assert_eq!(
            seed.tenant_groups[0].tenants[0],
            Seed::sample().tenant_groups[0].tenants[0]
        );
    }

    #[test]
    fn arm_coordinates_can_be_chosen() {
        let mut seed = Seed::sample();
        let derived = GenerateSpec {
            hosts: 1,
            sessions_per_host: 1,
            ..GenerateSpec::default()
        };
        derived.apply(&mut seed).expect("applies");
        let bulk = &seed.tenant_groups[0].tenants[2];
        assert_eq!(bulk.azure_subscription_id, None, "derived, not stored");
        assert_eq!(bulk.host_pools[0].resource_group(bulk), "Bulk_Pool-Bulk");
        let chosen = GenerateSpec {
            tenant: "Fabrikam".into(),
            host_pool: "Pool-Big".into(),
            subscription_id: Some("AAAAAAAA-1111-4aaa-8aaa-000000000001".into()),
            arm_resource_group: Some("rg-big".into()),
            arm_name: Some("hp-big".into()),
            ..derived.clone()
        };
        chosen
            .apply(&mut seed)
            .expect("the subscription Fabrikam is in");
        let fabrikam = &seed.tenant_groups[0].tenants[1];
        let big = fabrikam.host_pools.last().expect("added");
        assert_eq!(big.resource_group(fabrikam), "rg-big");
        assert_eq!(big.arm_name(), "hp-big");
        let new_tenant = GenerateSpec {
            tenant: "Northwind".into(),
            subscription_id: Some("bbbbbbbb-2222-4bbb-8bbb-000000000002".into()),
            ..derived.clone()
        };
        new_tenant.apply(&mut seed).expect("applies");
        assert_eq!(
            seed.tenant_groups[0].tenants[3]
                .azure_subscription_id
                .as_deref(),
            Some("bbbbbbbb-2222-4bbb-8bbb-000000000002")
        );
        let other_subscription = GenerateSpec {
            subscription_id: Some("cccccccc-3333-4ccc-8ccc-000000000003".into()),
            ..chosen.clone()
        };
        assert!(other_subscription.apply(&mut seed).is_err());
        // Another pool with the same ARM id is refused, and nothing changes.
        let before = seed.clone();
        let clash = GenerateSpec {
            host_pool: "Pool-Other".into(),
            ..chosen
        };
        let error = clash.apply(&mut seed).expect_err("same ARM id");
        assert!(error.to_string().contains("hp-big"), "{error}");
        assert_eq!(seed, before);
    }

    #[test]
    fn invalid_specs_are_refused() {
        for spec in [
            GenerateSpec {
                tenant: String::new(),
                ..GenerateSpec::default()
            },
            GenerateSpec {
                hosts: 2_000,
                sessions_per_host: 1_000,
                ..GenerateSpec::default()
            },
            GenerateSpec {
                first_session_id: i32::MAX,
                sessions_per_host: 2,
                ..GenerateSpec::default()
            },
            GenerateSpec {
                unreachable_hosts: 41,
                ..GenerateSpec::default()
            },
            GenerateSpec {
                subscription_id: Some("not-a-guid".into()),
                ..GenerateSpec::default()
            },
            GenerateSpec {
                arm_resource_group: Some("a/b".into()),
                ..GenerateSpec::default()
            },
        ] {
            assert!(spec.validate().is_err(), "{spec:?}");
        }
    }
}
