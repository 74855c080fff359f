//! The core client against the real emulator over HTTP, on both flavours the emulator serves:
//! the classic broker and Azure Resource Manager (through an ARM mapping of the same data).
//! Where the services differ, the expectation says which does what.

mod common;

use common::{Flavour, flavour_client};
use rds_core::{
    BrokerClient, BrokerObject, ErrorCode, ErrorKind, LogoffOptions, SessionTarget, StaticToken,
};
use rds_emulator::{Emulator, EmulatorConfig, Seed};
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

fn client(emulator: &Emulator, flavour: Flavour) -> BrokerClient {
    flavour_client(emulator, flavour).build().expect("client")
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
    for flavour in Flavour::ALL {
        logoff_removes_exactly_that_session_on(flavour).await;
    }
}

async fn logoff_removes_exactly_that_session_on(flavour: Flavour) {
    let emu = start(world()).await;
    let outcome = client(&emu, flavour)
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
    assert_eq!(request.force, None);
    match flavour {
        Flavour::Classic => {
            assert_eq!(request.method, "POST");
            assert_eq!(
                request.raw_path,
                "/RdsManagement/V1/TenantGroups/Default%20Tenant%20Group/Tenants/Contoso/HostPools/Pool1/SessionHosts/sh1.contoso.com/Sessions/17/actions/logoff-user"
            );
        }
        Flavour::Arm => {
            assert_eq!(request.method, "DELETE");
            let pool = &emu.arm_host_pools()[0];
            assert_eq!(
                request.raw_path,
                format!(
                    "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DesktopVirtualization/hostPools/Pool1/sessionHosts/sh1.contoso.com/userSessions/17",
                    pool.subscription_id, pool.resource_group
                )
            );
            assert_eq!(request.route, "armDeleteUserSession");
        }
    }
}

#[tokio::test]
async fn unreachable_host_needs_force() {
    for flavour in Flavour::ALL {
        unreachable_host_needs_force_on(flavour).await;
    }
}

async fn unreachable_host_needs_force_on(flavour: Flavour) {
    let emu = start(world()).await;
    let c = client(&emu, flavour);
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
    assert!(
        request
            .query
            .as_deref()
            .is_some_and(|q| q.contains("force=true")),
        "{:?}",
        request.query
    );
    assert_eq!(request.force, Some(true));
}

#[tokio::test]
async fn each_missing_object_is_a_typed_not_found() {
    let emu = start(world()).await;
    let c = client(&emu, Flavour::Classic);
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

/// The same missing objects on ARM: a tenant the mapping does not know is refused before any
/// request; a host pool or session host ARM does not have is a typed 404; a logoff of a
/// session that does not exist is ARM's 204, counted as done with a note, never an error.
#[tokio::test]
async fn each_missing_object_on_arm_is_typed_and_a_missing_session_is_done() {
    let emu = start(world()).await;
    let c = client(&emu, Flavour::Arm);
    for (target, code) in [
        (
            SessionTarget::new("Nope", "Pool1", "sh1.contoso.com", 17),
            ErrorCode::ArmMappingNotFound,
        ),
        (
            SessionTarget::new("Contoso", "Nope", "sh1.contoso.com", 17),
            ErrorCode::HostPoolNotFound,
        ),
        (
            SessionTarget::new("Contoso", "Pool1", "nope", 17),
            ErrorCode::SessionHostNotFound,
        ),
    ] {
        let err = c
            .logoff(&target, LogoffOptions::default())
            .await
            .expect_err("missing");
        assert_eq!(err.code(), code, "{target}: {err}");
    }
    let done = c
        .logoff(
            &SessionTarget::new("Contoso", "Pool1", "sh1.contoso.com", 99),
            LogoffOptions::default(),
        )
        .await
        .expect("204 is done");
    assert_eq!(done.status, 204);
    assert!(
        done.notes.iter().any(|n| n.contains("did not exist")),
        "{:?}",
        done.notes
    );
    assert_eq!(ids_left(&emu).len(), 3);
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_never_echoed() {
    for flavour in Flavour::ALL {
        let emu = start(world()).await;
        let builder = BrokerClient::builder(
            emu.url(),
            Arc::new(StaticToken::new(rds_core::AccessToken::new(
                "wrong-secret-token",
            ))),
        );
        let builder = match flavour {
            Flavour::Classic => builder,
            Flavour::Arm => builder.arm(common::arm_mapping(&emu)),
        };
        a_wrong_token_is_unauthorized_on(&emu, builder.build().expect("client")).await;
    }
}

async fn a_wrong_token_is_unauthorized_on(emu: &Emulator, c: BrokerClient) {
    let err = c
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
    assert_eq!(ids_left(emu).len(), 3);
}

#[tokio::test]
async fn listing_returns_the_sessions_with_broker_fields() {
    for flavour in Flavour::ALL {
        listing_returns_the_sessions_on(flavour).await;
    }
}

async fn listing_returns_the_sessions_on(flavour: Flavour) {
    let emu = start(world()).await;
    let c = client(&emu, flavour);
    let mut sessions = c.list_sessions("Contoso", "Pool1").await.expect("list");
    sessions.sort_by_key(|s| (s.session_host_name.clone(), s.session_id));
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions[0].session_host_name, "sh1.contoso.com");
    assert_eq!(sessions[0].session_id, 17);
    assert_eq!(
        sessions[0].user_principal_name.as_deref(),
        Some("a@contoso.com")
    );
    assert_eq!(sessions[1].session_state.as_deref(), Some("Disconnected"));
    assert_eq!(sessions[0].ad_user_name.as_deref(), Some("C\\a"));
    assert_eq!(sessions[0].tenant_group_name, "Default Tenant Group");
    assert_eq!(sessions[0].tenant_name, "Contoso");
    assert_eq!(sessions[0].host_pool_name, "Pool1");
    assert_eq!(
        sessions[0].create_time_unix_ms(),
        Some(1_795_467_840_000),
        "{flavour:?}"
    );
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
        client(&emu, Flavour::Classic)
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

/// On ARM the tenant and host pool go through the mapping (which admits only ARM names), so
/// the hostile text is in the session host name, the one name taken from the script as is.
#[tokio::test]
async fn hostile_session_host_names_stay_one_segment_on_arm() {
    for name in [
        "a/b",
        "x?y",
        "#frag",
        "100%",
        "%2F",
        "with space",
        "Zoë 東京",
        "...",
        ";=&",
    ] {
        let json = serde_json::json!({"tenantGroups":[{"name":"Default Tenant Group","tenants":[{"name":"Contoso","hostPools":[{"name":"Pool1","sessionHosts":[{"name":name,"sessions":[
            {"sessionId":1,"userPrincipalName":"u","adUserName":"d\\u","applicationType":"Desktop","sessionState":"Active","createTime":"2026-11-23T00:00:00Z"}]}]}]}]}]});
        let emu = start(seed(&json.to_string())).await;
        client(&emu, Flavour::Arm)
            .logoff(
                &SessionTarget::new("Contoso", "Pool1", name, 1),
                LogoffOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let request = emu.requests().pop().expect("request");
        assert_eq!(request.session_host.as_deref(), Some(name));
        assert_eq!(request.route, "armDeleteUserSession");
        assert!(ids_left(&emu).is_empty(), "{name}");
    }
}

#[tokio::test]
async fn unsendable_input_fails_before_any_request() {
    for flavour in Flavour::ALL {
        unsendable_input_fails_before_any_request_on(flavour).await;
    }
}

async fn unsendable_input_fails_before_any_request_on(flavour: Flavour) {
    let emu = start(world()).await;
    let c = client(&emu, flavour);
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
