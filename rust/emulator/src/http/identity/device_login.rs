//! `GET`/`POST /devicelogin`: the device login page (the device code flow's
//! `verification_uri`), where a user approves or denies a code. Not logged; never echoes a
//! password.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::request::directory;
use crate::admin::Admin;
use crate::form::Form;
use crate::http::app::App;

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
pub(crate) async fn device_login_submit(State(app): State<App>, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let user_code = form.get("user_code").unwrap_or_default();
    let admin = Admin::new(app.state.clone());
    let done = if form.get("action") == Some("deny") {
        admin.deny_device_code(user_code)
    } else {
        let username = form.get("username").unwrap_or_default();
        let password = form.get("password").unwrap_or_default();
        let password_ok = directory(&app)
            .user_with_password(username, password)
            .is_some();
        password_ok && admin.approve_device_code(user_code, username)
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
