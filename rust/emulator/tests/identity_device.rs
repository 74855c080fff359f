//! The device code flow: code issuance, polling (pending, slow_down, declined, expired),
//! approval by admin route, Rust API or automatically, and the login page.

mod common;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use common::entra::{
    APP_ID, APP_SECRET, BROKER_SCOPE, PASSWORD, PUBLIC_APP_ID, Reply, TENANT, UNKNOWN_APP_ID, USER,
    assert_aad_error, assert_unknown_application, claims, identity, list_with_token, post_form,
    read, start_with, token_url,
};
use rds_emulator::{DeviceCodeConfig, Emulator};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn start(device: DeviceCodeConfig) -> Emulator {
    let mut identity = identity(Vec::new());
    identity.device_code = device;
    start_with(identity).await
}

fn device_config(interval: u64, expires: u64) -> DeviceCodeConfig {
    DeviceCodeConfig {
        interval_seconds: interval,
        expires_in_seconds: expires,
        ..DeviceCodeConfig::default()
    }
}

/// Requests a device code for the public client; returns `(device_code, user_code, body)`.
async fn device_code(emulator: &Emulator) -> (String, String, serde_json::Value) {
    let reply = post_form(
        &format!("{}/{TENANT}/oauth2/v2.0/devicecode", emulator.url()),
        &[
            ("client_id", PUBLIC_APP_ID),
            (
                "scope",
                &format!("{BROKER_SCOPE} offline_access openid profile"),
            ),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    let device = body["device_code"]
        .as_str()
        .expect("device_code")
        .to_owned();
    let user = body["user_code"].as_str().expect("user_code").to_owned();
    (device, user, body)
}

async fn poll(emulator: &Emulator, device_code: &str) -> Reply {
    post_form(
        &token_url(&emulator.url(), TENANT),
        &[
            ("grant_type", DEVICE_GRANT),
            ("client_id", PUBLIC_APP_ID),
            ("device_code", device_code),
        ],
    )
    .await
}

/// POSTs `body` to the admin route `/_emulator/{route}`.
async fn admin_post(emulator: &Emulator, route: &str, body: serde_json::Value) -> StatusCode {
    common::admin(emulator, reqwest::Method::POST, route)
        .json(&body)
        .send()
        .await
        .expect("sent")
        .status()
}

/// The answer to a poll before the user decided.
fn assert_pending(reply: &Reply) {
    assert_aad_error(
        reply,
        StatusCode::BAD_REQUEST,
        "authorization_pending",
        70016,
    );
}

#[tokio::test]
async fn pending_then_slow_down_then_approved() {
    let emulator = start(device_config(1, 900)).await;
    let (device, user_code, body) = device_code(&emulator).await;
    let verification_uri = format!("{}/devicelogin", emulator.url());
    assert_eq!(body["verification_uri"], verification_uri);
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["interval"], 1);
    assert_eq!(
        body["message"],
        format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the \
             code {user_code} to authenticate."
        )
    );
    assert_eq!(user_code.len(), 8);
    assert!(
        user_code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert!(device.len() > 40);

    let reply = poll(&emulator, &device).await;
    assert_pending(&reply);
    // Polling again at once, sooner than `interval`, is too fast (RFC 8628 §3.5).
    let reply = poll(&emulator, &device).await;
    assert_aad_error(&reply, StatusCode::BAD_REQUEST, "slow_down", 70016);

    let approve = json!({"userCode": user_code.to_lowercase(), "username": "ADMIN@contoso.com"});
    assert_eq!(
        admin_post(&emulator, "devicecode/approve", approve).await,
        StatusCode::NO_CONTENT
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = poll(&emulator, &device).await;
    let token = reply.access_token();
    assert_eq!(claims(&token)["upn"], USER);
    assert_eq!(claims(&token)["appid"], PUBLIC_APP_ID);
    let list = list_with_token(&emulator.url(), &token).await;
    assert_eq!(list.status, StatusCode::OK);

    // The code is spent.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = poll(&emulator, &device).await;
    assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", 70000);

    let issued = emulator.tokens_issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].grant, "device_code");
    assert_eq!(issued[0].username.as_deref(), Some(USER));

    let log = serde_json::to_string(&emulator.requests()).expect("log");
    assert!(
        !log.contains(&device),
        "the device code is a credential: {log}"
    );
    let routes: Vec<String> = emulator
        .requests()
        .iter()
        .map(|r| r.route.clone())
        .collect();
    assert_eq!(
        routes,
        [
            "deviceCode",
            "token",
            "token",
            "token",
            "listSessions",
            "token"
        ]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn denied_codes_are_declined() {
    let emulator = start(device_config(0, 900)).await;
    let (device, user_code, _) = device_code(&emulator).await;
    assert_eq!(
        admin_post(&emulator, "devicecode/deny", json!({"userCode": user_code})).await,
        StatusCode::NO_CONTENT
    );
    let reply = poll(&emulator, &device).await;
    assert_aad_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "authorization_declined",
        70000,
    );

    // Decided codes cannot be decided again; unknown codes and users are 404.
    let approve = json!({"userCode": user_code, "username": USER});
    assert_eq!(
        admin_post(&emulator, "devicecode/approve", approve).await,
        StatusCode::NOT_FOUND
    );
    let (_, other_code, _) = device_code(&emulator).await;
    let unknown_user = json!({"userCode": other_code, "username": "nobody@contoso.com"});
    assert_eq!(
        admin_post(&emulator, "devicecode/approve", unknown_user).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin_post(
            &emulator,
            "devicecode/deny",
            json!({"userCode": "ZZZZZZZZ"})
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin_post(&emulator, "devicecode/deny", json!({"code": 1})).await,
        StatusCode::BAD_REQUEST
    );
    // The Rust API does the same.
    assert!(!emulator.approve_device_code(&other_code, "nobody@contoso.com"));
    assert!(emulator.deny_device_code(&other_code));
    assert!(!emulator.deny_device_code(&other_code));
    emulator.shutdown().await;
}

#[tokio::test]
async fn codes_expire() {
    let emulator = start(device_config(0, 1)).await;
    let (device, user_code, body) = device_code(&emulator).await;
    assert_eq!(body["expires_in"], 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let reply = poll(&emulator, &device).await;
    let description = assert_aad_error(&reply, StatusCode::BAD_REQUEST, "expired_token", 70019);
    assert!(
        description.contains("Verification code expired"),
        "{description}"
    );
    assert!(!emulator.approve_device_code(&user_code, USER), "too late");
    emulator.shutdown().await;
}

#[tokio::test]
async fn automatic_approval_on_the_nth_poll() {
    let emulator = start(DeviceCodeConfig {
        interval_seconds: 0,
        expires_in_seconds: 900,
        auto_approve_user: Some(USER.to_owned()),
        approve_after_polls: 3,
    })
    .await;
    let (device, _, _) = device_code(&emulator).await;
    for _ in 0..2 {
        let reply = poll(&emulator, &device).await;
        assert_pending(&reply);
    }
    let token = poll(&emulator, &device).await.access_token();
    assert_eq!(claims(&token)["upn"], USER);
    assert_eq!(claims(&token)["name"], "Contoso Admin");
    emulator.shutdown().await;
}

#[tokio::test]
async fn device_code_request_and_poll_errors() {
    let emulator = start(device_config(0, 900)).await;
    let base = emulator.url();
    let devicecode_url = format!("{base}/{TENANT}/oauth2/v2.0/devicecode");

    let reply = post_form(
        &devicecode_url,
        &[("client_id", UNKNOWN_APP_ID), ("scope", BROKER_SCOPE)],
    )
    .await;
    assert_unknown_application(&reply);
    let reply = post_form(
        &devicecode_url,
        &[
            ("client_id", PUBLIC_APP_ID),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_scope", 70011);
    let reply = post_form(
        &format!("{base}/unknown.example/oauth2/v2.0/devicecode"),
        &[("client_id", PUBLIC_APP_ID), ("scope", BROKER_SCOPE)],
    )
    .await;
    assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_request", 90002);

    let reply = poll(&emulator, "DAQABnot-a-real-code").await;
    assert_aad_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "bad_verification_code",
        70018,
    );

    // A confidential client polls with its secret; without it Entra refuses the client.
    let reply = post_form(
        &devicecode_url,
        &[("client_id", APP_ID), ("scope", BROKER_SCOPE)],
    )
    .await;
    let device = reply.json()["device_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let url = token_url(&base, TENANT);
    let reply = post_form(
        &url,
        &[
            ("grant_type", DEVICE_GRANT),
            ("client_id", APP_ID),
            ("device_code", &device),
        ],
    )
    .await;
    assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 7000218);
    let reply = post_form(
        &url,
        &[
            ("grant_type", DEVICE_GRANT),
            ("client_id", APP_ID),
            ("client_secret", APP_SECRET),
            ("device_code", &device),
        ],
    )
    .await;
    assert_pending(&reply);
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_login_page_approves_with_the_users_password() {
    let emulator = start(device_config(0, 900)).await;
    let (device, user_code, _) = device_code(&emulator).await;
    let login_url = format!("{}/devicelogin", emulator.url());
    let page = read(common::client().get(&login_url).send().await.expect("sent")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<form"), "{}", page.body);

    let submit = async |password: &str| {
        post_form(
            &login_url,
            &[
                ("user_code", user_code.as_str()),
                ("username", USER),
                ("password", password),
            ],
        )
        .await
    };
    let wrong = submit("wrong-password-61aa").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(!wrong.body.contains("wrong-password-61aa"));
    assert_eq!(submit(PASSWORD).await.status, StatusCode::OK);
    let token = poll(&emulator, &device).await.access_token();
    assert_eq!(claims(&token)["upn"], USER);
    emulator.shutdown().await;
}
