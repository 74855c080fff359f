//! Responses the emulator never gives but real brokers and proxies do (wiremock).

use rds_core::{BrokerClient, ErrorKind, LogoffOptions, SessionTarget, StaticToken};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{header, method, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// No retries: these tests classify a single answer (tests/retries.rs covers retrying).
fn client(server: &MockServer) -> BrokerClient {
    BrokerClient::builder(
        server.uri(),
        Arc::new(StaticToken::new(rds_core::AccessToken::new("tok"))),
    )
    .retry_policy(rds_core::RetryPolicy::none())
    .request_timeout(Duration::from_millis(500))
    .build()
    .expect("client")
}

fn target() -> SessionTarget {
    SessionTarget::new("T", "HP", "sh", 3)
}

#[tokio::test]
async fn status_204_is_success_and_the_request_is_well_formed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("/actions/logoff-user$"))
        .and(header("authorization", "Bearer tok"))
        .and(header("accept", "application/json"))
        .and(header("content-type", "application/json"))
        .and(query_param("force", "true"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = client(&server)
        .logoff(&target(), LogoffOptions { force: true })
        .await
        .expect("204 is success");
    assert_eq!(outcome.status, 204);
}

#[tokio::test]
async fn flat_error_shape_and_statuses_map_to_kinds() {
    let cases = [
        (
            400,
            r#"{"Error":"InvalidDataFormat","Message":null}"#,
            ErrorKind::BadRequest,
            Some("InvalidDataFormat"),
        ),
        (
            403,
            r#"{"error":{"code":"Forbidden","message":"UnauthorizedAccess"}}"#,
            ErrorKind::Forbidden,
            Some("Forbidden"),
        ),
        (429, "", ErrorKind::Throttled, None),
        (500, "<html>oops</html>", ErrorKind::ServerError, None),
        (503, "busy", ErrorKind::ServerError, None),
        (408, "", ErrorKind::Timeout, None),
    ];
    for (status, body, kind, code) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_string(body)
                    .insert_header("Retry-After", "7"),
            )
            .mount(&server)
            .await;
        let err = client(&server)
            .logoff(&target(), LogoffOptions::default())
            .await
            .expect_err("error status");
        assert_eq!(err.kind(), kind, "HTTP {status}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(
            err.api().and_then(|a| a.code.as_deref()),
            code,
            "HTTP {status}"
        );
        assert_eq!(err.api().and_then(|a| a.retry_after_secs), Some(7));
        assert!(
            err.message().contains(&format!("HTTP {status}")),
            "{}",
            err.message()
        );
    }
}

#[tokio::test]
async fn a_slow_broker_is_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let err = client(&server)
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("timeout");
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn redirects_are_not_followed_so_the_token_stays_home() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("Location", "https://elsewhere.example/steal"),
        )
        .mount(&server)
        .await;
    let err = client(&server)
        .logoff(&target(), LogoffOptions::default())
        .await
        .expect_err("3xx is not success");
    assert_eq!(err.status(), Some(307));
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
}

#[tokio::test]
async fn a_listing_that_is_not_an_array_is_a_protocol_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"value":[]}"#))
        .mount(&server)
        .await;
    let err = client(&server)
        .list_sessions("T", "HP")
        .await
        .expect_err("not an array");
    assert_eq!(err.kind(), ErrorKind::Protocol);
}
