//! ARM role assignments and resource locks over real HTTP: open when none is configured,
//! Azure's built-in roles at subscription, resource group and host pool scope, filtered host
//! pool lists, `AuthorizationFailed` and `ScopeLocked` in ARM's words, and their admin routes.

mod common;

use common::arm::{
    API, APPS_RG, DESKTOP_RG, FABRIKAM_RG, SUB, apps, cloud_error, delete, desktop, get, host,
    names, post, send, send_with, session,
};
use common::entra::{APP_ID, APP_SECRET, TENANT, claims, post_form, token_url};
use common::{admin_get, admin_send, start, start_with_seed};
use rds_emulator::{
    ArmConfig, Emulator, LockLevel, ResourceLock, RoleAssignment, STATIC_ARM_PRINCIPAL_ID, Seed,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn group_scope(group: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{group}")
}

async fn assign(emulator: &Emulator, principal: &str, role: &str, scope: &str) {
    let body = json!({"principalId": principal, "roleDefinitionName": role, "scope": scope});
    let reply = admin_send(
        emulator,
        Method::POST,
        "arm/roleAssignments",
        Some(body.to_string()),
    )
    .await;
    assert_eq!(reply.status(), StatusCode::OK);
}

async fn lock(emulator: &Emulator, scope: &str, level: &str) {
    let body = json!({"name": "test-lock", "scope": scope, "level": level});
    let reply = admin_send(emulator, Method::POST, "arm/locks", Some(body.to_string())).await;
    assert_eq!(reply.status(), StatusCode::OK);
}

fn forbidden(reply: &common::Reply, action: &str, scope: &str) {
    let (status, code, message) = cloud_error(reply);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "AuthorizationFailed")
    );
    assert_eq!(
        message,
        format!(
            "The client '{STATIC_ARM_PRINCIPAL_ID}' with object id '{STATIC_ARM_PRINCIPAL_ID}' does \
             not have authorization to perform action '{action}' over scope '{scope}' or the scope \
             is invalid. If access was recently granted, please refresh your credentials."
        )
    );
}

