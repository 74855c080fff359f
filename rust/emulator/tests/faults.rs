//! Deterministic fault injection: what a client sees for each fault kind, whether the action
//! was applied, the counters, the admin routes and the determinism of the sequence.

mod common;

use std::time::{Duration, Instant};

use common::{
    TG, action_path, admin_get, admin_send, bearer, blocking_authorized, broker_request, client,
    logoff_path, sessions_path, start, start_background,
};
use rds_emulator::{
    Emulator, FaultConfig, FaultKind, FaultRoute, FaultSampler, FaultStats, FaultWeights,
    GenerateSpec, Seed,
};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn start_with(faults: Option<FaultConfig>) -> Emulator {
    let emulator = start().await;
    emulator.set_faults(faults);
    emulator
}

fn list_path() -> String {
    sessions_path(TG, "Contoso", "Pool-Desktop")
}

fn logoff(host: &str, id: i32) -> String {
    logoff_path(TG, "Contoso", "Pool-Desktop", host, &id.to_string())
}

fn action(host: &str, id: i32, name: &str) -> String {
    action_path(TG, "Contoso", "Pool-Desktop", host, &id.to_string(), name)
}

/// An authorized broker request (POSTs carry the `{}` body real clients send).
async fn send_with(
    client: &reqwest::Client,
    emulator: &Emulator,
    method: Method,
    path: &str,
) -> reqwest::Result<reqwest::Response> {
    broker_request(client, &emulator.url(), method, path)
        .send()
        .await
}

async fn send(emulator: &Emulator, method: Method, path: &str) -> reqwest::Result<(u16, String)> {
    let response = send_with(&client(), emulator, method, path).await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

fn has_session(seed: &Seed, host: usize, id: i32) -> bool {
    seed.tenant_groups[0].tenants[0].host_pools[0].session_hosts[host]
        .sessions
        .iter()
        .any(|s| s.session_id == id)
}

fn session_state(seed: &Seed, host: usize, id: i32) -> Option<String> {
    seed.tenant_groups[0].tenants[0].host_pools[0].session_hosts[host]
        .sessions
        .iter()
        .find(|s| s.session_id == id)
        .map(|s| s.session_state.clone())
}

/// The error chain of a failed request, for assertion messages.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A failure without any response: neither a status nor a timeout, but a broken connection.
fn assert_connection_error(error: &reqwest::Error) {
    let text = chain(error);
    assert!(error.status().is_none(), "{text}");
    assert!(!error.is_timeout(), "{text}");
    assert!(error.is_request(), "{text}");
    let lower = text.to_lowercase();
    assert!(
        lower.contains("connection closed before message completed")
            || lower.contains("reset")
            || lower.contains("incomplete"),
        "{text}"
    );
}

#[tokio::test]
async fn throttle_answers_429_with_retry_after_and_does_not_apply() {
    let emulator = start_with(Some(FaultConfig {
        retry_after_seconds: 7,
        ..FaultConfig::always(FaultKind::Throttle)
    }))
    .await;
    let response = send_with(
        &client(),
        &emulator,
        Method::POST,
        &logoff("sh1.contoso.com", 2),
    )
    .await
    .expect("answered");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        response.headers().get(RETRY_AFTER).map(|v| v.as_bytes()),
        Some(&b"7"[..])
    );
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert!(body["error"]["message"].is_string(), "{body}");

    assert!(has_session(&emulator.state(), 0, 2), "not logged off");
    let activity = emulator.activity();
    assert!(activity.logoffs.is_empty());
    let calls = activity
        .session_calls("Pool-Desktop", "sh1.contoso.com", 2)
        .expect("counted");
    assert_eq!(calls.logoff, 1, "the request reached the handler");
    let stats = emulator.fault_stats();
    assert_eq!((stats.requests, stats.faults.throttle), (1, 1));
    assert_eq!(stats.faults.total(), 1);
    let log = emulator.requests();
    assert_eq!(log[0].status, 429);
    assert_eq!(log[0].fault, Some(FaultKind::Throttle));
    emulator.shutdown().await;
}

