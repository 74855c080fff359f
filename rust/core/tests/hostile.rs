//! Hostile services and hostile input (issue 10): every defect found by an adversarial run is
//! reproduced here against a hostile server on loopback or a wiremock broker, and must stay
//! fixed: no hang without a timeout, no unbounded read, no false "logged off", no terminal
//! escape or flood in a message, no redirect followed, no oversized value accepted.

mod common;

use common::hostile::{self, Behaviour, response};
use rds_core::auth::{AccessToken, Acquire, RefreshingToken, TokenFuture};
use rds_core::signin::{Credential, SignIn, SignInOptions};
use rds_core::{
    BrokerClient, ErrorCode, ErrorKind, LogoffOptions, RetryPolicy, SessionTarget, StaticToken,
};
use secrecy::SecretString;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TENANT: &str = "contoso.onmicrosoft.com";
const APP_ID: &str = "22222222-2222-2222-2222-222222222222";

fn http() -> reqwest::Client {
    rds_core::client::default_http_client().expect("http")
}

fn fast_policy(retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries: retries,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        total_deadline: Duration::from_secs(10),
    }
}

fn client(url: &str, retries: u32, timeout: Duration) -> BrokerClient {
    BrokerClient::builder(url, Arc::new(StaticToken::new(AccessToken::new("tok"))))
        .retry_policy(fast_policy(retries))
        .request_timeout(timeout)
        .build()
        .expect("client")
}

fn target() -> SessionTarget {
    SessionTarget::new("T", "HP", "sh", 3)
}

fn session_gone() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_string(
        r#"{"error":{"code":"SessionNotFound","message":"User session ID not found"}}"#,
    )
}

fn secret_sign_in(authority: &str, timeout: Duration) -> SignIn {
    let options = SignInOptions {
        authority_host: Some(authority.to_owned()),
        request_timeout: timeout,
        ..SignInOptions::new("https://rdbroker.example.com")
    };
    SignIn::new(
        options,
        Credential::ClientSecret {
            tenant_id: TENANT.into(),
            client_id: APP_ID.into(),
            secret: SecretString::from("s3cret"),
        },
        http(),
    )
    .expect("valid locally")
}

// Defect 2: hangs with no timeout against the sign-in authority.

#[tokio::test]
async fn an_authority_that_accepts_and_never_answers_fails_the_sign_in_within_the_timeout() {
    let silent = hostile::start(vec![Behaviour::Silent]).await;
    let started = Instant::now();
    let err = secret_sign_in(&silent.url, Duration::from_secs(1))
        .complete()
        .await
        .expect_err("no answer");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.code(), ErrorCode::AuthorityUnreachable, "{err}");
    assert!(err.message().contains("did not answer within"), "{err}");
}

#[tokio::test]
async fn a_sign_in_waiting_on_a_silent_authority_stops_at_once_when_cancelled() {
    let silent = hostile::start(vec![Behaviour::Silent]).await;
    let sign_in = secret_sign_in(&silent.url, Duration::from_secs(600));
    let task = tokio::spawn(sign_in.complete());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(silent.connections(), 1, "the request is waiting");
    let started = Instant::now();
    task.abort();
    let joined = task.await;
    assert!(joined.expect_err("aborted").is_cancelled());
    assert!(started.elapsed() < Duration::from_millis(500));
}

/// The first token lives 1 s; every renewal hangs forever.
#[derive(Debug)]
struct RenewalHangs {
    calls: Arc<AtomicUsize>,
}

impl Acquire for RenewalHangs {
    fn acquire(&self) -> TokenFuture<'_> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if n > 0 {
                std::future::pending::<()>().await;
            }
            Ok(AccessToken::with_lifetime("first", Duration::from_secs(1)))
        })
    }
}

#[tokio::test]
async fn a_token_renewal_that_hangs_fails_each_request_within_the_timeout_instead_of_stalling() {
    let broker = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&broker)
        .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(RefreshingToken::new(Box::new(RenewalHangs {
        calls: calls.clone(),
    })));
    let client = BrokerClient::builder(broker.uri(), tokens)
        .request_timeout(Duration::from_secs(1))
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    client
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect("the first token works");
    tokio::time::sleep(Duration::from_millis(1100)).await; // the token expires
    let started = Instant::now();
    let err = client
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("renewal hangs");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.code(), ErrorCode::AuthorityUnreachable, "{err}");
    assert!(err.message().contains("no access token within"), "{err}");
}

