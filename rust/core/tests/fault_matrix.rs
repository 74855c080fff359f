//! The fault matrix: many sessions logged off concurrently through a broker that injects 20 %
//! faults of every kind (429 + Retry-After, 5xx, connection resets, stalls past the client's
//! timeout, malformed answers, logoffs applied whose answer is lost). Every session must end up
//! logged off exactly once, with no error surfacing.
//!
//! CI runs 1,000 sessions. The longer version prints the same summary for 10,000:
//! `cargo test -p rds-core --release --test fault_matrix -- --ignored --nocapture`

// The printed summary is the point of the long run (and the closing note's numbers).
#![allow(clippy::print_stdout)]

mod common;

use common::{
    BULK_TENANT, Flavour, build_with_limit, flavour_client, list_bulk_pool, spawn_bulk_logoffs,
    start_with_bulk_pool,
};
use rds_core::RetryPolicy;
use rds_emulator::{FaultConfig, FaultKind};
use std::collections::HashMap;
use std::time::{Duration, Instant};

async fn fault_matrix(flavour: Flavour, hosts: u32, per_host: u32, limit: usize) {
    let sessions = (hosts * per_host) as usize;
    let emu = start_with_bulk_pool(hosts, per_host).await;
    let route = match flavour {
        Flavour::Classic => "logoffUser",
        Flavour::Arm => "armDeleteUserSession",
    };
    let faults: FaultConfig = serde_json::from_value(serde_json::json!({
        "seed": 20261124, "rate": 0.2,
        "kinds": {"throttle": 1, "serverError": 1, "reset": 1, "stall": 1, "malformed": 1, "appliedLost": 1},
        "retryAfterSeconds": 1, "stallMs": 1500, "routes": [route]
    }))
    .expect("fault config");
    emu.set_faults(Some(faults));
    // ARM's own buckets would make this a pacing test (which has its own): faults only here.
    let mut arm = emu.arm();
    arm.rate_limits.enabled = false;
    emu.set_arm(arm);
    emu.clear_activity();

    let policy = RetryPolicy {
        max_retries: 8,
        initial_delay: Duration::from_millis(50),
        max_delay: Duration::from_secs(2),
        total_deadline: Duration::from_secs(120),
    };
    let builder = flavour_client(&emu, flavour)
        .pacing(false)
        .retry_policy(policy)
        // Shorter than a stall, so stalled (but applied) logoffs time out and are retried.
        .request_timeout(Duration::from_millis(700));
    let client = build_with_limit(builder, limit);
    // Listing is not faulted (the faults cover logoffs only).
    let listed = list_bulk_pool(&client).await;
    assert_eq!(listed.len(), sessions);

    let started = Instant::now();
    let tasks = spawn_bulk_logoffs(&client, listed);
    let mut retries = 0u32;
    let mut counted_after_lost_answer = 0u32;
    let mut reasons: HashMap<String, u32> = HashMap::new();
    let mut errors = Vec::new();
    for task in tasks {
        match task.await.expect("join") {
            Ok(done) => {
                retries += done.attempts - 1;
                for note in &done.notes {
                    // Classic: the retry found the session gone; ARM: it answered 204.
                    if note.contains("counted as logged off") || note.contains("did not exist") {
                        counted_after_lost_answer += 1;
                    } else {
                        let reason = note.split(';').next().unwrap_or_default();
                        let reason = if reason.starts_with("the connection failed") {
                            "the connection failed"
                        } else {
                            reason
                        };
                        *reasons.entry(reason.to_owned()).or_default() += 1;
                    }
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    let elapsed = started.elapsed();
    let activity = emu.activity();
    let stats = emu.fault_stats();
    let mut per_session: HashMap<(String, i32), u32> = HashMap::new();
    for record in &activity.logoffs {
        *per_session
            .entry((record.session_host.clone(), record.session_id))
            .or_default() += 1;
    }
    let duplicates = per_session.values().filter(|n| **n > 1).count();
    let left = emu.state().tenant_groups[0]
        .tenants
        .iter()
        .filter(|t| t.name == BULK_TENANT)
        .flat_map(|t| &t.host_pools)
        .flat_map(|p| &p.session_hosts)
        .map(|h| h.sessions.len())
        .sum::<usize>();

    println!(
        "fault matrix ({flavour:?}): {sessions} sessions, ThrottleLimit {limit}, {:.1} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  broker requests: {} (logoff requests eligible for faults: {})",
        activity.broker_requests, stats.requests
    );
    println!(
        "  faults injected: {} {:?}",
        stats.faults.total(),
        stats.faults
    );
    println!(
        "  client retries: {retries}; by reason: {reasons:?}; counted as done after a lost answer: {counted_after_lost_answer}"
    );
    println!(
        "  sessions logged off: {} (records), left: {left}, duplicates: {duplicates}, errors: {}",
        per_session.len(),
        errors.len()
    );

    assert!(
        errors.is_empty(),
        "no error surfaces: {:?}",
        &errors[..errors.len().min(5)]
    );
    assert_eq!(left, 0, "every session is gone");
    assert_eq!(per_session.len(), sessions, "every session was logged off");
    assert_eq!(duplicates, 0, "no session was logged off twice");
    assert!(
        stats.faults.total() as f64 >= sessions as f64 * 0.1,
        "faults were injected"
    );
    for kind in [
        FaultKind::Throttle,
        FaultKind::ServerError,
        FaultKind::Reset,
        FaultKind::Stall,
        FaultKind::Malformed,
        FaultKind::AppliedLost,
    ] {
        assert!(stats.faults.get(kind) > 0, "{kind:?} was injected");
    }
    assert!(retries > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sessions_through_twenty_percent_faults_are_each_logged_off_once() {
    for flavour in Flavour::ALL {
        fault_matrix(flavour, 20, 50, 32).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long version: cargo test -p rds-core --release --test fault_matrix -- --ignored --nocapture"]
async fn ten_thousand_sessions_through_twenty_percent_faults() {
    for flavour in Flavour::ALL {
        fault_matrix(flavour, 40, 250, 64).await;
    }
}
