//! ARM host pools and session hosts over real HTTP: discovery by subscription and resource
//! group (a name in two resource groups, an overridden pool), the shapes, and the session host
//! update that sets drain mode in the state both flavours share.

mod common;

use common::arm::{
    APPS_HP, APPS_RG, DESKTOP_RG, FABRIKAM_RG, SUB, apps, cloud_error, desktop, get, header, host,
    names, pool, send,
};
use common::{TG, admin_get, enc, start, start_with_seed};
use rds_emulator::{GenerateSpec, HostPool, Seed, SessionHost, Tenant, TenantGroup};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn subscription_pools(subscription: &str) -> String {
    format!("/subscriptions/{subscription}/providers/Microsoft.DesktopVirtualization/hostPools")
}

#[tokio::test]
async fn a_subscription_lists_every_tenant_s_pools_for_discovery_by_name() {
    let emulator = start().await;
    let page = get(&emulator, &subscription_pools(SUB)).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.json();
    // Contoso and Fabrikam share the subscription; Pool-Desktop exists in two resource groups.
    assert_eq!(
        names(&page),
        ["Pool-Desktop", APPS_HP, "Fabrikam-Pool", "Pool-Desktop"]
    );
    let groups: Vec<&str> = page["value"]
        .as_array()
        .expect("array")
        .iter()
        .map(|pool| {
            pool["id"]
                .as_str()
                .expect("id")
                .split('/')
                .nth(4)
                .expect("group")
        })
        .collect();
    assert_eq!(groups, [DESKTOP_RG, APPS_RG, FABRIKAM_RG, FABRIKAM_RG]);
    assert_eq!(page["nextLink"], json!(null));

    let by_group = get(
        &emulator,
        &format!(
            "/subscriptions/{SUB}/resourceGroups/{FABRIKAM_RG}/providers/Microsoft.DesktopVirtualization/hostPools"
        ),
    )
    .await
    .json();
    assert_eq!(names(&by_group), ["Fabrikam-Pool", "Pool-Desktop"]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_host_pool_has_the_arm_shape() {
    let emulator = start().await;
    let reply = get(&emulator, &apps()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let found = reply.json();
    assert_eq!(found["name"], APPS_HP);
    assert_eq!(
        found["id"],
        format!(
            "/subscriptions/{SUB}/resourcegroups/{APPS_RG}/providers/Microsoft.DesktopVirtualization/hostpools/{APPS_HP}"
        )
    );
    assert_eq!(found["type"], "Microsoft.DesktopVirtualization/hostpools");
    assert_eq!(found["location"], "eastus");
    assert_eq!(found["tags"], json!({}));
    assert_eq!(found["systemData"]["createdBy"], json!(null));
    let properties = &found["properties"];
    assert_eq!(properties["hostPoolType"], "Pooled");
    assert_eq!(properties["loadBalancerType"], "BreadthFirst");
    assert_eq!(properties["maxSessionLimit"], 999_999);
    assert_eq!(properties["friendlyName"], json!(null));
    assert!(uuid::Uuid::try_parse(properties["objectId"].as_str().expect("id")).is_ok());
    // Fixed segments and names in any case; names come back as stored.
    let shouted = format!(
        "/SUBSCRIPTIONS/{}/RESOURCEGROUPS/{}/PROVIDERS/MICROSOFT.DESKTOPVIRTUALIZATION/HOSTPOOLS/{}",
        SUB.to_uppercase(),
        APPS_RG.to_uppercase(),
        APPS_HP.to_uppercase()
    );
    let again = get(&emulator, &shouted).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["name"], APPS_HP);
    // The classic name is not the ARM name of an overridden pool.
    let classic_name = get(&emulator, &pool(APPS_RG, "Pool-Apps")).await;
    assert_eq!(cloud_error(&classic_name).1, "ResourceNotFound");
    emulator.shutdown().await;
}

#[tokio::test]
async fn session_hosts_have_the_arm_shape() {
    let emulator = start().await;
    let list = get(&emulator, &format!("{}/sessionHosts", apps()))
        .await
        .json();
    assert_eq!(
        names(&list),
        [
            format!("{APPS_HP}/app1.contoso.com"),
            format!("{APPS_HP}/stale1.contoso.com")
        ]
    );
    assert_eq!(list["nextLink"], json!(null));
    let stale = &list["value"][1];
    assert_eq!(
        stale["type"],
        "Microsoft.DesktopVirtualization/hostpools/sessionhosts"
    );
    assert_eq!(
        stale["id"],
        format!(
            "/subscriptions/{SUB}/resourcegroups/{APPS_RG}/providers/Microsoft.DesktopVirtualization/hostpools/{APPS_HP}/sessionhosts/stale1.contoso.com"
        )
    );
    let properties = &stale["properties"];
    assert_eq!(properties["status"], "Unavailable");
    assert_eq!(properties["sessions"], 1);
    assert_eq!(properties["allowNewSession"], true);
    assert_eq!(properties["sessionHostHealthCheckResults"], json!([]));
    assert_eq!(
        properties["resourceId"],
        format!(
            "/subscriptions/{SUB}/resourceGroups/{APPS_RG}/providers/Microsoft.Compute/virtualMachines/stale1"
        )
    );
    let fields: Vec<&String> = properties.as_object().expect("object").keys().collect();
    for expected in [
        "objectId",
        "lastHeartBeat",
        "sessions",
        "agentVersion",
        "allowNewSession",
        "assignedUser",
        "status",
        "statusTimestamp",
        "osVersion",
        "sxSStackVersion",
        "updateState",
        "lastUpdateTime",
        "updateErrorMessage",
        "virtualMachineId",
        "friendlyName",
        "resourceId",
        "sessionHostHealthCheckResults",
    ] {
        assert!(
            fields.iter().any(|f| *f == expected),
            "{expected} in {fields:?}"
        );
    }
    let one = get(&emulator, &host(&desktop(), "SH1.contoso.com"))
        .await
        .json();
    assert_eq!(one["name"], "Pool-Desktop/sh1.contoso.com");
    assert_eq!(one["properties"]["status"], "Available");
    assert_eq!(one["properties"]["sessions"], 4);
    let missing = get(&emulator, &host(&desktop(), "nohost.contoso.com")).await;
    let (status, code, message) = cloud_error(&missing);
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(
        message,
        format!(
            "ActivityId: {} Error: Session host does not exist",
            header(&missing, "x-ms-correlation-id")
        )
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn patch_drains_a_host_for_both_flavours() {
    let emulator = start().await;
    let path = host(&desktop(), "sh2.contoso.com");
    let drained = send(
        &emulator,
        Method::PATCH,
        &path,
        Some(r#"{"properties":{"allowNewSession":false}}"#),
    )
    .await;
    assert_eq!(drained.status, StatusCode::OK);
    let body = drained.json();
    assert_eq!(body["name"], "Pool-Desktop/sh2.contoso.com");
    assert_eq!(body["properties"]["allowNewSession"], false);
    assert_eq!(body["properties"]["sessions"], 3);
    assert_eq!(
        header(&drained, "x-ms-ratelimit-remaining-subscription-writes"),
        "199"
    );

    let state = admin_get(&emulator, "state").await;
    assert_eq!(
        state["tenantGroups"][0]["tenants"][0]["hostPools"][0]["sessionHosts"][1]["allowNewSession"],
        false
    );
    let classic_path = format!(
        "/RdsManagement/V1/TenantGroups/{}/Tenants/Contoso/HostPools/Pool-Desktop/SessionHosts/sh2.contoso.com",
        enc(TG)
    );
    let classic = common::read(
        common::authorized(
            &common::client(),
            &emulator.url(),
            Method::GET,
            &classic_path,
        )
        .send()
        .await
        .expect("answered"),
    )
    .await;
    assert_eq!(classic.json()["allowNewSession"], false);
    assert_eq!(
        get(&emulator, &path).await.json()["properties"]["allowNewSession"],
        false
    );
    // Other properties and force are accepted; without allowNewSession nothing changes.
    let other = send(
        &emulator,
        Method::PATCH,
        &format!("{path}?force=true"),
        Some(r#"{"properties":{"friendlyName":"x"}}"#),
    )
    .await;
    assert_eq!(other.json()["properties"]["allowNewSession"], false);
    let undrained = send(
        &emulator,
        Method::PATCH,
        &path,
        Some(r#"{"properties":{"allowNewSession":true}}"#),
    )
    .await;
    assert_eq!(undrained.json()["properties"]["allowNewSession"], true);

    for bad in ["", "nope", r#"{"properties":{"allowNewSession":"no"}}"#] {
        let reply = send(&emulator, Method::PATCH, &path, Some(bad)).await;
        let (status, code, _) = cloud_error(&reply);
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "InvalidRequestContent"),
            "{bad}"
        );
    }
    let missing = send(
        &emulator,
        Method::PATCH,
        &host(&desktop(), "nohost"),
        Some("{}"),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    emulator.shutdown().await;
}

#[tokio::test]
async fn defaults_reach_seeds_and_generated_pools_without_arm_fields() {
    // A tenant with no subscription gets a derived one; a pool its migration resource group.
    let seed = Seed {
        tenant_groups: vec![TenantGroup {
            name: TG.to_owned(),
            tenants: vec![Tenant {
                name: "Plain Tenant".to_owned(),
                host_pools: vec![HostPool {
                    name: "Pool 1".to_owned(),
                    session_hosts: vec![SessionHost {
                        name: "h1.plain.test".to_owned(),
                        ..SessionHost::default()
                    }],
                    ..HostPool::default()
                }],
                ..Tenant::default()
            }],
        }],
        ..Seed::default()
    };
    let emulator = start_with_seed(seed).await;
    emulator
        .generate(&GenerateSpec {
            tenant: "Plain Tenant".to_owned(),
            host_pool: "Pool-Bulk".to_owned(),
            hosts: 2,
            sessions_per_host: 3,
            ..GenerateSpec::default()
        })
        .expect("generated");
    // The mapping says where each classic pool is (as the migration tool's CSV did).
    let mapping = admin_get(&emulator, "arm/hostPools").await;
    let generated = &mapping[1];
    assert_eq!(generated["tenant"], "Plain Tenant");
    assert_eq!(generated["hostPool"], "Pool-Bulk");
    assert_eq!(generated["resourceGroup"], "Plain-Tenant_Pool-Bulk");
    assert_eq!(generated["armHostPoolName"], "Pool-Bulk");
    let subscription = generated["subscriptionId"]
        .as_str()
        .expect("subscription")
        .to_owned();
    assert!(uuid::Uuid::try_parse(&subscription).is_ok());
    assert_eq!(mapping[0]["subscriptionId"], subscription.as_str());
    let listed = get(&emulator, &subscription_pools(&subscription))
        .await
        .json();
    assert_eq!(names(&listed), ["Pool 1", "Pool-Bulk"]);
    let plain_group = listed["value"][0]["id"]
        .as_str()
        .expect("id")
        .split('/')
        .nth(4)
        .expect("rg")
        .to_owned();
    assert_eq!(plain_group, "Plain-Tenant_Pool-1");
    let sessions = get(
        &emulator,
        &format!(
            "/subscriptions/{subscription}/resourceGroups/Plain-Tenant_Pool-Bulk/providers/Microsoft.DesktopVirtualization/hostPools/Pool-Bulk/userSessions"
        ),
    )
    .await
    .json();
    assert_eq!(sessions["value"].as_array().expect("array").len(), 6);
    emulator.shutdown().await;
}