#[tokio::test]
async fn an_authority_that_answers_once_then_stalls_ends_a_long_run_with_errors_not_a_hang() {
    let token = br#"{"access_token":"first","token_type":"Bearer","expires_in":1}"#;
    let authority = hostile::start(vec![
        response(200, &[("content-type", "application/json")], token),
        Behaviour::Silent,
    ])
    .await;
    let broker = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&broker)
        .await;
    let options = SignInOptions {
        authority_host: Some(authority.url.clone()),
        request_timeout: Duration::from_secs(1),
        retry: RetryPolicy::none(),
        ..SignInOptions::new(broker.uri())
    };
    let signed_in = SignIn::new(
        options,
        Credential::ClientSecret {
            tenant_id: TENANT.into(),
            client_id: APP_ID.into(),
            secret: SecretString::from("s3cret"),
        },
        http(),
    )
    .expect("valid")
    .complete()
    .await
    .expect("first token");
    let client = signed_in.client.with_concurrency_limit(8).expect("limit");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = Instant::now();
    let runs: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.logoff(&target(), LogoffOptions::default()).await })
        })
        .collect();
    let mut failures = 0;
    for run in runs {
        if let Err(e) = run.await.expect("join") {
            assert_eq!(e.code(), ErrorCode::AuthorityUnreachable, "{e}");
            failures += 1;
        }
    }
    assert_eq!(failures, 50);
    // Each waiter is bounded by one timeout of its own (they queue on the renewal); far from
    // the 300 s stall seen before.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn certificate_files_that_are_not_regular_files_or_too_large_are_refused_at_once() {
    use rds_core::auth::certificate::ClientCertificate;
    let started = Instant::now();
    let err = ClientCertificate::from_file(std::path::Path::new("/dev/zero"), None)
        .expect_err("a device");
    assert_eq!(err.code(), ErrorCode::CertificateInvalid);
    assert!(err.message().contains("not a regular file"), "{err}");

    let dir = tempfile::tempdir().expect("dir");
    let fifo = dir.path().join("cert.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let err = ClientCertificate::from_file(&fifo, None).expect_err("a FIFO");
    assert!(err.message().contains("not a regular file"), "{err}");

    let big = dir.path().join("big.pfx");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(3 * 1024 * 1024 * 1024))
        .expect("sparse file");
    let err = ClientCertificate::from_file(&big, None).expect_err("3 GB");
    assert!(err.message().contains("larger than 1024 KiB"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

// Defect 3: "logged off" only after an attempt whose outcome was unknown.

async fn logoff_after(
    first: Vec<ResponseTemplate>,
) -> Result<rds_core::ActionOutcome, rds_core::Error> {
    let server = MockServer::start().await;
    for response in first {
        Mock::given(method("POST"))
            .respond_with(response)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .respond_with(session_gone())
        .with_priority(5)
        .mount(&server)
        .await;
    client(&server.uri(), 3, Duration::from_millis(500))
        .logoff(&target(), LogoffOptions::default())
        .await
}

#[tokio::test]
async fn a_refusal_then_not_found_is_session_not_found_never_logged_off() {
    for first in [
        ResponseTemplate::new(429).insert_header("Retry-After", "0"),
        ResponseTemplate::new(503),
        ResponseTemplate::new(408),
    ] {
        let status = first.clone();
        let err = logoff_after(vec![first])
            .await
            .expect_err("the session never existed");
        assert_eq!(err.code(), ErrorCode::SessionNotFound, "{status:?}: {err}");
        assert_eq!(err.attempts(), 2);
    }
}

#[tokio::test]
async fn an_unknown_outcome_then_not_found_is_logged_off() {
    // A 500 or 502 may have been passed on and applied; a lost answer certainly may.
    for first in [
        ResponseTemplate::new(500),
        ResponseTemplate::new(502),
        ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
    ] {
        let done = logoff_after(vec![first]).await.expect("counted as done");
        assert_eq!(done.attempts, 2);
        assert!(
            done.notes
                .iter()
                .any(|n| n.contains("counted as logged off"))
        );
    }
}

#[tokio::test]
async fn a_connection_reset_after_sending_then_not_found_is_logged_off() {
    // Connection 1 reads the logoff and closes; connection 2 says the session is gone.
    let gone = br#"{"error":{"code":"SessionNotFound","message":"User session ID not found"}}"#;
    let server = hostile::start(vec![
        Behaviour::CloseAfterRequest,
        response(404, &[("content-type", "application/json")], gone),
    ])
    .await;
    let done = client(&server.url, 3, Duration::from_secs(2))
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect("counted as done");
    assert_eq!(done.status, 404);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn a_final_unknown_outcome_says_the_logoff_may_have_been_applied_and_how_to_check() {
    let server = hostile::start(vec![Behaviour::CloseAfterRequest]).await;
    let err = client(&server.url, 1, Duration::from_secs(2))
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("never answered");
    assert_eq!(err.code(), ErrorCode::BrokerUnreachable);
    assert!(
        err.message().contains("The logoff may have been applied"),
        "{err}"
    );
    assert!(
        err.message()
            .contains("Get-RdsUserSession -TenantName 'T' -HostPoolName 'HP'"),
        "{err}"
    );

    // A refused connection sent nothing: no such warning.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let err = client(&closed, 1, Duration::from_secs(2))
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("refused");
    assert_eq!(err.code(), ErrorCode::BrokerUnreachable);
    assert!(!err.message().contains("may have been applied"), "{err}");
}

// Defect 5: no bound on answer sizes.

#[tokio::test]
async fn an_endless_list_answer_stops_at_the_bound_with_a_clear_error() {
    let server = hostile::start(vec![Behaviour::Endless {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        chunk: vec![b' '; 1024 * 1024],
    }])
    .await;
    let started = Instant::now();
    let err = client(&server.url, 0, Duration::from_secs(60))
        .list_sessions("T", "HP")
        .await
        .expect_err("too large");
    assert_eq!(err.code(), ErrorCode::BrokerResponseTooLarge, "{err}");
    assert!(err.message().contains("larger than 64 MiB"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));

    let declared = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'['; 65 * 1024 * 1024]))
        .mount(&declared)
        .await;
    let err = client(&declared.uri(), 0, Duration::from_secs(60))
        .list_sessions("T", "HP")
        .await
        .expect_err("declared too large");
    assert_eq!(err.code(), ErrorCode::BrokerResponseTooLarge, "{err}");
}

#[tokio::test]
async fn a_huge_error_answer_becomes_a_short_message() {
    let server = hostile::start(vec![Behaviour::Endless {
        status: 400,
        headers: vec![],
        chunk: vec![b'x'; 1024 * 1024],
    }])
    .await;
    let err = client(&server.url, 0, Duration::from_secs(10))
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("400");
    assert_eq!(err.code(), ErrorCode::BrokerBadRequest);
    assert!(
        err.message().chars().count() < 2000,
        "{}",
        err.message().len()
    );

    let fifty_mb = MockServer::start().await;
    let body = format!(
        r#"{{"error":{{"code":"Bad","message":"{}"}}}}"#,
        "m".repeat(50 * 1024 * 1024)
    );
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string(body))
        .mount(&fifty_mb)
        .await;
    let err = client(&fifty_mb.uri(), 0, Duration::from_secs(10))
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("400");
    assert!(
        err.message().chars().count() < 2000,
        "{}",
        err.message().len()
    );
}

