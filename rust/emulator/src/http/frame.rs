//! The frame every broker API request goes through, whatever the API flavour: counted in
//! flight, delayed by the injected latency, authenticated for its flavour, logged with its
//! final status, and answered (late or never, for some injected faults).

use axum::body::{Bytes, to_bytes};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::response::Response;

use super::app::App;
use super::auth::{Authentication, authenticate};
use super::reply::Reply;
use crate::identity::audience::Api;
use crate::record::RequestRecord;

/// Largest request body a broker route reads (session host updates, ARM message bodies).
const MAX_BODY: usize = 1024 * 1024;

/// The body of a broker request: read only when the route needs it.
#[derive(Clone, Debug)]
pub(crate) enum RequestBody {
    /// Not read: the request's method takes no body the emulator looks at (the broker
    /// accepts any body on its actions and ignores it).
    Ignored,
    /// The body (empty when none was sent).
    Read(Bytes),
    /// The body could not be read: too large (over 1 MiB) or the connection failed.
    Unreadable,
}

/// Serves one broker request of flavour `api`: `handle` routes and runs it, filling in `record`
/// with everything learned on the way (even when the request fails, so the log shows what the
/// client sent). The body is read when `read_body` says so for the request's head.
pub(crate) async fn serve(
    app: &App,
    request: Request,
    api: Api,
    read_body: impl FnOnce(&Parts) -> bool,
    handle: impl FnOnce(&App, &Parts, &Authentication, RequestBody, &mut RequestRecord) -> Reply,
) -> Response {
    // In flight from here until the response is produced, latency included.
    let _in_flight = app.state.in_flight().enter();
    let delay = app
        .state
        .with(|inner| inner.latency.next_delay(inner.seed.latency));
    if let Some(delay) = delay {
        // The lock is not held while sleeping: other requests proceed meanwhile.
        tokio::time::sleep(delay).await;
    }
    let (parts, body) = request.into_parts();
    let body = if read_body(&parts) {
        match to_bytes(body, MAX_BODY).await {
            Ok(bytes) => RequestBody::Read(bytes),
            Err(_) => RequestBody::Unreadable,
        }
    } else {
        RequestBody::Ignored
    };
    let mut record = RequestRecord::new(
        parts.method.to_string(),
        parts.uri.path().to_owned(),
        parts.uri.query().map(str::to_owned),
    );
    let authentication = authenticate(app, &parts.headers, api);
    record.authorized = authentication.is_authorized();
    record.caller = authentication.caller();
    let reply = handle(app, &parts, &authentication, body, &mut record);
    record.status = reply.status();
    // Recorded before an injected stall is waited out: a client that gives up meanwhile
    // cancels this handler, and the request must still show up.
    app.state.record(record);
    reply.send().await
}