#[tokio::test]
async fn server_errors_are_5xx_with_a_nested_body_chosen_by_the_sequence() {
    let config = FaultConfig {
        seed: Some(11),
        ..FaultConfig::always(FaultKind::ServerError)
    };
    let emulator = start_with(Some(config.clone())).await;
    let sampler = FaultSampler::new(config);
    let mut seen = Vec::new();
    for index in 0..16 {
        let response = send_with(
            &client(),
            &emulator,
            Method::POST,
            &action("sh1.contoso.com", 2, "disconnect-user"),
        )
        .await
        .expect("answered");
        let status = response.status().as_u16();
        assert_eq!(status, sampler.server_error_status_at(index));
        let body: Value = response.json().await.expect("JSON body");
        let code = body["error"]["code"].as_str().expect("code").to_owned();
        let expected = match status {
            500 => "InternalServerError",
            502 => "BadGateway",
            503 => "ServiceUnavailable",
            504 => "GatewayTimeout",
            other => panic!("unexpected status {other}"),
        };
        assert_eq!(code, expected);
        seen.push(status);
    }
    seen.sort_unstable();
    seen.dedup();
    assert!(seen.len() >= 3, "several statuses: {seen:?}");
    assert_eq!(
        session_state(&emulator.state(), 0, 2).as_deref(),
        Some("Active"),
        "never disconnected"
    );
    assert!(emulator.activity().disconnects.is_empty());
    assert_eq!(emulator.fault_stats().faults.server_error, 16);

    // A configured status list is honoured.
    emulator.set_faults(Some(FaultConfig {
        server_error_statuses: vec![503],
        ..FaultConfig::always(FaultKind::ServerError)
    }));
    for _ in 0..5 {
        let (status, _) = send(&emulator, Method::GET, &list_path())
            .await
            .expect("answered");
        assert_eq!(status, 503);
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn reset_closes_the_connection_without_a_response_and_does_not_apply() {
    let emulator = start_with(Some(FaultConfig::always(FaultKind::Reset))).await;
    // One client (and so one connection pool) throughout: each reset must surface as an
    // error, also on a connection that served requests before.
    let http = client();
    for _ in 0..10 {
        let error = send_with(
            &http,
            &emulator,
            Method::POST,
            &logoff("sh1.contoso.com", 2),
        )
        .await
        .expect_err("no response");
        assert_connection_error(&error);
        let error = send_with(&http, &emulator, Method::GET, &list_path())
            .await
            .expect_err("no response");
        assert_connection_error(&error);
    }
    assert!(has_session(&emulator.state(), 0, 2), "not logged off");
    let activity = emulator.activity();
    assert!(activity.logoffs.is_empty());
    assert_eq!(
        activity
            .session_calls("Pool-Desktop", "sh1.contoso.com", 2)
            .map(|c| c.logoff),
        Some(10)
    );
    let stats = emulator.fault_stats();
    assert_eq!((stats.requests, stats.faults.reset), (20, 20));
    let log = emulator.requests();
    assert!(log.iter().all(|r| r.status == 0), "{log:?}");
    assert!(log.iter().all(|r| r.fault == Some(FaultKind::Reset)));

    // On the wire: the connection ends without a single byte of response.
    let addr = emulator.local_addr();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {}\r\n\r\n",
        list_path(),
        bearer()
    );
    let received = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(request.as_bytes()).expect("sends");
        let mut received = Vec::new();
        // End of file or a reset: either way nothing was answered.
        let _ = stream.read_to_end(&mut received);
        received
    })
    .await
    .expect("joins");
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );

    // An HTTP/2 client (prior knowledge) sees its stream reset: no usable response.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    match send_with(&h2, &emulator, Method::GET, &list_path()).await {
        Ok(response) => {
            let error = response.text().await.expect_err("the body fails");
            assert!(!error.is_timeout(), "{}", chain(&error));
        }
        Err(error) => {
            assert!(
                error.status().is_none() && !error.is_timeout(),
                "{}",
                chain(&error)
            );
        }
    }

    // Without faults the same client goes on working.
    emulator.set_faults(None);
    let response = send_with(&http, &emulator, Method::GET, &list_path())
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    emulator.shutdown().await;
}

