//! Helpers for the ARM tests: the sample's ARM coordinates, paths, and requests with the static
//! ARM token (or another `Authorization`).

use rds_emulator::{DEFAULT_ARM_ACCESS_TOKEN, EmulatorHandle};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub use super::{Reply, client, enc, read};

/// The subscription of the sample's Contoso and Fabrikam tenants.
pub const SUB: &str = "aaaaaaaa-1111-4aaa-8aaa-000000000001";
/// The newest stable api-version (the default first accepted one).
pub const API: &str = "2025-10-10";
/// Contoso/Pool-Desktop's resource group (the migration tool's `{Tenant}_{HostPool}`).
pub const DESKTOP_RG: &str = "Contoso_Pool-Desktop";
/// Contoso/Pool-Apps' overridden coordinates.
pub const APPS_RG: &str = "rg-avd-apps";
pub const APPS_HP: &str = "hp-contoso-apps";
/// Fabrikam's default resource group.
pub const FABRIKAM_RG: &str = "rg-fabrikam-avd";

/// `/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.DesktopVirtualization/hostPools/{hp}`.
pub fn pool(rg: &str, hp: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{}/providers/Microsoft.DesktopVirtualization/hostPools/{}",
        enc(rg),
        enc(hp)
    )
}

/// Contoso/Pool-Desktop.
pub fn desktop() -> String {
    pool(DESKTOP_RG, "Pool-Desktop")
}

/// Contoso/Pool-Apps under its ARM name.
pub fn apps() -> String {
    pool(APPS_RG, APPS_HP)
}

/// A session host path below a pool path.
pub fn host(pool: &str, host: &str) -> String {
    format!("{pool}/sessionHosts/{}", enc(host))
}

/// A user session path below a pool path.
pub fn session(pool: &str, host_name: &str, id: &str) -> String {
    format!("{}/userSessions/{}", host(pool, host_name), enc(id))
}

/// `path` with `?api-version=API` (or `&` when it has a query already).
pub fn versioned(path: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}api-version={API}")
}

/// `Bearer <static ARM token>`.
pub fn arm_bearer() -> String {
    format!("Bearer {DEFAULT_ARM_ACCESS_TOKEN}")
}

/// Sends `method` to `path_and_query` (taken as is) with `auth` (none when `None`) and an
/// optional JSON body.
pub async fn send_with(
    emulator: &EmulatorHandle,
    method: Method,
    path_and_query: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let mut request = client().request(method, format!("{}{path_and_query}", emulator.url()));
    if let Some(auth) = auth {
        request = request.header(AUTHORIZATION, auth);
    }
    if let Some(body) = body {
        request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned());
    }
    read(request.send().await.expect("answered")).await
}

/// Sends `method` to `path` with the default api-version and the static ARM token.
pub async fn send(
    emulator: &EmulatorHandle,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> Reply {
    send_with(
        emulator,
        method,
        &versioned(path),
        Some(&arm_bearer()),
        body,
    )
    .await
}

pub async fn get(emulator: &EmulatorHandle, path: &str) -> Reply {
    send(emulator, Method::GET, path, None).await
}

pub async fn delete(emulator: &EmulatorHandle, path: &str) -> Reply {
    send(emulator, Method::DELETE, path, None).await
}

pub async fn post(emulator: &EmulatorHandle, path: &str, body: Option<&str>) -> Reply {
    send(emulator, Method::POST, path, body).await
}

/// The `CloudError` of a reply: status, `error.code`, `error.message`.
pub fn cloud_error(reply: &Reply) -> (StatusCode, String, String) {
    let body = reply.json();
    let error = &body["error"];
    let text = |value: &Value| {
        value
            .as_str()
            .unwrap_or_else(|| panic!("{}", reply.body))
            .to_owned()
    };
    (reply.status, text(&error["code"]), text(&error["message"]))
}

/// A header of a reply as text.
pub fn header<'r>(reply: &'r Reply, name: &str) -> &'r str {
    reply
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header in {:?}", reply.headers))
        .to_str()
        .expect("ASCII header")
}

/// The `name`s of the items of a list page.
pub fn names(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .expect("value array")
        .iter()
        .map(|item| item["name"].as_str().expect("name").to_owned())
        .collect()
}
