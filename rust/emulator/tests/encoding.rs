//! Names with reserved, special and non-ASCII characters travel as single, percent-encoded
//! path segments and come back decoded.

mod common;

use common::{
    authorized, client, enc, logoff_path, one_host_seed, session, sessions_path, start,
    start_with_seed,
};
use rds_emulator::Emulator;
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn get(emulator: &Emulator, path: &str) -> (StatusCode, String) {
    let response = authorized(&client(), &emulator.url(), Method::GET, path)
        .send()
        .await
        .expect("answered");
    (response.status(), response.text().await.expect("body"))
}

async fn post(emulator: &Emulator, path: &str) -> StatusCode {
    authorized(&client(), &emulator.url(), Method::POST, path)
        .send()
        .await
        .expect("answered")
        .status()
}

#[tokio::test]
async fn hostile_names_round_trip_as_single_segments() {
    let names = [
        "a/b",
        "x?y",
        "100%",
        "#hash",
        "with  spaces ",
        "Zoë 東京",
        "c++",
        "semi;colon=eq&amp",
    ];
    for name in names {
        // The same awkward name at every level, so every segment is exercised.
        let seed = one_host_seed(
            &format!("{name} group"),
            &format!("{name} tenant"),
            &format!("{name} pool"),
            &format!("{name} host"),
            vec![session(7, "u1"), session(8, "u2")],
        );
        let emulator = start_with_seed(seed).await;
        let (group, tenant, pool, host) = (
            format!("{name} group"),
            format!("{name} tenant"),
            format!("{name} pool"),
            format!("{name} host"),
        );

        let list_path = sessions_path(&group, &tenant, &pool);
        let (status, body) = get(&emulator, &list_path).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        let sessions: Value = serde_json::from_str(&body).expect("JSON");
        let first = &sessions[0];
        assert_eq!(first["tenantGroupName"], group.as_str(), "{name}");
        assert_eq!(first["tenantName"], tenant.as_str(), "{name}");
        assert_eq!(first["hostPoolName"], pool.as_str(), "{name}");
        assert_eq!(first["sessionHostName"], host.as_str(), "{name}");

        let logoff = logoff_path(&group, &tenant, &pool, &host, "7");
        assert_eq!(post(&emulator, &logoff).await, StatusCode::OK, "{name}");
        let remaining: Vec<i32> = emulator.state().tenant_groups[0].tenants[0].host_pools[0]
            .session_hosts[0]
            .sessions
            .iter()
            .map(|s| s.session_id)
            .collect();
        assert_eq!(remaining, [8], "{name}");

        // The log keeps the raw path as sent and the decoded names.
        let log = emulator.requests();
        assert_eq!(log.len(), 2, "{name}");
        assert_eq!(log[0].raw_path, list_path, "{name}");
        assert_eq!(log[1].raw_path, logoff, "{name}");
        assert_eq!(log[1].tenant_group.as_deref(), Some(group.as_str()));
        assert_eq!(log[1].tenant.as_deref(), Some(tenant.as_str()));
        assert_eq!(log[1].host_pool.as_deref(), Some(pool.as_str()));
        assert_eq!(log[1].session_host.as_deref(), Some(host.as_str()));
        assert_eq!(log[1].session_id.as_deref(), Some("7"));
        emulator.shutdown().await;
    }
}

#[tokio::test]
async fn an_encoded_slash_is_one_segment_and_a_bare_slash_is_two() {
    let seed = one_host_seed("a/b", "t", "p", "h", vec![session(1, "u")]);
    let emulator = start_with_seed(seed).await;

    let encoded = "/RdsManagement/V1/TenantGroups/a%2Fb/Tenants/t/HostPools/p/Sessions";
    assert_eq!(get(&emulator, encoded).await.0, StatusCode::OK);
    // Lower-case hex digits are just as valid.
    let lower = "/RdsManagement/V1/TenantGroups/a%2fb/Tenants/t/HostPools/p/Sessions";
    assert_eq!(get(&emulator, lower).await.0, StatusCode::OK);

    let bare = "/RdsManagement/V1/TenantGroups/a/b/Tenants/t/HostPools/p/Sessions";
    let (status, body) = get(&emulator, bare).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("RouteNotFound"), "{body}");

    let log = emulator.requests();
    assert_eq!(log[0].raw_path, encoded);
    assert_eq!(log[0].tenant_group.as_deref(), Some("a/b"));
    assert_eq!(log[1].raw_path, lower);
    assert_eq!(log[2].route, "unknown");
    assert_eq!(log[2].tenant_group, None);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_plus_in_a_path_is_a_plus_not_a_space() {
    let seed = one_host_seed("g", "c++", "p", "h", vec![session(1, "u")]);
    let emulator = start_with_seed(seed).await;
    let (status, body) = get(
        &emulator,
        "/RdsManagement/V1/TenantGroups/g/Tenants/c++/HostPools/p/Sessions",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(enc("c++"), "c%2B%2B");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_segment_that_is_not_utf8_is_a_flat_400() {
    let emulator = start().await;
    let (status, body) = get(
        &emulator,
        "/RdsManagement/V1/TenantGroups/%FF%FE/Tenants/t/HostPools/p/Sessions",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["Error"], "InvalidDataFormat");
    emulator.shutdown().await;
}
