//! Helpers shared by the integration tests: starting emulators, URL building, seeds, authorized
//! and admin requests, and a tiny blocking HTTP client.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

pub mod arm;
pub mod entra;
pub mod process;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rds_emulator::{
    BackgroundEmulator, DEFAULT_ACCESS_TOKEN, Emulator, EmulatorConfig, EmulatorHandle, HostPool,
    Seed, Session, SessionHost, Tenant, TenantGroup,
};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;

/// Everything except RFC 3986 unreserved characters is encoded, as a careful client would.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub const TG: &str = "Default Tenant Group";

/// Starts an emulator with the default configuration: the sample seed and the default token.
pub async fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts")
}

/// Starts an emulator serving `seed` (with the default token).
pub async fn start_with_seed(seed: Seed) -> Emulator {
    Emulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

/// Starts a [`BackgroundEmulator`] with the default configuration.
pub fn start_background() -> BackgroundEmulator {
    BackgroundEmulator::start(EmulatorConfig::default()).expect("starts")
}

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

/// A request for `path` below `base_url` with the default token, on `http`.
pub fn authorized(
    http: &reqwest::Client,
    base_url: &str,
    method: Method,
    path: &str,
) -> RequestBuilder {
    http.request(method, format!("{base_url}{path}"))
        .header(AUTHORIZATION, bearer())
}

/// A broker request as real clients send it: [`authorized`], and a POST carries the `{}` JSON
/// body the broker ignores (sent to prove it is accepted).
pub fn broker_request(
    http: &reqwest::Client,
    base_url: &str,
    method: Method,
    path: &str,
) -> RequestBuilder {
    let is_post = method == Method::POST;
    let request = authorized(http, base_url, method, path);
    if is_post {
        request.header(CONTENT_TYPE, "application/json").body("{}")
    } else {
        request
    }
}

/// A request to the unauthenticated admin route `/_emulator/{route}`.
pub fn admin(emulator: &EmulatorHandle, method: Method, route: &str) -> RequestBuilder {
    client().request(method, format!("{}/_emulator/{route}", emulator.url()))
}

/// Sends an admin request and returns the response, which must come.
pub async fn admin_send(
    emulator: &EmulatorHandle,
    method: Method,
    route: &str,
    body: Option<String>,
) -> reqwest::Response {
    let mut request = admin(emulator, method, route);
    if let Some(body) = body {
        request = request.body(body);
    }
    request.send().await.expect("answered")
}

/// GETs `/_emulator/{route}`, which must answer 200 with JSON, and returns the JSON.
pub async fn admin_get(emulator: &EmulatorHandle, route: &str) -> Value {
    let response = admin_send(emulator, Method::GET, route, None).await;
    assert_eq!(response.status(), StatusCode::OK, "GET /_emulator/{route}");
    response.json().await.expect("JSON")
}

/// A response as a test sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// The `access_token` of a 200 response (fails with the body otherwise).
    pub fn access_token(&self) -> String {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        self.json()["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }
}

/// Reads a whole response.
pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.expect("body");
    Reply {
        status,
        headers,
        body,
    }
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
                host_pools: vec![HostPool {
                    name: host_pool.to_owned(),
                    session_hosts: vec![SessionHost {
                        name: session_host.to_owned(),
                        sessions,
                        ..SessionHost::default()
                    }],
                    ..HostPool::default()
                }],
                ..Tenant::default()
            }],
        }],
        ..Seed::default()
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

/// [`blocking_request`] POSTing an `application/x-www-form-urlencoded` body (already encoded).
pub fn blocking_form(base_url: &str, path: &str, form: &str) -> (u16, String) {
    let header = ("Content-Type", "application/x-www-form-urlencoded");
    blocking_request(base_url, "POST", path, &[header], form)
}

/// [`blocking_request`] with the default token.
pub fn blocking_authorized(base_url: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let auth = bearer();
    blocking_request(base_url, method, path, &[("Authorization", &auth)], body)
}
