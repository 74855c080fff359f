//! The core client against the real emulator over HTTP.

use rds_core::{BrokerClient, BrokerObject, ErrorKind, LogoffOptions, SessionTarget, StaticToken};
use rds_emulator::{DEFAULT_ACCESS_TOKEN, Emulator, EmulatorConfig, Seed};
use std::sync::Arc;

fn seed(json: &str) -> Seed {
    Seed::from_json(json).expect("valid seed")
}

/// Tenant "Contoso", pool "Pool1": sh1 holds 17 and 18; stale1 (unreachable) holds 30.
fn world() -> Seed {
    seed(
        r#"{"tenantGroups":[{"name":"Default Tenant Group","tenants":[{"name":"Contoso","hostPools":[{"name":"Pool1","sessionHosts":[
            {"name":"sh1.contoso.com","sessions":[
                {"sessionId":17,"userPrincipalName":"a@contoso.com","adUserName":"C\\a","applicationType":"Desktop","sessionState":"Active","createTime":"2026-11-23T21:04:00Z"},
                {"sessionId":18,"userPrincipalName":"b@contoso.com","adUserName":"C\\b","applicationType":"Desktop","sessionState":"Disconnected","createTime":"2026-11-23T21:05:00Z"}]},
            {"name":"stale1.contoso.com","reachable":false,"sessions":[
                {"sessionId":30,"userPrincipalName":"c@contoso.com","adUserName":"C\\c","applicationType":"Desktop","sessionState":"Active","createTime":"2026-11-23T21:06:00Z"}]}
        ]}]}]}]}"#,
    )
}

async fn start(seed: Seed) -> Emulator {
    Emulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

fn client(emulator: &Emulator, token: &str) -> BrokerClient {
    BrokerClient::builder(
        emulator.url(),
        Arc::new(StaticToken::new(rds_core::AccessToken::new(token))),
    )
    .build()
    .expect("client")
}

fn ids_left(emulator: &Emulator) -> Vec<(String, i32)> {
    let mut left = Vec::new();
    for tg in emulator.state().tenant_groups {
        for t in tg.tenants {
            for hp in t.host_pools {
                for sh in hp.session_hosts {
                    for s in sh.sessions {
                        left.push((sh.name.clone(), s.session_id));
                    }
                }
            }
        }
    }
    left
}

#[tokio::test]
async fn logoff_removes_exactly_that_session() {
    let emu = start(world()).await;
    let outcome = client(&emu, DEFAULT_ACCESS_TOKEN)
        .logoff(
            &SessionTarget::new("Contoso", "Pool1", "sh1.contoso.com", 17),
            LogoffOptions::default(),
        )
        .await
        .expect("logoff succeeds");
    assert!(outcome.status == 200 || outcome.status == 204);
    assert_eq!(outcome.correlation_id.len(), 36);
    assert_eq!(
        ids_left(&emu),
        vec![
            ("sh1.contoso.com".into(), 18),
            ("stale1.contoso.com".into(), 30)
        ]
    );
    let request = emu.requests().pop().expect("one request");
    assert_eq!(request.method, "POST");
    assert_eq!(request.force, None);
    assert_eq!(
        request.raw_path,
        "/RdsManagement/V1/TenantGroups/Default%20Tenant%20Group/Tenants/Contoso/HostPools/Pool1/SessionHosts/sh1.contoso.com/Sessions/17/actions/logoff-user"
    );
}

#[tokio::test]
async fn unreachable_host_needs_force() {
    let emu = start(world()).await;
    let c = client(&emu, DEFAULT_ACCESS_TOKEN);
    let target = SessionTarget::new("Contoso", "Pool1", "stale1.contoso.com", 30);
    let err = c
        .logoff(&target, LogoffOptions::default())
        .await
        .expect_err("409 without force");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.status(), Some(409));
    assert_eq!(
        err.api().and_then(|a| a.code.as_deref()),
        Some("SessionHostUnreachable")
    );
    assert_eq!(ids_left(&emu).len(), 3);

    c.logoff(&target, LogoffOptions { force: true })
        .await
        .expect("forced logoff succeeds");
    assert_eq!(ids_left(&emu).len(), 2);
    let request = emu.requests().pop().expect("request");
    assert_eq!(request.query.as_deref(), Some("force=true"));
    assert_eq!(request.force, Some(true));
}

