//! The classic read side over real HTTP: tenants, host pools, session hosts, and the session
//! host update that sets drain mode (visible in the state, to ARM and in later reads).

mod common;

use common::{Reply, TG, bearer, client, enc, logoff_path, read, start, start_with_seed};
use rds_emulator::{Emulator, FaultConfig, FaultKind, FaultRoute, Seed};
use reqwest::header::{ALLOW, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SUBSCRIPTION: &str = "aaaaaaaa-1111-4aaa-8aaa-000000000001";
const AAD_TENANT: &str = "11111111-1111-1111-1111-111111111111";

fn tenants_path() -> String {
    format!("/RdsManagement/V1/TenantGroups/{}/Tenants", enc(TG))
}

fn pool_path(tenant: &str, pool: &str) -> String {
    format!("{}/{}/HostPools/{}", tenants_path(), enc(tenant), enc(pool))
}

fn host_path(tenant: &str, pool: &str, host: &str) -> String {
    format!("{}/SessionHosts/{}", pool_path(tenant, pool), enc(host))
}

async fn send(emulator: &Emulator, method: Method, path: &str, body: Option<&str>) -> Reply {
    let mut request = client()
        .request(method, format!("{}{path}", emulator.url()))
        .header(AUTHORIZATION, bearer());
    if let Some(body) = body {
        request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned());
    }
    read(request.send().await.expect("answered")).await
}

async fn get(emulator: &Emulator, path: &str) -> Reply {
    send(emulator, Method::GET, path, None).await
}

async fn patch(emulator: &Emulator, path: &str, body: &str) -> Reply {
    send(emulator, Method::PATCH, path, Some(body)).await
}

fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .expect("a bare array")
        .iter()
        .map(|item| item[field].as_str().expect("name").to_owned())
        .collect()
}

fn not_found(code: &str, message: &str, target: &str) -> Value {
    json!({"error": {"code": code, "message": message, "target": target,
        "details": [{"code": code, "message": message, "target": target}]}})
}

#[tokio::test]
async fn tenants_list_as_get_rds_tenant_shows_them() {
    let emulator = start().await;
    let reply = get(&emulator, &tenants_path()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let tenants = reply.json();
    assert_eq!(names(&tenants, "tenantName"), ["Contoso", "Fabrikam"]);
    assert_eq!(
        tenants[0],
        json!({
            "tenantGroupName": TG, "aadTenantId": AAD_TENANT, "tenantName": "Contoso",
            "description": null, "friendlyName": null, "ssoAdfsAuthority": null,
            "ssoClientId": null, "ssoClientSecret": null, "azureSubscriptionId": SUBSCRIPTION,
            "logAnalyticsWorkspaceId": null, "logAnalyticsPrimaryKey": null,
        })
    );
    let one = get(&emulator, &format!("{}/Fabrikam", tenants_path())).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["azureSubscriptionId"], SUBSCRIPTION);
    emulator.shutdown().await;
}

#[tokio::test]
async fn forbidden_and_missing_objects_answer_as_the_broker_does() {
    let mut seed = Seed::sample();
    seed.tenant_groups[0].tenants[1].forbidden = true;
    let emulator = start_with_seed(seed).await;
    // A forbidden tenant is left out of the list and refused by name.
    assert_eq!(
        names(&get(&emulator, &tenants_path()).await.json(), "tenantName"),
        ["Contoso"]
    );
    let forbidden = get(&emulator, &format!("{}/Fabrikam/HostPools", tenants_path())).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(forbidden.json()["error"]["code"], "Forbidden");

    let group = get(&emulator, "/RdsManagement/V1/TenantGroups/Nope/Tenants").await;
    assert_eq!(group.status, StatusCode::NOT_FOUND);
    assert_eq!(
        group.json(),
        not_found(
            "TenantGroupNotFound",
            "Tenant group 'Nope' does not exist.",
            "Nope"
        )
    );
    let tenant = get(&emulator, &format!("{}/Nope", tenants_path())).await;
    assert_eq!(
        tenant.json(),
        not_found(
            "TenantNotFound",
            "Tenant 'Nope' does not exist in tenant group 'Default Tenant Group'.",
            "Nope"
        )
    );
    let pool = get(&emulator, &pool_path("Contoso", "Nope")).await;
    assert_eq!(
        pool.json(),
        not_found(
            "HostPoolNotFound",
            "Host pool 'Nope' does not exist in tenant 'Contoso'.",
            "Nope"
        )
    );
    let host = get(&emulator, &host_path("Contoso", "Pool-Desktop", "nohost")).await;
    assert_eq!(host.status, StatusCode::NOT_FOUND);
    assert_eq!(
        host.json(),
        not_found(
            "SessionHostNotFound",
            "Session host 'nohost' does not exist in host pool 'Pool-Desktop'.",
            "nohost"
        )
    );
    // Unauthenticated requests learn nothing.
    let anonymous = read(
        client()
            .get(format!("{}{}", emulator.url(), tenants_path()))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    emulator.shutdown().await;
}

#[tokio::test]
async fn host_pools_and_session_hosts_have_the_rdmgmt_shapes() {
    let emulator = start().await;
    let pools = get(&emulator, &format!("{}/Contoso/HostPools", tenants_path())).await;
    assert_eq!(pools.status, StatusCode::OK);
    assert_eq!(
        names(&pools.json(), "hostPoolName"),
        ["Pool-Desktop", "Pool-Apps"]
    );
    let pool = get(&emulator, &pool_path("Contoso", "Pool-Desktop"))
        .await
        .json();
    assert_eq!(
        pool,
        json!({
            "tenantName": "Contoso", "tenantGroupName": TG, "hostPoolName": "Pool-Desktop",
            "friendlyName": null, "description": null, "persistent": false,
            "customRdpProperty": null, "maxSessionLimit": 999999, "loadBalancerType": 0,
            "validationEnv": false, "ring": null, "assignmentType": null,
        })
    );

    let hosts = get(
        &emulator,
        &format!("{}/SessionHosts", pool_path("Contoso", "Pool-Apps")),
    )
    .await
    .json();
    assert_eq!(
        names(&hosts, "sessionHostName"),
        ["app1.contoso.com", "stale1.contoso.com"]
    );
    let app1 = &hosts[0];
    assert_eq!(app1["sessions"], 2);
    assert_eq!(app1["allowNewSession"], true);
    assert_eq!(app1["status"], "Available");
    assert_eq!(hosts[1]["status"], "Unavailable");
    assert_eq!(hosts[1]["sessions"], 1);
    let fields: Vec<&String> = app1.as_object().expect("object").keys().collect();
    assert_eq!(
        fields,
        [
            "agentVersion",
            "allowNewSession",
            "assignedUser",
            "hostPoolName",
            "lastHeartBeat",
            "lastUpdateTime",
            "osVersion",
            "sessionHostName",
            "sessions",
            "status",
            "statusTimestamp",
            "sxSStackVersion",
            "tenantGroupName",
            "tenantName",
            "updateErrorMessage",
            "updateState",
        ]
    );
    let beat = app1["lastHeartBeat"].as_str().expect("time");
    assert!(beat.ends_with('Z') && beat.len() == 28, "{beat}");
    let one = get(
        &emulator,
        &host_path("Contoso", "Pool-Desktop", "sh1.contoso.com"),
    )
    .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["sessions"], 4);
    emulator.shutdown().await;
}

