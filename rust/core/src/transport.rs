//! One HTTP attempt, and nothing else: the bearer token, the correlation id, the per-request
//! timeout, a bounded read of the answer, and the classification of what went wrong on the
//! wire (every connection and HTTP failure is classified here, once).
//!
//! It does not retry (that is [`crate::retry`]) and it does not know what a status means for
//! an operation (that is the backend's job); it reports, for each failure, whether the service
//! may have applied the request ([`Outcome`]), which is what makes retries of a logoff exact.

use crate::auth::TokenSource;
use crate::error::{Error, ErrorCode, root_cause, shown_url};
use crate::retry::parse_retry_after;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How much of an error answer is read: enough for any real error body; a hostile or broken
/// service streaming megabytes gets cut off here (and its text is cut again for messages).
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// How much of a successful action's answer is read. Actions do not use the body, so a longer
/// one is cut (never an error: the action was applied).
pub const MAX_ACTION_BODY_BYTES: usize = 64 * 1024;

/// The largest list answer accepted (a classic broker sends a whole host pool in one array:
/// 64 MiB is about 150,000 sessions). Beyond it the list fails with `BrokerResponseTooLarge`.
pub const MAX_LIST_BODY_BYTES: usize = 64 * 1024 * 1024;

/// What to do with an answer longer than its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyLimit {
    /// Read at most this many bytes and ignore the rest.
    Truncate(usize),
    /// Fail with `BrokerResponseTooLarge` beyond this many bytes.
    Fail(usize),
}

/// One request to send.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub method: Method,
    pub url: Url,
    /// JSON body (sent with `Content-Type: application/json`).
    pub json_body: Option<String>,
    pub limit: BodyLimit,
}

/// An answer, read within its bound.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The `x-ms-correlation-id` this client sent with the request.
    pub correlation_id: String,
}

impl Answer {
    /// `Retry-After` as seconds or an HTTP-date.
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()))
    }

    /// The origin a redirect points to, as a message may show it (never a path or query).
    pub fn redirect_origin(&self) -> String {
        let location = self
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        match Url::parse(location) {
            Ok(url) => match url.host_str() {
                Some(host) => shown_url(&format!("{}://{host}", url.scheme())),
                None => "an address without a host".to_owned(),
            },
            // A relative Location stays on the same origin; still not followed.
            Err(_) if !location.is_empty() => "a path on the same server".to_owned(),
            Err(_) => "no address".to_owned(),
        }
    }
}

/// Whether the service may have applied a request whose attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The request was refused or never arrived (connection refused, 4xx, 429, 503): nothing
    /// happened, and a later "not found" means the object was never there.
    NotApplied,
    /// The request was sent and no definite answer came back (reset or timeout after sending,
    /// 500, 502, 504): it may have been applied.
    Unknown,
}

impl Outcome {
    /// What an HTTP error status says about the request. 500, 502 and 504 come from a server
    /// or gateway that may have passed the request on before failing; every other status is a
    /// refusal before any work (429 throttled, 503 unavailable, 4xx rejected).
    pub fn of_status(status: u16) -> Outcome {
        match status {
            500 | 502 | 504 => Outcome::Unknown,
            _ => Outcome::NotApplied,
        }
    }
}

/// Why an attempt did not return a 2xx answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The service answered with a non-2xx status (body read within [`MAX_ERROR_BODY_BYTES`]).
    Status(Answer),
    /// No token could be obtained; nothing was sent.
    Token(Error),
    /// The request could not be sent, or no complete answer arrived.
    Transport {
        error: Error,
        outcome: Outcome,
        /// Short reason for a retry note ("no answer in time").
        reason: String,
    },
}