#[tokio::test]
async fn stall_outlasts_a_client_timeout_yet_the_logoff_is_applied() {
    let emulator = start_with(Some(FaultConfig {
        stall_ms: 1500,
        ..FaultConfig::always(FaultKind::Stall)
    }))
    .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let started = Instant::now();
    let error = send_with(
        &impatient,
        &emulator,
        Method::POST,
        &logoff("sh1.contoso.com", 5),
    )
    .await
    .expect_err("times out");
    assert!(error.is_timeout(), "{}", chain(&error));
    assert!(started.elapsed() < Duration::from_millis(1400));
    // The broker did the work although the client gave up.
    assert!(!has_session(&emulator.state(), 0, 5), "logged off");
    let activity = emulator.activity();
    assert_eq!(activity.logoffs.len(), 1);
    assert_eq!(activity.logoffs[0].session_id, 5);
    let log = emulator.requests();
    assert_eq!(log.len(), 1, "recorded although the client left");
    assert_eq!((log[0].status, log[0].fault), (200, Some(FaultKind::Stall)));

    // A patient client gets the normal answer, late.
    emulator.set_faults(Some(FaultConfig {
        stall_ms: 300,
        ..FaultConfig::always(FaultKind::Stall)
    }));
    let started = Instant::now();
    let (status, body) = send(&emulator, Method::GET, &list_path())
        .await
        .expect("answered");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(status, 200);
    let sessions: Vec<Value> = serde_json::from_str(&body).expect("valid JSON");
    assert_eq!(sessions.len(), 6);
    emulator.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_fail_to_parse_and_actions_are_not_applied() {
    let emulator = start_with(Some(FaultConfig::always(FaultKind::Malformed))).await;
    let response = send_with(&client(), &emulator, Method::GET, &list_path())
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get(CONTENT_TYPE).map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let text = response.text().await.expect("body");
    assert!(text.starts_with('['), "{text}");
    assert!(serde_json::from_str::<Vec<Value>>(&text).is_err(), "{text}");
    let error = send_with(&client(), &emulator, Method::GET, &list_path())
        .await
        .expect("answered")
        .json::<Vec<Value>>()
        .await
        .expect_err("does not parse");
    assert!(error.is_decode(), "{}", chain(&error));

    for (path, name) in [
        (logoff("sh1.contoso.com", 2), "logoff"),
        (
            action("sh1.contoso.com", 3, "disconnect-user"),
            "disconnect",
        ),
        (
            format!(
                "{}?MessageTitle=t&MessageBody=b",
                action("sh1.contoso.com", 5, "send-message-user")
            ),
            "message",
        ),
    ] {
        let (status, body) = send(&emulator, Method::POST, &path)
            .await
            .expect("answered");
        assert_eq!((status, body.as_str()), (500, "<html>oops"), "{name}");
        assert!(serde_json::from_str::<Value>(&body).is_err());
    }
    // Nothing changed.
    let mut state = emulator.state();
    state.faults = None;
    assert_eq!(state, Seed::sample());
    let activity = emulator.activity();
    assert!(activity.logoffs.is_empty() && activity.disconnects.is_empty());
    assert!(activity.messages.is_empty());
    assert_eq!(emulator.fault_stats().faults.malformed, 5);
    emulator.shutdown().await;
}

#[tokio::test]
async fn applied_lost_applies_the_action_and_loses_the_response() {
    let emulator = start_with(Some(FaultConfig::always(FaultKind::AppliedLost))).await;
    let http = client();
    let error = send_with(
        &http,
        &emulator,
        Method::POST,
        &logoff("sh1.contoso.com", 17),
    )
    .await
    .expect_err("no response");
    assert_connection_error(&error);
    assert!(!has_session(&emulator.state(), 0, 17), "logged off");
    let activity = emulator.activity();
    assert_eq!(activity.logoffs.len(), 1);
    assert_eq!(activity.logoffs[0].session_id, 17);

    // A retry finds the session gone (404, no fault: it is not processed) and adds no record.
    let (status, body) = send(&emulator, Method::POST, &logoff("sh1.contoso.com", 17))
        .await
        .expect("answered");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("SessionNotFound"), "{body}");
    let activity = emulator.activity();
    assert_eq!(activity.logoffs.len(), 1);
    assert_eq!(
        activity
            .session_calls("Pool-Desktop", "sh1.contoso.com", 17)
            .map(|c| c.logoff),
        Some(2)
    );

    // Disconnect and message are applied too.
    let error = send_with(
        &http,
        &emulator,
        Method::POST,
        &action("sh1.contoso.com", 3, "disconnect-user"),
    )
    .await
    .expect_err("no response");
    assert_connection_error(&error);
    let message = format!(
        "{}?MessageTitle=Hi&MessageBody=There",
        action("sh1.contoso.com", 5, "send-message-user")
    );
    let error = send_with(&http, &emulator, Method::POST, &message)
        .await
        .expect_err("no response");
    assert_connection_error(&error);
    let state = emulator.state();
    assert_eq!(session_state(&state, 0, 3).as_deref(), Some("Disconnected"));
    let activity = emulator.activity();
    assert_eq!(activity.disconnects.len(), 1);
    assert_eq!(activity.messages.len(), 1);
    assert_eq!(activity.messages[0].title, "Hi");
    let stats = emulator.fault_stats();
    assert_eq!((stats.requests, stats.faults.applied_lost), (3, 3));
    emulator.shutdown().await;
}

