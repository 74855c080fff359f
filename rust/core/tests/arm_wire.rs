//! The ARM backend against a scripted Resource Manager (wiremock): the routes and queries it
//! sends, how it reads pages and errors, the api-version fallback, discovery by name and the
//! choice of backend. The behaviour suites run against the emulator's ARM flavour; these pin
//! the wire details the emulator cannot get wrong for us.

use rds_core::arm::{ArmMapping, MappingSource};
use rds_core::signin::{Credential, SignIn, SignInOptions};
use rds_core::{
    AccessToken, BrokerClient, ErrorCode, LogoffOptions, RetryPolicy, SessionAction, SessionTarget,
    StaticToken,
};
use secrecy::SecretString;
use serde_json::json;
use std::sync::Arc;
use wiremock::matchers::{body_json, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SUB: &str = "11111111-1111-1111-1111-111111111111";
const POOL: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-avd/providers/Microsoft.DesktopVirtualization/hostPools/Pool-Desktop";

fn mapping(json: serde_json::Value) -> ArmMapping {
    ArmMapping::parse(&json.to_string(), "test").expect("mapping")
}

fn mapped() -> ArmMapping {
    mapping(json!({"tenants": {"Contoso": {"subscriptionId": SUB, "resourceGroup": "rg-avd"}}}))
}

fn client(server: &MockServer, mapping: ArmMapping) -> BrokerClient {
    BrokerClient::builder(
        server.uri(),
        Arc::new(StaticToken::new(AccessToken::new("arm-token"))),
    )
    .arm(mapping)
    .retry_policy(RetryPolicy::none())
    .build()
    .expect("client")
}

fn session(id: u32, host: &str) -> serde_json::Value {
    json!({
        "id": format!("/subscriptions/{SUB}/resourcegroups/rg-avd/providers/Microsoft.DesktopVirtualization/hostpools/Pool-Desktop/sessionhosts/{host}/usersessions/{id}"),
        "name": format!("Pool-Desktop/{host}/{id}"),
        "type": "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions",
        "systemData": null,
        "properties": {
            "createTime": "2026-11-23T21:04:00.0000000Z",
            "userPrincipalName": format!("user{id}@contoso.com"),
            "sessionState": "Active",
            "applicationType": "Desktop",
            "activeDirectoryUserName": format!("CONTOSO\\user{id}"),
            "objectId": "00000000-0000-0000-0000-000000000001"
        }
    })
}

fn target(id: i32) -> SessionTarget {
    SessionTarget::new("Contoso", "Pool-Desktop", "sh1.contoso.com", id)
}

#[tokio::test]
async fn sessions_are_listed_across_pages_in_the_classic_shape() {
    let server = MockServer::start().await;
    let next = format!(
        "{}{POOL}/userSessions?api-version=2025-10-10&initialSkip=2",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(format!("{POOL}/userSessions")))
        .and(query_param("api-version", "2025-10-10"))
        .and(query_param_is_missing("initialSkip"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"value": [session(1, "sh1.contoso.com"), session(2, "sh1.contoso.com")], "nextLink": next}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{POOL}/userSessions")))
        .and(query_param("initialSkip", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [session(7, "sh2.contoso.com")], "nextLink": null})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sessions = client(&server, mapped())
        .list_sessions("contoso", "Pool-Desktop")
        .await
        .expect("listed");
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions[2].session_host_name, "sh2.contoso.com");
    assert_eq!(sessions[2].session_id, 7);
    assert_eq!(
        sessions[0].tenant_name, "contoso",
        "the name as the script gave it"
    );
    assert_eq!(sessions[0].tenant_group_name, "Default Tenant Group");
    assert_eq!(sessions[0].ad_user_name.as_deref(), Some("CONTOSO\\user1"));
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [session(1, "sh1.contoso.com")],
            "nextLink": "https://evil.example/steal?api-version=2025-10-10"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server, mapped())
        .list_sessions("Contoso", "Pool-Desktop")
        .await
        .expect_err("foreign nextLink");
    assert_eq!(err.code(), ErrorCode::BrokerProtocolError);
    assert!(err.message().contains("is not followed"), "{err}");
    assert!(!err.message().contains("steal"), "{err}");
}