/// The HTTP client, the token source and the request timeout: everything one attempt needs.
#[derive(Clone)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    pub tokens: Arc<dyn TokenSource>,
    pub request_timeout: Duration,
    /// Where requests go, for messages (`the broker at https://...`).
    pub service: String,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("service", &self.service)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Sends `request` once.
    pub async fn send(&self, request: &Request) -> Result<Answer, Failure> {
        // Bounded like a request: a sign-in authority that stops answering must not hang a
        // pipeline (the token source also bounds its own requests).
        let token = match tokio::time::timeout(self.request_timeout, self.tokens.token()).await {
            Ok(Ok(token)) => token,
            Ok(Err(e)) => return Err(Failure::Token(e)),
            Err(_) => {
                return Err(Failure::Token(Error::new(
                    ErrorCode::AuthorityUnreachable,
                    format!(
                        "no access token within {} s: the sign-in authority did not answer in time",
                        self.request_timeout.as_secs_f64()
                    ),
                )));
            }
        };
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let mut builder = self
            .http
            .request(request.method.clone(), request.url.clone())
            .bearer_auth(token.expose())
            .header(ACCEPT, "application/json")
            .header("x-ms-correlation-id", &correlation_id)
            .timeout(self.request_timeout);
        if let Some(body) = &request.json_body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|e| self.transport_failure(e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let limit = if status.is_success() {
            request.limit
        } else {
            BodyLimit::Truncate(MAX_ERROR_BODY_BYTES)
        };
        let body = read_bounded(response, limit).await.map_err(|e| match e {
            ReadError::Transport(e) => self.transport_failure(e),
            ReadError::TooLarge(limit) => Failure::Transport {
                error: Error::new(
                    ErrorCode::BrokerResponseTooLarge,
                    format!(
                        "the answer of {} is larger than {} MiB, more than this client reads",
                        self.service,
                        limit / (1024 * 1024)
                    ),
                ),
                // A 2xx status arrived: for a list that changes nothing.
                outcome: Outcome::NotApplied,
                reason: "the answer is too large".to_owned(),
            },
        })?;
        let answer = Answer {
            status,
            headers,
            body,
            correlation_id,
        };
        if status.is_success() {
            Ok(answer)
        } else {
            Err(Failure::Status(answer))
        }
    }

    /// Connection failures before anything was sent did nothing; a reset or timeout after
    /// the request went out may have been applied.
    fn transport_failure(&self, e: reqwest::Error) -> Failure {
        let outcome = if e.is_connect() || e.is_builder() {
            Outcome::NotApplied
        } else {
            Outcome::Unknown
        };
        let cause = root_cause(&e);
        let reason = if e.is_timeout() {
            "no answer in time".to_owned()
        } else {
            format!("the connection failed ({cause})")
        };
        let error = if e.is_timeout() {
            Error::new(
                ErrorCode::BrokerTimeout,
                format!("{} did not answer in time ({cause})", self.service),
            )
        } else {
            Error::new(
                ErrorCode::BrokerUnreachable,
                format!("{} could not be reached ({cause})", self.service),
            )
        };
        Failure::Transport {
            error: error.with_source(e),
            outcome,
            reason,
        }
    }
}

enum ReadError {
    Transport(reqwest::Error),
    TooLarge(usize),
}

/// Reads the body chunk by chunk, never holding more than the limit: a declared length over
/// the limit fails before reading, an endless stream stops at the limit.
async fn read_bounded(
    mut response: reqwest::Response,
    limit: BodyLimit,
) -> Result<Vec<u8>, ReadError> {
    let (max, fail) = match limit {
        BodyLimit::Truncate(max) => (max, false),
        BodyLimit::Fail(max) => (max, true),
    };
    if fail && response.content_length().is_some_and(|n| n > max as u64) {
        return Err(ReadError::TooLarge(max));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > max {
            if fail {
                return Err(ReadError::TooLarge(max));
            }
            body.extend_from_slice(&chunk[..max - body.len()]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn only_gateway_and_server_failures_leave_the_outcome_unknown() {
        for status in [500, 502, 504] {
            assert_eq!(Outcome::of_status(status), Outcome::Unknown, "{status}");
        }
        for status in [400, 401, 403, 404, 408, 409, 429, 503] {
            assert_eq!(Outcome::of_status(status), Outcome::NotApplied, "{status}");
        }
    }
}
