//! The seam between the operations every backend offers and how one service spells them:
//! routes, request bodies, response parsing and the meaning of error answers. A second
//! service (ARM) is a sibling module and one more arm of [`Backend`]; the client, the
//! transport and the retry loop stay as they are.

pub(crate) mod arm;
pub(crate) mod classic;

use crate::error::{ApiError, BrokerObject, Error, ErrorCode, shown};
use crate::model::SessionTarget;
use crate::transport::Answer;

/// Longest message title accepted (the broker's limit is UNCONFIRMED; titles are one line).
pub const MAX_MESSAGE_TITLE_CHARS: usize = 1024;
/// Longest message body accepted (the broker's limit is UNCONFIRMED; it travels in the query).
pub const MAX_MESSAGE_BODY_CHARS: usize = 16 * 1024;

/// The service a client talks to.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Classic(classic::Classic),
    Arm(arm::Arm),
}

/// An action on one user session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionAction {
    /// Log the user off; `force` removes the session record even when the host is unreachable.
    Logoff { force: bool },
    /// Disconnect the user; the session keeps running.
    Disconnect,
    /// Show a message box in the session.
    SendMessage { title: String, body: String },
}

impl SessionAction {
    /// "log off", for messages ("Could not log off session 17 ...").
    pub fn verb(&self) -> &'static str {
        match self {
            SessionAction::Logoff { .. } => "log off",
            SessionAction::Disconnect => "disconnect",
            SessionAction::SendMessage { .. } => "send a message to",
        }
    }

    /// "logoff", for "the logoff may have been applied".
    pub fn noun(&self) -> &'static str {
        match self {
            SessionAction::Logoff { .. } => "logoff",
            SessionAction::Disconnect => "disconnect",
            SessionAction::SendMessage { .. } => "message",
        }
    }

    /// Message text: not empty, bounded, and free of control characters other than line
    /// breaks and tabs in the body (a multi-line message is normal; a NUL is not).
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if let SessionAction::SendMessage { title, body } = self {
            check_text("MessageTitle", title, MAX_MESSAGE_TITLE_CHARS, false)?;
            check_text("MessageBody", body, MAX_MESSAGE_BODY_CHARS, true)?;
        }
        Ok(())
    }
}

fn check_text(what: &str, text: &str, max: usize, multiline: bool) -> Result<(), Error> {
    if text.trim().is_empty() {
        return Err(Error::invalid_input(
            what,
            "the value is empty or only white space",
        ));
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(Error::invalid_input(
            what,
            format!("the value is {chars} characters long; the limit is {max}"),
        ));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if let Some(c) = text.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Err(Error::invalid_input(
            what,
            format!(
                "the value contains the control character U+{:04X}",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// What the caller was doing, so every message stands on its own.
#[derive(Clone, Debug)]
pub(crate) struct Operation<'a> {
    /// "Could not log off session 17 on session host 'sh1' (tenant 'T', host pool 'HP')".
    pub text: String,
    pub target: Option<&'a SessionTarget>,
    /// The ARM built-in role that allows it, for a 403's message.
    pub role: &'static str,
}

impl<'a> Operation<'a> {
    pub fn action(target: &'a SessionTarget, action: &SessionAction) -> Operation<'a> {
        Operation {
            text: format!(
                "Could not {} session {} on session host {} (tenant {}, host pool {})",
                action.verb(),
                target.session_id,
                shown(&target.session_host),
                shown(&target.tenant),
                shown(&target.host_pool)
            ),
            target: Some(target),
            role: arm::USER_SESSION_OPERATOR_ROLE,
        }
    }

    pub fn list_sessions(tenant: &str, host_pool: &str) -> Operation<'static> {
        Operation {
            text: format!(
                "Could not list the sessions of host pool {} (tenant {})",
                shown(host_pool),
                shown(tenant)
            ),
            target: None,
            role: arm::USER_SESSION_OPERATOR_ROLE,
        }
    }

    /// "Could not list the host pools of tenant 'Contoso'", and so on for the read side;
    /// `role` is the ARM built-in role that allows it.
    pub fn read(text: String, role: &'static str) -> Operation<'static> {
        Operation {
            text,
            target: None,
            role,
        }
    }

    /// Who to name in a live note ("Session Contoso/Pool1/sh1/17"), else the operation.
    pub fn subject(&self) -> String {
        match self.target {
            Some(target) => format!("Session {target}"),
            None => self.text.clone(),
        }
    }
}

/// The ErrorId an HTTP status stands for (a 404 by the object it names).
pub(crate) fn status_code(status: u16, missing: BrokerObject) -> ErrorCode {
    match status {
        300..=399 => ErrorCode::BrokerRedirectRefused,
        401 => ErrorCode::BrokerUnauthorized,
        403 => ErrorCode::BrokerForbidden,
        404 => ErrorCode::not_found(missing),
        408 => ErrorCode::BrokerTimeout,
        409 => ErrorCode::BrokerConflict,
        429 => ErrorCode::BrokerThrottled,
        400..=499 => ErrorCode::BrokerBadRequest,
        500..=599 => ErrorCode::BrokerServerError,
        _ => ErrorCode::BrokerProtocolError,
    }
}

/// "the service answered with a redirect (HTTP 302) to 'https://elsewhere'; ..."
pub(crate) fn redirect_text(answer: &Answer) -> String {
    format!(
        "the service answered with a redirect (HTTP {}) to {}, which is not followed because the access token would go along; check -DeploymentUrl",
        answer.status.as_u16(),
        answer.redirect_origin()
    )
}

/// The error of an HTTP failure: the explanation, then the facts in brackets
/// (`[HTTP 404, TenantNotFound, retry after 2 s, correlation id ...]`).
pub(crate) fn http_error(code: ErrorCode, explanation: String, api: ApiError) -> Error {
    let mut facts = format!("HTTP {}", api.status);
    if let Some(service_code) = &api.code {
        facts.push_str(", ");
        facts.push_str(service_code);
    }
    if let Some(secs) = api.retry_after_secs {
        facts.push_str(&format!(", retry after {secs} s"));
    }
    if let Some(id) = &api.correlation_id {
        facts.push_str(", correlation id ");
        facts.push_str(id);
    }
    Error::new(
        code,
        format!("{} [{facts}]", explanation.trim_end_matches('.')),
    )
    .with_api(api)
}