#[tokio::test]
async fn patch_sets_drain_mode_in_the_shared_state() {
    let emulator = start().await;
    let path = host_path("Contoso", "Pool-Desktop", "sh1.contoso.com");
    // The management UX sample sends the whole session host; only allowNewSession counts.
    let drained = patch(
        &emulator,
        &path,
        r#"{"tenantGroupName":"Default Tenant Group","sessionHostName":"sh1.contoso.com","allowNewSession":false}"#,
    )
    .await;
    assert_eq!(drained.status, StatusCode::OK);
    let body = drained.json();
    assert_eq!(body["allowNewSession"], false);
    assert_eq!(body["sessionHostName"], "sh1.contoso.com");
    assert_eq!(body["sessions"], 4, "existing sessions stay");

    let state = emulator.state();
    let host = &state.tenant_groups[0].tenants[0].host_pools[0].session_hosts[0];
    assert!(!host.allow_new_session);
    let state_json = common::admin_get(&emulator, "state").await;
    assert_eq!(
        state_json["tenantGroups"][0]["tenants"][0]["hostPools"][0]["sessionHosts"][0]["allowNewSession"],
        false
    );
    assert_eq!(get(&emulator, &path).await.json()["allowNewSession"], false);
    // Drain mode does not stop a logoff.
    let logoff = logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", "2");
    assert_eq!(
        send(&emulator, Method::POST, &logoff, Some("{}"))
            .await
            .status,
        StatusCode::OK
    );

    // A body without allowNewSession changes nothing; true ends drain mode.
    assert_eq!(
        patch(&emulator, &path, "{}").await.json()["allowNewSession"],
        false
    );
    assert_eq!(
        patch(&emulator, &path, r#"{"AllowNewSession":true}"#)
            .await
            .json()["allowNewSession"],
        true
    );
    assert!(
        emulator.state().tenant_groups[0].tenants[0].host_pools[0].session_hosts[0]
            .allow_new_session
    );

    let routes: Vec<String> = emulator.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(
        routes,
        [
            "updateSessionHost",
            "getSessionHost",
            "logoffUser",
            "updateSessionHost",
            "updateSessionHost"
        ]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn bad_updates_and_wrong_methods_are_refused() {
    let emulator = start().await;
    let path = host_path("Contoso", "Pool-Desktop", "sh1.contoso.com");
    for body in ["not json", r#"{"allowNewSession":"no"}"#, "[]"] {
        let reply = patch(&emulator, &path, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.json()["Error"], "InvalidDataFormat", "{body}");
    }
    // The host is looked up before the body is judged.
    let missing = patch(
        &emulator,
        &host_path("Contoso", "Pool-Desktop", "nohost"),
        "nope",
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(emulator.state(), Seed::sample());

    let delete = send(&emulator, Method::DELETE, &path, None).await;
    assert_eq!(delete.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(delete.headers[ALLOW], "GET, PATCH");
    emulator.shutdown().await;
}

#[tokio::test]
async fn read_side_routes_take_injected_faults_when_named() {
    let emulator = start().await;
    emulator
        .set_faults(Some(FaultConfig::always(FaultKind::Malformed).on_routes(
            &[FaultRoute::ListSessionHosts, FaultRoute::UpdateSessionHost],
        )));
    let list = get(
        &emulator,
        &format!("{}/SessionHosts", pool_path("Contoso", "Pool-Desktop")),
    )
    .await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        serde_json::from_str::<Value>(&list.body).is_err(),
        "cut in half"
    );
    let update = patch(
        &emulator,
        &host_path("Contoso", "Pool-Desktop", "sh1.contoso.com"),
        r#"{"allowNewSession":false}"#,
    )
    .await;
    assert_eq!(update.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        emulator.state().tenant_groups[0].tenants[0].host_pools[0].session_hosts[0]
            .allow_new_session,
        "a malformed fault stops the update"
    );
    // Routes not named get no fault.
    assert_eq!(get(&emulator, &tenants_path()).await.status, StatusCode::OK);
    assert_eq!(emulator.fault_stats().requests, 2);
    emulator.shutdown().await;
}
