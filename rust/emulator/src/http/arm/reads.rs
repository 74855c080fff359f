//! ARM's reads: host pool lists and gets, session host lists and gets, user session lists
//! (per host pool, with `$filter`, or per session host) and gets, paged with an absolute
//! `nextLink` that continues by `initialSkip`.
//!
//! INFERRED: the continuation is an offset (`initialSkip`, the API's own parameter), so a
//! client that logs sessions off between pages skips sessions, as with any offset-based
//! paging; list everything first, then act.

use axum::body::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use super::error::ArmError;
use super::exchange::Exchange;
use super::query::{Paging, SessionFilter, first};
use super::request::{ArmRequest, Visibility, injected, pool};
use super::routes::ArmRoute;
use super::views::{self, Page};
use crate::broker::access::READ_HOST_POOLS;
use crate::broker::arm::{self, ArmPool};
use crate::clock::since_epoch;
use crate::http::reply::{Reply, fault_reply, json_response};
use crate::knobs::fault_sequence::Fault;
use crate::model::Seed;
use crate::record::RequestRecord;

/// What a query value keeps unencoded in a `nextLink` (RFC 3986 unreserved characters).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Runs a read route.
pub(super) fn run(
    request: &ArmRequest<'_>,
    record: &mut RequestRecord,
    exchange: &Exchange,
) -> Result<Reply, ArmError> {
    let query = request.query.as_deref();
    let paging = if request.route.is_list() {
        let paging = Paging::parse(query, request.config.page_size)?;
        record.page_size = Some(paging.page_size);
        Some(paging)
    } else {
        None
    };
    let filter_text = (request.route == ArmRoute::ListUserSessions)
        .then(|| first(query, "$filter"))
        .flatten();
    let filter = filter_text
        .as_deref()
        .map(SessionFilter::parse)
        .transpose()?
        .unwrap_or_default();
    let next = |skip: usize| {
        paging
            .as_ref()
            .map(|paging| next_link(request, exchange, paging, skip, filter_text.as_deref()))
    };
    let (body, fault) = request.app.state.with(|inner| {
        let body = read(&inner.seed, request, paging.as_ref(), &filter, next)?;
        let fault = inner.draw_fault(request.route.fault_route(), |_| Ok::<_, ArmError>(()))?;
        Ok::<_, ArmError>((body, fault))
    })?;
    Ok(read_reply(request, fault, body, record, exchange))
}

/// The body of a read, built (and serialized) under the state's lock.
fn read(
    seed: &Seed,
    request: &ArmRequest<'_>,
    paging: Option<&Paging>,
    filter: &SessionFilter,
    next: impl Fn(usize) -> Option<String>,
) -> Result<serde_json::Result<Vec<u8>>, ArmError> {
    let params = &request.params;
    let now = since_epoch();
    let paging = paging.cloned().unwrap_or(Paging {
        page_size: usize::MAX,
        skip: 0,
        descending: false,
    });
    let body = match request.route {
        ArmRoute::ListHostPools | ArmRoute::ListHostPoolsByResourceGroup => {
            let pools: Vec<ArmPool<'_>> =
                arm::pools_in(seed, &params.subscription, params.resource_group.as_deref())
                    .into_iter()
                    .filter(|pool| {
                        request.visibility == Visibility::All
                            || request.allowed(READ_HOST_POOLS, &pool.scope())
                    })
                    .collect();
            page(pools, &paging, &next, |pool| views::host_pool(&pool))
        }
        ArmRoute::GetHostPool => serde_json::to_vec(&views::host_pool(&pool(seed, request)?)),
        ArmRoute::ListSessionHosts => {
            let pool = pool(seed, request)?;
            let hosts: Vec<_> = pool.pool.session_hosts.iter().collect();
            page(hosts, &paging, &next, |host| {
                views::session_host(&pool, host, now)
            })
        }
        ArmRoute::GetSessionHost => {
            let pool = pool(seed, request)?;
            let host = host(&pool, request)?;
            serde_json::to_vec(&views::session_host(&pool, host, now))
        }
        ArmRoute::ListUserSessions => {
            let pool = pool(seed, request)?;
            let sessions: Vec<_> = pool
                .pool
                .session_hosts
                .iter()
                .flat_map(|host| host.sessions.iter().map(move |session| (host, session)))
                .filter(|(_, s)| filter.matches(&s.user_principal_name, &s.session_state))
                .collect();
            // The host pool level list answers `"systemData": null` (CONFIRMED).
            page(sessions, &paging, &next, |(host, session)| {
                views::user_session(&pool, host, session, false)
            })
        }
        ArmRoute::ListSessionHostUserSessions => {
            let pool = pool(seed, request)?;
            let host = host(&pool, request)?;
            let sessions: Vec<_> = host.sessions.iter().collect();
            page(sessions, &paging, &next, |session| {
                views::user_session(&pool, host, session, true)
            })
        }
        _ => {
            let pool = pool(seed, request)?;
            let host = host(&pool, request)?;
            let session = arm::find_session(host, params.user_session())
                .ok_or(ArmError::UserSessionNotFound)?;
            serde_json::to_vec(&views::user_session(&pool, host, session, true))
        }
    };
    Ok(body)
}