#[tokio::test]
async fn rate_zero_injects_nothing_but_counts_candidates() {
    let emulator = start_with(Some(FaultConfig {
        seed: Some(3),
        ..FaultConfig::default()
    }))
    .await;
    for _ in 0..30 {
        let (status, body) = send(&emulator, Method::GET, &list_path())
            .await
            .expect("answered");
        assert_eq!(status, 200);
        serde_json::from_str::<Vec<Value>>(&body).expect("valid JSON");
    }
    let (status, _) = send(&emulator, Method::POST, &logoff("sh1.contoso.com", 2))
        .await
        .expect("answered");
    assert_eq!(status, 200);
    let stats = emulator.fault_stats();
    assert_eq!(stats.requests, 31);
    assert_eq!(stats.faults.total(), 0);
    assert!(emulator.requests().iter().all(|r| r.fault.is_none()));
    emulator.shutdown().await;
}

#[tokio::test]
async fn only_listed_routes_get_faults() {
    let emulator = start_with(Some(
        FaultConfig::always(FaultKind::Throttle).on_routes(&[FaultRoute::LogoffUser]),
    ))
    .await;
    let (status, _) = send(&emulator, Method::GET, &list_path())
        .await
        .expect("answered");
    assert_eq!(status, 200);
    let (status, _) = send(
        &emulator,
        Method::POST,
        &action("sh1.contoso.com", 2, "disconnect-user"),
    )
    .await
    .expect("answered");
    assert_eq!(status, 200);
    let (status, _) = send(&emulator, Method::POST, &logoff("sh1.contoso.com", 2))
        .await
        .expect("answered");
    assert_eq!(status, 429);
    let stats = emulator.fault_stats();
    assert_eq!((stats.requests, stats.faults.throttle), (1, 1));
    emulator.shutdown().await;
}

