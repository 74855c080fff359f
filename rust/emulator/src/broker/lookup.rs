//! Finding broker objects by name: host pools, session hosts, sessions, and the session listing.
//!
//! Lookups run top-down and stop at the first missing level, so a client always learns the
//! outermost thing that is wrong (tenant group, then tenant, then host pool, ...), exactly in
//! the order documented for the real broker.

use super::error::BrokerError;
use crate::model::{HostPool, Seed, Session, SessionHost, Tenant, TenantGroup};

/// The names addressing one host pool, as decoded from the path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolAddress<'a> {
    pub tenant_group: &'a str,
    pub tenant: &'a str,
    pub host_pool: &'a str,
}

/// Finds a tenant group.
pub(crate) fn find_tenant_group<'s>(
    seed: &'s mut Seed,
    tenant_group: &str,
) -> Result<&'s mut TenantGroup, BrokerError> {
    seed.tenant_groups
        .iter_mut()
        .find(|g| g.name == tenant_group)
        .ok_or_else(|| BrokerError::tenant_group_not_found(tenant_group))
}

/// Finds a tenant, checking its `forbidden` flag.
pub(crate) fn find_tenant<'s>(
    seed: &'s mut Seed,
    tenant_group: &str,
    tenant: &str,
) -> Result<&'s mut Tenant, BrokerError> {
    let found = find_tenant_group(seed, tenant_group)?
        .tenants
        .iter_mut()
        .find(|t| t.name == tenant)
        .ok_or_else(|| BrokerError::tenant_not_found(tenant, tenant_group))?;
    // Authorization is per tenant in classic WVD: a forbidden tenant hides its host pools.
    if found.forbidden {
        return Err(BrokerError::Forbidden {
            tenant: found.name.clone(),
        });
    }
    Ok(found)
}

/// Finds a host pool, checking the tenant's `forbidden` flag on the way.
pub(crate) fn find_pool<'s>(
    seed: &'s mut Seed,
    address: PoolAddress<'_>,
) -> Result<&'s mut HostPool, BrokerError> {
    find_tenant(seed, address.tenant_group, address.tenant)?
        .host_pools
        .iter_mut()
        .find(|p| p.name == address.host_pool)
        .ok_or_else(|| BrokerError::host_pool_not_found(address.host_pool, address.tenant))
}

/// The sessions of a host pool with their hosts, ordered by session host, then by session.
pub(crate) fn list_sessions<'s>(
    seed: &'s mut Seed,
    address: PoolAddress<'_>,
) -> Result<Vec<(&'s SessionHost, &'s Session)>, BrokerError> {
    let pool: &'s HostPool = find_pool(seed, address)?;
    Ok(pool
        .session_hosts
        .iter()
        .flat_map(|host| host.sessions.iter().map(move |session| (host, session)))
        .collect())
}

/// Finds a session host in a host pool.
pub(crate) fn find_host<'s>(
    seed: &'s mut Seed,
    pool: PoolAddress<'_>,
    session_host: &str,
) -> Result<&'s mut SessionHost, BrokerError> {
    find_pool(seed, pool)?
        .session_hosts
        .iter_mut()
        .find(|h| h.name == session_host)
        .ok_or_else(|| BrokerError::session_host_not_found(session_host, pool.host_pool))
}

/// The position of a session on its host (404 `SessionNotFound` when it is not there).
pub(crate) fn find_session(
    host: &SessionHost,
    session_id: i32,
    text: &str,
) -> Result<usize, BrokerError> {
    host.sessions
        .iter()
        .position(|s| s.session_id == session_id)
        .ok_or_else(|| BrokerError::session_not_found(text))
}

/// `Contoso/Pool-Desktop` of the sample seed, for the broker's unit tests.
#[cfg(test)]
pub(super) const CONTOSO_DESKTOP: PoolAddress<'static> = PoolAddress {
    tenant_group: "Default Tenant Group",
    tenant: "Contoso",
    host_pool: "Pool-Desktop",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_ordered_by_host_then_session() {
        let mut seed = Seed::sample();
        let listed = list_sessions(&mut seed, CONTOSO_DESKTOP).expect("pool exists");
        let keys: Vec<(String, i32)> = listed
            .iter()
            .map(|(host, session)| (host.name.clone(), session.session_id))
            .collect();
        // Shared with the HTTP test of the same listing (tests/broker.rs).
        let expected: Vec<(String, i32)> =
            serde_json::from_str(include_str!("../../tests/fixtures/sample-list-order.json"))
                .expect("fixture parses");
        assert_eq!(keys, expected);
    }

    #[test]
    fn lookups_report_the_outermost_missing_level() {
        let mut seed = Seed::sample();
        let missing_group = PoolAddress {
            tenant_group: "Nope",
            tenant: "AlsoNope",
            ..CONTOSO_DESKTOP
        };
        assert_eq!(
            find_pool(&mut seed, missing_group).expect_err("missing"),
            BrokerError::tenant_group_not_found("Nope")
        );
        let missing_tenant = PoolAddress {
            tenant: "AlsoNope",
            host_pool: "x",
            ..CONTOSO_DESKTOP
        };
        assert_eq!(
            find_pool(&mut seed, missing_tenant).expect_err("missing"),
            BrokerError::tenant_not_found("AlsoNope", "Default Tenant Group")
        );
    }
}