#[tokio::test]
async fn each_missing_object_is_a_typed_not_found() {
    let emu = start(world()).await;
    let c = client(&emu, DEFAULT_ACCESS_TOKEN);
    let cases = [
        (
            SessionTarget::new("Nope", "Pool1", "sh1.contoso.com", 17),
            BrokerObject::Tenant,
            "TenantNotFound",
        ),
        (
            SessionTarget::new("Contoso", "Nope", "sh1.contoso.com", 17),
            BrokerObject::HostPool,
            "HostPoolNotFound",
        ),
        (
            SessionTarget::new("Contoso", "Pool1", "nope", 17),
            BrokerObject::SessionHost,
            "SessionHostNotFound",
        ),
        (
            SessionTarget::new("Contoso", "Pool1", "sh1.contoso.com", 99),
            BrokerObject::Session,
            "SessionNotFound",
        ),
    ];
    for (target, object, code) in cases {
        let err = c
            .logoff(&target, LogoffOptions::default())
            .await
            .expect_err("404");
        assert_eq!(err.kind(), ErrorKind::NotFound, "{target}");
        assert_eq!(err.not_found(), object, "{target}");
        assert_eq!(err.status(), Some(404));
        assert_eq!(err.api().and_then(|a| a.code.as_deref()), Some(code));
        assert!(err.message().contains(code), "{}", err.message());
    }
    let other_group = c.with_tenant_group("Nope Group").expect("valid name");
    let err = other_group
        .logoff(
            &SessionTarget::new("Contoso", "Pool1", "sh1.contoso.com", 17),
            LogoffOptions::default(),
        )
        .await
        .expect_err("404");
    assert_eq!(err.not_found(), BrokerObject::TenantGroup);
    assert_eq!(ids_left(&emu).len(), 3);
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_never_echoed() {
    let emu = start(world()).await;
    let err = client(&emu, "wrong-secret-token")
        .logoff(
            &SessionTarget::new("Contoso", "Pool1", "sh1.contoso.com", 17),
            LogoffOptions::default(),
        )
        .await
        .expect_err("401");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    assert!(!err.message().contains("wrong-secret-token"));
    assert!(!format!("{err:?}").contains("wrong-secret-token"));
    assert_eq!(ids_left(&emu).len(), 3);
}

#[tokio::test]
async fn listing_returns_the_sessions_with_broker_fields() {
    let emu = start(world()).await;
    let c = client(&emu, DEFAULT_ACCESS_TOKEN);
    let sessions = c.list_sessions("Contoso", "Pool1").await.expect("list");
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions[0].session_host_name, "sh1.contoso.com");
    assert_eq!(sessions[0].session_id, 17);
    assert_eq!(
        sessions[0].user_principal_name.as_deref(),
        Some("a@contoso.com")
    );
    assert_eq!(sessions[1].session_state.as_deref(), Some("Disconnected"));
    assert_eq!(sessions[0].tenant_group_name, "Default Tenant Group");
}

#[tokio::test]
async fn hostile_names_are_sent_as_single_segments() {
    for name in [
        "a/b",
        "x?y",
        "#frag",
        "100%",
        "%2F",
        "with space",
        "Zoë 東京",
        "...",
        "a+b",
        ";=&",
    ] {
        let json = serde_json::json!({"tenantGroups":[{"name":"Default Tenant Group","tenants":[{"name":name,"hostPools":[{"name":name,"sessionHosts":[{"name":name,"sessions":[
            {"sessionId":1,"userPrincipalName":"u","adUserName":"d\\u","applicationType":"Desktop","sessionState":"Active","createTime":"2026-11-23T00:00:00Z"}]}]}]}]}]});
        let emu = start(seed(&json.to_string())).await;
        client(&emu, DEFAULT_ACCESS_TOKEN)
            .logoff(
                &SessionTarget::new(name, name, name, 1),
                LogoffOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let request = emu.requests().pop().expect("request");
        assert_eq!(request.tenant.as_deref(), Some(name));
        assert_eq!(request.host_pool.as_deref(), Some(name));
        assert_eq!(request.session_host.as_deref(), Some(name));
        assert_eq!(request.route, "logoffUser");
        assert!(ids_left(&emu).is_empty(), "{name}");
    }
}

#[tokio::test]
async fn unsendable_input_fails_before_any_request() {
    let emu = start(world()).await;
    let c = client(&emu, DEFAULT_ACCESS_TOKEN);
    for target in [
        SessionTarget::new("..", "Pool1", "sh1", 1),
        SessionTarget::new("Contoso", ".", "sh1", 1),
        SessionTarget::new("Contoso", "Pool1", "", 1),
        SessionTarget::new("Contoso", "Pool1", "a\u{7}b", 1),
        SessionTarget::new("Contoso", "Pool1", "sh1", -5),
    ] {
        let err = c
            .logoff(&target, LogoffOptions::default())
            .await
            .expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{target:?}");
    }
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn a_closed_port_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let c = BrokerClient::builder(
        url,
        Arc::new(StaticToken::new(rds_core::AccessToken::new("t"))),
    )
    .build()
    .expect("client");
    let err = c
        .logoff(
            &SessionTarget::new("Contoso", "Pool1", "sh1", 1),
            LogoffOptions::default(),
        )
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(
        err.message().contains("could not be reached"),
        "{}",
        err.message()
    );
}
