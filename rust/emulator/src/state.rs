//! The emulator's shared, mutable state and its request log.
//!
//! Everything a request may read or change lives in one [`Inner`] behind one mutex, so every
//! broker operation is atomic with respect to the others and to `PUT /_emulator/state`. Later
//! additions (per-session call counters, injected latency or faults, more routes) belong in
//! [`Inner`] as new fields; the handlers already receive `&mut Inner`.

use std::fmt;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::model::Seed;

/// How many request records a slow [`crate::Emulator::subscribe_requests`] subscriber may fall
/// behind before it starts missing some. The log itself is unbounded.
const EVENT_CAPACITY: usize = 1024;

/// One request to a broker route (anything outside `/_emulator`), as the emulator saw it.
///
/// Never contains the `Authorization` header or the token: only whether it was accepted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// The path exactly as received, still percent-encoded, without the query.
    pub raw_path: String,
    /// The raw query string (without `?`), if any.
    pub query: Option<String>,
    /// `listSessions`, `logoffUser` or `unknown`.
    pub route: String,
    /// Decoded `{tenantGroup}` path segment, when the route has one.
    pub tenant_group: Option<String>,
    /// Decoded `{tenant}` path segment.
    pub tenant: Option<String>,
    /// Decoded `{hostPool}` path segment.
    pub host_pool: Option<String>,
    /// Decoded `{sessionHost}` path segment.
    pub session_host: Option<String>,
    /// Decoded `{sessionId}` path segment (as text: it may not be a number).
    pub session_id: Option<String>,
    /// The `force` query value when it was present and valid; `None` when absent or invalid.
    pub force: Option<bool>,
    /// The status code of the response that was sent.
    pub status: u16,
    /// Whether the request carried the expected bearer token.
    pub authorized: bool,
}

impl RequestRecord {
    /// A record for a request whose route is not known yet; the handler fills in the rest.
    pub(crate) fn new(method: String, raw_path: String, query: Option<String>) -> Self {
        Self {
            method,
            raw_path,
            query,
            route: crate::routes::UNKNOWN_ROUTE.to_owned(),
            tenant_group: None,
            tenant: None,
            host_pool: None,
            session_host: None,
            session_id: None,
            force: None,
            status: 0,
            authorized: false,
        }
    }
}

/// The mutable part of the emulator. Only ever touched with the lock held.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// The emulated broker's data.
    pub(crate) seed: Seed,
    /// Every broker request so far, oldest first.
    pub(crate) log: Vec<RequestRecord>,
}

/// A cheap, clonable handle on the emulator's state, shared by the server task, the
/// [`crate::Emulator`] handle and the [`crate::BackgroundEmulator`] handle.
#[derive(Clone)]
pub(crate) struct SharedState {
    inner: Arc<Mutex<Inner>>,
    /// The exact `Authorization` header value that is accepted (`Bearer <token>`).
    expected_authorization: Arc<str>,
    /// Live feed of request records (used by the binary for its stderr log).
    events: broadcast::Sender<RequestRecord>,
}

impl SharedState {
    pub(crate) fn new(seed: Seed, access_token: &str) -> Self {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Self {
            inner: Arc::new(Mutex::new(Inner {
                seed,
                log: Vec::new(),
            })),
            expected_authorization: format!("Bearer {access_token}").into(),
            events,
        }
    }

    /// Runs `f` with exclusive access to the state. Keep `f` short and never await inside it.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock())
    }

    pub(crate) fn snapshot(&self) -> Seed {
        self.with(|inner| inner.seed.clone())
    }

    /// Replaces the data and clears the request log, so a test starts from a clean slate.
    pub(crate) fn replace(&self, seed: Seed) {
        self.with(|inner| {
            inner.seed = seed;
            inner.log.clear();
        });
    }

    pub(crate) fn requests(&self) -> Vec<RequestRecord> {
        self.with(|inner| inner.log.clone())
    }

    pub(crate) fn clear_requests(&self) {
        self.with(|inner| inner.log.clear());
    }

    /// Appends a record to the log and publishes it to subscribers.
    pub(crate) fn record(&self, record: RequestRecord) {
        self.with(|inner| inner.log.push(record.clone()));
        // An error only means nobody is subscribed, which is the normal case in tests.
        let _ = self.events.send(record);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<RequestRecord> {
        self.events.subscribe()
    }

    /// True when the request carries exactly one `Authorization: Bearer <token>` header.
    pub(crate) fn is_authorized(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => {
                constant_time_eq(value.as_bytes(), self.expected_authorization.as_bytes())
            }
            _ => false,
        }
    }
}

impl fmt::Debug for SharedState {
    // Hand-written so the token can never reach a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedState")
            .field("inner", &self.inner)
            .field("expected_authorization", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Compares without an early exit on the first differing byte. An emulator is no security
/// boundary, but it costs nothing and keeps the habit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_the_exact_bearer_header_is_authorized() {
        let state = SharedState::new(Seed::default(), "tok");
        assert!(state.is_authorized(&headers(&["Bearer tok"])));
        assert!(!state.is_authorized(&headers(&[])));
        assert!(!state.is_authorized(&headers(&["bearer tok"])));
        assert!(!state.is_authorized(&headers(&["Bearer tok2"])));
        assert!(!state.is_authorized(&headers(&["Bearer  tok"])));
        assert!(!state.is_authorized(&headers(&["Bearer tok", "Bearer tok"])));
    }

    #[test]
    fn debug_output_redacts_the_token() {
        let state = SharedState::new(Seed::default(), "super-secret-token");
        let text = format!("{state:?}");
        assert!(!text.contains("super-secret-token"), "{text}");
    }

    #[test]
    fn replace_clears_the_log() {
        let state = SharedState::new(Seed::sample(), "tok");
        state.record(RequestRecord::new("GET".into(), "/x".into(), None));
        assert_eq!(state.requests().len(), 1);
        state.replace(Seed::default());
        assert!(state.requests().is_empty());
        assert_eq!(state.snapshot(), Seed::default());
    }
}
