//! How a classic read or state-changing request answers: its normal response, or what its
//! injected fault makes of it, in the classic error shape.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::ClassicError;
use crate::http::action::Outcome;
use crate::http::reply::{Reply, fault_reply, garbage_response, json_response};
use crate::knobs::fault_sequence::Fault;
use crate::record::RequestRecord;

/// Answers a classic read with the JSON `body` (serialized under the lock) unless its fault
/// makes something else of it (`malformed`: the body cut in half).
pub(super) fn read_reply(
    fault: Option<Fault>,
    body: serde_json::Result<Vec<u8>>,
    record: &mut RequestRecord,
) -> Reply {
    record.fault = fault.map(|fault| fault.kind);
    let body = match body {
        Ok(body) => body,
        // As axum's `Json` answers a value that does not serialize (cannot happen for these
        // plain views).
        Err(error) => {
            return Reply::Now(
                (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
            );
        }
    };
    let body = Bytes::from(body);
    // A proper prefix of a JSON document lacks its closing bracket: never valid JSON.
    let truncated = body.slice(..body.len() / 2);
    fault_reply(
        fault,
        json_response(body),
        || json_response(truncated),
        |error| ClassicError::Injected(error).into_response(),
    )
}

/// Answers a state-changing classic request: `normal` (the result's response) unless its fault
/// makes something else of it (a `malformed` fault answers the non-JSON 500).
pub(super) fn action_reply<R>(
    outcome: Outcome<R>,
    normal: impl FnOnce(R) -> Response,
    record: &mut RequestRecord,
) -> Reply {
    record.fault = outcome.fault.map(|fault| fault.kind);
    let normal = match outcome.result {
        Some(result) => normal(result),
        // The fault stopped the action, so the normal response is never sent.
        None => StatusCode::OK.into_response(),
    };
    fault_reply(outcome.fault, normal, garbage_response, |error| {
        ClassicError::Injected(error).into_response()
    })
}
