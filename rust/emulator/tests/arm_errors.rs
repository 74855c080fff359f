//! ARM's errors over real HTTP: api-version checks (with a settable set), missing
//! subscription, resource group and host pool, unknown routes and methods, bad parameters, and
//! the headers every ARM answer carries, errors included.

mod common;

use common::arm::{
    API, SUB, arm_bearer, cloud_error, delete, desktop, get, header, pool, send_with, session,
};
use common::{admin_send, start};
use reqwest::{Method, StatusCode};

fn sessions_without_version() -> String {
    format!("{}/userSessions", desktop())
}

#[tokio::test]
async fn the_api_version_is_required_and_checked_against_a_settable_set() {
    let emulator = start().await;
    let list = sessions_without_version();
    let missing = send_with(&emulator, Method::GET, &list, Some(&arm_bearer()), None).await;
    let (status, code, message) = cloud_error(&missing);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "MissingApiVersionParameter")
    );
    assert_eq!(
        message,
        "The api-version query parameter (?api-version=) is required for all requests."
    );

    let invalid = send_with(
        &emulator,
        Method::GET,
        &format!("{list}?api-version=2020-01-01"),
        Some(&arm_bearer()),
        None,
    )
    .await;
    let (status, code, message) = cloud_error(&invalid);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "InvalidApiVersionParameter")
    );
    assert_eq!(
        message,
        "The api-version '2020-01-01' is invalid. The supported versions are \
         '2025-10-10,2024-04-03,2023-09-05,2022-09-09,2021-07-12'. Please refer to \
         https://aka.ms/arm-api-versions for more details."
    );
    let older = send_with(
        &emulator,
        Method::GET,
        &format!("{list}?api-version=2024-04-03"),
        Some(&arm_bearer()),
        None,
    )
    .await;
    assert_eq!(older.status, StatusCode::OK);

    // A cloud that does not know 2025-10-10 yet: clients must fall back.
    let set = admin_send(
        &emulator,
        Method::PUT,
        "arm",
        Some(r#"{"apiVersions": ["2024-04-03"]}"#.to_owned()),
    )
    .await;
    assert_eq!(set.status(), StatusCode::OK);
    let newest = get(&emulator, &list).await;
    let (status, _, message) = cloud_error(&newest);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message.starts_with(
            "The api-version '2025-10-10' is invalid. The supported versions are '2024-04-03'."
        ),
        "{message}"
    );
    let bad_settings = admin_send(
        &emulator,
        Method::PUT,
        "arm",
        Some(r#"{"apiVersions": []}"#.to_owned()),
    )
    .await;
    assert_eq!(bad_settings.status(), StatusCode::BAD_REQUEST);
    emulator.shutdown().await;
}

