//! Managed identity endpoints: Azure VM IMDS and App Service / Functions / Automation.

mod common;

use reqwest::StatusCode;
use serde_json::json;

use common::entra::{
    MSI_HEADER, Reply, SYSTEM_MI_ID, USER_MI_ID, claims, identity, list_with_token, now, read,
    start_with,
};
use rds_emulator::{BROKER_RESOURCE, Emulator, IdentityConfig};

async fn start() -> Emulator {
    start_with(identity(Vec::new())).await
}

/// GETs `path_and_query`, with the header `name: value` when `value` is given.
async fn get_with_header(
    emulator: &Emulator,
    path_and_query: &str,
    name: &str,
    value: Option<&str>,
) -> Reply {
    let mut request = common::client().get(format!("{}{path_and_query}", emulator.url()));
    if let Some(value) = value {
        request = request.header(name, value);
    }
    read(request.send().await.expect("sent")).await
}

async fn imds(emulator: &Emulator, query: &str, metadata: Option<&str>) -> Reply {
    let path = format!("/metadata/identity/oauth2/token?{query}");
    get_with_header(emulator, &path, "Metadata", metadata).await
}

fn imds_query(resource: &str, client_id: Option<&str>) -> String {
    let mut query = format!("api-version=2018-02-01&resource={resource}");
    if let Some(id) = client_id {
        query.push_str(&format!("&client_id={id}"));
    }
    query
}

