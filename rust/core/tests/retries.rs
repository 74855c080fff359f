//! The retry layer over real HTTP (wiremock): what is retried, how long it waits, and logoff
//! idempotency when an answer is lost.

use rds_core::{BrokerClient, ErrorKind, LogoffOptions, RetryPolicy, SessionTarget, StaticToken};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        total_deadline: Duration::from_secs(10),
    }
}

fn client(server: &MockServer, policy: RetryPolicy) -> BrokerClient {
    BrokerClient::builder(
        server.uri(),
        Arc::new(StaticToken::new(rds_core::AccessToken::new("tok"))),
    )
    .retry_policy(policy)
    .request_timeout(Duration::from_millis(400))
    .build()
    .expect("client")
}

fn target() -> SessionTarget {
    SessionTarget::new("T", "HP", "sh", 3)
}

async fn mount_sequence(server: &MockServer, first: Vec<ResponseTemplate>, then: ResponseTemplate) {
    for response in first {
        Mock::given(method("POST"))
            .respond_with(response)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(server)
            .await;
    }
    Mock::given(method("POST"))
        .respond_with(then)
        .with_priority(5)
        .mount(server)
        .await;
}

/// The first POST is throttled with `Retry-After: 1`, every later one succeeds.
async fn throttle_once(server: &MockServer) {
    mount_sequence(
        server,
        vec![ResponseTemplate::new(429).insert_header("Retry-After", "1")],
        ResponseTemplate::new(200),
    )
    .await;
}

#[tokio::test]
async fn throttling_is_retried_after_retry_after_and_never_sooner() {
    let server = MockServer::start().await;
    throttle_once(&server).await;
    let started = Instant::now();
    let done = client(&server, fast_policy())
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect("succeeds on retry");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}, less than Retry-After",
        started.elapsed()
    );
    assert_eq!(done.attempts, 2);
    assert_eq!(done.notes.len(), 1);
    assert!(
        done.notes[0].contains("throttled (HTTP 429)"),
        "{:?}",
        done.notes
    );
}

#[tokio::test]
async fn transient_server_errors_are_retried_up_to_the_limit() {
    let server = MockServer::start().await;
    mount_sequence(
        &server,
        vec![ResponseTemplate::new(503), ResponseTemplate::new(502)],
        ResponseTemplate::new(204),
    )
    .await;
    let done = client(&server, fast_policy())
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect("third attempt works");
    assert_eq!(done.attempts, 3);

    let always = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&always)
        .await;
    let err = client(&always, fast_policy())
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("gives up");
    assert_eq!(err.kind(), ErrorKind::ServerError);
    assert_eq!(err.attempts(), 4);
    assert!(
        err.message().contains("after 4 attempts"),
        "{}",
        err.message()
    );
    assert_eq!(always.received_requests().await.map(|r| r.len()), Some(4));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 409] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
        let err = client(&server, fast_policy())
            .logoff(&target(), LogoffOptions::default())
            .await
            .expect_err("error");
        assert_eq!(err.attempts(), 1, "HTTP {status}");
        assert_eq!(
            server.received_requests().await.map(|r| r.len()),
            Some(1),
            "HTTP {status}"
        );
    }
}

#[tokio::test]
async fn a_lost_answer_then_a_vanished_session_counts_as_logged_off() {
    let server = MockServer::start().await;
    let session_gone = ResponseTemplate::new(404).set_body_string(
        r#"{"error":{"code":"SessionNotFound","message":"User session ID not found"}}"#,
    );
    // The first answer never arrives in time (the broker applied the logoff, the client timed out).
    mount_sequence(
        &server,
        vec![ResponseTemplate::new(200).set_delay(Duration::from_secs(2))],
        session_gone.clone(),
    )
    .await;
    let done = client(&server, fast_policy())
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect("counted as done");
    assert_eq!(done.attempts, 2);
    assert!(
        done.notes
            .iter()
            .any(|n| n.contains("counted as logged off")),
        "{:?}",
        done.notes
    );

    // But a 404 on the FIRST attempt is still an error.
    let fresh = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(session_gone)
        .mount(&fresh)
        .await;
    let err = client(&fresh, fast_policy())
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("404 first");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_gives_up_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = client(&server, fast_policy())
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("gives up");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.kind(), ErrorKind::Throttled);
    assert_eq!(err.api().and_then(|a| a.retry_after_secs), Some(3600));
}

