//! The device login page (the `verification_uri`) and the identity admin routes. None of them
//! is logged, and none echoes a password.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::IssuedToken;
use super::request::{Form, constant_time_eq};
use crate::state::SharedState;

const DEVICE_LOGIN_FORM: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>RDS emulator - device sign-in</title></head>
<body>
<h1>Enter code</h1>
<p>Emulated Microsoft Entra ID device sign-in. Tests can approve codes with
<code>POST /_emulator/devicecode/approve</code> instead.</p>
<form method="post" action="/devicelogin">
<p><label>Code <input name="user_code" autocomplete="off"></label></p>
<p><label>Username <input name="username"></label></p>
<p><label>Password <input name="password" type="password"></label></p>
<p><button type="submit" name="action" value="approve">Sign in</button>
<button type="submit" name="action" value="deny">Deny</button></p>
</form>
</body></html>
"#;

/// `GET /devicelogin`: a small form standing in for microsoft.com/devicelogin.
pub(crate) async fn device_login_page() -> Html<&'static str> {
    Html(DEVICE_LOGIN_FORM)
}

/// `POST /devicelogin`: approves (with the user's password) or denies a code.
pub(crate) async fn device_login_submit(State(state): State<SharedState>, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let user_code = form.get("user_code").unwrap_or_default();
    let done = if form.get("action") == Some("deny") {
        state.deny_device_code(user_code)
    } else {
        let username = form.get("username").unwrap_or_default();
        let password = form.get("password").unwrap_or_default();
        let password_ok = state.with(|inner| {
            inner.identity().users.iter().any(|user| {
                user.username.eq_ignore_ascii_case(username)
                    && user.password.as_deref().is_some_and(|expected| {
                        constant_time_eq(expected.as_bytes(), password.as_bytes())
                    })
            })
        });
        password_ok && state.approve_device_code(user_code, username)
    };
    if done {
        Html("<!DOCTYPE html><p>Done. You may close this window and return to the device.</p>")
            .into_response()
    } else {
        (
            StatusCode::BAD_REQUEST,
            Html("<!DOCTYPE html><p>The code, username or password is not valid.</p>"),
        )
            .into_response()
    }
}

// ---------------------------------------------------------------------------------------------
// Admin routes

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApproveBody {
    user_code: String,
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DenyBody {
    user_code: String,
}

fn admin_error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(serde_json::json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// Reads an admin JSON body; the error is the ready 400 response (boxed: it is large).
fn parse_admin_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(admin_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            format!("The body is not valid: {e}"),
        ))
    })
}

/// `POST /_emulator/devicecode/approve` `{"userCode", "username"}` → 204, or 404.
pub(crate) async fn approve_device_code(State(state): State<SharedState>, body: Bytes) -> Response {
    let request: ApproveBody = match parse_admin_body(&body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if state.approve_device_code(&request.user_code, &request.username) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        admin_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "No pending device code '{}' or no user '{}'.",
                request.user_code, request.username
            ),
        )
    }
}

/// `POST /_emulator/devicecode/deny` `{"userCode"}` → 204, or 404.
pub(crate) async fn deny_device_code(State(state): State<SharedState>, body: Bytes) -> Response {
    let request: DenyBody = match parse_admin_body(&body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if state.deny_device_code(&request.user_code) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        admin_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No pending device code '{}'.", request.user_code),
        )
    }
}

/// `GET /_emulator/tokens`: every issued token (metadata only).
pub(crate) async fn tokens(State(state): State<SharedState>) -> Json<Vec<IssuedToken>> {
    Json(state.tokens_issued())
}