// Defect 6: broker text reaches the console raw.

#[tokio::test]
async fn escape_sequences_in_a_broker_message_never_reach_the_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(409).set_body_string(
            "{\"error\":{\"code\":\"Conflict\\u001b[2J\",\"message\":\"host\\u001b[2J\\u001b[31m down\\u0007\\u0008\\u009b1m\"}}",
        ))
        .mount(&server)
        .await;
    let err = client(&server.uri(), 0, Duration::from_secs(5))
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("409");
    assert_eq!(err.code(), ErrorCode::BrokerConflict);
    assert!(
        !err.message().chars().any(char::is_control),
        "{:?}",
        err.message()
    );
    assert!(
        err.message().contains("host [2J [31m down"),
        "{}",
        err.message()
    );
    assert_eq!(err.service_code(), Some("Conflict [2J"));
}

// Defect 7: echoes.

#[tokio::test]
async fn a_redirect_is_refused_and_named_as_such_without_its_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", "http://evil.example/steal?t=1"),
        )
        .mount(&server)
        .await;
    let err = client(&server.uri(), 3, Duration::from_secs(5))
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("302");
    assert_eq!(err.code(), ErrorCode::BrokerRedirectRefused, "{err}");
    assert!(err.message().contains("redirect (HTTP 302)"), "{err}");
    assert!(err.message().contains("'http://evil.example'"), "{err}");
    assert!(!err.message().contains("steal"), "{err}");
    assert_eq!(err.attempts(), 1, "a redirect is not retried");
}

#[test]
fn oversized_urls_are_invalid_account_parameters_before_any_request() {
    let long = format!("https://login.example.com/{}", "x".repeat(100_000));
    let options = SignInOptions {
        authority_host: Some(long.clone()),
        ..SignInOptions::new("https://rdbroker.example.com")
    };
    let err = SignIn::new(
        options,
        Credential::ClientSecret {
            tenant_id: TENANT.into(),
            client_id: APP_ID.into(),
            secret: SecretString::from("s"),
        },
        http(),
    )
    .expect_err("too long");
    assert_eq!(err.code(), ErrorCode::InvalidAccountParameters);
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("AuthorityHost"), "{err}");
    assert!(err.message().len() < 300, "{}", err.message().len());

    let err = SignIn::new(
        SignInOptions::new(long),
        Credential::AccessToken(SecretString::from("tok")),
        http(),
    )
    .expect_err("too long");
    assert_eq!(err.code(), ErrorCode::InvalidAccountParameters);
    assert!(err.message().contains("DeploymentUrl"), "{err}");
    assert!(err.message().len() < 300, "{}", err.message().len());
}
