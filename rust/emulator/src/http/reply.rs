//! What a broker request answers: a response now, a response late (an injected `stall`), or
//! none at all (an injected `reset` or `appliedLost`), and how an injected fault turns the
//! normal response into one of these.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::knobs::fault_sequence::Fault;
use crate::knobs::faults::FaultKind;

/// What a broker handler answers.
#[derive(Debug)]
pub(crate) enum Reply {
    /// This response, at once.
    Now(Response),
    /// This response after a delay (an injected `stall`).
    After(Response, Duration),
    /// No response: the connection is closed (an injected `reset` or `appliedLost`).
    Abort,
}

impl Reply {
    /// The status to log; 0 when no response is sent.
    pub(crate) fn status(&self) -> u16 {
        match self {
            Self::Now(response) | Self::After(response, _) => response.status().as_u16(),
            Self::Abort => 0,
        }
    }

    /// The same reply with `change` applied to the response it sends (none for `Abort`).
    pub(crate) fn map_response(self, change: impl FnOnce(&mut Response)) -> Self {
        match self {
            Self::Now(mut response) => {
                change(&mut response);
                Self::Now(response)
            }
            Self::After(mut response, delay) => {
                change(&mut response);
                Self::After(response, delay)
            }
            Self::Abort => Self::Abort,
        }
    }

    /// Sends the reply: waits out a stall, or answers with a body that closes the connection.
    pub(crate) async fn send(self) -> Response {
        match self {
            Self::Now(response) => response,
            Self::After(response, delay) => {
                tokio::time::sleep(delay).await;
                response
            }
            Self::Abort => Response::new(Body::new(AbortBody)),
        }
    }
}

/// A response body whose first read fails.
///
/// How the connection gets closed without a response: for HTTP/1.1, hyper buffers the status
/// line and headers, polls the body for its first chunk before flushing anything, gets the
/// error and drops the connection with the headers still unsent. The client sees the
/// connection closed (or reset) before any response: hyper's "connection closed before
/// message completed", .NET's `HttpRequestException`; a raw socket reads end-of-file with no
/// byte. Over HTTP/2 (only with prior knowledge: the emulator is plain HTTP) the stream is
/// reset with `INTERNAL_ERROR`; with hyper 1.12 that happens before the headers go out, but
/// an HTTP/2 client should be prepared to see the failure when reading the body instead.
#[derive(Debug)]
struct AbortBody;

impl HttpBody for AbortBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "injected fault: connection closed without a response",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        false
    }
}

/// The error an injected `throttle` or `serverError` fault answers with; each API flavour
/// writes it in its own error shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InjectedError {
    /// 429 with `Retry-After`.
    TooManyRequests { retry_after_seconds: u64 },
    /// A 5xx.
    ServerError { status: StatusCode },
}

/// The reply to a request that got `fault` (if any): `normal` is the response it would get
/// without one, `malformed` builds the response of a `malformed` fault and `error` writes an
/// [`InjectedError`] in the flavour's shape.
pub(crate) fn fault_reply(
    fault: Option<Fault>,
    normal: Response,
    malformed: impl FnOnce() -> Response,
    error: impl FnOnce(InjectedError) -> Response,
) -> Reply {
    let Some(fault) = fault else {
        return Reply::Now(normal);
    };
    match fault.kind {
        FaultKind::Throttle => Reply::Now(error(InjectedError::TooManyRequests {
            retry_after_seconds: fault.retry_after_seconds,
        })),
        FaultKind::ServerError => Reply::Now(error(InjectedError::ServerError {
            status: StatusCode::from_u16(fault.server_status)
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        })),
        FaultKind::Reset | FaultKind::AppliedLost => Reply::Abort,
        FaultKind::Stall => Reply::After(normal, fault.stall),
        FaultKind::Malformed => Reply::Now(malformed()),
    }
}

/// The body of a `malformed` fault on a session action.
const GARBAGE_BODY: &str = "<html>oops";

/// A 500 with a body that is not JSON (`malformed` on a session action).
pub(crate) fn garbage_response() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        GARBAGE_BODY,
    )
        .into_response()
}

/// A 200 `application/json` response with `body`.
pub(crate) fn json_response(body: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}
