//! The broker routes over real HTTP: listing, logoff, and every error the broker can answer.

mod common;

use common::{Reply, TG, bearer, client, logoff_path, read, session_ids, sessions_path, start};
use rds_emulator::{Emulator, EmulatorConfig, RequestRecord, Seed};
use reqwest::header::{ALLOW, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A broker request as clients send it (a POST carries the `{}` JSON body real clients send),
/// with `auth` as its `Authorization` header.
async fn send(emulator: &Emulator, method: Method, path: &str, auth: Option<&str>) -> Reply {
    let mut request = client().request(method.clone(), format!("{}{path}", emulator.url()));
    if let Some(auth) = auth {
        request = request.header(AUTHORIZATION, auth);
    }
    if method == Method::POST {
        // The broker ignores the body; send one to prove it is accepted.
        request = request.header(CONTENT_TYPE, "application/json").body("{}");
    }
    read(request.send().await.expect("request is answered")).await
}

/// [`send`] a GET with the default token.
async fn get(emulator: &Emulator, path: &str) -> Reply {
    send(emulator, Method::GET, path, Some(&bearer())).await
}

/// [`send`] a POST with the default token.
async fn post(emulator: &Emulator, path: &str) -> Reply {
    send(emulator, Method::POST, path, Some(&bearer())).await
}

/// The nested error body the broker uses for lookups.
fn nested(code: &str, message: &str, target: &str) -> Value {
    json!({"error": {
        "code": code,
        "message": message,
        "target": target,
        "details": [{"code": code, "message": message, "target": target}],
    }})
}

#[tokio::test]
async fn list_sessions_returns_a_bare_array_ordered_by_host_then_session() {
    let emulator = start().await;
    let reply = get(&emulator, &sessions_path(TG, "Contoso", "Pool-Desktop")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let content_type = reply.headers[CONTENT_TYPE].to_str().expect("ascii");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let sessions = reply.json();
    let sessions = sessions.as_array().expect("bare array");
    assert_eq!(
        sessions[0],
        json!({
            "tenantGroupName": "Default Tenant Group",
            "tenantName": "Contoso",
            "hostPoolName": "Pool-Desktop",
            "sessionHostName": "sh1.contoso.com",
            "sessionId": 2,
            "userPrincipalName": "alice@contoso.com",
            "adUserName": "CONTOSO\\alice",
            "applicationType": "Desktop",
            "sessionState": "Active",
            "createTime": "2026-11-23T07:58:12Z",
        })
    );
    let keys: Vec<(String, i64)> = sessions
        .iter()
        .map(|s| {
            (
                s["sessionHostName"].as_str().expect("host").to_owned(),
                s["sessionId"].as_i64().expect("id"),
            )
        })
        .collect();
    // Shared with the unit test of the listing (src/broker/lookup.rs).
    let expected: Vec<(String, i64)> =
        serde_json::from_str(include_str!("fixtures/sample-list-order.json"))
            .expect("fixture parses");
    assert_eq!(keys, expected);

    // Sessions on an unreachable host are still listed: the broker only has a stale record.
    let apps = get(&emulator, &sessions_path(TG, "Contoso", "Pool-Apps"))
        .await
        .json();
    let hosts: Vec<&str> = apps
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["sessionHostName"].as_str().expect("host"))
        .collect();
    assert_eq!(
        hosts,
        ["app1.contoso.com", "app1.contoso.com", "stale1.contoso.com"]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn logoff_removes_exactly_that_session() {
    let emulator = start().await;
    // Session 2 exists on both sh1 and sh2: only the one on sh2 may go.
    let path = logoff_path(TG, "Contoso", "Pool-Desktop", "sh2.contoso.com", "2");
    let reply = post(&emulator, &path).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "");

    let mut expected = Seed::sample();
    expected.tenant_groups[0].tenants[0].host_pools[0].session_hosts[1]
        .sessions
        .retain(|s| s.session_id != 2);
    assert_eq!(emulator.state(), expected);
    let state = emulator.state();
    assert_eq!(
        session_ids(&state, "Contoso", "Pool-Desktop", "sh1.contoso.com"),
        [2, 3, 5, 17]
    );
    assert_eq!(
        session_ids(&state, "Contoso", "Pool-Desktop", "sh2.contoso.com"),
        [4, 9]
    );

    let listed = get(&emulator, &sessions_path(TG, "Contoso", "Pool-Desktop"))
        .await
        .json();
    assert_eq!(listed.as_array().expect("array").len(), 6);

    // The same logoff again: the session is gone now.
    let again = post(&emulator, &path).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        again.json(),
        nested("SessionNotFound", "User session ID not found", "2")
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn forced_logoff_on_an_unreachable_host_removes_the_session() {
    let emulator = start().await;
    let path = logoff_path(TG, "Contoso", "Pool-Apps", "stale1.contoso.com", "3");
    let reply = post(&emulator, &format!("{path}?force=true")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        session_ids(
            &emulator.state(),
            "Contoso",
            "Pool-Apps",
            "stale1.contoso.com"
        )
        .is_empty()
    );
    let record = emulator.requests().pop().expect("logged");
    assert_eq!(record.force, Some(true));
    assert_eq!(record.query.as_deref(), Some("force=true"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn logoff_on_an_unreachable_host_without_force_is_409_and_keeps_the_session() {
    let emulator = start().await;
    let path = logoff_path(TG, "Contoso", "Pool-Apps", "stale1.contoso.com", "3");
    for query in ["", "?force=false", "?force=FALSE"] {
        let reply = post(&emulator, &format!("{path}{query}")).await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "query {query:?}");
        assert_eq!(
            reply.json(),
            nested(
                "SessionHostUnreachable",
                "Session host 'stale1.contoso.com' is not reachable; the session was not logged off. \
                 Use -Force to remove the session record.",
                "stale1.contoso.com",
            )
        );
    }
    assert_eq!(emulator.state(), Seed::sample());
    emulator.shutdown().await;
}

#[tokio::test]
async fn force_is_case_insensitive_and_reachable_hosts_accept_it() {
    let emulator = start().await;
    let path = logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", "17");
    let reply = post(&emulator, &format!("{path}?force=TRUE")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        session_ids(
            &emulator.state(),
            "Contoso",
            "Pool-Desktop",
            "sh1.contoso.com"
        ),
        [2, 3, 5]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn each_missing_object_is_a_404_naming_it() {
    let emulator = start().await;
    let cases = [
        (
            sessions_path("No Such Group", "Contoso", "Pool-Desktop"),
            "TenantGroupNotFound",
            "No Such Group",
            "Tenant group 'No Such Group' does not exist.",
        ),
        (
            sessions_path(TG, "Northwind", "Pool-Desktop"),
            "TenantNotFound",
            "Northwind",
            "Tenant 'Northwind' does not exist in tenant group 'Default Tenant Group'.",
        ),
        (
            sessions_path(TG, "Contoso", "Pool-Missing"),
            "HostPoolNotFound",
            "Pool-Missing",
            "Host pool 'Pool-Missing' does not exist in tenant 'Contoso'.",
        ),
        (
            logoff_path(TG, "Contoso", "Pool-Missing", "sh1.contoso.com", "2"),
            "HostPoolNotFound",
            "Pool-Missing",
            "Host pool 'Pool-Missing' does not exist in tenant 'Contoso'.",
        ),
        (
            logoff_path(TG, "Contoso", "Pool-Desktop", "sh9.contoso.com", "2"),
            "SessionHostNotFound",
            "sh9.contoso.com",
            "Session host 'sh9.contoso.com' does not exist in host pool 'Pool-Desktop'.",
        ),
        (
            logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", "4"),
            "SessionNotFound",
            "4",
            "User session ID not found",
        ),
    ];
    for (path, code, target, message) in cases {
        let method = if path.ends_with("logoff-user") {
            Method::POST
        } else {
            Method::GET
        };
        let reply = send(&emulator, method, &path, Some(&bearer())).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.json(), nested(code, message, target), "{path}");
    }
    assert_eq!(emulator.state(), Seed::sample());
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_forbidden_tenant_is_403_for_list_and_logoff() {
    let emulator = start().await;
    let mut seed = Seed::sample();
    seed.tenant_groups[0].tenants[0].forbidden = true;
    emulator.set_state(seed.clone());
    let expected = nested(
        "Forbidden",
        "The user isn't authorized to query the management service.",
        "Contoso",
    );

    let list = get(&emulator, &sessions_path(TG, "Contoso", "Pool-Desktop")).await;
    assert_eq!(list.status, StatusCode::FORBIDDEN);
    assert_eq!(list.json(), expected);

    // Forbidden is decided before the host pool is looked up: it hides what exists.
    let logoff = post(
        &emulator,
        &logoff_path(TG, "Contoso", "Pool-Missing", "sh1.contoso.com", "2"),
    )
    .await;
    assert_eq!(logoff.status, StatusCode::FORBIDDEN);
    assert_eq!(logoff.json(), expected);
    assert_eq!(emulator.state(), seed);

    // Other tenants are unaffected.
    let fabrikam = get(&emulator, &sessions_path(TG, "Fabrikam", "Fabrikam-Pool")).await;
    assert_eq!(fabrikam.status, StatusCode::OK);
    emulator.shutdown().await;
}

#[tokio::test]
async fn missing_or_wrong_tokens_are_401_and_never_echoed() {
    let emulator = start().await;
    let wrong_secret = "wrong-secret-token-5f3a";
    let attempts = [
        None,
        Some(format!("Bearer {wrong_secret}")),
        Some(format!("bearer {}", rds_emulator::DEFAULT_ACCESS_TOKEN)),
        Some(rds_emulator::DEFAULT_ACCESS_TOKEN.to_owned()),
        Some(format!("Basic {wrong_secret}")),
    ];
    let logoff = logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", "2");
    // Authorization is checked before anything else, so even a bad path below the route
    // table answers 401 rather than revealing what exists.
    let missing_group = sessions_path("No Such Group", "x", "y");
    for auth in &attempts {
        for (method, path) in [(Method::POST, &logoff), (Method::GET, &missing_group)] {
            let reply = send(&emulator, method, path, auth.as_deref()).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
            assert_eq!(reply.headers[WWW_AUTHENTICATE], "Bearer");
            assert_eq!(
                reply.json(),
                json!({"error": {
                    "code": "Unauthorized",
                    "message": "The access token is missing, malformed or not valid for this broker.",
                }})
            );
            assert!(!reply.body.contains(wrong_secret));
            assert!(!reply.body.contains(rds_emulator::DEFAULT_ACCESS_TOKEN));
        }
    }
    assert_eq!(emulator.state(), Seed::sample(), "nothing was logged off");

    let log = emulator.requests();
    assert_eq!(log.len(), attempts.len() * 2);
    assert!(log.iter().all(|r| !r.authorized && r.status == 401));
    let log_text = serde_json::to_string(&log).expect("serializes");
    assert!(!log_text.contains(wrong_secret), "{log_text}");
    assert!(
        !log_text.contains(rds_emulator::DEFAULT_ACCESS_TOKEN),
        "{log_text}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_custom_token_replaces_the_default() {
    let emulator = Emulator::start(EmulatorConfig {
        access_token: "custom-token".to_owned(),
        ..EmulatorConfig::default()
    })
    .await
    .expect("starts");
    let path = sessions_path(TG, "Contoso", "Pool-Desktop");
    let default = get(&emulator, &path).await;
    assert_eq!(default.status, StatusCode::UNAUTHORIZED);
    let custom = send(&emulator, Method::GET, &path, Some("Bearer custom-token")).await;
    assert_eq!(custom.status, StatusCode::OK);
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_empty_token_is_refused_at_start() {
    let error = Emulator::start(EmulatorConfig {
        access_token: String::new(),
        ..EmulatorConfig::default()
    })
    .await
    .expect_err("empty token");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_bad_session_id_is_a_flat_400() {
    let emulator = start().await;
    for id in ["abc", "2147483648", "1.5"] {
        let path = logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", id);
        let reply = post(&emulator, &path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{id}");
        assert_eq!(
            reply.json(),
            json!({
                "Error": "InvalidDataFormat",
                "Message": format!("Session id '{id}' is not a valid number."),
            })
        );
    }
    // The host is looked up before the id is parsed.
    let path = logoff_path(TG, "Contoso", "Pool-Desktop", "sh9.contoso.com", "abc");
    let reply = post(&emulator, &path).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error"]["code"], "SessionHostNotFound");
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_invalid_force_value_is_a_flat_400_and_changes_nothing() {
    let emulator = start().await;
    let path = logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", "2");
    for query in ["force=yes", "force=1", "force=", "force=true&force=true"] {
        let reply = post(&emulator, &format!("{path}?{query}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        let body = reply.json();
        assert_eq!(body["Error"], "InvalidDataFormat", "{query}");
        let message = body["Message"].as_str().expect("message");
        assert!(message.contains("force"), "{message}");
    }
    assert_eq!(emulator.state(), Seed::sample());
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let emulator = start().await;
    let unknown = get(&emulator, "/RdsManagement/V1/TenantGroups/x/Nope").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["error"]["code"], "RouteNotFound");

    // The path form without /TenantGroups is not served (see docs/service-facts.md §1.1).
    let no_group = get(
        &emulator,
        "/RdsManagement/V1/Tenants/Contoso/HostPools/Pool-Desktop/Sessions",
    )
    .await;
    assert_eq!(no_group.status, StatusCode::NOT_FOUND);

    let list = sessions_path(TG, "Contoso", "Pool-Desktop");
    let delete = send(&emulator, Method::DELETE, &list, Some(&bearer())).await;
    assert_eq!(delete.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(delete.headers[ALLOW], "GET");
    assert_eq!(delete.json()["error"]["code"], "MethodNotAllowed");

    let logoff = logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", "2");
    let get_logoff = get(&emulator, &logoff).await;
    assert_eq!(get_logoff.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get_logoff.headers[ALLOW], "POST");

    let routes: Vec<(String, u16)> = emulator
        .requests()
        .into_iter()
        .map(|r| (r.route, r.status))
        .collect();
    assert_eq!(
        routes,
        [
            ("unknown".to_owned(), 404),
            ("unknown".to_owned(), 404),
            ("listSessions".to_owned(), 405),
            ("logoffUser".to_owned(), 405),
        ]
    );
    assert_eq!(emulator.state(), Seed::sample());
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_request_log_records_each_broker_request_with_its_status() {
    let emulator = start().await;
    let list = sessions_path(TG, "Contoso", "Pool-Desktop");
    let logoff = logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", "5");
    get(&emulator, &list).await;
    post(&emulator, &format!("{logoff}?force=false")).await;
    // Admin routes are not broker requests and stay out of the log.
    send(&emulator, Method::GET, "/_emulator/health", None).await;

    let listed = RequestRecord {
        method: "GET".to_owned(),
        raw_path: "/RdsManagement/V1/TenantGroups/Default%20Tenant%20Group/Tenants/Contoso/HostPools/Pool-Desktop/Sessions".to_owned(),
        query: None,
        route: "listSessions".to_owned(),
        tenant_group: Some(TG.to_owned()),
        tenant: Some("Contoso".to_owned()),
        host_pool: Some("Pool-Desktop".to_owned()),
        session_host: None,
        session_id: None,
        force: None,
        status: 200,
        authorized: true,
        caller: Some("static".to_owned()),
        grant_type: None,
        client_id: None,
        message_title: None,
        message_body: None,
        fault: None,
        subscription: None,
        resource_group: None,
        api_version: None,
        page_size: None,
        principal: None,
    };
    // The logoff's record differs from the listing's only in these fields.
    let logged_off = RequestRecord {
        method: "POST".to_owned(),
        raw_path: logoff.clone(),
        query: Some("force=false".to_owned()),
        route: "logoffUser".to_owned(),
        session_host: Some("sh1.contoso.com".to_owned()),
        session_id: Some("5".to_owned()),
        force: Some(false),
        ..listed.clone()
    };
    assert_eq!(emulator.requests(), [listed, logged_off]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn subscribers_see_each_record_once_its_status_is_known() {
    let emulator = start().await;
    let mut feed = emulator.subscribe_requests();
    let path = sessions_path(TG, "Contoso", "Pool-Missing");
    get(&emulator, &path).await;
    let record = feed.recv().await.expect("one record");
    assert_eq!(record.status, 404);
    assert_eq!(record.host_pool.as_deref(), Some("Pool-Missing"));
    emulator.shutdown().await;
}
