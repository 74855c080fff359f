//! ARM user sessions over real HTTP: the live shapes of lists and gets, logoff (`DELETE`) with
//! its 200/204/404/409 answers, disconnect and send message, all on the shared state that the
//! classic flavour and the activity record see.

mod common;

use common::arm::{
    API, APPS_HP, DESKTOP_RG, SUB, apps, arm_bearer, cloud_error, delete, desktop, get, header,
    host, names, post, send_with, session,
};
use common::{TG, admin_get, session_ids, sessions_path, start};
use rds_emulator::{Activity, ApiFlavour, MissingSessionOnDelete};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn the_host_pool_list_has_the_live_shape() {
    let emulator = start().await;
    let reply = get(&emulator, &format!("{}/userSessions", desktop())).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        header(&reply, "content-type"),
        "application/json; charset=utf-8"
    );
    let page = reply.json();
    assert_eq!(
        names(&page),
        [
            "Pool-Desktop/sh1.contoso.com/2",
            "Pool-Desktop/sh1.contoso.com/3",
            "Pool-Desktop/sh1.contoso.com/5",
            "Pool-Desktop/sh1.contoso.com/17",
            "Pool-Desktop/sh2.contoso.com/2",
            "Pool-Desktop/sh2.contoso.com/4",
            "Pool-Desktop/sh2.contoso.com/9",
        ]
    );
    assert_eq!(page["nextLink"], json!(null));
    assert_eq!(
        page["value"][0],
        json!({
            "name": "Pool-Desktop/sh1.contoso.com/2",
            "id": format!("/subscriptions/{SUB}/resourcegroups/{DESKTOP_RG}/providers/Microsoft.DesktopVirtualization/hostpools/Pool-Desktop/sessionhosts/sh1.contoso.com/usersessions/2"),
            "type": "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions",
            "systemData": null,
            "properties": {
                "createTime": "2026-11-23T07:58:12.0000000Z",
                "userPrincipalName": "alice@contoso.com",
                "sessionState": "Active",
                "applicationType": "Desktop",
                "activeDirectoryUserName": "CONTOSO\\alice",
                "objectId": page["value"][0]["properties"]["objectId"],
            },
        })
    );
    // Properties in the live order.
    let order = [
        "createTime",
        "userPrincipalName",
        "sessionState",
        "applicationType",
        "activeDirectoryUserName",
        "objectId",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|name| reply.body.find(&format!("\"{name}\"")).expect("present"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let object_id = page["value"][0]["properties"]["objectId"]
        .as_str()
        .expect("guid");
    assert!(uuid::Uuid::try_parse(object_id).is_ok());
    // The same user has the same object id on every session.
    assert_eq!(page["value"][6]["properties"]["objectId"], object_id);
    emulator.shutdown().await;
}

#[tokio::test]
async fn per_host_lists_and_gets_carry_a_system_data_object() {
    let emulator = start().await;
    let per_host = get(
        &emulator,
        &format!("{}/userSessions", host(&desktop(), "sh2.contoso.com")),
    )
    .await
    .json();
    assert_eq!(
        names(&per_host),
        [
            "Pool-Desktop/sh2.contoso.com/2",
            "Pool-Desktop/sh2.contoso.com/4",
            "Pool-Desktop/sh2.contoso.com/9"
        ]
    );
    let system_data = json!({"createdBy": null, "createdByType": null,
        "createdAt": "2026-11-23T08:02:33.0000000Z", "lastModifiedBy": null,
        "lastModifiedByType": null, "lastModifiedAt": null});
    assert_eq!(per_host["value"][0]["systemData"], system_data);
    assert_eq!(per_host["nextLink"], json!(null));

    // Names compare case-insensitively and come back as stored.
    let one = get(
        &emulator,
        &session(&desktop().to_lowercase(), "SH2.CONTOSO.COM", "2"),
    )
    .await;
    assert_eq!(one.status, StatusCode::OK);
    let one = one.json();
    assert_eq!(one["name"], "Pool-Desktop/sh2.contoso.com/2");
    assert_eq!(one["systemData"], system_data);
    assert_eq!(one["properties"]["userPrincipalName"], "erin@contoso.com");

    // An overridden pool answers under its ARM name and resource group.
    let app = get(&emulator, &session(&apps(), "app1.contoso.com", "6"))
        .await
        .json();
    assert_eq!(app["name"], format!("{APPS_HP}/app1.contoso.com/6"));
    assert_eq!(
        app["id"],
        format!(
            "/subscriptions/{SUB}/resourcegroups/rg-avd-apps/providers/Microsoft.DesktopVirtualization/hostpools/{APPS_HP}/sessionhosts/app1.contoso.com/usersessions/6"
        )
    );
    assert_eq!(app["properties"]["applicationType"], "RemoteApp");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_missing_session_is_404_with_the_activity_id_of_the_response() {
    let emulator = start().await;
    for id in ["4", "abc", "02"] {
        let reply = get(&emulator, &session(&desktop(), "sh1.contoso.com", id)).await;
        let (status, code, message) = cloud_error(&reply);
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "404"),
            "{id}"
        );
        let activity = header(&reply, "x-ms-correlation-id");
        assert_eq!(
            message,
            format!("ActivityId: {activity} Error: User session does not exist")
        );
    }
    // A client's x-ms-correlation-id is echoed, and is the ActivityId.
    let reply = common::arm::client()
        .post(format!(
            "{}{}/disconnect?api-version={API}",
            emulator.url(),
            session(&desktop(), "sh1.contoso.com", "4")
        ))
        .header("authorization", arm_bearer())
        .header(
            "x-ms-correlation-id",
            "c0ffee00-0000-4000-8000-000000000001",
        )
        .send()
        .await
        .expect("answered");
    let reply = common::read(reply).await;
    assert_eq!(
        cloud_error(&reply).2,
        "ActivityId: c0ffee00-0000-4000-8000-000000000001 Error: User session does not exist"
    );
    let message = post(
        &emulator,
        &format!(
            "{}/sendMessage",
            session(&desktop(), "sh1.contoso.com", "4")
        ),
        None,
    )
    .await;
    assert_eq!(message.status, StatusCode::NOT_FOUND);
    emulator.shutdown().await;
}

