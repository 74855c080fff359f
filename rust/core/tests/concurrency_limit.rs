//! `with_concurrency_limit`: never more than N requests in flight, as the emulator counts them.

mod common;

use common::{
    build_with_limit, list_bulk_pool, spawn_bulk_logoffs, start_with_bulk_pool, static_token_client,
};
use rds_core::{AccessToken, BrokerClient, StaticToken};
use rds_emulator::LatencyConfig;
use std::sync::Arc;

async fn run(limit: usize) -> (usize, usize) {
    let emu = start_with_bulk_pool(4, 30).await;
    emu.set_latency(Some(LatencyConfig::fixed(20)));
    emu.clear_activity();
    let client = build_with_limit(static_token_client(&emu), limit);
    let sessions = list_bulk_pool(&client).await;
    assert_eq!(sessions.len(), 120);
    // Start every request at once: only the limit keeps them from all being in flight.
    let tasks = spawn_bulk_logoffs(&client, sessions);
    for task in tasks {
        task.await.expect("join").expect("logoff");
    }
    let activity = emu.activity();
    let logged_off = activity
        .calls_per_session
        .iter()
        .filter(|c| c.logoff == 1)
        .count();
    assert!(
        activity.calls_per_session.iter().all(|c| c.logoff <= 1),
        "no session logged off twice"
    );
    (activity.max_in_flight, logged_off)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn never_more_than_the_limit_in_flight() {
    for limit in [1, 5, 16] {
        let (max_in_flight, logged_off) = run(limit).await;
        assert_eq!(
            logged_off, 120,
            "limit {limit}: every session logged off exactly once"
        );
        assert!(
            max_in_flight <= limit,
            "limit {limit}: {max_in_flight} requests were in flight at once"
        );
        // With 120 requests of 20 ms each and nothing else limiting, the limit is reached.
        assert_eq!(
            max_in_flight, limit,
            "limit {limit}: the requests did overlap up to the limit"
        );
    }
}

#[tokio::test]
async fn a_zero_limit_is_invalid_input() {
    let client = BrokerClient::builder(
        "https://broker.example",
        Arc::new(StaticToken::new(AccessToken::new("t"))),
    )
    .build()
    .expect("client");
    assert_eq!(
        client.with_concurrency_limit(0).expect_err("zero").kind(),
        rds_core::ErrorKind::InvalidInput
    );
}