#[tokio::test]
async fn imds_system_assigned() {
    let emulator = start().await;
    let reply = imds(&emulator, &imds_query(BROKER_RESOURCE, None), Some("true")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    let token = reply.access_token();
    // IMDS sends every number as a string.
    let expires_in = body["expires_in"].as_str().expect("string expires_in");
    assert_eq!(expires_in, "3600");
    let expires_on: u64 = body["expires_on"]
        .as_str()
        .expect("string")
        .parse()
        .expect("epoch");
    let not_before: u64 = body["not_before"]
        .as_str()
        .expect("string")
        .parse()
        .expect("epoch");
    // `not_before` is rounded down, `expires_on` is the rounded issue time plus the lifetime.
    assert!((3600..=3601).contains(&(expires_on - not_before)));
    assert!(not_before.abs_diff(now()) <= 2);
    assert_eq!(body["refresh_token"], "");
    assert_eq!(body["resource"], BROKER_RESOURCE);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["client_id"], SYSTEM_MI_ID);
    assert_eq!(claims(&token)["appid"], SYSTEM_MI_ID);
    assert_eq!(claims(&token)["app_displayname"], "vm-rds-automation");

    let list = list_with_token(&emulator.url(), &token).await;
    assert_eq!(list.status, StatusCode::OK);
    let log = emulator.requests();
    assert_eq!(log[0].route, "imds");
    assert_eq!(log[0].client_id.as_deref(), Some(SYSTEM_MI_ID));
    assert_eq!(
        log[0].query.as_deref(),
        Some(imds_query(BROKER_RESOURCE, None).as_str())
    );
    assert_eq!(log[1].caller.as_deref(), Some(SYSTEM_MI_ID));
    assert_eq!(emulator.tokens_issued()[0].grant, "imds");

    // The trailing slash form of the resource is accepted too.
    let reply = imds(
        &emulator,
        &imds_query(&format!("{BROKER_RESOURCE}/"), None),
        Some("true"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    emulator.shutdown().await;
}

#[tokio::test]
async fn imds_errors() {
    let emulator = start().await;
    let query = imds_query(BROKER_RESOURCE, None);
    for metadata in [None, Some("false")] {
        let reply = imds(&emulator, &query, metadata).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            reply.json(),
            json!({"error": "invalid_request", "error_description": "Required metadata header not specified"})
        );
    }
    // A resource the emulator issues no tokens for (it knows the broker's and ARM's).
    let reply = imds(
        &emulator,
        &imds_query("https://graph.microsoft.com/", None),
        Some("true"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"], "invalid_resource");

    let reply = imds(
        &emulator,
        &imds_query(
            BROKER_RESOURCE,
            Some("77777777-7777-7777-7777-777777777777"),
        ),
        Some("true"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"error": "invalid_request", "error_description": "Identity not found"})
    );
    let reply = imds(
        &emulator,
        &format!("resource={BROKER_RESOURCE}"),
        Some("true"),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "api-version is required"
    );
    assert!(emulator.tokens_issued().is_empty());
    emulator.shutdown().await;
}

#[tokio::test]
async fn imds_user_assigned_and_no_system_identity() {
    let emulator = start().await;
    let reply = imds(
        &emulator,
        &imds_query(BROKER_RESOURCE, Some(USER_MI_ID)),
        Some("true"),
    )
    .await;
    let token = reply.access_token();
    assert_eq!(reply.json()["client_id"], USER_MI_ID);
    assert_eq!(claims(&token)["appid"], USER_MI_ID);
    assert_eq!(
        list_with_token(&emulator.url(), &token).await.status,
        StatusCode::OK
    );

    // Without a system-assigned identity, a request naming no client_id finds nothing.
    let mut only_user_assigned = identity(Vec::new());
    only_user_assigned
        .managed_identities
        .retain(|mi| !mi.system_assigned);
    let mut seed = emulator.state();
    seed.identity = Some(only_user_assigned);
    emulator.set_state(seed);
    let reply = imds(&emulator, &imds_query(BROKER_RESOURCE, None), Some("true")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error_description"], "Identity not found");
    emulator.shutdown().await;
}

async fn app_service_get(emulator: &Emulator, query: &str, header: Option<&str>) -> Reply {
    get_with_header(
        emulator,
        &format!("/msi/token?{query}"),
        "X-IDENTITY-HEADER",
        header,
    )
    .await
}

#[tokio::test]
async fn app_service_header_and_identities() {
    let emulator = start().await;
    let query = format!("resource={BROKER_RESOURCE}&api-version=2019-08-01");
    let reply = app_service_get(&emulator, &query, Some(MSI_HEADER)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    let mut keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token",
            "client_id",
            "expires_on",
            "resource",
            "token_type"
        ]
    );
    let expires_on: u64 = body["expires_on"]
        .as_str()
        .expect("string")
        .parse()
        .expect("epoch");
    assert!(expires_on.abs_diff(now() + 3600) <= 2);
    assert_eq!(body["client_id"], SYSTEM_MI_ID);
    assert_eq!(body["token_type"], "Bearer");
    let token = reply.access_token();
    assert_eq!(
        list_with_token(&emulator.url(), &token).await.status,
        StatusCode::OK
    );

    let wrong_header = "wrong-identity-header-0d4f";
    for header in [None, Some(wrong_header)] {
        let reply = app_service_get(&emulator, &query, header).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.json()["error"], "unauthorized");
        assert!(!reply.body.contains(wrong_header) && !reply.body.contains(MSI_HEADER));
    }

    let reply = app_service_get(
        &emulator,
        &format!("{query}&client_id={USER_MI_ID}"),
        Some(MSI_HEADER),
    )
    .await;
    assert_eq!(reply.json()["client_id"], USER_MI_ID);
    let reply = app_service_get(
        &emulator,
        "resource=https://vault.azure.net&api-version=2019-08-01",
        Some(MSI_HEADER),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"], "invalid_resource");

    let log = serde_json::to_string(&emulator.requests()).expect("log");
    assert!(
        !log.contains(MSI_HEADER) && !log.contains(wrong_header),
        "{log}"
    );
    assert!(
        emulator
            .requests()
            .iter()
            .all(|r| r.route == "appServiceMsi" || r.route == "listSessions")
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn automation_posts_a_form() {
    let emulator = start().await;
    let reply = read(
        common::client()
            .post(format!("{}/msi/token", emulator.url()))
            .header("X-IDENTITY-HEADER", MSI_HEADER)
            .header("Metadata", "True")
            .form(&[("resource", BROKER_RESOURCE)])
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let token = reply.access_token();
    assert_eq!(claims(&token)["appid"], SYSTEM_MI_ID);
    assert_eq!(emulator.tokens_issued()[0].grant, "app_service");
    emulator.shutdown().await;
}

#[tokio::test]
async fn without_an_identity_header_configured_app_service_refuses() {
    let emulator = start_with(IdentityConfig {
        managed_identities: identity(Vec::new()).managed_identities,
        ..IdentityConfig::default()
    })
    .await;
    let query = format!("resource={BROKER_RESOURCE}&api-version=2019-08-01");
    let reply = app_service_get(&emulator, &query, Some(MSI_HEADER)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    emulator.shutdown().await;
}
