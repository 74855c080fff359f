//! ARM authentication over real HTTP: tokens whose audience follows the scope or resource
//! (client credentials, password, device code, IMDS), ARM routes accepting only ARM tokens and
//! classic routes only classic ones, ARM's 401 bodies, the static ARM token and its flag.

mod common;

use std::time::Duration;

use common::arm::{API, arm_bearer, cloud_error, desktop, header, send_with, session};
use common::entra::{
    APP_ID, APP_SECRET, BROKER_SCOPE, PASSWORD, PUBLIC_APP_ID, SYSTEM_MI_ID, TENANT, USER,
    assert_aad_error, claims, list_with_token, post_form, token_url,
};
use common::process::EmulatorProcess;
use common::{admin_get, blocking_request, start, start_with_seed};
use rds_emulator::{
    ARM_RESOURCE, ARM_SCOPE, BROKER_RESOURCE, DEFAULT_ACCESS_TOKEN, DEFAULT_ARM_ACCESS_TOKEN,
    Emulator, EmulatorConfig, STATIC_ARM_PRINCIPAL_ID, Seed,
};
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::{Method, StatusCode};

const ALLOWED: &str = "'https://management.core.windows.net/','https://management.core.windows.net',\
                       'https://management.azure.com/','https://management.azure.com'";

async fn app_token(emulator: &Emulator, scope: &str) -> String {
    post_form(
        &token_url(&emulator.url(), TENANT),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("client_secret", APP_SECRET),
            ("scope", scope),
        ],
    )
    .await
    .access_token()
}

async fn arm_get_with(emulator: &Emulator, auth: Option<&str>) -> common::Reply {
    let path = format!(
        "{}?api-version={API}",
        session(&desktop(), "sh1.contoso.com", "2")
    );
    send_with(emulator, Method::GET, &path, auth, None).await
}