#[tokio::test]
async fn requests_that_would_fail_anyway_never_get_faults() {
    let emulator = start_with(None).await;
    let mut seed = Seed::sample();
    seed.tenant_groups[0].tenants[1].forbidden = true;
    seed.faults = Some(FaultConfig::always(FaultKind::Reset));
    emulator.set_state(seed);
    let http = client();
    // Unauthenticated.
    let response = http
        .get(format!("{}{}", emulator.url(), list_path()))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    for (method, path, expected) in [
        // No such session / host / pool, an invalid id, an invalid force value.
        (Method::POST, logoff("sh1.contoso.com", 99), 404),
        (Method::POST, logoff("nohost", 2), 404),
        (
            Method::GET,
            sessions_path(TG, "Contoso", "No-Such-Pool"),
            404,
        ),
        (
            Method::POST,
            logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", "abc"),
            400,
        ),
        (
            Method::POST,
            format!("{}?force=maybe", logoff("sh1.contoso.com", 2)),
            400,
        ),
        // An unreachable host without force, a message without its parameters.
        (
            Method::POST,
            logoff_path(TG, "Contoso", "Pool-Apps", "stale1.contoso.com", "3"),
            409,
        ),
        (
            Method::POST,
            action("sh1.contoso.com", 2, "send-message-user"),
            400,
        ),
        // Wrong method, unknown route, forbidden tenant.
        (Method::DELETE, list_path(), 405),
        (Method::GET, "/RdsManagement/V1/Nothing".to_owned(), 404),
        (
            Method::GET,
            sessions_path(TG, "Fabrikam", "Fabrikam-Pool"),
            403,
        ),
    ] {
        let (status, body) = send(&emulator, method.clone(), &path)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {}", chain(&e)));
        assert_eq!(status, expected, "{method} {path}: {body}");
    }
    assert_eq!(emulator.fault_stats(), FaultStats::default());
    // Admin and identity endpoints are never affected either.
    admin_get(&emulator, "health").await;
    emulator.shutdown().await;
}

/// What a client observes for one `listSessions` request.
async fn outcome(emulator: &Emulator) -> (u16, bool) {
    let (status, body) = send(emulator, Method::GET, &list_path())
        .await
        .expect("answered");
    (status, serde_json::from_str::<Value>(&body).is_ok())
}

