//! The unauthenticated `/_emulator` admin routes.

mod common;

use common::{
    TG, admin, admin_get, admin_send, authorized, client, one_host_seed, session, sessions_path,
    start,
};
use rds_emulator::{Emulator, RequestRecord, Seed};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn list_contoso_desktop(emulator: &Emulator) -> StatusCode {
    let path = sessions_path(TG, "Contoso", "Pool-Desktop");
    authorized(&client(), &emulator.url(), Method::GET, &path)
        .send()
        .await
        .expect("answered")
        .status()
}

#[tokio::test]
async fn health_is_ok_without_a_token() {
    let emulator = start().await;
    assert_eq!(
        admin_get(&emulator, "health").await,
        json!({"status": "ok"})
    );
    assert!(emulator.requests().is_empty(), "admin calls are not logged");
    emulator.shutdown().await;
}

#[tokio::test]
async fn get_state_returns_the_seed_shape() {
    let emulator = start().await;
    let response = admin_send(&emulator, Method::GET, "state", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    assert_eq!(Seed::from_json(&text).expect("seed shape"), Seed::sample());
    // camelCase with the optional flags written out.
    let value: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(value["tenantGroups"][0]["tenants"][0]["forbidden"], false);
    assert_eq!(
        value["tenantGroups"][0]["tenants"][0]["hostPools"][1]["sessionHosts"][1]["reachable"],
        false
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn put_state_replaces_the_data_and_clears_the_log() {
    let emulator = start().await;
    assert_eq!(list_contoso_desktop(&emulator).await, StatusCode::OK);
    assert_eq!(emulator.requests().len(), 1);

    let replacement = one_host_seed("G", "T", "P", "H", vec![session(3, "zed")]);
    let response = admin(&emulator, Method::PUT, "state")
        .json(&replacement)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(emulator.state(), replacement);
    assert!(emulator.requests().is_empty());
    assert_eq!(list_contoso_desktop(&emulator).await, StatusCode::NOT_FOUND);
    emulator.shutdown().await;
}

#[tokio::test]
async fn put_state_with_invalid_json_is_400_and_keeps_the_state() {
    let emulator = start().await;
    for body in [
        "not json",
        r#"{"tenantGroups":[{"name":"g"}]}"#,
        r#"{"tenantGroups":[],"extra":1}"#,
    ] {
        let response = admin_send(&emulator, Method::PUT, "state", Some(body.to_owned())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = response.json().await.expect("JSON");
        let message = error["error"]["message"].as_str().expect("message");
        assert!(
            message.starts_with("The body is not a valid emulator state: "),
            "{message}"
        );
    }
    assert_eq!(emulator.state(), Seed::sample());
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_request_log_can_be_read_and_cleared_over_http() {
    let emulator = start().await;
    list_contoso_desktop(&emulator).await;
    let log: Vec<RequestRecord> =
        serde_json::from_value(admin_get(&emulator, "requests").await).expect("records");
    assert_eq!(log, emulator.requests());
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].route, "listSessions");

    let cleared = admin_send(&emulator, Method::DELETE, "requests", None).await;
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert!(emulator.requests().is_empty());
    assert_eq!(
        emulator.state(),
        Seed::sample(),
        "clearing the log keeps the data"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn set_state_from_the_library_clears_the_log() {
    let emulator = start().await;
    list_contoso_desktop(&emulator).await;
    emulator.set_state(Seed::default());
    assert!(emulator.requests().is_empty());
    assert_eq!(emulator.state(), Seed::default());
    emulator.shutdown().await;
}
