//! The session actions besides logoff (disconnect-user, send-message-user) and the activity
//! record that proves what every action did.

mod common;

use common::{
    TG, action_path, admin, admin_get, admin_send, blocking_authorized, broker_request, client,
    logoff_path, sessions_path, start, start_background,
};
use rds_emulator::{Activity, Emulator, Seed, SentMessage};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Sends an authorized request (POSTs carry the `{}` body real clients send).
async fn send(emulator: &Emulator, method: Method, path: &str) -> (StatusCode, String) {
    let response = broker_request(&client(), &emulator.url(), method, path)
        .send()
        .await
        .expect("answered");
    let status = response.status();
    (status, response.text().await.expect("body"))
}

async fn post(emulator: &Emulator, path: &str) -> (StatusCode, String) {
    send(emulator, Method::POST, path).await
}

fn desktop(host: &str, id: &str, action: &str) -> String {
    action_path(TG, "Contoso", "Pool-Desktop", host, id, action)
}

fn session_state(seed: &Seed, pool: usize, host: usize, id: i32) -> Option<String> {
    seed.tenant_groups[0].tenants[0].host_pools[pool].session_hosts[host]
        .sessions
        .iter()
        .find(|s| s.session_id == id)
        .map(|s| s.session_state.clone())
}

async fn activity_over_http(emulator: &Emulator) -> Activity {
    serde_json::from_value(admin_get(emulator, "activity").await).expect("activity JSON")
}