#[tokio::test]
async fn an_arm_scope_gives_an_arm_token_that_only_arm_accepts() {
    let emulator = start().await;
    let reply = post_form(
        &token_url(&emulator.url(), TENANT),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("client_secret", APP_SECRET),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_eq!(reply.json()["scope"], ARM_SCOPE);
    let token = reply.access_token();
    let claims = claims(&token);
    assert_eq!(claims["aud"], ARM_RESOURCE);
    let tokens = admin_get(&emulator, "tokens").await;
    assert_eq!(tokens[0]["audience"], ARM_RESOURCE);

    let arm = arm_get_with(&emulator, Some(&format!("Bearer {token}"))).await;
    assert_eq!(arm.status, StatusCode::OK, "{}", arm.body);
    let record = emulator.requests().pop().expect("logged");
    assert_eq!(record.route, "armGetUserSession");
    assert_eq!(record.caller.as_deref(), Some(APP_ID));
    assert_eq!(record.principal.as_deref(), claims["oid"].as_str());

    // The same token on the classic broker: not for this broker.
    let classic = list_with_token(&emulator.url(), &token).await;
    assert_eq!(classic.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        classic.headers[WWW_AUTHENTICATE],
        "Bearer error=\"invalid_token\""
    );
    // The classic scope still gives classic tokens.
    let classic_token = app_token(&emulator, BROKER_SCOPE).await;
    assert_eq!(claims_of(&classic_token), BROKER_RESOURCE);
    assert_eq!(
        list_with_token(&emulator.url(), &classic_token)
            .await
            .status,
        StatusCode::OK
    );
    // Az's older resource name is ARM too.
    let core = app_token(&emulator, "https://management.core.windows.net//.default").await;
    assert_eq!(claims_of(&core), "https://management.core.windows.net/");
    assert_eq!(
        arm_get_with(&emulator, Some(&format!("Bearer {core}")))
            .await
            .status,
        StatusCode::OK
    );
    emulator.shutdown().await;
}

fn claims_of(token: &str) -> String {
    claims(token)["aud"].as_str().expect("aud").to_owned()
}

#[tokio::test]
async fn classic_tokens_are_refused_with_arm_s_audience_error() {
    let emulator = start().await;
    let classic_token = app_token(&emulator, BROKER_SCOPE).await;
    for auth in [
        format!("Bearer {classic_token}"),
        format!("Bearer {DEFAULT_ACCESS_TOKEN}"),
    ] {
        let reply = arm_get_with(&emulator, Some(&auth)).await;
        let (status, code, message) = cloud_error(&reply);
        assert_eq!(
            (status, code.as_str()),
            (
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationTokenAudience"
            )
        );
        assert_eq!(
            message,
            format!(
                "The access token has been obtained for wrong audience or resource \
                 '{BROKER_RESOURCE}'. It should exactly match with one of the allowed audiences \
                 {ALLOWED}."
            )
        );
        assert!(header(&reply, "www-authenticate").starts_with("Bearer authorization_uri="));
    }
    // Unknown scopes keep Entra's error.
    let graph = post_form(
        &token_url(&emulator.url(), TENANT),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("client_secret", APP_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_aad_error(&graph, StatusCode::BAD_REQUEST, "invalid_scope", 70011);
    emulator.shutdown().await;
}

#[tokio::test]
async fn missing_malformed_foreign_and_expired_tokens() {
    let mut seed = Seed::sample();
    seed.identity
        .as_mut()
        .expect("identity")
        .token_lifetime_seconds = 1;
    let emulator = start_with_seed(seed).await;
    let missing = arm_get_with(&emulator, None).await;
    let (status, code, message) = cloud_error(&missing);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "AuthenticationFailed")
    );
    assert_eq!(
        message,
        "Authentication failed. The 'Authorization' header is missing."
    );
    assert!(
        header(&missing, "www-authenticate").contains("error_description=\"The authentication failed because of missing 'Authorization' header.\""),
        "{:?}",
        missing.headers
    );
    let basic = arm_get_with(&emulator, Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!(
        cloud_error(&basic).2,
        "Authentication failed. The 'Authorization' header is provided in an invalid format."
    );
    for garbage in ["Bearer not-a-token", "Bearer a.b.c"] {
        let reply = arm_get_with(&emulator, Some(garbage)).await;
        let (status, code, message) = cloud_error(&reply);
        assert_eq!(
            (status, code.as_str(), message.as_str()),
            (
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "The access token is invalid."
            )
        );
    }
    // Another emulator's token is not this one's.
    let other = start().await;
    let foreign = app_token(&other, ARM_SCOPE).await;
    other.shutdown().await;
    assert_eq!(
        cloud_error(&arm_get_with(&emulator, Some(&format!("Bearer {foreign}"))).await).1,
        "InvalidAuthenticationToken"
    );

    let short = app_token(&emulator, ARM_SCOPE).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let expired = arm_get_with(&emulator, Some(&format!("Bearer {short}"))).await;
    let (status, code, message) = cloud_error(&expired);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "ExpiredAuthenticationToken")
    );
    assert!(
        message.starts_with("The access token expiry UTC time '"),
        "{message}"
    );
    assert!(
        message.contains("' is earlier than current UTC time '")
            && (message.ends_with(" PM'.") || message.ends_with(" AM'.")),
        "{message}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn user_device_code_and_managed_identity_tokens_follow_their_resource() {
    let emulator = start().await;
    let base = emulator.url();
    let password = post_form(
        &token_url(&base, TENANT),
        &[
            ("grant_type", "password"),
            ("client_id", PUBLIC_APP_ID),
            ("username", USER),
            ("password", PASSWORD),
            ("scope", &format!("openid {ARM_SCOPE} offline_access")),
        ],
    )
    .await
    .access_token();
    assert_eq!(claims_of(&password), ARM_RESOURCE);
    assert_eq!(
        arm_get_with(&emulator, Some(&format!("Bearer {password}")))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        emulator.requests().pop().expect("logged").caller.as_deref(),
        Some(USER)
    );

    let code = post_form(
        &format!("{base}/{TENANT}/oauth2/v2.0/devicecode"),
        &[("client_id", PUBLIC_APP_ID), ("scope", ARM_SCOPE)],
    )
    .await
    .json();
    assert!(emulator.approve_device_code(code["user_code"].as_str().expect("code"), USER));
    let device = post_form(
        &token_url(&base, TENANT),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", PUBLIC_APP_ID),
            (
                "device_code",
                code["device_code"].as_str().expect("device code"),
            ),
        ],
    )
    .await
    .access_token();
    assert_eq!(claims_of(&device), ARM_RESOURCE);

    for resource in [
        "https://management.azure.com/",
        "https://management.azure.com",
    ] {
        let reply = common::read(
            common::client()
                .get(format!("{base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}"))
                .header("Metadata", "true")
                .send()
                .await
                .expect("answered"),
        )
        .await;
        assert_eq!(reply.json()["resource"], resource, "echoed as asked");
        assert_eq!(reply.json()["client_id"], SYSTEM_MI_ID);
        let token = reply.access_token();
        assert_eq!(claims_of(&token), ARM_RESOURCE);
        assert_eq!(
            arm_get_with(&emulator, Some(&format!("Bearer {token}")))
                .await
                .status,
            StatusCode::OK
        );
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_static_arm_token_is_one_principal_and_can_be_replaced() {
    let emulator = start().await;
    assert_eq!(
        arm_get_with(&emulator, Some(&arm_bearer())).await.status,
        StatusCode::OK
    );
    let record = emulator.requests().pop().expect("logged");
    assert_eq!(record.caller.as_deref(), Some("static"));
    assert_eq!(record.principal.as_deref(), Some(STATIC_ARM_PRINCIPAL_ID));
    // The static ARM token is no classic token.
    assert_eq!(
        list_with_token(&emulator.url(), DEFAULT_ARM_ACCESS_TOKEN)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    emulator.shutdown().await;

    let custom = Emulator::start(EmulatorConfig {
        arm_access_token: "my-arm-token".to_owned(),
        ..EmulatorConfig::default()
    })
    .await
    .expect("starts");
    assert_eq!(
        arm_get_with(&custom, Some("Bearer my-arm-token"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        arm_get_with(&custom, Some(&arm_bearer())).await.status,
        StatusCode::UNAUTHORIZED
    );
    custom.shutdown().await;
    let empty = Emulator::start(EmulatorConfig {
        arm_access_token: String::new(),
        ..EmulatorConfig::default()
    })
    .await
    .expect_err("an empty ARM token is refused");
    assert_eq!(empty.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn the_binary_takes_the_arm_token_from_a_flag_or_the_environment() {
    let path = format!("{}?api-version={API}", desktop());
    for (args, env) in [
        (vec!["--arm-token", "flag-arm-token"], vec![]),
        (vec![], vec![("RDS_EMULATOR_ARM_TOKEN", "flag-arm-token")]),
    ] {
        let mut process = EmulatorProcess::start(&args, &env, false);
        let (ok, _) = blocking_request(
            &process.url,
            "GET",
            &path,
            &[("Authorization", "Bearer flag-arm-token")],
            "",
        );
        assert_eq!(ok, 200);
        let auth = format!("Bearer {DEFAULT_ARM_ACCESS_TOKEN}");
        let (refused, _) =
            blocking_request(&process.url, "GET", &path, &[("Authorization", &auth)], "");
        assert_eq!(refused, 401);
        assert!(process.close_stdin_and_wait().success());
    }
}

#[test]
fn the_binary_can_switch_arm_rate_limits_off_and_set_the_page_size() {
    let path = format!("{}/userSessions?api-version={API}", desktop());
    let auth = format!("Bearer {DEFAULT_ARM_ACCESS_TOKEN}");
    let mut process = EmulatorProcess::start(
        &["--no-arm-rate-limits", "--arm-page-size", "2"],
        &[],
        false,
    );
    let (status, body) =
        blocking_request(&process.url, "GET", &path, &[("Authorization", &auth)], "");
    assert_eq!(status, 200);
    let page: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(page["value"].as_array().map(Vec::len), Some(2));
    assert!(
        page["nextLink"]
            .as_str()
            .is_some_and(|link| link.contains("pageSize=2"))
    );
    let (status, state) =
        blocking_request(&process.url, "GET", "/_emulator/arm/ratelimits", &[], "");
    assert_eq!(status, 200);
    assert!(state.contains("\"enabled\":false"), "{state}");
    assert!(process.close_stdin_and_wait().success());
    let refused = std::process::Command::new(common::process::BINARY)
        .args(["--arm-page-size", "0"])
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty(), "no URL announced");
}