#[tokio::test]
async fn logoff_is_a_delete_with_force_only_when_asked_and_204_is_done() {
    let server = MockServer::start().await;
    let route = format!("{POOL}/sessionHosts/sh1.contoso.com/userSessions/17");
    Mock::given(method("DELETE"))
        .and(path(route.clone()))
        .and(query_param("api-version", "2025-10-10"))
        .and(query_param_is_missing("force"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!(
            "{POOL}/sessionHosts/sh1.contoso.com/userSessions/18"
        )))
        .and(query_param("force", "true"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, mapped());
    let done = client
        .logoff(&target(17), LogoffOptions::default())
        .await
        .expect("200");
    assert_eq!(done.status, 200);
    assert!(done.notes.is_empty(), "{:?}", done.notes);
    let gone = client
        .logoff(&target(18), LogoffOptions { force: true })
        .await
        .expect("204 counts as done");
    assert_eq!(gone.status, 204);
    assert!(
        gone.notes.iter().any(|n| n.contains("did not exist")),
        "{:?}",
        gone.notes
    );
}

#[tokio::test]
async fn disconnect_and_send_message_are_posts_with_the_spec_body() {
    let server = MockServer::start().await;
    let route = format!("{POOL}/sessionHosts/sh1.contoso.com/userSessions/17");
    Mock::given(method("POST"))
        .and(path(format!("{route}/disconnect")))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{route}/sendMessage")))
        .and(body_json(
            json!({"messageTitle": "Maintenance", "messageBody": "Log off, please.\nThanks"}),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, mapped());
    client.disconnect(&target(17)).await.expect("disconnected");
    client
        .send_message(&target(17), "Maintenance", "Log off, please.\nThanks")
        .await
        .expect("sent");
}

#[tokio::test]
async fn arm_errors_get_their_error_ids_and_say_what_to_do() {
    let cases = [
        (
            ResponseTemplate::new(404).set_body_string(
                r#"{"error":{"code":"404","message":"ActivityId: 6b8a Error: User session does not exist"}}"#,
            ),
            ErrorCode::SessionNotFound,
            "User session does not exist",
        ),
        (
            ResponseTemplate::new(409).set_body_string(
                r#"{"error":{"code":"ScopeLocked","message":"The scope '/subscriptions/s/resourceGroups/rg-avd' cannot perform delete operation because following scope(s) are locked: '/subscriptions/s/resourceGroups/rg-avd'. Please remove the lock and try again."}}"#,
            ),
            ErrorCode::ResourceLocked,
            "A logoff is an Azure Resource Manager DELETE",
        ),
        (
            ResponseTemplate::new(403).set_body_string(
                r#"{"error":{"code":"AuthorizationFailed","message":"The client 'x' with object id 'x' does not have authorization to perform action 'Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions/delete' over scope '/x' or the scope is invalid."}}"#,
            ),
            ErrorCode::AuthorizationFailed,
            "Desktop Virtualization User Session Operator",
        ),
        (
            ResponseTemplate::new(404).set_body_string(
                r#"{"error":{"code":"ResourceGroupNotFound","message":"Resource group 'rg-avd' could not be found."}}"#,
            ),
            ErrorCode::ResourceGroupNotFound,
            "Resource group 'rg-avd' could not be found",
        ),
        (
            ResponseTemplate::new(404).set_body_string(
                r#"{"error":{"code":"SubscriptionNotFound","message":"The subscription '11111111-1111-1111-1111-111111111111' could not be found."}}"#,
            ),
            ErrorCode::SubscriptionNotFound,
            "could not be found",
        ),
        (
            ResponseTemplate::new(404).set_body_string(
                r#"{"error":{"code":"ResourceNotFound","message":"The Resource 'Microsoft.DesktopVirtualization/hostPools/Pool-Desktop' under resource group 'rg-avd' was not found."}}"#,
            ),
            ErrorCode::HostPoolNotFound,
            "was not found",
        ),
    ];
    for (response, code, needle) in cases {
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .respond_with(response)
            .mount(&server)
            .await;
        let err = client(&server, mapped())
            .logoff(&target(17), LogoffOptions::default())
            .await
            .expect_err("refused");
        assert_eq!(err.code(), code, "{err}");
        assert!(err.message().contains(needle), "{code}: {err}");
        assert!(err.message().contains("correlation id"), "{err}");
    }
}

#[tokio::test]
async fn an_invalid_api_version_falls_back_once_and_stays_fallen_back() {
    let server = MockServer::start().await;
    Mock::given(query_param("api-version", "2025-10-10"))
        .respond_with(ResponseTemplate::new(400).set_body_string(
            r#"{"error":{"code":"InvalidApiVersionParameter","message":"The api-version '2025-10-10' is invalid. The supported versions are '2024-04-03,2022-09-09'."}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(query_param("api-version", "2024-04-03"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server, mapped());
    let first = client
        .logoff(&target(17), LogoffOptions::default())
        .await
        .expect("fallback works");
    assert!(
        first
            .notes
            .iter()
            .any(|n| n.contains("refused api-version 2025-10-10; using 2024-04-03")),
        "{:?}",
        first.notes
    );
    let second = client
        .session_action(&target(18), &SessionAction::Disconnect)
        .await
        .expect("straight to the fallback");
    assert!(second.notes.is_empty(), "{:?}", second.notes);
    assert_eq!(client.arm_api_version().as_deref(), Some("2024-04-03"));
}

fn pool(group: &str, name: &str) -> serde_json::Value {
    json!({"id": format!("/subscriptions/{SUB}/resourcegroups/{group}/providers/Microsoft.DesktopVirtualization/hostpools/{name}"),
           "name": name, "type": "Microsoft.DesktopVirtualization/hostpools", "location": "westeurope", "properties": {}})
}

#[tokio::test]
async fn discovery_finds_the_resource_group_by_name_once_and_breaks_ties_by_migration_naming() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/subscriptions/{SUB}/providers/Microsoft.DesktopVirtualization/hostPools")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [pool("rg-other", "Pool-Apps"), pool("Contoso_Pool-Desktop", "pool-desktop"), pool("rg-lab", "Pool-Desktop")],
            "nextLink": null
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/subscriptions/{SUB}/resourceGroups/Contoso_Pool-Desktop/providers/Microsoft.DesktopVirtualization/hostPools/pool-desktop/sessionHosts/sh1.contoso.com/userSessions/17")))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(
        &server,
        mapping(json!({"tenants": {"Contoso": {"subscriptionId": SUB}}})),
    );
    let first = client
        .logoff(&target(17), LogoffOptions::default())
        .await
        .expect("found");
    assert!(
        first.notes.iter().any(|n| n.contains("found by name")),
        "{:?}",
        first.notes
    );
    let second = client
        .logoff(&target(17), LogoffOptions::default())
        .await
        .expect("cached");
    assert!(second.notes.is_empty(), "{:?}", second.notes);
}

#[tokio::test]
async fn an_ambiguous_or_missing_host_pool_is_a_clear_error_and_nothing_is_logged_off() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [pool("rg-a", "Pool-Desktop"), pool("rg-b", "Pool-Desktop")],
            "nextLink": null
        })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let client = client(
        &server,
        mapping(json!({"tenants": {"Contoso": {"subscriptionId": SUB}}})),
    );
    let err = client
        .logoff(&target(17), LogoffOptions::default())
        .await
        .expect_err("ambiguous");
    assert_eq!(err.code(), ErrorCode::HostPoolAmbiguous);
    assert!(err.message().contains("resource group 'rg-a'"), "{err}");
    assert!(err.message().contains("resource group 'rg-b'"), "{err}");
    assert!(err.message().contains("Set-RdsArmMapping -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' -ResourceGroupName"), "{err}");

    let missing = client
        .logoff(
            &SessionTarget::new("Contoso", "Pool-Nope", "sh1", 1),
            LogoffOptions::default(),
        )
        .await
        .expect_err("missing");
    assert_eq!(missing.code(), ErrorCode::HostPoolNotFound);

    let unmapped = client
        .logoff(
            &SessionTarget::new("Fabrikam", "Pool1", "sh1", 1),
            LogoffOptions::default(),
        )
        .await
        .expect_err("unmapped");
    assert_eq!(unmapped.code(), ErrorCode::ArmMappingNotFound);
}