#[tokio::test]
async fn disconnect_keeps_the_session_marks_it_disconnected_and_is_recorded() {
    let emulator = start().await;
    let path = desktop("sh1.contoso.com", "2", "disconnect-user");
    let (status, body) = post(&emulator, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "");

    let state = emulator.state();
    assert_eq!(
        session_state(&state, 0, 0, 2).as_deref(),
        Some("Disconnected")
    );
    // Nothing else changed: same sessions, the same session 2 on sh2 still active.
    let mut expected = Seed::sample();
    expected.tenant_groups[0].tenants[0].host_pools[0].session_hosts[0].sessions[0].session_state =
        "Disconnected".to_owned();
    assert_eq!(state, expected);

    // An already disconnected session can be disconnected again.
    let (status, _) = post(
        &emulator,
        &desktop("sh1.contoso.com", "3", "disconnect-user"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, listed) = send(
        &emulator,
        Method::GET,
        &sessions_path(TG, "Contoso", "Pool-Desktop"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let listed: Value = serde_json::from_str(&listed).expect("JSON");
    assert_eq!(listed.as_array().expect("array").len(), 7);
    assert_eq!(listed[0]["sessionState"], "Disconnected");

    let activity = emulator.activity();
    assert_eq!(activity.disconnects.len(), 2);
    let first = &activity.disconnects[0];
    assert_eq!(
        (
            first.tenant_group.as_str(),
            first.tenant.as_str(),
            first.host_pool.as_str(),
            first.session_host.as_str(),
            first.session_id
        ),
        (TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", 2)
    );
    assert!(
        first.at.ends_with('Z') && first.at.contains('T'),
        "{}",
        first.at
    );
    let calls = activity
        .session_calls("Pool-Desktop", "sh1.contoso.com", 2)
        .expect("counted");
    assert_eq!((calls.logoff, calls.disconnect, calls.message), (0, 1, 0));
    assert_eq!(activity_over_http(&emulator).await, emulator.activity());

    let record = &emulator.requests()[0];
    assert_eq!(record.route, "disconnectUser");
    assert_eq!(record.session_id.as_deref(), Some("2"));
    assert_eq!(record.status, 200);
    emulator.shutdown().await;
}

#[tokio::test]
async fn messages_are_decoded_delivered_and_recorded() {
    let emulator = start().await;
    let path = desktop("sh2.contoso.com", "4", "send-message-user");
    let title = "Wartung & Neustart: 100% sicher + schnell";
    let body = "Grüße 👋 — bitte abmelden; a+b=c & 50%\nZeile 2";
    // reqwest encodes the query as a form: spaces become '+', '+' becomes %2B.
    let response = broker_request(&client(), &emulator.url(), Method::POST, &path)
        .query(&[("MessageTitle", title), ("MessageBody", body)])
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);

    // Spaces as %20 and unusual case in the parameter names are understood as well.
    let encoded = format!(
        "{path}?messagetitle=Hello%20World&MESSAGEBODY=%25%26%2B%20%E2%9C%93+end",
        path = desktop("sh1.contoso.com", "5", "send-message-user")
    );
    let (status, _) = post(&emulator, &encoded).await;
    assert_eq!(status, StatusCode::OK);

    let state = emulator.state();
    let host = &state.tenant_groups[0].tenants[0].host_pools[0].session_hosts[1];
    let session = host
        .sessions
        .iter()
        .find(|s| s.session_id == 4)
        .expect("kept");
    assert_eq!(session.messages.len(), 1);
    assert_eq!(
        (
            session.messages[0].title.as_str(),
            session.messages[0].body.as_str()
        ),
        (title, body)
    );
    let SentMessage { sent_at, .. } = &session.messages[0];
    assert!(sent_at.ends_with('Z'), "{sent_at}");
    assert_eq!(
        session.session_state, "Active",
        "a message changes nothing else"
    );

    // In the state JSON only messaged sessions carry a "messages" array.
    let json = admin_get(&emulator, "state").await;
    let sh1 = &json["tenantGroups"][0]["tenants"][0]["hostPools"][0]["sessionHosts"][0];
    assert!(sh1["sessions"][0].get("messages").is_none());
    assert_eq!(sh1["sessions"][2]["messages"][0]["title"], "Hello World");
    assert_eq!(sh1["sessions"][2]["messages"][0]["body"], "%&+ ✓ end");
    assert!(sh1["sessions"][2]["messages"][0]["sentAt"].is_string());
    // The state with messages is still a valid seed.
    assert_eq!(
        Seed::from_json(&json.to_string()).expect("valid seed"),
        state
    );

    let activity = emulator.activity();
    let texts: Vec<(i32, &str, &str)> = activity
        .messages
        .iter()
        .map(|m| (m.session_id, m.title.as_str(), m.body.as_str()))
        .collect();
    assert_eq!(texts, [(4, title, body), (5, "Hello World", "%&+ ✓ end")]);
    assert_eq!(activity.messages[0].session_host, "sh2.contoso.com");

    let log = emulator.requests();
    assert_eq!(log[0].route, "sendMessageUser");
    assert_eq!(log[0].message_title.as_deref(), Some(title));
    assert_eq!(log[0].message_body.as_deref(), Some(body));
    let as_json = serde_json::to_value(&log[1]).expect("serializes");
    assert_eq!(as_json["messageTitle"], "Hello World");
    assert_eq!(as_json["messageBody"], "%&+ ✓ end");
    emulator.shutdown().await;
}

#[tokio::test]
async fn missing_message_parameters_are_a_flat_400_and_deliver_nothing() {
    let emulator = start().await;
    let path = desktop("sh1.contoso.com", "2", "send-message-user");
    let cases = [
        ("".to_owned(), "MessageTitle"),
        ("?MessageBody=b".to_owned(), "MessageTitle"),
        ("?MessageTitle=t".to_owned(), "MessageBody"),
        ("?messageTitle=t&MessageBodyX=b".to_owned(), "MessageBody"),
    ];
    for (query, missing) in &cases {
        let (status, body) = post(&emulator, &format!("{path}{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).expect("JSON"),
            json!({
                "Error": "InvalidDataFormat",
                "Message": format!("The query parameter '{missing}' is required."),
            })
        );
    }
    // A repeated parameter is refused too.
    let (status, _) = post(
        &emulator,
        &format!("{path}?MessageTitle=a&MessageTitle=b&MessageBody=c"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // An empty value is a value.
    let (status, _) = post(&emulator, &format!("{path}?MessageTitle=&MessageBody=")).await;
    assert_eq!(status, StatusCode::OK);

    let activity = emulator.activity();
    assert_eq!(activity.messages.len(), 1);
    assert_eq!(
        (
            activity.messages[0].title.as_str(),
            activity.messages[0].body.as_str()
        ),
        ("", "")
    );
    let calls = activity
        .session_calls("Pool-Desktop", "sh1.contoso.com", 2)
        .expect("counted");
    assert_eq!(
        calls.message,
        cases.len() as u64 + 2,
        "every attempt counts"
    );
    // The parameters that were present are logged even when the request failed.
    assert_eq!(emulator.requests()[2].message_title.as_deref(), Some("t"));
    assert_eq!(emulator.requests()[2].message_body, None);

    // Lookups come first: an unknown host is a 404 even without the parameters.
    let (status, body) = post(
        &emulator,
        &desktop("sh9.contoso.com", "2", "send-message-user"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("SessionHostNotFound"), "{body}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn unreachable_hosts_refuse_disconnects_and_messages_with_409() {
    let emulator = start().await;
    let stale = |action: &str| {
        action_path(
            TG,
            "Contoso",
            "Pool-Apps",
            "stale1.contoso.com",
            "3",
            action,
        )
    };
    let cases = [
        (
            stale("disconnect-user"),
            "Session host 'stale1.contoso.com' is not reachable; the session was not disconnected.",
        ),
        (
            format!("{}?force=true", stale("disconnect-user")),
            "Session host 'stale1.contoso.com' is not reachable; the session was not disconnected.",
        ),
        (
            format!(
                "{}?MessageTitle=t&MessageBody=b",
                stale("send-message-user")
            ),
            "Session host 'stale1.contoso.com' is not reachable; the message was not sent.",
        ),
    ];
    for (path, message) in cases {
        let (status, body) = post(&emulator, &path).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}");
        let detail = json!({
            "code": "SessionHostUnreachable",
            "message": message,
            "target": "stale1.contoso.com",
        });
        assert_eq!(
            serde_json::from_str::<Value>(&body).expect("JSON"),
            json!({"error": {
                "code": "SessionHostUnreachable",
                "message": message,
                "target": "stale1.contoso.com",
                "details": [detail],
            }})
        );
    }
    assert_eq!(emulator.state(), Seed::sample());
    let activity = emulator.activity();
    assert!(activity.disconnects.is_empty() && activity.messages.is_empty());
    let calls = activity
        .session_calls("Pool-Apps", "stale1.contoso.com", 3)
        .expect("counted");
    assert_eq!((calls.disconnect, calls.message), (2, 1));
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_new_routes_share_the_broker_checks() {
    let emulator = start().await;
    // 401 without a token, before anything else; not counted as reaching the handler.
    let response = client()
        .post(format!(
            "{}{}",
            emulator.url(),
            desktop("sh1.contoso.com", "2", "disconnect-user")
        ))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // 405 for the wrong method, 404 for a missing session, flat 400 for a bad id.
    let (status, _) = send(
        &emulator,
        Method::GET,
        &desktop("sh1.contoso.com", "2", "send-message-user"),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, body) = post(
        &emulator,
        &desktop("sh1.contoso.com", "4", "disconnect-user"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("SessionNotFound"), "{body}");
    let (status, body) = post(
        &emulator,
        &desktop("sh1.contoso.com", "x", "disconnect-user"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("InvalidDataFormat"), "{body}");
    // A forbidden tenant hides everything.
    let mut seed = Seed::sample();
    seed.tenant_groups[0].tenants[0].forbidden = true;
    emulator.set_state(seed);
    let (status, _) = post(
        &emulator,
        &desktop("sh1.contoso.com", "2", "disconnect-user"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let routes: Vec<(String, u16)> = emulator
        .requests()
        .into_iter()
        .map(|r| (r.route, r.status))
        .collect();
    assert_eq!(routes, [("disconnectUser".to_owned(), 403)]);
    let activity = emulator.activity();
    assert_eq!(activity.calls_per_session.len(), 1, "{activity:?}");
    assert_eq!(activity.calls_per_session[0].disconnect, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn activity_counts_every_logoff_attempt_and_resets() {
    let emulator = start().await;
    let path = logoff_path(TG, "Contoso", "Pool-Desktop", "sh2.contoso.com", "9");
    let (first, _) = post(&emulator, &path).await;
    let (second, _) = post(&emulator, &path).await;
    assert_eq!((first, second), (StatusCode::OK, StatusCode::NOT_FOUND));
    let forced = logoff_path(TG, "Contoso", "Pool-Apps", "stale1.contoso.com", "3");
    let (status, _) = post(&emulator, &format!("{forced}?force=true")).await;
    assert_eq!(status, StatusCode::OK);

    let activity = emulator.activity();
    let logged_off: Vec<(&str, i32, bool)> = activity
        .logoffs
        .iter()
        .map(|l| (l.session_host.as_str(), l.session_id, l.forced))
        .collect();
    assert_eq!(
        logged_off,
        [
            ("sh2.contoso.com", 9, false),
            ("stale1.contoso.com", 3, true)
        ]
    );
    let calls = activity
        .session_calls("Pool-Desktop", "sh2.contoso.com", 9)
        .expect("counted");
    assert_eq!((calls.logoff, calls.disconnect, calls.message), (2, 0, 0));
    assert_eq!(activity.broker_requests, 3);
    assert_eq!(activity.in_flight, 0);
    assert!(activity.max_in_flight >= 1);

    let json = admin_get(&emulator, "activity").await;
    assert_eq!(
        json["callsPerSession"][0],
        json!({"tenantGroup": TG, "tenant": "Contoso", "hostPool": "Pool-Desktop",
               "sessionHost": "sh2.contoso.com", "sessionId": 9,
               "logoff": 2, "disconnect": 0, "message": 0})
    );
    assert_eq!(json["logoffs"][1]["forced"], true);
    assert!(json["logoffs"][0]["at"].is_string());
    for key in ["disconnects", "messages"] {
        assert_eq!(json[key], json!([]), "{key}");
    }
    assert_eq!(json["brokerRequests"], 3);
    assert_eq!(json["inFlight"], 0);

    // DELETE resets the record; the data stays.
    let cleared = admin_send(&emulator, Method::DELETE, "activity", None).await;
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    let activity = emulator.activity();
    assert_eq!(activity, Activity::default());
    assert_eq!(emulator.requests().len(), 3, "the request log is separate");

    // PUT /_emulator/state resets it too.
    post(&emulator, &path).await;
    assert_eq!(emulator.activity().calls_per_session.len(), 1);
    let put = admin(&emulator, Method::PUT, "state")
        .json(&Seed::sample())
        .send()
        .await
        .expect("answered");
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    assert_eq!(emulator.activity(), Activity::default());
    emulator.shutdown().await;
}

#[test]
fn the_background_emulator_exposes_the_activity() {
    let emulator = start_background();
    let path = desktop("sh1.contoso.com", "17", "disconnect-user");
    let (status, _) = blocking_authorized(&emulator.url(), "POST", &path, "");
    assert_eq!(status, 200);
    assert_eq!(emulator.activity().disconnects.len(), 1);
    emulator.clear_activity();
    assert!(emulator.activity().disconnects.is_empty());
}
