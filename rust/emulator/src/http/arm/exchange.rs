//! What every ARM answer carries besides its body: the request and correlation ids and the
//! rate-limit headers, as recorded live (`x-ms-request-id`, `x-ms-correlation-request-id`,
//! `x-ms-correlation-id`, `x-ms-routing-request-id`, `Cache-Control: no-cache`, `Expires: -1`,
//! `Content-Type: application/json; charset=utf-8`, `x-ms-ratelimit-remaining-subscription-*`
//! and `...-global-*`).

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;

use crate::clock::{now_epoch, rfc3339};
use crate::knobs::rate_limits::OperationClass;

/// The region the emulated ARM front door runs in (`x-ms-routing-request-id`).
const REGION: &str = "EASTUS";

/// The longest client-chosen id the emulator echoes.
const MAX_ECHOED_ID: usize = 128;

/// One ARM exchange: its ids, the emulator's URL as the client used it, and the rate-limit
/// figures once the request took its token.
#[derive(Clone, Debug)]
pub(super) struct Exchange {
    correlation_id: String,
    request_id: String,
    correlation_request_id: String,
    routing_request_id: String,
    base_url: String,
    rate: Option<RateHeaders>,
}

/// The remaining tokens after a request took (or was refused) its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RateHeaders {
    pub class: OperationClass,
    pub remaining: u64,
    pub global_remaining: u64,
}

impl Exchange {
    /// The ids of a request with `headers`: `x-ms-correlation-id` echoes the client's (the
    /// ActivityId of the service's 404 messages), else a new GUID; `x-ms-request-id` echoes
    /// `x-ms-client-request-id` (as recorded live), else a new GUID; the client's
    /// `x-ms-correlation-request-id` is echoed, else a new GUID.
    pub(super) fn new(parts: &Parts, base_url: String) -> Self {
        // `YYYY-MM-DDTHH:MM:SSZ` as `YYYYMMDDTHHMMSSZ`.
        let stamp: String = rfc3339(now_epoch())
            .chars()
            .filter(|c| *c != '-' && *c != ':')
            .collect();
        Self {
            correlation_id: echoed(&parts.headers, "x-ms-correlation-id"),
            request_id: echoed(&parts.headers, "x-ms-client-request-id"),
            correlation_request_id: echoed(&parts.headers, "x-ms-correlation-request-id"),
            routing_request_id: format!("{REGION}:{stamp}:{}", uuid::Uuid::new_v4()),
            base_url,
            rate: None,
        }
    }

    /// The `x-ms-correlation-id` of the answer.
    pub(super) fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    /// The emulator's URL as the client used it (for `nextLink`s).
    pub(super) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Remembers the rate-limit figures to send.
    pub(super) fn set_rate(&mut self, rate: RateHeaders) {
        self.rate = Some(rate);
    }

    /// Adds the headers every ARM answer has.
    pub(super) fn decorate(&self, response: &mut Response) {
        let headers = response.headers_mut();
        let mut insert = |name: &str, value: &str| {
            // Every name and value here is plain ASCII; one that were not is left out.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        };
        insert("x-ms-request-id", &self.request_id);
        insert("x-ms-correlation-request-id", &self.correlation_request_id);
        insert("x-ms-correlation-id", &self.correlation_id);
        insert("x-ms-routing-request-id", &self.routing_request_id);
        insert("cache-control", "no-cache");
        insert("expires", "-1");
        if let Some(rate) = self.rate {
            let class = rate.class.name();
            insert(
                &format!("x-ms-ratelimit-remaining-subscription-{class}"),
                &rate.remaining.to_string(),
            );
            insert(
                &format!("x-ms-ratelimit-remaining-subscription-global-{class}"),
                &rate.global_remaining.to_string(),
            );
        }
        // JSON answers say their charset, as ARM's do; empty answers (200 of an action, 204)
        // and the injected non-JSON body keep what they have.
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
        if is_json {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
        }
    }
}

/// A client's id from `name` when it is a reasonable header value, else a new GUID.
fn echoed(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty() && value.len() <= MAX_ECHOED_ID)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}
