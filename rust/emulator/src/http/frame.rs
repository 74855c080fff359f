//! The frame every broker API request goes through, whatever the API flavour: counted in
//! flight, delayed by the injected latency, authenticated, logged with its final status, and
//! answered (late or never, for some injected faults).

use axum::extract::Request;
use axum::http::request::Parts;
use axum::response::Response;

use super::app::App;
use super::auth::{Authentication, authenticate};
use super::reply::Reply;
use crate::record::RequestRecord;

/// Serves one broker request: `handle` routes and runs it, filling in `record` with everything
/// learned on the way (even when the request fails, so the log shows what the client sent).
///
/// The body is ignored on purpose: the real broker accepts any body on its actions.
pub(crate) async fn serve(
    app: &App,
    request: Request,
    handle: impl FnOnce(&App, &Parts, &Authentication, &mut RequestRecord) -> Reply,
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
    let (parts, _body) = request.into_parts();
    let mut record = RequestRecord::new(
        parts.method.to_string(),
        parts.uri.path().to_owned(),
        parts.uri.query().map(str::to_owned),
    );
    let authentication = authenticate(app, &parts.headers);
    record.authorized = authentication.is_authorized();
    record.caller = authentication.caller();
    let reply = handle(app, &parts, &authentication, &mut record);
    record.status = reply.status();
    // Recorded before an injected stall is waited out: a client that gives up meanwhile
    // cancels this handler, and the request must still show up.
    app.state.record(record);
    reply.send().await
}