#[tokio::test]
async fn retry_none_sends_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let err = client(&server, RetryPolicy::none())
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("no retry");
    assert_eq!(err.attempts(), 1);
}

/// `client` with `retries` fast retries, as `Set-RdsContext -MaximumRetryCount` makes it.
fn with_retries(client: &BrokerClient, retries: u32) -> BrokerClient {
    let policy = RetryPolicy::new(retries, Duration::from_millis(20), Duration::from_secs(10))
        .expect("policy");
    client
        .with_retry_settings(policy, Duration::from_millis(400))
        .expect("settings")
}

#[tokio::test]
async fn retry_settings_of_a_connection_can_be_changed_and_are_kept_by_copies() {
    let server = MockServer::start().await;
    mount_sequence(&server, vec![], ResponseTemplate::new(503)).await;
    let original = client(&server, fast_policy());

    // No retries: one request, then the 503 is reported.
    let no_retry = with_retries(&original, 0);
    let e = no_retry
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("503");
    assert_eq!(e.kind(), ErrorKind::ServerError);
    assert_eq!(server.received_requests().await.expect("recorded").len(), 1);

    // A copy for another tenant group keeps the settings; the original keeps its own.
    let copy = no_retry.with_tenant_group("Other Group").expect("group");
    assert_eq!(copy.retry_policy().max_retries, 0);
    assert_eq!(original.retry_policy().max_retries, 3);

    // Two retries: three requests.
    let two = with_retries(&original, 2);
    server.reset().await;
    mount_sequence(&server, vec![], ResponseTemplate::new(503)).await;
    two.logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("503");
    assert_eq!(server.received_requests().await.expect("recorded").len(), 3);
}

#[tokio::test]
async fn the_request_timeout_setting_bounds_each_attempt() {
    let server = MockServer::start().await;
    mount_sequence(
        &server,
        vec![],
        ResponseTemplate::new(200).set_delay(Duration::from_secs(3)),
    )
    .await;
    let short = client(&server, fast_policy())
        .with_retry_settings(RetryPolicy::none(), Duration::from_millis(300))
        .expect("settings");
    assert_eq!(short.request_timeout(), Duration::from_millis(300));
    let started = Instant::now();
    let e = short
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("times out");
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn invalid_settings_are_refused_and_change_nothing() {
    let original = BrokerClient::builder(
        "http://127.0.0.1:9",
        Arc::new(StaticToken::new(rds_core::AccessToken::new("tok"))),
    )
    .build()
    .expect("client");
    for timeout in [Duration::ZERO, Duration::from_secs(3601)] {
        let e = original
            .with_retry_settings(RetryPolicy::default(), timeout)
            .expect_err("bad timeout");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("TimeoutSec"), "{e}");
    }
    let too_many = RetryPolicy {
        max_retries: 21,
        ..RetryPolicy::default()
    };
    let e = original
        .with_retry_settings(too_many, Duration::from_secs(5))
        .expect_err("too many retries");
    assert!(e.to_string().contains("MaximumRetryCount"), "{e}");
    assert_eq!(original.retry_policy(), &RetryPolicy::default());
}

#[tokio::test]
async fn an_observer_hears_each_retry_before_the_wait_and_the_notes_do_not_repeat_it() {
    let server = MockServer::start().await;
    throttle_once(&server).await;
    let heard = Arc::new(std::sync::Mutex::new(Vec::<(String, Instant)>::new()));
    let sink = heard.clone();
    let client = client(&server, fast_policy()).with_retry_observer(Arc::new(move |note: &str| {
        sink.lock()
            .expect("lock")
            .push((note.to_owned(), Instant::now()));
    }));
    let started = Instant::now();
    let done = client
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect("succeeds on retry");
    let finished = Instant::now();

    let heard = heard.lock().expect("lock").clone();
    let (note, at) = heard.first().expect("one retry was reported");
    assert_eq!(heard.len(), 1);
    assert_eq!(
        note,
        "Session T/HP/sh/3: throttled (HTTP 429); retrying in 1.0 s (retry 1 of at most 3)"
    );
    // Told before the one-second wait, not after it.
    assert!(
        *at - started < Duration::from_millis(900),
        "{:?}",
        *at - started
    );
    assert!(finished - *at >= Duration::from_secs(1));
    assert_eq!(done.attempts, 2);
    assert!(done.notes.is_empty(), "{:?}", done.notes);
}