#[tokio::test]
async fn missing_subscription_group_and_pool_answer_as_arm_does() {
    let emulator = start().await;
    let other = "bbbbbbbb-2222-4bbb-8bbb-000000000002";
    let no_subscription = get(
        &emulator,
        &format!("/subscriptions/{other}/providers/Microsoft.DesktopVirtualization/hostPools"),
    )
    .await;
    let (status, code, message) = cloud_error(&no_subscription);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "SubscriptionNotFound")
    );
    assert_eq!(
        message,
        format!("The subscription '{other}' could not be found.")
    );

    let no_group = get(&emulator, &pool("rg-nope", "Pool-Desktop")).await;
    let (status, code, message) = cloud_error(&no_group);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "ResourceGroupNotFound")
    );
    assert_eq!(message, "Resource group 'rg-nope' could not be found.");

    let no_pool = delete(
        &emulator,
        &session(
            &pool("Contoso_Pool-Desktop", "Pool-Nope"),
            "sh1.contoso.com",
            "2",
        ),
    )
    .await;
    let (status, code, message) = cloud_error(&no_pool);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "ResourceNotFound")
    );
    assert_eq!(
        message,
        "The Resource 'Microsoft.DesktopVirtualization/hostPools/Pool-Nope' under resource group \
         'Contoso_Pool-Desktop' was not found. For more details please go to \
         https://aka.ms/ARMResourceNotFoundFix"
    );
    // A missing session host on a logoff is a 404, not "session does not exist" (204).
    let no_host = delete(&emulator, &session(&desktop(), "nohost", "2")).await;
    assert_eq!(cloud_error(&no_host).0, StatusCode::NOT_FOUND);
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_methods_and_parameters() {
    let emulator = start().await;
    let unknown = get(
        &emulator,
        &format!("/subscriptions/{SUB}/providers/Microsoft.DesktopVirtualization/workspaces"),
    )
    .await;
    let (status, code, _) = cloud_error(&unknown);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "InvalidResourceType")
    );
    assert_eq!(emulator.requests().last().expect("logged").route, "unknown");

    let put = send_with(
        &emulator,
        Method::PUT,
        &format!(
            "{}?api-version={API}",
            session(&desktop(), "sh1.contoso.com", "2")
        ),
        Some(&arm_bearer()),
        Some("{}"),
    )
    .await;
    let (status, code, message) = cloud_error(&put);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed")
    );
    assert_eq!(
        message,
        "The requested resource does not support http method 'PUT'."
    );
    assert_eq!(header(&put, "allow"), "GET, DELETE");

    let force = send_with(
        &emulator,
        Method::DELETE,
        &format!(
            "{}?api-version={API}&force=yes",
            session(&desktop(), "sh1.contoso.com", "2")
        ),
        Some(&arm_bearer()),
        None,
    )
    .await;
    let (status, code, _) = cloud_error(&force);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "InvalidParameter")
    );
    assert_eq!(
        emulator.state().tenant_groups[0].tenants[0].host_pools[0].session_hosts[0]
            .sessions
            .len(),
        4
    );

    // Unknown paths are still authenticated first.
    let anonymous = send_with(
        &emulator,
        Method::GET,
        &format!("/subscriptions/{SUB}/whatever?api-version={API}"),
        None,
        None,
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    emulator.shutdown().await;
}

#[tokio::test]
async fn every_answer_carries_arm_s_headers() {
    let emulator = start().await;
    let reply = common::read(
        common::client()
            .get(format!(
                "{}{}?api-version={API}",
                emulator.url(),
                session(&desktop(), "sh1.contoso.com", "4")
            ))
            .header("authorization", arm_bearer())
            .header("x-ms-client-request-id", "my-request-1")
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(header(&reply, "x-ms-request-id"), "my-request-1");
    for name in ["x-ms-correlation-request-id", "x-ms-correlation-id"] {
        assert!(
            uuid::Uuid::try_parse(header(&reply, name)).is_ok(),
            "{name}"
        );
    }
    let routing = header(&reply, "x-ms-routing-request-id");
    let parts: Vec<&str> = routing.split(':').collect();
    assert_eq!(parts.len(), 3, "{routing}");
    assert_eq!(parts[0], "EASTUS");
    assert!(parts[1].len() == 16 && parts[1].ends_with('Z'), "{routing}");
    assert_eq!(header(&reply, "cache-control"), "no-cache");
    assert_eq!(header(&reply, "expires"), "-1");
    assert_eq!(
        header(&reply, "content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(
        header(&reply, "x-ms-ratelimit-remaining-subscription-reads"),
        "249"
    );
    assert_eq!(
        header(&reply, "x-ms-ratelimit-remaining-subscription-global-reads"),
        "3749"
    );
    // Errors before the rate limits have the ids but no rate-limit headers.
    let missing = send_with(
        &emulator,
        Method::GET,
        &sessions_without_version(),
        Some(&arm_bearer()),
        None,
    )
    .await;
    assert!(missing.headers.contains_key("x-ms-correlation-id"));
    assert!(
        !missing
            .headers
            .contains_key("x-ms-ratelimit-remaining-subscription-reads")
    );
    emulator.shutdown().await;
}