#[tokio::test]
async fn logoff_is_a_delete_that_both_flavours_see() {
    let emulator = start().await;
    let path = session(&desktop(), "sh1.contoso.com", "5");
    let first = delete(&emulator, &path).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body, "");
    assert_eq!(
        session_ids(
            &emulator.state(),
            "Contoso",
            "Pool-Desktop",
            "sh1.contoso.com"
        ),
        [2, 3, 17]
    );
    // The classic listing no longer shows it.
    let classic = common::read(
        common::authorized(
            &common::client(),
            &emulator.url(),
            Method::GET,
            &sessions_path(TG, "Contoso", "Pool-Desktop"),
        )
        .send()
        .await
        .expect("answered"),
    )
    .await;
    assert!(!classic.body.contains("carol@contoso.com"));
    // Gone: 204 with no body by default.
    let again = delete(&emulator, &path).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    assert_eq!(again.body, "");

    let activity: Activity =
        serde_json::from_value(admin_get(&emulator, "activity").await).expect("activity");
    assert_eq!(activity.logoffs.len(), 1);
    let logoff = &activity.logoffs[0];
    assert_eq!(
        (
            logoff.tenant.as_str(),
            logoff.host_pool.as_str(),
            logoff.session_host.as_str(),
            logoff.session_id
        ),
        ("Contoso", "Pool-Desktop", "sh1.contoso.com", 5)
    );
    assert_eq!((logoff.flavour, logoff.forced), (ApiFlavour::Arm, false));
    let calls = activity
        .session_calls("Pool-Desktop", "sh1.contoso.com", 5)
        .expect("counted");
    assert_eq!(calls.logoff, 2, "both requests reached the session");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_2020_answer_to_a_missing_session_can_be_chosen() {
    let emulator = start().await;
    let mut arm = emulator.arm();
    arm.missing_session_on_delete = MissingSessionOnDelete::NotFound;
    emulator.set_arm(arm);
    let reply = delete(&emulator, &session(&desktop(), "sh1.contoso.com", "4")).await;
    let (status, code, message) = cloud_error(&reply);
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(
        message,
        format!(
            "ActivityId: {} Error: User session ID not found",
            header(&reply, "x-ms-correlation-id")
        )
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_host_needs_force_true() {
    let emulator = start().await;
    let stale = session(&apps(), "stale1.contoso.com", "3");
    let refused = delete(&emulator, &stale).await;
    let (status, code, message) = cloud_error(&refused);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "SessionHostUnreachable")
    );
    assert!(
        message.contains("stale1.contoso.com") && message.contains("force=true"),
        "{message}"
    );
    let not_forced = send_with(
        &emulator,
        Method::DELETE,
        &format!("{stale}?api-version={API}&force=false"),
        Some(&arm_bearer()),
        None,
    )
    .await;
    assert_eq!(not_forced.status, StatusCode::CONFLICT);
    let forced = send_with(
        &emulator,
        Method::DELETE,
        &format!("{stale}?api-version={API}&force=true"),
        Some(&arm_bearer()),
        None,
    )
    .await;
    assert_eq!(forced.status, StatusCode::OK);
    assert!(
        session_ids(
            &emulator.state(),
            "Contoso",
            "Pool-Apps",
            "stale1.contoso.com"
        )
        .is_empty()
    );
    let activity = emulator.activity();
    assert!(activity.logoffs[0].forced);
    // Disconnect and messages have no forced variant.
    let disconnect = post(
        &emulator,
        &format!("{}/disconnect", session(&apps(), "stale1.contoso.com", "3")),
        None,
    )
    .await;
    assert_eq!(
        disconnect.status,
        StatusCode::NOT_FOUND,
        "the session is gone now"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn disconnect_and_send_message_answer_200_with_no_body() {
    let emulator = start().await;
    let alice = session(&desktop(), "sh1.contoso.com", "2");
    let disconnected = post(&emulator, &format!("{alice}/disconnect"), None).await;
    assert_eq!(
        (disconnected.status, disconnected.body.as_str()),
        (StatusCode::OK, "")
    );
    assert_eq!(
        get(&emulator, &alice).await.json()["properties"]["sessionState"],
        "Disconnected"
    );

    let sent = post(
        &emulator,
        &format!("{alice}/sendMessage"),
        Some(r#"{"messageTitle":"Maintenance","messageBody":"Saving your work, please."}"#),
    )
    .await;
    assert_eq!((sent.status, sent.body.as_str()), (StatusCode::OK, ""));
    // The body is optional.
    let bare = post(&emulator, &format!("{alice}/sendMessage"), None).await;
    assert_eq!(bare.status, StatusCode::OK);
    let state = emulator.state();
    let messages =
        &state.tenant_groups[0].tenants[0].host_pools[0].session_hosts[0].sessions[0].messages;
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (messages[0].title.as_str(), messages[0].body.as_str()),
        ("Maintenance", "Saving your work, please.")
    );
    assert_eq!(
        (messages[1].title.as_str(), messages[1].body.as_str()),
        ("", "")
    );
    let activity = emulator.activity();
    assert_eq!(activity.disconnects[0].flavour, ApiFlavour::Arm);
    assert_eq!(activity.messages[0].title, "Maintenance");
    let bad = post(&emulator, &format!("{alice}/sendMessage"), Some("not json")).await;
    assert_eq!(cloud_error(&bad).1, "InvalidRequestContent");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_host_pool_list_filters_on_user_and_state() {
    let emulator = start().await;
    let list = |filter: &'static str| {
        let path = format!(
            "{}/userSessions?api-version={API}&$filter={}",
            desktop(),
            common::enc(filter)
        );
        let emulator = &emulator;
        async move { send_with(emulator, Method::GET, &path, Some(&arm_bearer()), None).await }
    };
    let alice = list("userPrincipalName eq 'alice@contoso.com'")
        .await
        .json();
    assert_eq!(
        names(&alice),
        [
            "Pool-Desktop/sh1.contoso.com/2",
            "Pool-Desktop/sh2.contoso.com/9"
        ]
    );
    // The spec's own example: `state`, lower-case value.
    let active = list("userPrincipalName eq 'alice@contoso.com' and state eq 'active'")
        .await
        .json();
    assert_eq!(names(&active), ["Pool-Desktop/sh1.contoso.com/2"]);
    let disconnected = list("sessionState eq 'Disconnected'").await.json();
    assert_eq!(names(&disconnected).len(), 3);
    let unsupported = list("createTime gt '2026-01-01'").await;
    assert_eq!(cloud_error(&unsupported).0, StatusCode::BAD_REQUEST);
    emulator.shutdown().await;
}
