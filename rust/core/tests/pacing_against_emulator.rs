//! Pacing against the emulator's ARM token buckets: with a small deletes bucket, a bulk logoff
//! run with 32 requests in flight spends the burst and then keeps to the refill rate, so (far)
//! fewer than 1 % of its requests meet a 429; without pacing the same run lives on 429s. Both
//! log every session off exactly once. How long a run takes is the benchmark's business
//! (`scripts/bench.sh`), not this test's.

mod common;

use common::{
    BULK_TENANT, Flavour, build_with_limit, flavour_client, list_bulk_pool, spawn_bulk_logoffs,
    start_with_bulk_pool,
};
use rds_core::RetryPolicy;
use rds_emulator::{BucketConfig, Emulator, OperationClass};
use std::collections::HashMap;
use std::time::Duration;

/// 60 sessions through a deletes bucket of 20, refilled 10 per second (the documented rate).
async fn run(pacing: bool) -> (Emulator, u64, u64, Vec<String>) {
    let emu = start_with_bulk_pool(3, 20).await;
    let mut arm = emu.arm();
    arm.rate_limits.deletes = BucketConfig {
        burst: 20,
        per_second: 10,
    };
    emu.set_arm(arm);
    let builder = flavour_client(&emu, Flavour::Arm)
        .pacing(pacing)
        // Enough retries that the unpaced run also ends (it waits Retry-After each time).
        .retry_policy(RetryPolicy {
            max_retries: 20,
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(2),
            total_deadline: Duration::from_secs(120),
        });
    let client = build_with_limit(builder, 32);
    let sessions = list_bulk_pool(&client).await;
    assert_eq!(sessions.len(), 60);
    let mut errors = Vec::new();
    for task in spawn_bulk_logoffs(&client, sessions) {
        if let Err(e) = task.await.expect("join") {
            errors.push(e.to_string());
        }
    }
    let activity = emu.activity();
    let requests = activity.arm.requests.get(OperationClass::Deletes);
    let throttled = activity.arm.throttled.get(OperationClass::Deletes);
    (emu, requests, throttled, errors)
}

fn logged_off_once(emu: &Emulator) {
    let mut per_session: HashMap<(String, i32), u32> = HashMap::new();
    for record in emu.activity().logoffs {
        *per_session
            .entry((record.session_host, record.session_id))
            .or_default() += 1;
    }
    assert_eq!(per_session.len(), 60, "every session was logged off");
    assert!(per_session.values().all(|n| *n == 1), "none twice");
    let left: usize = emu.state().tenant_groups[0]
        .tenants
        .iter()
        .filter(|t| t.name == BULK_TENANT)
        .flat_map(|t| &t.host_pools)
        .flat_map(|p| &p.session_hosts)
        .map(|h| h.sessions.len())
        .sum();
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pacing_keeps_a_bulk_run_under_one_percent_429s_on_a_small_bucket() {
    let (emu, requests, throttled, errors) = run(true).await;
    assert!(errors.is_empty(), "{errors:?}");
    logged_off_once(&emu);
    assert!(
        (throttled as f64) <= 0.01 * requests as f64,
        "{throttled} of {requests} deletes were answered 429"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pacing_the_same_run_meets_many_429s() {
    let (emu, requests, throttled, errors) = run(false).await;
    assert!(errors.is_empty(), "{errors:?}");
    logged_off_once(&emu);
    assert!(
        throttled as f64 >= 0.2 * requests as f64,
        "only {throttled} of {requests} deletes were answered 429"
    );
}
