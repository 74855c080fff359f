//! What the identity endpoints share on the HTTP side: reading a form, the directory in force,
//! the request log record, and issuing a token into the state.

use axum::body::{Body, to_bytes};
use axum::http::request::Parts;
use axum::response::Response;

use crate::clock::since_epoch;
use crate::form::Form;
use crate::http::app::App;
use crate::identity::directory::{Directory, Grant};
use crate::identity::jwt::IssuedJwt;
use crate::record::RequestRecord;

/// Largest accepted form body on the identity endpoints.
const MAX_FORM_BODY: usize = 1024 * 1024;

/// Reads a form body (a body that is too large or unreadable is an empty form).
pub(super) async fn read_form(body: Body) -> Form {
    Form::parse(&to_bytes(body, MAX_FORM_BODY).await.unwrap_or_default())
}

/// A record for an identity endpoint. The query is kept only where it carries no credential.
pub(super) fn identity_record(parts: &Parts, route: &str, keep_query: bool) -> RequestRecord {
    let mut record = RequestRecord::new(
        parts.method.to_string(),
        parts.uri.path().to_owned(),
        if keep_query {
            parts.uri.query().map(str::to_owned)
        } else {
            None
        },
    );
    record.route = route.to_owned();
    record
}

/// The directory in force (one snapshot of the identity configuration).
pub(super) fn directory(app: &App) -> Directory {
    Directory(app.state.with(|inner| inner.identity()))
}

/// Signs a token for `grant`, remembers it in the issued-token list and in `record`.
pub(super) fn issue(
    app: &App,
    directory: &Directory,
    grant: &Grant,
    tenant: Option<&str>,
    base: &str,
    record: &mut RequestRecord,
) -> IssuedJwt {
    let issued = directory.issue(&app.authority, grant, tenant, base, since_epoch());
    record.authorized = true;
    record.caller = Some(issued.token.caller().to_owned());
    app.state.with(|inner| inner.issued.push(issued.token));
    issued.jwt
}

/// Logs `record` with the status of `response`, and answers it.
pub(super) fn finish(app: &App, mut record: RequestRecord, response: Response) -> Response {
    record.status = response.status().as_u16();
    app.state.record(record);
    response
}
