//! The `rds-emulator` executable: announcement line, request log, exit on stdin EOF, and
//! clear failures for bad input.

mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{BINARY, EmulatorProcess, temp_file};
use common::{TG, blocking_authorized, blocking_request, sessions_path};

/// Runs the binary with arguments that must make it fail; returns its stderr.
fn run_expecting_failure(args: &[&str]) -> String {
    // --exit-on-stdin-eof and a null stdin make a wrongly successful start end by itself.
    let output = Command::new(BINARY)
        .args(args)
        .arg("--exit-on-stdin-eof")
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    assert!(!output.status.success(), "expected failure for {args:?}");
    assert!(output.stdout.is_empty(), "nothing announced for {args:?}");
    String::from_utf8(output.stderr).expect("UTF-8 stderr")
}

#[test]
fn prints_its_url_serves_logs_and_exits_when_stdin_closes() {
    let secret = "binary-test-secret-8c1d";
    let mut emulator = EmulatorProcess::start(&[], &[("RDS_EMULATOR_TOKEN", secret)], true);
    let url = emulator.url.clone();
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("unexpected URL {url:?}"));
    assert_ne!(port, 0);

    let (status, body) = blocking_request(&url, "GET", "/_emulator/health", &[], "");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));

    let list = sessions_path(TG, "Contoso", "Pool-Desktop");
    let good = format!("Bearer {secret}");
    let (status, _) = blocking_request(&url, "GET", &list, &[("Authorization", &good)], "");
    assert_eq!(status, 200, "the token comes from RDS_EMULATOR_TOKEN");
    let (status, _) = blocking_request(
        &url,
        "GET",
        &list,
        &[("Authorization", "Bearer rds-emulator-token")],
        "",
    );
    assert_eq!(status, 401, "the default token no longer works");

    let exit = emulator.close_stdin_and_wait();
    assert!(exit.success(), "{exit:?}");

    assert_eq!(emulator.rest_of_stdout(), "", "exactly one line on stdout");
    let stderr = emulator.stderr();
    assert!(stderr.contains(&format!("GET {list} -> 200")), "{stderr}");
    assert!(stderr.contains(&format!("GET {list} -> 401")), "{stderr}");
    assert!(!stderr.contains("/_emulator/health"), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
    assert!(!stderr.contains("Authorization"), "{stderr}");
}

#[test]
fn serves_a_data_file() {
    let (_dir, path) = temp_file(
        "seed.json",
        r#"{"tenantGroups":[{"name":"G","tenants":[{"name":"T","hostPools":[{"name":"P","sessionHosts":[]}]}]}]}"#,
    );
    let mut emulator = EmulatorProcess::start(&["--data", &path], &[], false);
    let (status, body) = blocking_request(&emulator.url, "GET", "/_emulator/state", &[], "");
    assert_eq!(status, 200);
    assert!(body.contains(r#""name":"G""#), "{body}");
    assert!(emulator.close_stdin_and_wait().success());
}

#[test]
fn a_missing_data_file_fails_clearly() {
    let stderr = run_expecting_failure(&["--data", "/no/such/dir/seed.json"]);
    assert!(
        stderr.contains("cannot read data file '/no/such/dir/seed.json'"),
        "{stderr}"
    );
}

#[test]
fn an_invalid_data_file_fails_clearly() {
    let (_dir, path) = temp_file("bad.json", r#"{"tenantGroups": 5}"#);
    let stderr = run_expecting_failure(&["--data", &path]);
    assert!(stderr.contains("is not a valid seed"), "{stderr}");
    assert!(stderr.contains(&path), "{stderr}");
}

#[test]
fn a_taken_port_fails_clearly() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let stderr = run_expecting_failure(&["--port", &port]);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
}

#[test]
fn a_non_loopback_address_needs_allow_remote() {
    let stderr = run_expecting_failure(&["--bind", "0.0.0.0"]);
    assert!(stderr.contains("--allow-remote"), "{stderr}");
}

#[test]
fn latency_and_request_log_flags() {
    // The flags override the data file's latency field by field.
    let (_dir, path) = temp_file(
        "seed.json",
        r#"{"tenantGroups":[],"latency":{"fixedMs":1,"jitterMs":2,"seed":3}}"#,
    );
    let mut emulator = EmulatorProcess::start(
        &[
            "--data",
            &path,
            "--latency-ms",
            "40",
            "--latency-seed",
            "9",
            "--no-request-log",
        ],
        &[],
        false,
    );
    let url = emulator.url.as_str();
    let (status, body) = blocking_request(url, "GET", "/_emulator/latency", &[], "");
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"fixedMs":40,"jitterMs":2,"seed":9}"#);
    let (status, body) = blocking_request(url, "GET", "/_emulator/settings", &[], "");
    assert_eq!(status, 200);
    assert!(body.contains(r#""requestLog":false"#), "{body}");
    let started = Instant::now();
    // Every broker request is delayed, even one for an unknown route.
    let (status, _) = blocking_request(url, "GET", "/RdsManagement/V1/x", &[], "");
    assert_eq!(status, 404);
    assert!(started.elapsed() >= Duration::from_millis(40));
    let (_, body) = blocking_request(url, "GET", "/_emulator/requests", &[], "");
    assert_eq!(body, "[]");
    assert!(emulator.close_stdin_and_wait().success());
}

#[test]
fn fault_flags() {
    let (_dir, path) = temp_file(
        "faults.json",
        r#"{"seed": 1, "rate": 0.5, "kinds": {"throttle": 1}, "retryAfterSeconds": 4,
            "routes": ["listSessions"]}"#,
    );
    let mut emulator = EmulatorProcess::start(
        &["--faults", &path, "--fault-rate", "1", "--fault-seed", "9"],
        &[],
        true,
    );
    let url = emulator.url.as_str();
    let (status, body) = blocking_request(url, "GET", "/_emulator/faults", &[], "");
    assert_eq!(status, 200);
    let faults: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(faults["seed"], 9);
    assert_eq!(faults["rate"], 1.0);
    assert_eq!(faults["retryAfterSeconds"], 4);
    assert_eq!(faults["routes"], serde_json::json!(["listSessions"]));
    let list = sessions_path(TG, "Contoso", "Pool-Desktop");
    let (status, _) = blocking_authorized(url, "GET", &list, "");
    assert_eq!(status, 429);
    assert!(emulator.close_stdin_and_wait().success());
    let stderr = emulator.stderr();
    assert!(
        stderr.contains(&format!("GET {list} -> 429 (injected fault: throttle)")),
        "{stderr}"
    );
}

#[test]
fn invalid_fault_settings_fail_clearly() {
    let stderr = run_expecting_failure(&["--fault-rate", "2"]);
    assert!(stderr.contains("invalid --fault-rate"), "{stderr}");
    let stderr = run_expecting_failure(&["--faults", "/no/such/faults.json"]);
    assert!(
        stderr.contains("cannot read faults file '/no/such/faults.json'"),
        "{stderr}"
    );
    let (_dir, path) = temp_file("bad.json", r#"{"routes": ["everything"]}"#);
    let stderr = run_expecting_failure(&["--faults", &path]);
    assert!(
        stderr.contains("is not a valid fault configuration"),
        "{stderr}"
    );
}