#[tokio::test]
async fn the_user_session_operator_logs_off_where_assigned_and_nowhere_else() {
    let emulator = start().await;
    assign(
        &emulator,
        STATIC_ARM_PRINCIPAL_ID,
        "Desktop Virtualization User Session Operator",
        &group_scope(DESKTOP_RG),
    )
    .await;

    let alice = session(&desktop(), "sh1.contoso.com", "2");
    assert_eq!(get(&emulator, &alice).await.status, StatusCode::OK);
    assert_eq!(delete(&emulator, &alice).await.status, StatusCode::OK);
    assert_eq!(
        post(
            &emulator,
            &format!("{}/disconnect", session(&desktop(), "sh1.contoso.com", "3")),
            None
        )
        .await
        .status,
        StatusCode::OK
    );

    // Elsewhere (another resource group): refused before anything is looked up.
    let grace = session(&apps(), "app1.contoso.com", "1");
    let refused = delete(&emulator, &grace).await;
    forbidden(
        &refused,
        "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions/delete",
        &format!(
            "{}/providers/Microsoft.DesktopVirtualization/hostPools/hp-contoso-apps/sessionHosts/app1.contoso.com/userSessions/1",
            group_scope(APPS_RG)
        ),
    );
    assert_eq!(
        emulator.state().tenant_groups[0].tenants[0].host_pools[1].session_hosts[0]
            .sessions
            .len(),
        2
    );
    // Not even the existence of a resource group is revealed.
    let nowhere = delete(
        &emulator,
        &session(&common::arm::pool("rg-nope", "x"), "h", "1"),
    )
    .await;
    assert_eq!(nowhere.status, StatusCode::FORBIDDEN);
    // The operator may not drain hosts.
    let drain = send(
        &emulator,
        Method::PATCH,
        &host(&desktop(), "sh1.contoso.com"),
        Some(r#"{"properties":{"allowNewSession":false}}"#),
    )
    .await;
    forbidden(
        &drain,
        "Microsoft.DesktopVirtualization/hostpools/sessionhosts/write",
        &format!(
            "{}/providers/Microsoft.DesktopVirtualization/hostPools/Pool-Desktop/sessionHosts/sh1.contoso.com",
            group_scope(DESKTOP_RG)
        ),
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn roles_follow_azure_s_definitions_and_principals_by_object_or_client_id() {
    let emulator = start().await;
    // An application's token, assigned by its client id.
    let token = post_form(
        &token_url(&emulator.url(), TENANT),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("client_secret", APP_SECRET),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await
    .access_token();
    let object_id = claims(&token)["oid"].as_str().expect("oid").to_owned();
    let as_app = |method: Method, path: String| {
        let auth = format!("Bearer {token}");
        let emulator = &emulator;
        async move {
            send_with(
                emulator,
                method,
                &format!("{path}?api-version={API}"),
                Some(&auth),
                None,
            )
            .await
        }
    };
    assign(
        &emulator,
        APP_ID,
        "Reader",
        &format!("/subscriptions/{SUB}"),
    )
    .await;
    assert_eq!(
        as_app(Method::GET, format!("{}/userSessions", desktop()))
            .await
            .status,
        StatusCode::OK
    );
    let denied = as_app(Method::DELETE, session(&desktop(), "sh1.contoso.com", "2")).await;
    let (status, _, message) = cloud_error(&denied);
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        message.starts_with(&format!(
            "The client '{APP_ID}' with object id '{object_id}' does not have authorization"
        )),
        "{message}"
    );

    // Azure's Session Host Operator holds sessionhosts/*, user sessions included.
    assign(
        &emulator,
        &object_id,
        "2ad6aaab-ead9-4eaa-8ac5-da422f562408",
        &desktop(),
    )
    .await;
    assert_eq!(
        as_app(Method::DELETE, session(&desktop(), "sh1.contoso.com", "2"))
            .await
            .status,
        StatusCode::OK
    );
    let patch = send_with(
        &emulator,
        Method::PATCH,
        &format!("{}?api-version={API}", host(&desktop(), "sh2.contoso.com")),
        Some(&format!("Bearer {token}")),
        Some(r#"{"properties":{"allowNewSession":false}}"#),
    )
    .await;
    assert_eq!(patch.status, StatusCode::OK);
    // The static token has no assignment now that some exist.
    forbidden(
        &get(&emulator, &desktop()).await,
        "Microsoft.DesktopVirtualization/hostpools/read",
        &format!(
            "{}/providers/Microsoft.DesktopVirtualization/hostPools/Pool-Desktop",
            group_scope(DESKTOP_RG)
        ),
    );
    // Clearing them opens everything again.
    let cleared = admin_send(&emulator, Method::DELETE, "arm/roleAssignments", None).await;
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&emulator, &desktop()).await.status, StatusCode::OK);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_subscription_list_shows_the_pools_the_caller_may_read() {
    let mut seed = Seed::sample();
    seed.arm = Some(ArmConfig {
        role_assignments: vec![RoleAssignment {
            principal_id: STATIC_ARM_PRINCIPAL_ID.to_owned(),
            role_definition_name: "Desktop Virtualization Reader".to_owned(),
            scope: group_scope(FABRIKAM_RG),
        }],
        ..ArmConfig::default()
    });
    let emulator = start_with_seed(seed).await;
    let listed = get(
        &emulator,
        &format!("/subscriptions/{SUB}/providers/Microsoft.DesktopVirtualization/hostPools"),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(names(&listed.json()), ["Fabrikam-Pool", "Pool-Desktop"]);
    let other_group = get(
        &emulator,
        &format!(
            "{}/providers/Microsoft.DesktopVirtualization/hostPools",
            group_scope(DESKTOP_RG)
        ),
    )
    .await;
    forbidden(
        &other_group,
        "Microsoft.DesktopVirtualization/hostpools/read",
        &group_scope(DESKTOP_RG),
    );
    // Nothing readable in another subscription at all: refused at the subscription.
    let mut other = emulator.state();
    other.tenant_groups[0].tenants[1].azure_subscription_id =
        Some("bbbbbbbb-2222-4bbb-8bbb-000000000002".to_owned());
    emulator.set_state(other);
    let elsewhere = get(&emulator, "/subscriptions/bbbbbbbb-2222-4bbb-8bbb-000000000002/providers/Microsoft.DesktopVirtualization/hostPools").await;
    forbidden(
        &elsewhere,
        "Microsoft.DesktopVirtualization/hostpools/read",
        "/subscriptions/bbbbbbbb-2222-4bbb-8bbb-000000000002",
    );
    let assignments = admin_get(&emulator, "arm/roleAssignments").await;
    assert_eq!(
        assignments[0]["roleDefinitionName"],
        "Desktop Virtualization Reader"
    );
    let typo = admin_send(
        &emulator,
        Method::POST,
        "arm/roleAssignments",
        Some(json!({"principalId": "x", "roleDefinitionName": "Session Boss", "scope": "/subscriptions/s"}).to_string()),
    )
    .await;
    assert_eq!(typo.status(), StatusCode::BAD_REQUEST);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_can_not_delete_lock_refuses_logoffs_but_not_other_actions() {
    let emulator = start().await;
    lock(&emulator, &group_scope(DESKTOP_RG), "CanNotDelete").await;
    let path = session(&desktop(), "sh1.contoso.com", "2");
    let refused = delete(&emulator, &path).await;
    let (status, code, message) = cloud_error(&refused);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "ScopeLocked")
    );
    assert_eq!(
        message,
        format!(
            "The scope '{}/providers/Microsoft.DesktopVirtualization/hostPools/Pool-Desktop/sessionHosts/sh1.contoso.com/userSessions/2' \
             cannot perform delete operation because following scope(s) are locked: '{}'. Please \
             remove the lock and try again.",
            group_scope(DESKTOP_RG),
            group_scope(DESKTOP_RG)
        )
    );
    // Locks are checked before the provider: a missing session is refused the same way.
    assert_eq!(
        delete(&emulator, &session(&desktop(), "sh1.contoso.com", "4"))
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        emulator.state().tenant_groups[0].tenants[0].host_pools[0].session_hosts[0]
            .sessions
            .len(),
        4
    );
    assert_eq!(
        post(&emulator, &format!("{path}/disconnect"), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(get(&emulator, &path).await.status, StatusCode::OK);
    // Other resource groups are not locked.
    assert_eq!(
        delete(&emulator, &session(&apps(), "app1.contoso.com", "1"))
            .await
            .status,
        StatusCode::OK
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_read_only_lock_also_refuses_writes() {
    let mut seed = Seed::sample();
    seed.arm = Some(ArmConfig {
        locks: vec![ResourceLock {
            name: Some("freeze".to_owned()),
            scope: desktop(),
            level: LockLevel::ReadOnly,
        }],
        ..ArmConfig::default()
    });
    let emulator = start_with_seed(seed).await;
    let alice = session(&desktop(), "sh1.contoso.com", "2");
    for reply in [
        post(&emulator, &format!("{alice}/disconnect"), None).await,
        post(
            &emulator,
            &format!("{alice}/sendMessage"),
            Some(r#"{"messageTitle":"t","messageBody":"b"}"#),
        )
        .await,
        send(
            &emulator,
            Method::PATCH,
            &host(&desktop(), "sh1.contoso.com"),
            Some(r#"{"properties":{"allowNewSession":false}}"#),
        )
        .await,
    ] {
        let (status, code, message) = cloud_error(&reply);
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "ScopeLocked")
        );
        assert!(
            message
                .contains("cannot perform write operation because following scope(s) are locked"),
            "{message}"
        );
    }
    assert_eq!(
        cloud_error(&delete(&emulator, &alice).await).1,
        "ScopeLocked"
    );
    assert_eq!(
        get(&emulator, &alice).await.json()["properties"]["sessionState"],
        "Active"
    );
    let locks = admin_get(&emulator, "arm/locks").await;
    assert_eq!(locks[0]["level"], "ReadOnly");
    let removed = admin_send(&emulator, Method::DELETE, "arm/locks", None).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(delete(&emulator, &alice).await.status, StatusCode::OK);
    emulator.shutdown().await;
}
