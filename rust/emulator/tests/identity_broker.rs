//! The broker accepts exactly the static token and unexpired tokens this emulator issued.

mod common;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::WWW_AUTHENTICATE;
use serde_json::json;

use common::entra::{
    APP_ID, APP_SECRET, AssertionSpec, CERT_APP_ID, KEY_A, USER, assertion_token, certificate,
    claims, client_secret_token, identity, list_with_token, start_with, token_url,
};
use common::{TG, authorized, logoff_path, start_with_seed};
use rds_emulator::{BackgroundEmulator, EmulatorConfig, IdentityConfig, Seed};
use reqwest::Method;

const UNAUTHORIZED: &str = "The access token is missing, malformed or not valid for this broker.";

fn assert_invalid_token(reply: &common::entra::Reply, message: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(
        reply.headers[WWW_AUTHENTICATE],
        "Bearer error=\"invalid_token\""
    );
    assert_eq!(
        reply.json(),
        json!({"error": {"code": "Unauthorized", "message": message}})
    );
}

#[tokio::test]
async fn foreign_forged_and_tampered_tokens_are_rejected() {
    let emulator = start_with(identity(Vec::new())).await;
    let other = start_with(identity(Vec::new())).await;
    let base = emulator.url();

    // A token from another emulator instance has the right shape but another key.
    let foreign = client_secret_token(&other.url(), APP_ID, APP_SECRET)
        .await
        .access_token();
    assert_invalid_token(&list_with_token(&base, &foreign).await, UNAUTHORIZED);

    // A genuine token whose audience was changed no longer verifies.
    let genuine = client_secret_token(&base, APP_ID, APP_SECRET)
        .await
        .access_token();
    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    let mut payload = claims(&genuine);
    payload["aud"] = json!("https://graph.microsoft.com");
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    assert_invalid_token(
        &list_with_token(&base, &parts.join(".")).await,
        UNAUTHORIZED,
    );

    // Unsigned ("alg": "none") tokens are refused.
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!(
        "{none_header}.{}.",
        URL_SAFE_NO_PAD.encode(claims(&genuine).to_string())
    );
    assert_invalid_token(&list_with_token(&base, &unsigned).await, UNAUTHORIZED);

    // A client assertion is a JWT for the token endpoint, not for the broker.
    let cert = certificate(KEY_A, "rds-test-a", false);
    let assertion = AssertionSpec::new(&cert, CERT_APP_ID, &token_url(&base, "x")).sign();
    assert_invalid_token(&list_with_token(&base, &assertion).await, UNAUTHORIZED);

    let log = emulator.requests();
    let rejected: Vec<_> = log.iter().filter(|r| r.route == "listSessions").collect();
    assert_eq!(rejected.len(), 4);
    assert!(
        rejected
            .iter()
            .all(|r| !r.authorized && r.caller.is_none() && r.status == 401)
    );
    let text = serde_json::to_string(&log).expect("log");
    assert!(!text.contains(&foreign) && !text.contains(&genuine));
    emulator.shutdown().await;
    other.shutdown().await;
}

#[tokio::test]
async fn issued_tokens_expire_exactly() {
    let mut config = identity(Vec::new());
    config.token_lifetime_seconds = 1;
    let emulator = start_with(config).await;
    let reply = client_secret_token(&emulator.url(), APP_ID, APP_SECRET).await;
    assert_eq!(reply.json()["expires_in"], 1);
    let token = reply.access_token();
    assert_eq!(
        list_with_token(&emulator.url(), &token).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_invalid_token(
        &list_with_token(&emulator.url(), &token).await,
        "The access token has expired. Acquire a new token and try again.",
    );
    // A fresh token works again.
    let fresh = client_secret_token(&emulator.url(), APP_ID, APP_SECRET)
        .await
        .access_token();
    assert_eq!(
        list_with_token(&emulator.url(), &fresh).await.status,
        StatusCode::OK
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_static_token_still_works_and_the_caller_is_recorded() {
    let emulator = start_with(identity(Vec::new())).await;
    let base = emulator.url();
    let client = common::client();
    let logoff =
        |session: &str| logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", session);
    let status = authorized(&client, &base, Method::POST, &logoff("2"))
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(status, StatusCode::OK);

    let reply = common::entra::post_form(
        &token_url(&base, common::entra::TENANT),
        &[
            ("grant_type", "password"),
            ("client_id", common::entra::PUBLIC_APP_ID),
            ("username", USER),
            ("password", common::entra::PASSWORD),
            ("scope", common::entra::BROKER_SCOPE),
        ],
    )
    .await;
    let user_token = reply.access_token();
    let status = client
        .post(format!("{base}{}", logoff("3")))
        .bearer_auth(&user_token)
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(status, StatusCode::OK);

    let logoffs: Vec<(Option<String>, Option<String>)> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.route == "logoffUser")
        .map(|r| (r.session_id, r.caller))
        .collect();
    assert_eq!(
        logoffs,
        [
            (Some("2".to_owned()), Some("static".to_owned())),
            (Some("3".to_owned()), Some(USER.to_owned())),
        ]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn without_an_identity_section_nobody_signs_in_but_the_static_token_works() {
    let mut seed = Seed::sample();
    seed.identity = None;
    let emulator = start_with_seed(seed).await;
    let reply = client_secret_token(&emulator.url(), APP_ID, APP_SECRET).await;
    common::entra::assert_unknown_application(&reply);
    let cert = certificate(KEY_A, "rds-test-a", false);
    let assertion = AssertionSpec::new(&cert, CERT_APP_ID, &token_url(&emulator.url(), "x")).sign();
    let reply = assertion_token(&emulator.url(), Some(CERT_APP_ID), &assertion).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let list = common::sessions_path(TG, "Contoso", "Pool-Desktop");
    let status = authorized(&common::client(), &emulator.url(), Method::GET, &list)
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(status, StatusCode::OK);
    emulator.shutdown().await;
}

#[test]
fn the_background_emulator_has_the_identity_api() {
    let mut seed = Seed::sample();
    let mut config: IdentityConfig = identity(Vec::new());
    config.device_code.interval_seconds = 0;
    seed.identity = Some(config);
    let emulator = BackgroundEmulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .expect("starts");
    let url = emulator.url();
    let (status, body) = common::blocking_form(
        &url,
        &format!("/{}/oauth2/v2.0/devicecode", common::entra::TENANT),
        &format!(
            "client_id={}&scope=https%3A%2F%2Fmrs-prod.ame.gbl%2Fmrs-RDInfra-prod%2F.default",
            common::entra::PUBLIC_APP_ID
        ),
    );
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let user_code = body["user_code"].as_str().expect("user code");
    let device_code = body["device_code"].as_str().expect("device code");
    assert!(emulator.approve_device_code(user_code, USER));
    let (status, body) = common::blocking_form(
        &url,
        &format!("/{}/oauth2/v2.0/token", common::entra::TENANT),
        &format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id={}&device_code={device_code}",
            common::entra::PUBLIC_APP_ID
        ),
    );
    assert_eq!(status, 200, "{body}");
    let issued = emulator.tokens_issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].username.as_deref(), Some(USER));
    assert!(!emulator.deny_device_code(user_code), "already redeemed");
}