fn sign_in(url: &str, mapping: Option<ArmMapping>) -> Result<SignIn, rds_core::Error> {
    let options = SignInOptions {
        arm_mapping: mapping.map(|mapping| MappingSource {
            mapping,
            source: "/home/admin/.config/RdsSessions/arm-mapping.json".into(),
        }),
        default_mapping_path: Some("/home/admin/.config/RdsSessions/arm-mapping.json".into()),
        ..SignInOptions::new(url)
    };
    SignIn::new(
        options,
        Credential::ClientSecret {
            tenant_id: "contoso.onmicrosoft.com".into(),
            client_id: "22222222-2222-2222-2222-222222222222".into(),
            secret: SecretString::from("s"),
        },
        rds_core::client::default_http_client().expect("http"),
    )
}

#[test]
fn the_backend_is_chosen_by_configuration_not_by_the_script() {
    // The classic URL with a mapping: routed to ARM, and said so.
    let routed = sign_in("https://rdbroker.wvd.microsoft.com", Some(mapped())).expect("routed");
    assert_eq!(
        routed.audience().resource(),
        "https://management.azure.com/"
    );
    assert!(
        routed.notes()[0]
            .contains("is routed to Azure Resource Manager at https://management.azure.com"),
        "{:?}",
        routed.notes()
    );
    // Without a mapping: refused, saying exactly how to configure one.
    let err = sign_in("https://rdbroker.wvd.microsoft.com", None).expect_err("no mapping");
    assert_eq!(err.code(), ErrorCode::ArmMappingRequired);
    for needle in [
        "retired on 2026-09-30",
        "Set-RdsArmMapping -TenantName",
        "RDSSESSIONS_ARM_MAPPING",
        "-ArmMapping",
        "arm-mapping.json",
    ] {
        assert!(err.message().contains(needle), "{needle}: {err}");
    }
    // A sovereign Resource Manager asks its own audience.
    let gov = sign_in("https://management.usgovcloudapi.net", None).expect("gov");
    assert_eq!(
        gov.audience().resource(),
        "https://management.usgovcloudapi.net/"
    );
    // The mapping's endpoint (the emulator) is ARM; another URL stays classic.
    let emulator = mapping(json!({"armEndpoint": "http://127.0.0.1:5000", "tenants": {}}));
    let arm = sign_in("http://127.0.0.1:5000", Some(emulator.clone())).expect("arm");
    assert_eq!(arm.audience().resource(), "https://management.azure.com/");
    let classic = sign_in("http://127.0.0.1:6000", Some(emulator)).expect("classic");
    assert_eq!(classic.audience().resource(), rds_core::BROKER_RESOURCE);
}
