//! The data seen as Azure Resource Manager resources: every host pool with its ARM coordinates
//! (subscription, resource group, ARM name), and finding host pools, session hosts and user
//! sessions by ARM names.
//!
//! ARM compares names case-insensitively but answers with the stored case, so every lookup
//! here compares case-insensitively and hands back the stored objects.

use super::arm_config::ArmHostPool;
use super::lookup::PoolAddress;
use crate::model::{HostPool, Seed, Session, SessionHost, Tenant};

/// The provider and type path of host pools, as ARM paths spell it.
pub(crate) const HOST_POOLS_PROVIDER: &str = "providers/Microsoft.DesktopVirtualization/hostPools";

/// A host pool with its ARM coordinates.
#[derive(Clone, Debug)]
pub(crate) struct ArmPool<'s> {
    pub tenant_group: &'s str,
    pub tenant: &'s Tenant,
    pub pool: &'s HostPool,
    pub subscription: String,
    pub resource_group: String,
}

impl<'s> ArmPool<'s> {
    /// The ARM host pool name.
    pub(crate) fn name(&self) -> std::borrow::Cow<'s, str> {
        self.pool.arm_name()
    }

    /// The classic names of the pool.
    pub(crate) fn address(&self) -> PoolAddress<'s> {
        PoolAddress {
            tenant_group: self.tenant_group,
            tenant: &self.tenant.name,
            host_pool: &self.pool.name,
        }
    }

    /// The pool's scope as requests and role assignments write it:
    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DesktopVirtualization/hostPools/{hp}`.
    pub(crate) fn scope(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/{HOST_POOLS_PROVIDER}/{}",
            self.subscription,
            self.resource_group,
            self.name()
        )
    }

    /// The pool's resource id as the service writes it in answers: type segments in lower
    /// case (`resourcegroups`, `hostpools`), the provider namespace and every name as stored
    /// (CONFIRMED for user sessions in live recordings; INFERRED the same for pools and hosts).
    pub(crate) fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.DesktopVirtualization/hostpools/{}",
            self.subscription,
            self.resource_group,
            self.name()
        )
    }
}

/// Every host pool with its ARM coordinates, in seed order.
pub(crate) fn arm_pools(seed: &Seed) -> Vec<ArmPool<'_>> {
    let mut pools = Vec::new();
    for group in &seed.tenant_groups {
        for tenant in &group.tenants {
            let subscription = tenant.subscription_id(&group.name);
            for pool in &tenant.host_pools {
                pools.push(ArmPool {
                    tenant_group: &group.name,
                    tenant,
                    pool,
                    subscription: subscription.clone(),
                    resource_group: pool.resource_group(tenant),
                });
            }
        }
    }
    pools
}

/// Where every host pool is under ARM, in seed order.
pub(crate) fn mapping(seed: &Seed) -> Vec<ArmHostPool> {
    arm_pools(seed)
        .into_iter()
        .map(|pool| ArmHostPool {
            tenant_group: pool.tenant_group.to_owned(),
            tenant: pool.tenant.name.clone(),
            host_pool: pool.pool.name.clone(),
            id: pool.id(),
            arm_host_pool_name: pool.name().into_owned(),
            subscription_id: pool.subscription,
            resource_group: pool.resource_group,
        })
        .collect()
}

/// Whether a subscription exists: some tenant is in it.
pub(crate) fn subscription_exists(seed: &Seed, subscription: &str) -> bool {
    seed.tenant_groups.iter().any(|group| {
        group.tenants.iter().any(|t| {
            t.subscription_id(&group.name)
                .eq_ignore_ascii_case(subscription)
        })
    })
}

/// Whether a resource group exists in a subscription: a host pool is in it, or it is a
/// tenant's default resource group (which holds the tenant's workspace after a migration).
pub(crate) fn resource_group_exists(seed: &Seed, subscription: &str, resource_group: &str) -> bool {
    let pool_group = arm_pools(seed).into_iter().any(|pool| {
        pool.subscription.eq_ignore_ascii_case(subscription)
            && pool.resource_group.eq_ignore_ascii_case(resource_group)
    });
    pool_group
        || seed.tenant_groups.iter().any(|group| {
            group.tenants.iter().any(|t| {
                t.subscription_id(&group.name)
                    .eq_ignore_ascii_case(subscription)
                    && t.resource_group
                        .as_deref()
                        .is_some_and(|rg| rg.eq_ignore_ascii_case(resource_group))
            })
        })
}

/// The host pools of a subscription (and resource group, when given), in seed order.
pub(crate) fn pools_in<'s>(
    seed: &'s Seed,
    subscription: &str,
    resource_group: Option<&str>,
) -> Vec<ArmPool<'s>> {
    arm_pools(seed)
        .into_iter()
        .filter(|pool| {
            pool.subscription.eq_ignore_ascii_case(subscription)
                && resource_group.is_none_or(|rg| pool.resource_group.eq_ignore_ascii_case(rg))
        })
        .collect()
}

/// The host pool with these ARM coordinates.
pub(crate) fn find_pool<'s>(
    seed: &'s Seed,
    subscription: &str,
    resource_group: &str,
    name: &str,
) -> Option<ArmPool<'s>> {
    pools_in(seed, subscription, Some(resource_group))
        .into_iter()
        .find(|pool| pool.name().eq_ignore_ascii_case(name))
}

/// Where a host pool is in the seed (tenant group, tenant, pool positions), to change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PoolIndex {
    group: usize,
    tenant: usize,
    pool: usize,
}

/// Where the host pool with these ARM coordinates is.
pub(crate) fn locate_pool(
    seed: &Seed,
    subscription: &str,
    resource_group: &str,
    name: &str,
) -> Option<PoolIndex> {
    for (g, group) in seed.tenant_groups.iter().enumerate() {
        for (t, tenant) in group.tenants.iter().enumerate() {
            if !tenant
                .subscription_id(&group.name)
                .eq_ignore_ascii_case(subscription)
            {
                continue;
            }
            let found = tenant.host_pools.iter().position(|pool| {
                pool.resource_group(tenant)
                    .eq_ignore_ascii_case(resource_group)
                    && pool.arm_name().eq_ignore_ascii_case(name)
            });
            if let Some(p) = found {
                return Some(PoolIndex {
                    group: g,
                    tenant: t,
                    pool: p,
                });
            }
        }
    }
    None
}

/// The host pool at `index` (of the same seed), to change it.
pub(crate) fn pool_mut(seed: &mut Seed, index: PoolIndex) -> Option<&mut HostPool> {
    seed.tenant_groups
        .get_mut(index.group)?
        .tenants
        .get_mut(index.tenant)?
        .host_pools
        .get_mut(index.pool)
}

/// A session host of a pool by name, to change it.
pub(crate) fn find_host_mut<'s>(pool: &'s mut HostPool, name: &str) -> Option<&'s mut SessionHost> {
    pool.session_hosts
        .iter_mut()
        .find(|host| host.name.eq_ignore_ascii_case(name))
}

/// A session host of a pool by name.
pub(crate) fn find_host<'s>(pool: &'s HostPool, name: &str) -> Option<&'s SessionHost> {
    pool.session_hosts
        .iter()
        .find(|host| host.name.eq_ignore_ascii_case(name))
}

/// The classic session id an ARM `userSessionId` names: its decimal form exactly (`2`, not
/// `02` or `+2`; INFERRED, the service renders the id the same way).
pub(crate) fn session_id(text: &str) -> Option<i32> {
    text.parse::<i32>().ok().filter(|id| id.to_string() == text)
}

/// A user session of a host by its ARM id.
pub(crate) fn find_session<'s>(host: &'s SessionHost, id: &str) -> Option<&'s Session> {
    let id = session_id(id)?;
    host.sessions
        .iter()
        .find(|session| session.session_id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBSCRIPTION: &str = "AAAAAAAA-1111-4aaa-8aaa-000000000001";

    #[test]
    fn pools_are_found_by_arm_coordinates_in_any_case() {
        let seed = Seed::sample();
        let apps = find_pool(&seed, SUBSCRIPTION, "RG-AVD-APPS", "HP-Contoso-Apps").expect("found");
        assert_eq!(apps.pool.name, "Pool-Apps");
        assert_eq!(apps.address().tenant, "Contoso");
        assert_eq!(
            apps.id(),
            "/subscriptions/aaaaaaaa-1111-4aaa-8aaa-000000000001/resourcegroups/rg-avd-apps/\
             providers/Microsoft.DesktopVirtualization/hostpools/hp-contoso-apps"
        );
        assert!(find_pool(&seed, SUBSCRIPTION, "rg-avd-apps", "Pool-Apps").is_none());
        let desktops: Vec<&str> = pools_in(&seed, SUBSCRIPTION, None)
            .into_iter()
            .filter(|p| p.name() == "Pool-Desktop")
            .map(|p| p.tenant.name.as_str())
            .collect();
        assert_eq!(
            desktops,
            ["Contoso", "Fabrikam"],
            "one name, two resource groups"
        );
        assert!(subscription_exists(&seed, SUBSCRIPTION));
        assert!(!subscription_exists(
            &seed,
            "bbbbbbbb-2222-4bbb-8bbb-000000000002"
        ));
        assert!(resource_group_exists(
            &seed,
            SUBSCRIPTION,
            "contoso_pool-desktop"
        ));
        assert!(resource_group_exists(
            &seed,
            SUBSCRIPTION,
            "rg-fabrikam-avd"
        ));
        assert!(!resource_group_exists(&seed, SUBSCRIPTION, "Contoso"));
        let rows = mapping(&seed);
        assert_eq!(rows.len(), 4);
        assert_eq!(
            (
                rows[1].host_pool.as_str(),
                rows[1].resource_group.as_str(),
                rows[1].arm_host_pool_name.as_str()
            ),
            ("Pool-Apps", "rg-avd-apps", "hp-contoso-apps")
        );
    }

    #[test]
    fn pools_are_located_to_be_changed() {
        let mut seed = Seed::sample();
        let index =
            locate_pool(&seed, SUBSCRIPTION, "rg-fabrikam-avd", "pool-desktop").expect("found");
        let pool = pool_mut(&mut seed, index).expect("there");
        assert_eq!(pool.session_hosts[0].name, "vm2.fabrikam.com");
        find_host_mut(pool, "VM2.fabrikam.com")
            .expect("host")
            .allow_new_session = false;
        assert!(!seed.tenant_groups[0].tenants[1].host_pools[1].session_hosts[0].allow_new_session);
        assert_eq!(
            locate_pool(&seed, SUBSCRIPTION, "rg-avd-apps", "Pool-Apps"),
            None
        );
    }

    #[test]
    fn hosts_and_sessions_by_arm_names() {
        let seed = Seed::sample();
        let desktop = &seed.tenant_groups[0].tenants[0].host_pools[0];
        let host = find_host(desktop, "SH1.contoso.com").expect("found");
        assert_eq!(host.name, "sh1.contoso.com");
        assert_eq!(find_session(host, "17").map(|s| s.session_id), Some(17));
        assert!(find_session(host, "017").is_none());
        assert!(find_session(host, "4").is_none());
        assert_eq!(session_id("-3"), Some(-3));
        assert_eq!(session_id("x"), None);
    }
}
