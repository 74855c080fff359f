//! The read side scripts wrap around logoff (tenants, host pools, session hosts) and the drain
//! switch, on both flavours of the emulator over the same sample data: the same classic names
//! and values come back, a drain is visible to the other flavour, and missing objects are
//! typed errors.

mod common;

use common::{Flavour, flavour_client, start_with_seed};
use rds_core::{BrokerClient, ErrorCode};
use rds_emulator::Seed;

fn client(emu: &rds_emulator::Emulator, flavour: Flavour) -> BrokerClient {
    flavour_client(emu, flavour).build().expect("client")
}

fn sorted<T, K: Ord>(mut items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    items.sort_by_key(key);
    items
}

#[tokio::test]
async fn tenants_host_pools_and_session_hosts_read_the_same_on_both_flavours() {
    let emu = start_with_seed(Seed::sample()).await;
    let mut seen = Vec::new();
    for flavour in Flavour::ALL {
        let c = client(&emu, flavour);
        let tenants = sorted(c.list_tenants(None).await.expect("tenants").items, |t| {
            t.tenant_name.clone()
        });
        let names: Vec<&str> = tenants.iter().map(|t| t.tenant_name.as_str()).collect();
        assert_eq!(names, ["Contoso", "Fabrikam"], "{flavour:?}");
        assert!(
            tenants.iter().all(|t| t.azure_subscription_id.is_some()),
            "{flavour:?}"
        );
        let one = c.list_tenants(Some("Contoso")).await.expect("one").items;
        assert_eq!(one.len(), 1, "{flavour:?}");

        let pools = sorted(
            c.list_host_pools("Contoso", None)
                .await
                .expect("pools")
                .items,
            |p| p.host_pool_name.clone(),
        );
        let names: Vec<&str> = pools.iter().map(|p| p.host_pool_name.as_str()).collect();
        // Pool-Apps is hp-contoso-apps in Azure: it still shows its classic name.
        assert_eq!(names, ["Pool-Apps", "Pool-Desktop"], "{flavour:?}");
        let desktop = c
            .list_host_pools("Contoso", Some("Pool-Desktop"))
            .await
            .expect("one pool")
            .items;
        assert_eq!(
            desktop[0].load_balancer_type.as_deref(),
            Some("BreadthFirst")
        );
        assert_eq!(desktop[0].tenant_name, "Contoso");

        let hosts = sorted(
            c.list_session_hosts("Contoso", "Pool-Desktop", None)
                .await
                .expect("hosts")
                .items,
            |h| h.session_host_name.clone(),
        );
        let summary: Vec<(String, i64, bool)> = hosts
            .iter()
            .map(|h| (h.session_host_name.clone(), h.sessions, h.allow_new_session))
            .collect();
        assert!(!summary.is_empty(), "{flavour:?}");
        assert!(hosts.iter().all(|h| h.host_pool_name == "Pool-Desktop"));
        assert!(hosts.iter().all(|h| h.last_heart_beat_unix_ms().is_some()));
        seen.push(summary);
    }
    assert_eq!(
        seen[0], seen[1],
        "both flavours show the same session hosts"
    );
}

#[tokio::test]
async fn a_drain_on_one_flavour_is_seen_on_the_other_and_undone() {
    let emu = start_with_seed(Seed::sample()).await;
    let classic = client(&emu, Flavour::Classic);
    let arm = client(&emu, Flavour::Arm);
    for (drainer, reader) in [(&arm, &classic), (&classic, &arm)] {
        let drained = drainer
            .set_allow_new_session("Contoso", "Pool-Desktop", "sh1.contoso.com", false)
            .await
            .expect("drain")
            .items;
        assert!(!drained[0].allow_new_session);
        assert_eq!(drained[0].session_host_name, "sh1.contoso.com");
        let seen = reader
            .list_session_hosts("Contoso", "Pool-Desktop", Some("sh1.contoso.com"))
            .await
            .expect("read")
            .items;
        assert!(!seen[0].allow_new_session);
        let state = emu.state();
        let host = state.tenant_groups[0].tenants[0].host_pools[0]
            .session_hosts
            .iter()
            .find(|h| h.name == "sh1.contoso.com")
            .expect("host");
        assert!(!host.allow_new_session, "the drain is in the shared state");

        let undone = drainer
            .set_allow_new_session("Contoso", "Pool-Desktop", "sh1.contoso.com", true)
            .await
            .expect("undrain")
            .items;
        assert!(undone[0].allow_new_session);
    }
}

#[tokio::test]
async fn missing_objects_are_typed_errors_on_both_flavours() {
    let emu = start_with_seed(Seed::sample()).await;
    for flavour in Flavour::ALL {
        let c = client(&emu, flavour);
        let err = c.list_tenants(Some("Nope")).await.expect_err("tenant");
        assert_eq!(err.code(), ErrorCode::TenantNotFound, "{flavour:?}: {err}");
        let err = c
            .list_host_pools("Contoso", Some("Nope-Pool"))
            .await
            .expect_err("pool");
        assert_eq!(
            err.code(),
            ErrorCode::HostPoolNotFound,
            "{flavour:?}: {err}"
        );
        let err = c
            .list_session_hosts("Contoso", "Pool-Desktop", Some("nope.contoso.com"))
            .await
            .expect_err("host");
        assert_eq!(
            err.code(),
            ErrorCode::SessionHostNotFound,
            "{flavour:?}: {err}"
        );
        let err = c
            .set_allow_new_session("Contoso", "Pool-Desktop", "nope.contoso.com", false)
            .await
            .expect_err("host");
        assert_eq!(
            err.code(),
            ErrorCode::SessionHostNotFound,
            "{flavour:?}: {err}"
        );
    }
}
