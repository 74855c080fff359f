//! `BackgroundEmulator` serves from its own thread, so plain synchronous tests can use it.

mod common;

use std::net::TcpStream;

use common::{TG, blocking_authorized, logoff_path, session_ids, sessions_path, start_background};
use rds_emulator::{BackgroundEmulator, EmulatorConfig, Seed};

#[test]
fn serves_plain_synchronous_tests_and_stops_on_drop() {
    let emulator = start_background();
    let url = emulator.url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let list = sessions_path(TG, "Contoso", "Pool-Desktop");
    let (status, body) = blocking_authorized(&url, "GET", &list, "");
    assert_eq!(status, 200);
    let sessions: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(sessions.as_array().expect("array").len(), 7);

    let logoff = logoff_path(TG, "Contoso", "Pool-Desktop", "sh1.contoso.com", "3");
    let (status, _) = blocking_authorized(&url, "POST", &logoff, "{}");
    assert_eq!(status, 200);
    let state = emulator.state();
    assert_eq!(
        session_ids(&state, "Contoso", "Pool-Desktop", "sh1.contoso.com"),
        [2, 5, 17]
    );
    assert_eq!(emulator.requests().len(), 2);

    emulator.set_state(Seed::sample());
    assert!(emulator.requests().is_empty());
    assert_eq!(emulator.state(), Seed::sample());

    let addr = emulator.local_addr();
    drop(emulator);
    assert!(
        TcpStream::connect(addr).is_err(),
        "the listener is closed once the emulator is dropped"
    );
}

#[test]
fn a_port_in_use_is_reported_by_start() {
    let first = start_background();
    let error = BackgroundEmulator::start(EmulatorConfig {
        bind: first.local_addr(),
        ..EmulatorConfig::default()
    })
    .expect_err("port is taken");
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
}

#[tokio::test]
async fn can_be_started_and_dropped_inside_a_tokio_runtime() {
    let emulator = start_background();
    let response = reqwest::get(format!("{}/_emulator/health", emulator.url()))
        .await
        .expect("answered");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    drop(emulator);
}
