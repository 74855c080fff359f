//! ARM paging over real HTTP: the configured and the client's page size, `initialSkip`,
//! `isDescending`, absolute `nextLink`s on the emulator's own URL that carry the api-version,
//! and `"nextLink": null` on the last page and the empty list.

mod common;

use common::arm::{API, arm_bearer, desktop, get, host, names, send_with};
use common::{admin_send, start};
use rds_emulator::{Emulator, GenerateSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Follows `nextLink`s from `first` (a path and query) to the end; the pages in order.
async fn all_pages(emulator: &Emulator, first: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut next = Some(format!("{}{first}", emulator.url()));
    while let Some(url) = next {
        assert!(pages.len() < 100, "too many pages");
        let path = url
            .strip_prefix(&emulator.url())
            .unwrap_or_else(|| panic!("nextLink on the emulator's own URL: {url}"));
        let reply = send_with(emulator, Method::GET, path, Some(&arm_bearer()), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let page = reply.json();
        next = page["nextLink"].as_str().map(str::to_owned);
        pages.push(page);
    }
    pages
}

async fn bulk(emulator: &Emulator, hosts: u32, per_host: u32) -> String {
    emulator
        .generate(&GenerateSpec {
            hosts,
            sessions_per_host: per_host,
            ..GenerateSpec::default()
        })
        .expect("generated");
    let mapping = emulator.arm_host_pools();
    let bulk = mapping.iter().find(|p| p.tenant == "Bulk").expect("mapped");
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DesktopVirtualization/hostPools/{}",
        bulk.subscription_id, bulk.resource_group, bulk.arm_host_pool_name
    )
}

#[tokio::test]
async fn lists_are_paged_by_the_configured_size_and_end_with_a_null_next_link() {
    let emulator = start().await;
    let pool = bulk(&emulator, 3, 90).await;
    // The default page size is 100.
    let pages = all_pages(&emulator, &format!("{pool}/userSessions?api-version={API}")).await;
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["value"].as_array().expect("array").len())
        .collect();
    assert_eq!(sizes, [100, 100, 70]);
    assert_eq!(pages[2]["nextLink"], json!(null));
    let first_link = pages[0]["nextLink"].as_str().expect("link");
    assert_eq!(
        first_link,
        format!(
            "{}{pool}/userSessions?api-version={API}&pageSize=100&isDescending=false&initialSkip=100",
            emulator.url()
        )
    );
    // Every session exactly once.
    let mut all: Vec<String> = pages.iter().flat_map(names).collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!((total, all.len()), (270, 270));

    // The page size is settable; the request log shows the size used.
    let set = admin_send(
        &emulator,
        Method::PUT,
        "arm",
        Some(r#"{"pageSize": 2}"#.to_owned()),
    )
    .await;
    assert_eq!(set.status(), StatusCode::OK);
    let small = all_pages(
        &emulator,
        &format!("{}/sessionHosts?api-version={API}", desktop()),
    )
    .await;
    assert_eq!(small.len(), 1, "two hosts fit one page of two");
    let sessions = all_pages(
        &emulator,
        &format!("{}/userSessions?api-version={API}", desktop()),
    )
    .await;
    assert_eq!(
        sessions
            .iter()
            .map(|p| p["value"].as_array().expect("array").len())
            .collect::<Vec<_>>(),
        [2, 2, 2, 1]
    );
    let last = emulator.requests().pop().expect("logged");
    assert_eq!(last.page_size, Some(2));
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_client_s_page_size_skip_and_order_are_honoured() {
    let emulator = start().await;
    let list = format!("{}/userSessions", desktop());
    let page = get(&emulator, &format!("{list}?pageSize=3&initialSkip=2"))
        .await
        .json();
    assert_eq!(
        names(&page),
        [
            "Pool-Desktop/sh1.contoso.com/5",
            "Pool-Desktop/sh1.contoso.com/17",
            "Pool-Desktop/sh2.contoso.com/2"
        ]
    );
    let next = page["nextLink"].as_str().expect("more");
    assert!(
        next.ends_with(&format!(
            "?api-version={API}&pageSize=3&isDescending=false&initialSkip=5"
        )),
        "{next}"
    );

    let descending = all_pages(
        &emulator,
        &format!("{list}?api-version={API}&isDescending=true&pageSize=4"),
    )
    .await;
    let names_descending: Vec<String> = descending.iter().flat_map(names).collect();
    assert_eq!(
        names_descending.first().map(String::as_str),
        Some("Pool-Desktop/sh2.contoso.com/9")
    );
    assert_eq!(
        names_descending.last().map(String::as_str),
        Some("Pool-Desktop/sh1.contoso.com/2")
    );
    assert_eq!(names_descending.len(), 7);
    assert!(
        descending[0]["nextLink"]
            .as_str()
            .expect("link")
            .contains("isDescending=true")
    );

    // A filter travels in the nextLink.
    let filtered = all_pages(
        &emulator,
        &format!(
            "{list}?api-version={API}&pageSize=1&$filter={}",
            common::enc("sessionState eq 'Active'")
        ),
    )
    .await;
    assert_eq!(filtered.len(), 4, "four active sessions, one per page");
    assert!(
        filtered[0]["nextLink"]
            .as_str()
            .expect("link")
            .contains("$filter=sessionState")
    );

    for bad in [
        "pageSize=0",
        "pageSize=many",
        "initialSkip=-1",
        "isDescending=maybe",
    ] {
        let reply = get(&emulator, &format!("{list}?{bad}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.json()["error"]["code"], "InvalidParameter", "{bad}");
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_empty_list_is_exactly_value_empty_and_next_link_null() {
    let emulator = start().await;
    let fabrikam_desktop = common::arm::pool(common::arm::FABRIKAM_RG, "Pool-Desktop");
    let empty = get(&emulator, &format!("{fabrikam_desktop}/userSessions")).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body, r#"{"value":[],"nextLink":null}"#);
    let per_host = get(
        &emulator,
        &format!(
            "{}/userSessions",
            host(&fabrikam_desktop, "vm2.fabrikam.com")
        ),
    )
    .await;
    assert_eq!(per_host.body, r#"{"value":[],"nextLink":null}"#);
    // Skipping past the end is an empty last page too.
    let past = get(
        &emulator,
        &format!("{}/userSessions?initialSkip=50", desktop()),
    )
    .await;
    assert_eq!(past.body, r#"{"value":[],"nextLink":null}"#);
    emulator.shutdown().await;
}

#[tokio::test]
async fn next_links_use_the_host_the_client_used() {
    let emulator = start().await;
    let port = emulator.local_addr().port();
    let response = common::client()
        .get(format!(
            "{}{}/userSessions?api-version={API}&pageSize=1",
            emulator.url(),
            desktop()
        ))
        .header("authorization", arm_bearer())
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .expect("answered");
    let page: Value = response.json().await.expect("json");
    let next = page["nextLink"].as_str().expect("link");
    assert!(
        next.starts_with(&format!("http://localhost:{port}/subscriptions/")),
        "{next}"
    );
    emulator.shutdown().await;
}