#[tokio::test]
async fn the_same_seed_gives_the_same_fault_sequence() {
    let config = FaultConfig {
        seed: Some(42),
        rate: 0.5,
        kinds: FaultWeights {
            throttle: 1,
            server_error: 1,
            malformed: 1,
            ..FaultWeights::default()
        },
        ..FaultConfig::default()
    };
    let a = start_with(Some(config.clone())).await;
    let b = start_with(Some(config.clone())).await;
    let mut first = Vec::new();
    let mut second = Vec::new();
    for _ in 0..60 {
        first.push(outcome(&a).await);
        second.push(outcome(&b).await);
    }
    assert_eq!(first, second);
    let faulted = first.iter().filter(|(s, ok)| *s != 200 || !ok).count();
    assert!((15..=45).contains(&faulted), "{faulted} of 60");

    // The sequence is the sampler's, and the recorded kinds match it.
    let sampler = FaultSampler::new(config.clone());
    let recorded: Vec<Option<FaultKind>> = a.requests().iter().map(|r| r.fault).collect();
    let predicted: Vec<Option<FaultKind>> = (0..60).map(|n| sampler.fault_at(n)).collect();
    assert_eq!(recorded, predicted);
    for ((status, parsed), kind) in first.iter().zip(&predicted) {
        match kind {
            None => assert_eq!((*status, *parsed), (200, true)),
            Some(FaultKind::Throttle) => assert_eq!(*status, 429),
            Some(FaultKind::ServerError) => assert!(*status >= 500 && *parsed),
            Some(FaultKind::Malformed) => assert_eq!((*status, *parsed), (200, false)),
            Some(other) => panic!("weight 0 kind {other:?}"),
        }
    }
    let stats = a.fault_stats();
    assert_eq!(stats.requests, 60);
    assert_eq!(stats.faults.total(), faulted as u64);
    assert_eq!(b.fault_stats(), stats);

    // Resetting the activity restarts the sequence and the counters.
    a.clear_activity();
    assert_eq!(a.fault_stats(), FaultStats::default());
    let mut again = Vec::new();
    for _ in 0..60 {
        again.push(outcome(&a).await);
    }
    assert_eq!(again, first);

    // Another seed, another sequence.
    b.set_faults(Some(FaultConfig {
        seed: Some(43),
        ..config
    }));
    let mut other = Vec::new();
    for _ in 0..60 {
        other.push(outcome(&b).await);
    }
    assert_ne!(other, first);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_retrying_client_logs_every_session_off_exactly_once() {
    // Every kind, half of the requests: a client that retries errors and treats 404 on a retry
    // as "already done" ends with every session logged off exactly once.
    let emulator = start_with(None).await;
    let spec = GenerateSpec {
        tenant: "Contoso".to_owned(),
        host_pool: "Pool-Retry".to_owned(),
        hosts: 3,
        sessions_per_host: 10,
        ..GenerateSpec::default()
    };
    emulator.generate(&spec).expect("generated");
    emulator.clear_activity();
    emulator.set_faults(Some(FaultConfig {
        seed: Some(2026),
        rate: 0.5,
        stall_ms: 400,
        retry_after_seconds: 0,
        ..FaultConfig::default()
    }));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let hosts = [
        "host-0001.bulk.test",
        "host-0002.bulk.test",
        "host-0003.bulk.test",
    ];
    for host in hosts {
        for id in 1..=10 {
            let path = logoff_path(TG, "Contoso", "Pool-Retry", host, &id.to_string());
            let mut done = false;
            for attempt in 0..40 {
                match send_with(&http, &emulator, Method::POST, &path).await {
                    Ok(response) if response.status() == StatusCode::OK => done = true,
                    Ok(response) if response.status() == StatusCode::NOT_FOUND && attempt > 0 => {
                        done = true;
                    }
                    Ok(response) => {
                        let status = response.status().as_u16();
                        assert!(matches!(status, 429 | 500..=599), "{status}");
                    }
                    Err(error) => assert!(
                        error.is_timeout() || error.is_request(),
                        "{}",
                        chain(&error)
                    ),
                }
                if done {
                    break;
                }
            }
            assert!(done, "{host} {id}");
        }
    }
    // Stalled logoffs complete on the server while the client retries: wait them out.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let state = emulator.state();
    let pool = state.tenant_groups[0].tenants[0]
        .host_pools
        .iter()
        .find(|p| p.name == "Pool-Retry")
        .expect("pool");
    assert!(pool.session_hosts.iter().all(|h| h.sessions.is_empty()));
    let activity = emulator.activity();
    assert_eq!(activity.logoffs.len(), 30, "one logoff record per session");
    for host in hosts {
        for id in 1..=10 {
            let records = activity
                .logoffs
                .iter()
                .filter(|r| r.session_host == host && r.session_id == id)
                .count();
            assert_eq!(records, 1, "{host} {id}");
        }
    }
    let stats = emulator.fault_stats();
    for kind in FaultKind::ALL {
        assert!(stats.faults.get(kind) > 0, "{kind:?} in {stats:?}");
    }
    let calls: u64 = activity.calls_per_session.iter().map(|c| c.logoff).sum();
    assert!(calls > 30, "{calls}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn admin_routes_set_read_count_and_clear() {
    let emulator = start_with(None).await;
    let body = json!({"seed": 42, "rate": 1,
        "kinds": {"throttle": 1},
        "retryAfterSeconds": 2, "stallMs": 3000,
        "routes": ["logoffUser", "listSessions"]});
    let response = admin_send(&emulator, Method::PUT, "faults", Some(body.to_string())).await;
    assert_eq!(response.status(), StatusCode::OK);
    let echoed: Value = response.json().await.expect("JSON");
    let expected = json!({"seed": 42, "rate": 1.0,
        "kinds": {"throttle": 1, "serverError": 0, "reset": 0, "stall": 0, "malformed": 0,
                  "appliedLost": 0},
        "retryAfterSeconds": 2, "stallMs": 3000,
        "serverErrorStatuses": [500, 502, 503, 504],
        "routes": ["logoffUser", "listSessions"]});
    assert_eq!(echoed, expected);
    assert_eq!(admin_get(&emulator, "faults").await, expected);
    assert_eq!(admin_get(&emulator, "state").await["faults"], expected);

    let (status, _) = send(&emulator, Method::GET, &list_path())
        .await
        .expect("answered");
    assert_eq!(status, 429);
    assert_eq!(
        admin_get(&emulator, "faults/stats").await,
        json!({"requests": 1, "faults": {"throttle": 1, "serverError": 0, "reset": 0,
            "stall": 0, "malformed": 0, "appliedLost": 0}})
    );
    let log = admin_get(&emulator, "requests").await;
    assert_eq!(log[0]["fault"], "throttle");
    assert_eq!(log[0]["status"], 429);

    // DELETE /_emulator/activity zeroes the counters.
    let response = admin_send(&emulator, Method::DELETE, "activity", None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(admin_get(&emulator, "faults/stats").await["requests"], 0);

    // Invalid bodies are refused and change nothing.
    for bad in [
        r#"{"rate": 2}"#,
        r#"{"routes": ["token"]}"#,
        r#"{"kinds": {"slow": 1}}"#,
        "nope",
    ] {
        let response = admin_send(&emulator, Method::PUT, "faults", Some(bad.to_owned())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"]["code"], "InvalidFaults");
    }
    assert_eq!(admin_get(&emulator, "faults").await, expected);

    // DELETE removes the configuration and zeroes the counters.
    send(&emulator, Method::GET, &list_path())
        .await
        .expect("answered");
    let response = admin_send(&emulator, Method::DELETE, "faults", None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(emulator.fault_stats(), FaultStats::default());
    assert_eq!(emulator.faults(), None);
    assert_eq!(admin_get(&emulator, "faults").await["rate"], 0.0);
    assert!(admin_get(&emulator, "state").await.get("faults").is_none());
    let (status, _) = send(&emulator, Method::GET, &list_path())
        .await
        .expect("answered");
    assert_eq!(status, 200);

    // A null body removes the configuration too.
    emulator.set_faults(Some(FaultConfig::always(FaultKind::Throttle)));
    let response = admin_send(&emulator, Method::PUT, "faults", Some("null".to_owned())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(emulator.faults(), None);

    // The state document carries a top-level `faults`; PUT state resets the counters.
    let mut state = serde_json::to_value(Seed::sample()).expect("JSON");
    state["faults"] = json!({"seed": 1, "rate": 1, "kinds": {"serverError": 1},
        "serverErrorStatuses": [502]});
    let response = admin_send(&emulator, Method::PUT, "state", Some(state.to_string())).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, _) = send(&emulator, Method::GET, &list_path())
        .await
        .expect("answered");
    assert_eq!(status, 502);
    assert_eq!(emulator.fault_stats().faults.server_error, 1);
    state["faults"]["rate"] = json!(-1);
    let response = admin_send(&emulator, Method::PUT, "state", Some(state.to_string())).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    emulator.shutdown().await;
}

#[test]
fn background_emulator_counts_faults() {
    let emulator = start_background();
    emulator.set_faults(Some(FaultConfig {
        retry_after_seconds: 3,
        ..FaultConfig::always(FaultKind::Throttle)
    }));
    assert_eq!(emulator.faults().map(|f| f.retry_after_seconds), Some(3));
    let (status, body) = blocking_authorized(&emulator.url(), "GET", &list_path(), "");
    assert_eq!(status, 429, "{body}");
    let stats = emulator.fault_stats();
    assert_eq!((stats.requests, stats.faults.throttle), (1, 1));
    emulator.clear_activity();
    assert_eq!(emulator.fault_stats(), FaultStats::default());
}
