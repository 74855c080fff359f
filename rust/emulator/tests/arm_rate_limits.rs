//! ARM's rate limits over real HTTP: the remaining-token headers counting down from the live
//! values, 429 with `Retry-After` once a bucket is empty, refill, reset, switching limiting
//! off, the global per-subscription bucket, and the counts the benchmark reads.

mod common;

use std::time::Duration;

use common::arm::{API, SUB, cloud_error, delete, desktop, get, header, post, send_with, session};
use common::entra::{APP_ID, APP_SECRET, TENANT, post_form, token_url};
use common::{admin_get, admin_send, start, start_with_seed};
use rds_emulator::{ArmConfig, BucketConfig, RateLimitConfig, STATIC_ARM_PRINCIPAL_ID, Seed};
use reqwest::{Method, StatusCode};

async fn set_limits(emulator: &rds_emulator::Emulator, body: &str) {
    let reply = admin_send(
        emulator,
        Method::PUT,
        "arm/ratelimits",
        Some(body.to_owned()),
    )
    .await;
    assert_eq!(reply.status(), StatusCode::OK);
}

fn sessions_left(emulator: &rds_emulator::Emulator) -> usize {
    emulator.state().tenant_groups[0].tenants[0].host_pools[0].session_hosts[0]
        .sessions
        .len()
}

