//! Helpers shared by the integration tests: URL building, seeds and a tiny blocking HTTP client.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

pub mod entra;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rds_emulator::{
    DEFAULT_ACCESS_TOKEN, HostPool, Seed, Session, SessionHost, Tenant, TenantGroup,
};

/// Everything except RFC 3986 unreserved characters is encoded, as a careful client would.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub const TG: &str = "Default Tenant Group";

/// Percent-encodes one path segment.
pub fn enc(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Path of the list-sessions route (encoded).
pub fn sessions_path(tenant_group: &str, tenant: &str, host_pool: &str) -> String {
    format!(
        "/RdsManagement/V1/TenantGroups/{}/Tenants/{}/HostPools/{}/Sessions",
        enc(tenant_group),
        enc(tenant),
        enc(host_pool)
    )
}

/// Path of the logoff route (encoded), without query.
pub fn logoff_path(
    tenant_group: &str,
    tenant: &str,
    host_pool: &str,
    session_host: &str,
    session_id: &str,
) -> String {
    format!(
        "/RdsManagement/V1/TenantGroups/{}/Tenants/{}/HostPools/{}/SessionHosts/{}/Sessions/{}/actions/logoff-user",
        enc(tenant_group),
        enc(tenant),
        enc(host_pool),
        enc(session_host),
        enc(session_id)
    )
}

/// Path of a session action route (encoded), e.g. `disconnect-user`, without query.
pub fn action_path(
    tenant_group: &str,
    tenant: &str,
    host_pool: &str,
    session_host: &str,
    session_id: &str,
    action: &str,
) -> String {
    format!(
        "/RdsManagement/V1/TenantGroups/{}/Tenants/{}/HostPools/{}/SessionHosts/{}/Sessions/{}/actions/{action}",
        enc(tenant_group),
        enc(tenant),
        enc(host_pool),
        enc(session_host),
        enc(session_id)
    )
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// `Authorization` value for the default token.
pub fn bearer() -> String {
    format!("Bearer {DEFAULT_ACCESS_TOKEN}")
}

pub fn session(id: i32, user: &str) -> Session {
    Session {
        session_id: id,
        user_principal_name: format!("{user}@example.com"),
        ad_user_name: format!("EXAMPLE\\{user}"),
        application_type: "Desktop".to_owned(),
        session_state: "Active".to_owned(),
        create_time: "2026-11-23T21:04:00Z".to_owned(),
        messages: Vec::new(),
    }
}

/// A seed with exactly one tenant group, tenant, host pool and session host.
pub fn one_host_seed(
    tenant_group: &str,
    tenant: &str,
    host_pool: &str,
    session_host: &str,
    sessions: Vec<Session>,
) -> Seed {
    Seed {
        tenant_groups: vec![TenantGroup {
            name: tenant_group.to_owned(),
            tenants: vec![Tenant {
                name: tenant.to_owned(),
                forbidden: false,
                host_pools: vec![HostPool {
                    name: host_pool.to_owned(),
                    session_hosts: vec![SessionHost {
                        name: session_host.to_owned(),
                        reachable: true,
                        sessions,
                    }],
                }],
            }],
        }],
        identity: None,
        latency: None,
        faults: None,
    }
}

/// Session ids of one host in a state snapshot.
pub fn session_ids(seed: &Seed, tenant: &str, host_pool: &str, session_host: &str) -> Vec<i32> {
    seed.tenant_groups
        .iter()
        .flat_map(|g| &g.tenants)
        .filter(|t| t.name == tenant)
        .flat_map(|t| &t.host_pools)
        .filter(|p| p.name == host_pool)
        .flat_map(|p| &p.session_hosts)
        .filter(|h| h.name == session_host)
        .flat_map(|h| h.sessions.iter().map(|s| s.session_id))
        .collect()
}

/// A raw HTTP/1.1 exchange over a std socket: no tokio runtime involved, which is the point
/// for tests of [`rds_emulator::BackgroundEmulator`] and of the binary.
/// Returns the status code and the body.
pub fn blocking_request(
    base_url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let authority = base_url
        .strip_prefix("http://")
        .expect("base URL starts with http://");
    let mut stream = TcpStream::connect(authority).expect("connect to emulator");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}
