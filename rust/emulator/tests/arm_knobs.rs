//! The test knobs on ARM routes over real HTTP: injected faults (named ARM routes, the ARM 429
//! body for `throttle`), injected latency, and the request log's ARM fields.

mod common;

use std::time::{Duration, Instant};

use common::arm::{
    API, DESKTOP_RG, SUB, arm_bearer, cloud_error, delete, desktop, get, header, send_with, session,
};
use common::{admin_send, session_ids, start};
use rds_emulator::{
    ApiFlavour, FaultConfig, FaultKind, FaultRoute, LatencyConfig, STATIC_ARM_PRINCIPAL_ID,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn a_throttle_fault_answers_arm_s_429_and_does_nothing() {
    let emulator = start().await;
    let faults = admin_send(
        &emulator,
        Method::PUT,
        "faults",
        Some(r#"{"seed": 1, "rate": 1, "kinds": {"throttle": 1}, "retryAfterSeconds": 7, "routes": ["armDeleteUserSession"]}"#.to_owned()),
    )
    .await;
    assert_eq!(faults.status(), StatusCode::OK);
    let reply = delete(&emulator, &session(&desktop(), "sh1.contoso.com", "2")).await;
    let (status, code, message) = cloud_error(&reply);
    assert_eq!(
        (status, code.as_str()),
        (
            StatusCode::TOO_MANY_REQUESTS,
            "SubscriptionRequestsThrottled"
        )
    );
    assert_eq!(header(&reply, "retry-after"), "7");
    assert!(
        message.contains("Please try again after '7' seconds"),
        "{message}"
    );
    assert!(reply.headers.contains_key("x-ms-correlation-id"));
    assert_eq!(
        session_ids(
            &emulator.state(),
            "Contoso",
            "Pool-Desktop",
            "sh1.contoso.com"
        ),
        [2, 3, 5, 17]
    );
    // A missing session is no candidate: its 204 is untouched.
    assert_eq!(
        delete(&emulator, &session(&desktop(), "sh1.contoso.com", "4"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // Other routes are not named.
    assert_eq!(
        get(&emulator, &session(&desktop(), "sh1.contoso.com", "2"))
            .await
            .status,
        StatusCode::OK
    );
    let stats = emulator.fault_stats();
    assert_eq!((stats.requests, stats.faults.throttle), (1, 1));
    let activity = emulator.activity();
    assert_eq!(
        activity.arm.throttled.deletes, 1,
        "injected 429s count as throttled"
    );
    assert_eq!(emulator.requests()[0].fault, Some(FaultKind::Throttle));
    emulator.shutdown().await;
}

#[tokio::test]
async fn malformed_server_error_and_applied_lost_faults_on_arm() {
    let emulator = start().await;
    emulator.set_faults(Some(
        FaultConfig::always(FaultKind::Malformed).on_routes(&[FaultRoute::ArmListUserSessions]),
    ));
    let list = get(&emulator, &format!("{}/userSessions", desktop())).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        serde_json::from_str::<Value>(&list.body).is_err(),
        "cut in half"
    );

    let mut server_error =
        FaultConfig::always(FaultKind::ServerError).on_routes(&[FaultRoute::ArmDisconnect]);
    server_error.server_error_statuses = vec![503];
    emulator.set_faults(Some(server_error));
    let disconnect = send_with(
        &emulator,
        Method::POST,
        &format!(
            "{}/disconnect?api-version={API}",
            session(&desktop(), "sh1.contoso.com", "2")
        ),
        Some(&arm_bearer()),
        None,
    )
    .await;
    assert_eq!(cloud_error(&disconnect).1, "ServiceUnavailable");
    assert_eq!(disconnect.status, StatusCode::SERVICE_UNAVAILABLE);

    emulator.set_faults(Some(
        FaultConfig::always(FaultKind::AppliedLost).on_routes(&[FaultRoute::ArmDeleteUserSession]),
    ));
    let lost = common::client()
        .delete(format!(
            "{}{}?api-version={API}",
            emulator.url(),
            session(&desktop(), "sh1.contoso.com", "3")
        ))
        .header("authorization", arm_bearer())
        .send()
        .await;
    assert!(lost.is_err(), "the connection closes without an answer");
    assert_eq!(
        session_ids(
            &emulator.state(),
            "Contoso",
            "Pool-Desktop",
            "sh1.contoso.com"
        ),
        [2, 5, 17]
    );
    let activity = emulator.activity();
    assert_eq!(activity.logoffs.len(), 1);
    assert_eq!(activity.logoffs[0].flavour, ApiFlavour::Arm);
    let record = emulator.requests().pop().expect("logged");
    assert_eq!(
        (record.status, record.fault),
        (0, Some(FaultKind::AppliedLost))
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn injected_latency_delays_arm_requests_too() {
    let emulator = start().await;
    emulator.set_latency(Some(LatencyConfig::fixed(300)));
    let started = Instant::now();
    assert_eq!(get(&emulator, &desktop()).await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_request_log_records_arm_requests_with_their_fields() {
    let emulator = start().await;
    let path = session(&desktop(), "sh1.contoso.com", "5");
    send_with(
        &emulator,
        Method::DELETE,
        &format!("{path}?api-version=2024-04-03&force=true"),
        Some(&arm_bearer()),
        None,
    )
    .await;
    get(&emulator, &format!("{}/userSessions?pageSize=2", desktop())).await;
    send_with(
        &emulator,
        Method::POST,
        &format!(
            "{}/disconnect?api-version={API}",
            session(&desktop(), "sh1.contoso.com", "2")
        ),
        Some(&arm_bearer()),
        None,
    )
    .await;
    send_with(
        &emulator,
        Method::POST,
        &format!(
            "{}/sendMessage?api-version={API}",
            session(&desktop(), "sh1.contoso.com", "2")
        ),
        Some(&arm_bearer()),
        Some(r#"{"messageTitle":"T","messageBody":"B"}"#),
    )
    .await;
    get(
        &emulator,
        &format!("/subscriptions/{SUB}/providers/Microsoft.DesktopVirtualization/hostPools"),
    )
    .await;
    get(&emulator, &format!("{}/sessionHosts", desktop())).await;
    common::arm::send(
        &emulator,
        Method::PATCH,
        &common::arm::host(&desktop(), "sh1.contoso.com"),
        Some("{}"),
    )
    .await;

    let records = emulator.requests();
    let routes: Vec<&str> = records.iter().map(|r| r.route.as_str()).collect();
    assert_eq!(
        routes,
        [
            "armDeleteUserSession",
            "armListUserSessions",
            "armDisconnect",
            "armSendMessage",
            "armListHostPools",
            "armListSessionHosts",
            "armUpdateSessionHost",
        ]
    );
    let logoff = &records[0];
    assert_eq!(logoff.method, "DELETE");
    assert_eq!(logoff.subscription.as_deref(), Some(SUB));
    assert_eq!(logoff.resource_group.as_deref(), Some(DESKTOP_RG));
    assert_eq!(logoff.host_pool.as_deref(), Some("Pool-Desktop"));
    assert_eq!(logoff.session_host.as_deref(), Some("sh1.contoso.com"));
    assert_eq!(logoff.session_id.as_deref(), Some("5"));
    assert_eq!(logoff.api_version.as_deref(), Some("2024-04-03"));
    assert_eq!(logoff.force, Some(true));
    assert_eq!(logoff.principal.as_deref(), Some(STATIC_ARM_PRINCIPAL_ID));
    assert_eq!((logoff.status, logoff.authorized), (200, true));
    assert_eq!(logoff.tenant, None, "ARM requests name no classic tenant");
    assert_eq!(records[1].page_size, Some(2));
    assert_eq!(records[3].message_title.as_deref(), Some("T"));
    assert_eq!(records[4].resource_group, None);
    // In JSON the ARM fields appear only on ARM records.
    let classic = common::sessions_path(common::TG, "Contoso", "Pool-Desktop");
    common::authorized(&common::client(), &emulator.url(), Method::GET, &classic)
        .send()
        .await
        .expect("answered");
    let json = common::admin_get(&emulator, "requests").await;
    assert_eq!(json[0]["apiVersion"], "2024-04-03");
    assert_eq!(json[0]["resourceGroup"], DESKTOP_RG);
    let classic_record = json[7].as_object().expect("record");
    assert_eq!(classic_record["route"], "listSessions");
    for arm_only in [
        "subscription",
        "resourceGroup",
        "apiVersion",
        "pageSize",
        "principal",
    ] {
        assert!(!classic_record.contains_key(arm_only), "{arm_only}");
    }
    emulator.shutdown().await;
}