/// The request's session host in `pool`, or the service's 404.
fn host<'s>(
    pool: &ArmPool<'s>,
    request: &ArmRequest<'_>,
) -> Result<&'s crate::model::SessionHost, ArmError> {
    arm::find_host(pool.pool, request.params.session_host()).ok_or(ArmError::SessionHostNotFound)
}

/// One page of `items` (reversed first when descending) as views, serialized, with its
/// `nextLink`.
fn page<I, T: Serialize>(
    mut items: Vec<I>,
    paging: &Paging,
    next: impl Fn(usize) -> Option<String>,
    view: impl Fn(I) -> T,
) -> serde_json::Result<Vec<u8>> {
    if paging.descending {
        items.reverse();
    }
    let total = items.len();
    let end = paging.skip.saturating_add(paging.page_size);
    let value: Vec<T> = items
        .into_iter()
        .skip(paging.skip)
        .take(paging.page_size)
        .map(view)
        .collect();
    let next_link = if end < total { next(end) } else { None };
    serde_json::to_vec(&Page { value, next_link })
}

/// The absolute URL of the page starting at `skip`: the same path on the emulator's own URL,
/// with `api-version`, the page size, the order, `$filter` and the new `initialSkip`.
fn next_link(
    request: &ArmRequest<'_>,
    exchange: &Exchange,
    paging: &Paging,
    skip: usize,
    filter: Option<&str>,
) -> String {
    let encode = |value: &str| utf8_percent_encode(value, QUERY_VALUE).to_string();
    let mut link = format!(
        "{}{}?api-version={}&pageSize={}&isDescending={}&initialSkip={skip}",
        exchange.base_url(),
        request.raw_path,
        encode(&request.api_version),
        paging.page_size,
        paging.descending,
    );
    if let Some(filter) = filter {
        link.push_str("&$filter=");
        link.push_str(&encode(filter));
    }
    link
}

/// Answers a read with `body` unless its fault makes something else of it (`malformed`: the
/// body cut in half).
fn read_reply(
    request: &ArmRequest<'_>,
    fault: Option<Fault>,
    body: serde_json::Result<Vec<u8>>,
    record: &mut RequestRecord,
    exchange: &Exchange,
) -> Reply {
    record.fault = fault.map(|fault| fault.kind);
    let body = match body {
        Ok(body) => Bytes::from(body),
        // Cannot happen for these plain views; answered as axum's `Json` would.
        Err(error) => {
            return Reply::Now(
                ArmError::InvalidParameter {
                    message: error.to_string(),
                }
                .into_response(exchange),
            );
        }
    };
    let truncated = body.slice(..body.len() / 2);
    fault_reply(
        fault,
        json_response(body),
        || json_response(truncated),
        |error| injected(request, error).into_response(exchange),
    )
}
