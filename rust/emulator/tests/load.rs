//! Measuring clients: injected latency, the in-flight peak, generated large host pools and
//! the request log's size controls.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    TG, action_path, admin_get, admin_send, authorized, client, logoff_path, sessions_path, start,
};
use rds_emulator::{
    DEFAULT_REQUEST_LOG_CAPACITY, Emulator, EmulatorSettings, GenerateSpec, LatencyConfig,
    LatencySampler, Seed,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

async fn list(client: &reqwest::Client, emulator_url: &str, tenant: &str, pool: &str) -> Value {
    let path = sessions_path(TG, tenant, pool);
    let response = authorized(client, emulator_url, Method::GET, &path)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON")
}

/// Sends `count` list requests at once, at most `limit` in flight on the client side.
async fn concurrent_lists(emulator: &Emulator, count: usize, limit: Option<usize>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(count)
        .build()
        .expect("client");
    let semaphore = limit.map(|limit| Arc::new(Semaphore::new(limit)));
    let url = emulator.url();
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            let semaphore = semaphore.clone();
            tokio::spawn(async move {
                let _permit = match &semaphore {
                    Some(semaphore) => Some(semaphore.acquire().await.expect("permit")),
                    None => None,
                };
                list(&client, &url, "Contoso", "Pool-Desktop").await;
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("request task");
    }
}

#[tokio::test]
async fn sequential_requests_each_wait_the_fixed_latency() {
    let emulator = start().await;
    emulator.set_latency(Some(LatencyConfig::fixed(30)));
    let client = client();
    let started = Instant::now();
    for _ in 0..20 {
        list(&client, &emulator.url(), "Contoso", "Pool-Desktop").await;
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert_eq!(emulator.activity().broker_requests, 20);
    assert_eq!(emulator.activity().max_in_flight, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn admin_and_identity_endpoints_are_never_delayed() {
    let emulator = start().await;
    emulator.set_latency(Some(LatencyConfig::fixed(3_000)));
    let started = Instant::now();
    for path in ["health", "activity", "state"] {
        let response = admin_send(&emulator, Method::GET, path, None).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let token = client()
        .post(format!(
            "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
            emulator.url()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
        ])
        .send()
        .await
        .expect("answered");
    assert!(token.status().is_client_error());
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(emulator.activity().broker_requests, 0);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_in_flight_shows_concurrency_and_a_client_limit() {
    let emulator = start().await;
    emulator.set_latency(Some(LatencyConfig::fixed(100)));

    let started = Instant::now();
    concurrent_lists(&emulator, 50, None).await;
    let unlimited = emulator.activity();
    assert_eq!(unlimited.broker_requests, 50);
    assert_eq!(unlimited.in_flight, 0);
    assert!(
        (10..=50).contains(&unlimited.max_in_flight),
        "{}",
        unlimited.max_in_flight
    );
    // Overlapping: far less than 50 × 100 ms.
    assert!(started.elapsed() < Duration::from_millis(2_500));

    emulator.reset_max_in_flight();
    assert_eq!(emulator.activity().max_in_flight, 0);
    let started = Instant::now();
    concurrent_lists(&emulator, 50, Some(5)).await;
    let limited = emulator.activity();
    assert!(
        (1..=5).contains(&limited.max_in_flight),
        "{}",
        limited.max_in_flight
    );
    // 50 requests, 5 at a time, 100 ms each: at least 10 rounds.
    assert!(started.elapsed() >= Duration::from_millis(1_000));
    emulator.shutdown().await;
}

#[tokio::test]
async fn latency_is_part_of_the_state_and_has_admin_routes() {
    let emulator = start().await;
    let initial = admin_get(&emulator, "latency").await;
    assert_eq!(initial, json!({"fixedMs": 0, "jitterMs": 0}));

    let body = r#"{"fixedMs": 25, "jitterMs": 5, "seed": 42}"#;
    let set = admin_send(&emulator, Method::PUT, "latency", Some(body.to_owned())).await;
    assert_eq!(set.status(), StatusCode::OK);
    let expected = LatencyConfig {
        fixed_ms: 25,
        jitter_ms: 5,
        seed: Some(42),
    };
    assert_eq!(emulator.latency(), Some(expected));
    assert_eq!(emulator.state().latency, Some(expected));
    let state = admin_get(&emulator, "state").await;
    assert_eq!(
        state["latency"],
        json!({"fixedMs": 25, "jitterMs": 5, "seed": 42})
    );

    let bad = r#"{"fixed": 25}"#.to_owned();
    let bad = admin_send(&emulator, Method::PUT, "latency", Some(bad)).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(emulator.latency(), Some(expected));

    let removed = admin_send(&emulator, Method::DELETE, "latency", None).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(emulator.latency(), None);
    assert!(
        serde_json::to_value(emulator.state())
            .expect("serializes")
            .get("latency")
            .is_none()
    );

    // A seed carries its latency in.
    let seed =
        Seed::from_json(r#"{"tenantGroups": [], "latency": {"fixedMs": 7}}"#).expect("valid seed");
    emulator.set_state(seed);
    assert_eq!(emulator.latency(), Some(LatencyConfig::fixed(7)));
    emulator.shutdown().await;
}

#[test]
fn the_jitter_sequence_is_reproducible_from_its_seed() {
    let config = LatencyConfig {
        fixed_ms: 25,
        jitter_ms: 5,
        seed: Some(42),
    };
    let sample = |config| {
        let mut sampler = LatencySampler::new(config);
        (0..50).map(|_| sampler.next_delay()).collect::<Vec<_>>()
    };
    let first = sample(config);
    assert_eq!(first, sample(config));
    assert_ne!(
        first,
        sample(LatencyConfig {
            seed: Some(43),
            ..config
        })
    );
    assert!(
        first
            .iter()
            .all(|d| (Duration::from_millis(25)..=Duration::from_millis(30)).contains(d))
    );
    assert!(first.windows(2).any(|w| w[0] != w[1]), "the jitter varies");
}

#[tokio::test]
async fn generate_builds_ten_thousand_sessions_that_list_whole() {
    let emulator = start().await;
    let spec = r#"{"tenantGroup":"Default Tenant Group","tenant":"Bulk","hostPool":"Pool-Bulk",
                   "hosts":40,"sessionsPerHost":250,"firstSessionId":1}"#;
    let response = admin_send(&emulator, Method::POST, "generate", Some(spec.to_owned())).await;
    assert_eq!(response.status(), StatusCode::OK);
    let summary: Value = response.json().await.expect("JSON");
    assert_eq!(
        summary,
        json!({"tenantGroup": TG, "tenant": "Bulk", "hostPool": "Pool-Bulk",
               "hosts": 40, "sessions": 10000, "replaced": false})
    );

    // How fast a listing is belongs to the benchmark (scripts/bench.sh), not to a timed test.
    let client = client();
    let listed = list(&client, &emulator.url(), "Bulk", "Pool-Bulk").await;
    let sessions = listed.as_array().expect("array");
    assert_eq!(sessions.len(), 10_000);
    assert_eq!(sessions[0]["sessionHostName"], "host-0001.bulk.test");
    assert_eq!(sessions[0]["sessionId"], 1);
    assert_eq!(sessions[0]["userPrincipalName"], "user1@bulk.test");
    assert_eq!(sessions[9_999]["sessionHostName"], "host-0040.bulk.test");
    assert_eq!(sessions[9_999]["sessionId"], 250);
    assert_eq!(sessions[9_999]["userPrincipalName"], "user10000@bulk.test");
    let active = sessions
        .iter()
        .filter(|s| s["sessionState"] == "Active")
        .count();
    assert_eq!(active, 5_000);

    // The rest of the world and the identity are untouched.
    let state = emulator.state();
    assert_eq!(state.identity, Seed::sample().identity);
    assert_eq!(
        list(&client, &emulator.url(), "Contoso", "Pool-Desktop")
            .await
            .as_array()
            .map(Vec::len),
        Some(7)
    );

    // Generating again replaces the pool.
    let summary = emulator
        .generate(&GenerateSpec {
            hosts: 2,
            sessions_per_host: 3,
            first_session_id: 100,
            ..GenerateSpec::default()
        })
        .expect("valid spec");
    assert!(summary.replaced);
    let listed = list(&client, &emulator.url(), "Bulk", "Pool-Bulk").await;
    let ids: Vec<i64> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["sessionId"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids, [100, 101, 102, 100, 101, 102]);

    for bad in [
        r#"{"hosts": 2000, "sessionsPerHost": 1000}"#,
        r#"{"host": 1}"#,
    ] {
        let response = admin_send(&emulator, Method::POST, "generate", Some(bad.to_owned())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "InvalidGenerateSpec");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_generated_session_is_logged_off_exactly_once() {
    let emulator = start().await;
    emulator.set_settings(EmulatorSettings {
        request_log: false,
        ..EmulatorSettings::default()
    });
    let spec = GenerateSpec {
        hosts: 8,
        sessions_per_host: 250,
        ..GenerateSpec::default()
    };
    emulator.generate(&spec).expect("valid spec");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let semaphore = Arc::new(Semaphore::new(32));
    let url = emulator.url();
    let mut tasks = Vec::new();
    for host in 1..=spec.hosts {
        for id in 1..=250 {
            let path = logoff_path(
                TG,
                "Bulk",
                "Pool-Bulk",
                &format!("host-{host:04}.bulk.test"),
                &id.to_string(),
            );
            let client = client.clone();
            let url = url.clone();
            let semaphore = Arc::clone(&semaphore);
            tasks.push(tokio::spawn(async move {
                let _permit = semaphore.acquire().await.expect("permit");
                authorized(&client, &url, Method::POST, &path)
                    .send()
                    .await
                    .expect("answered")
                    .status()
            }));
        }
    }
    for task in tasks {
        assert_eq!(task.await.expect("task"), StatusCode::OK);
    }
    let activity = emulator.activity();
    assert_eq!(activity.logoffs.len(), 2_000);
    assert_eq!(activity.calls_per_session.len(), 2_000);
    assert!(activity.calls_per_session.iter().all(|c| c.logoff == 1));
    assert!(activity.max_in_flight <= 32, "{}", activity.max_in_flight);
    assert_eq!(activity.broker_requests, 2_000);
    assert!(emulator.requests().is_empty(), "the request log is off");
    assert!(
        list(&client, &url, "Bulk", "Pool-Bulk")
            .await
            .as_array()
            .expect("array")
            .is_empty()
    );
    emulator.shutdown().await;
}

async fn put_settings(emulator: &Emulator, body: &str) -> reqwest::Response {
    admin_send(emulator, Method::PUT, "settings", Some(body.to_owned())).await
}

#[tokio::test]
async fn the_request_log_is_capped_and_can_be_switched_off() {
    let emulator = start().await;
    let defaults = admin_get(&emulator, "settings").await;
    assert_eq!(
        defaults,
        json!({"requestLog": true, "requestLogCapacity": DEFAULT_REQUEST_LOG_CAPACITY})
    );

    let capped: Value = put_settings(&emulator, r#"{"requestLogCapacity": 5}"#)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(capped, json!({"requestLog": true, "requestLogCapacity": 5}));
    let client = client();
    for id in 1..=8 {
        let path = action_path(
            TG,
            "Contoso",
            "Pool-Desktop",
            "sh1.contoso.com",
            &id.to_string(),
            "disconnect-user",
        );
        authorized(&client, &emulator.url(), Method::POST, &path)
            .send()
            .await
            .expect("answered");
    }
    let ids: Vec<String> = emulator
        .requests()
        .into_iter()
        .filter_map(|r| r.session_id)
        .collect();
    assert_eq!(ids, ["4", "5", "6", "7", "8"], "the oldest are dropped");

    let off = put_settings(&emulator, r#"{"requestLog": false}"#).await;
    assert_eq!(off.status(), StatusCode::OK);
    assert_eq!(
        emulator.settings(),
        EmulatorSettings {
            request_log: false,
            request_log_capacity: 5,
        }
    );
    list(&client, &emulator.url(), "Contoso", "Pool-Desktop").await;
    assert_eq!(emulator.requests().len(), 5, "nothing new is logged");
    assert_eq!(emulator.activity().broker_requests, 9);

    let bad = put_settings(&emulator, r#"{"requestLogs": false}"#).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    // Settings survive a state replacement.
    emulator.set_state(Seed::sample());
    assert!(!emulator.settings().request_log);
    emulator.shutdown().await;
}