#[tokio::test]
async fn the_headers_count_down_from_the_live_values() {
    let emulator = start().await;
    let first = delete(&emulator, &session(&desktop(), "sh1.contoso.com", "2")).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        header(&first, "x-ms-ratelimit-remaining-subscription-deletes"),
        "199"
    );
    assert_eq!(
        header(
            &first,
            "x-ms-ratelimit-remaining-subscription-global-deletes"
        ),
        "2999"
    );
    assert!(
        !first
            .headers
            .contains_key("x-ms-ratelimit-remaining-subscription-reads")
    );
    let second = delete(&emulator, &session(&desktop(), "sh1.contoso.com", "3")).await;
    assert_eq!(
        header(&second, "x-ms-ratelimit-remaining-subscription-deletes"),
        "198"
    );
    let write = post(
        &emulator,
        &format!("{}/disconnect", session(&desktop(), "sh1.contoso.com", "5")),
        None,
    )
    .await;
    assert_eq!(
        header(&write, "x-ms-ratelimit-remaining-subscription-writes"),
        "199"
    );
    assert_eq!(
        header(
            &write,
            "x-ms-ratelimit-remaining-subscription-global-writes"
        ),
        "2999"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_empty_bucket_answers_429_until_it_refills() {
    let emulator = start().await;
    set_limits(&emulator, r#"{"deletes": {"burst": 2, "perSecond": 1}}"#).await;
    for (id, remaining) in [("2", "1"), ("3", "0")] {
        let reply = delete(&emulator, &session(&desktop(), "sh1.contoso.com", id)).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            header(&reply, "x-ms-ratelimit-remaining-subscription-deletes"),
            remaining
        );
    }
    let throttled = delete(&emulator, &session(&desktop(), "sh1.contoso.com", "5")).await;
    let (status, code, message) = cloud_error(&throttled);
    assert_eq!(
        (status, code.as_str()),
        (
            StatusCode::TOO_MANY_REQUESTS,
            "SubscriptionRequestsThrottled"
        )
    );
    assert_eq!(header(&throttled, "retry-after"), "1");
    assert_eq!(
        header(&throttled, "x-ms-ratelimit-remaining-subscription-deletes"),
        "0"
    );
    assert_eq!(
        message,
        format!(
            "Number of 'delete' requests for subscription '{SUB}' actor '{STATIC_ARM_PRINCIPAL_ID}' \
             exceeded. Please try again after '1' seconds after additional tokens are available. \
             Refer to https://aka.ms/arm-throttling"
        )
    );
    assert_eq!(
        sessions_left(&emulator),
        2,
        "a throttled logoff does nothing"
    );
    // Reads have their own bucket.
    assert_eq!(
        get(&emulator, &format!("{}/userSessions", desktop()))
            .await
            .status,
        StatusCode::OK
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let refilled = delete(&emulator, &session(&desktop(), "sh1.contoso.com", "5")).await;
    assert_eq!(refilled.status, StatusCode::OK);
    assert_eq!(
        delete(&emulator, &session(&desktop(), "sh1.contoso.com", "17"))
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Resetting refills every bucket at once.
    let reset = admin_send(&emulator, Method::POST, "arm/ratelimits/reset", None).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        delete(&emulator, &session(&desktop(), "sh1.contoso.com", "17"))
            .await
            .status,
        StatusCode::OK
    );

    // The benchmark's figures: requests and 429s per class; each logoff recorded once.
    let activity = admin_get(&emulator, "activity").await;
    assert_eq!(activity["arm"]["requests"]["deletes"], 6);
    assert_eq!(activity["arm"]["throttled"]["deletes"], 2);
    assert_eq!(activity["arm"]["requests"]["reads"], 1);
    assert_eq!(activity["arm"]["throttled"]["reads"], 0);
    assert_eq!(activity["logoffs"].as_array().expect("array").len(), 4);
    emulator.shutdown().await;
}

#[tokio::test]
async fn limiting_can_be_switched_off_and_configured_in_the_seed() {
    let mut seed = Seed::sample();
    seed.arm = Some(ArmConfig {
        rate_limits: RateLimitConfig {
            enabled: false,
            ..RateLimitConfig::default()
        },
        ..ArmConfig::default()
    });
    let emulator = start_with_seed(seed).await;
    for _ in 0..3 {
        let reply = get(&emulator, &desktop()).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            !reply
                .headers
                .contains_key("x-ms-ratelimit-remaining-subscription-reads")
        );
    }
    let limits = admin_get(&emulator, "arm/ratelimits").await;
    assert_eq!(limits["enabled"], false);
    // Back to the defaults.
    let reset = admin_send(&emulator, Method::DELETE, "arm/ratelimits", None).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let limits: RateLimitConfig =
        serde_json::from_value(admin_get(&emulator, "arm/ratelimits").await).expect("limits");
    assert_eq!(limits, RateLimitConfig::default());
    assert_eq!(
        limits.deletes,
        BucketConfig {
            burst: 200,
            per_second: 10
        }
    );
    assert_eq!(
        header(
            &get(&emulator, &desktop()).await,
            "x-ms-ratelimit-remaining-subscription-reads"
        ),
        "249"
    );
    let bad = admin_send(
        &emulator,
        Method::PUT,
        "arm/ratelimits",
        Some(r#"{"reads": {"burst": -1}}"#.to_owned()),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_global_bucket_is_shared_by_every_principal_of_a_subscription() {
    let emulator = start().await;
    set_limits(
        &emulator,
        r#"{"reads": {"burst": 1, "perSecond": 0}, "globalMultiplier": 1}"#,
    )
    .await;
    assert_eq!(get(&emulator, &desktop()).await.status, StatusCode::OK);
    // Another principal: an application's ARM token.
    let base = emulator.url();
    let token = post_form(
        &token_url(&base, TENANT),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("client_secret", APP_SECRET),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await
    .access_token();
    let reply = send_with(
        &emulator,
        Method::GET,
        &format!("{}?api-version={API}", desktop()),
        Some(&format!("Bearer {token}")),
        None,
    )
    .await;
    let (status, _, message) = cloud_error(&reply);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(message.contains("exceeded the global limit"), "{message}");
    assert_eq!(
        header(&reply, "x-ms-ratelimit-remaining-subscription-reads"),
        "1"
    );
    assert_eq!(
        header(&reply, "x-ms-ratelimit-remaining-subscription-global-reads"),
        "0"
    );
    assert_eq!(
        header(&reply, "retry-after"),
        "3600",
        "a bucket that never refills"
    );
    emulator.shutdown().await;
}
