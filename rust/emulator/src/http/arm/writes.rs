//! ARM's writes: the session host update (drain mode), the logoff (`DELETE` of a user
//! session), disconnect and send message, each on the shared state through the same actions
//! as the classic flavour and recorded in the activity record under the classic names, with
//! flavour `arm`.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::error::ArmError;
use super::exchange::Exchange;
use super::query::parse_force;
use super::request::{ArmRequest, injected, pool};
use super::routes::ArmRoute;
use super::views;
use crate::broker::actions::{self, check_logoff_on_host, logoff_on_host, reachable_session};
use crate::broker::arm;
use crate::broker::arm_config::MissingSessionOnDelete;
use crate::broker::error::BrokerError;
use crate::broker::hosts::set_allow_new_session;
use crate::clock::since_epoch;
use crate::http::action::{Outcome, StateAction};
use crate::http::frame::RequestBody;
use crate::http::reply::{Reply, fault_reply, garbage_response, json_response};
use crate::knobs::activity::{ApiFlavour, Done, SessionTarget};
use crate::model::{Action, Seed, SentMessage, SessionHost};
use crate::record::RequestRecord;

/// Runs a write route.
pub(super) fn run(
    request: &ArmRequest<'_>,
    body: RequestBody,
    record: &mut RequestRecord,
    exchange: &Exchange,
) -> Result<Reply, ArmError> {
    let query = request.query.as_deref();
    match request.route {
        ArmRoute::UpdateSessionHost => {
            // `force` (re)assigns personal desktops; accepted and recorded, nothing else.
            record.force = parse_force(query)?;
            let allow = parse_update(&body)?;
            update_session_host(request, allow, record, exchange)
        }
        ArmRoute::DeleteUserSession => {
            let force = parse_force(query)?;
            record.force = force;
            logoff(request, force.unwrap_or_default(), record, exchange)
        }
        ArmRoute::Disconnect => disconnect(request, record, exchange),
        _ => {
            let (title, text) = parse_message(&body)?;
            record.message_title = Some(title.clone());
            record.message_body = Some(text.clone());
            send_message(request, title, text, record, exchange)
        }
    }
}

/// `PATCH .../sessionHosts/{sh}`: sets drain mode, answers 200 with the whole session host.
fn update_session_host(
    request: &ArmRequest<'_>,
    allow: Option<bool>,
    record: &mut RequestRecord,
    exchange: &Exchange,
) -> Result<Reply, ArmError> {
    let outcome = StateAction {
        fault_route: request.route.fault_route(),
        counted: None,
        target: None,
        prepare: |_| (),
        check: |seed: &mut Seed, _: &()| host_mut(seed, request).map(|_| ()),
        apply: |seed: &mut Seed, ()| {
            set_allow_new_session(host_mut(seed, request)?, allow);
            let pool = pool(seed, request)?;
            let host = arm::find_host(pool.pool, request.params.session_host())
                .ok_or(ArmError::SessionHostNotFound)?;
            let body = serde_json::to_vec(&views::session_host(&pool, host, since_epoch()));
            Ok((None, body))
        },
    }
    .run(request.app)?;
    Ok(write_reply(
        request,
        outcome,
        |body| match body {
            Ok(body) => json_response(Bytes::from(body)),
            Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
        },
        record,
        exchange,
    ))
}

/// `DELETE .../userSessions/{id}[?force=]`: logs the user off. 200 with an empty body when a
/// session was logged off; for a session that does not exist 204 (the spec's "does not
/// exist") or, configured, the 2020 404; on an unreachable host without `force` the classic
/// broker's refusal (409), with `force` the record is removed.
fn logoff(
    request: &ArmRequest<'_>,
    force: bool,
    record: &mut RequestRecord,
    exchange: &Exchange,
) -> Result<Reply, ArmError> {
    let id_text = request.params.user_session();
    let target = target(request);
    let result = match arm::session_id(id_text) {
        None => Err(ArmError::UserSessionNotFound),
        Some(id) => StateAction {
            fault_route: request.route.fault_route(),
            counted: target.as_ref().map(|t| (t.target(), Action::Logoff)),
            target: target.as_ref().map(OwnedTarget::target),
            prepare: |_| (),
            check: |seed: &mut Seed, _: &()| {
                let host = host_mut(seed, request)?;
                check_logoff_on_host(host, id, id_text, force).map_err(from_broker)
            },
            apply: |seed: &mut Seed, ()| {
                let host = host_mut(seed, request)?;
                logoff_on_host(host, id, id_text, force).map_err(from_broker)?;
                Ok((Some(Done::LoggedOff { forced: force }), ()))
            },
        }
        .run(request.app),
    };
    match result {
        Ok(outcome) => Ok(write_reply(
            request,
            outcome,
            |()| empty(),
            record,
            exchange,
        )),
        Err(ArmError::UserSessionNotFound) => match request.config.missing_session_on_delete {
            MissingSessionOnDelete::NoContent => {
                Ok(Reply::Now(StatusCode::NO_CONTENT.into_response()))
            }
            MissingSessionOnDelete::NotFound => Err(ArmError::UserSessionIdNotFound),
        },
        Err(error) => Err(error),
    }
}

/// `POST .../userSessions/{id}/disconnect`: 200 with an empty body.
fn disconnect(
    request: &ArmRequest<'_>,
    record: &mut RequestRecord,
    exchange: &Exchange,
) -> Result<Reply, ArmError> {
    let id_text = request.params.user_session();
    let id = arm::session_id(id_text).ok_or(ArmError::UserSessionNotFound)?;
    let target = target(request);
    let outcome = StateAction {
        fault_route: request.route.fault_route(),
        counted: target.as_ref().map(|t| (t.target(), Action::Disconnect)),
        target: target.as_ref().map(OwnedTarget::target),
        prepare: |_| (),
        check: |seed: &mut Seed, _: &()| {
            let host = host_mut(seed, request)?;
            reachable_session(host, id, id_text, Action::Disconnect)
                .map(|_| ())
                .map_err(from_broker)
        },
        apply: |seed: &mut Seed, ()| {
            let host = host_mut(seed, request)?;
            let session =
                reachable_session(host, id, id_text, Action::Disconnect).map_err(from_broker)?;
            actions::disconnect(session);
            Ok((Some(Done::Disconnected), ()))
        },
    }
    .run(request.app)?;
    Ok(write_reply(
        request,
        outcome,
        |()| empty(),
        record,
        exchange,
    ))
}

/// `POST .../userSessions/{id}/sendMessage`: keeps the message on the session like the classic
/// `send-message-user`; 200 with an empty body.
fn send_message(
    request: &ArmRequest<'_>,
    title: String,
    text: String,
    record: &mut RequestRecord,
    exchange: &Exchange,
) -> Result<Reply, ArmError> {
    let id_text = request.params.user_session();
    let id = arm::session_id(id_text).ok_or(ArmError::UserSessionNotFound)?;
    let target = target(request);
    let outcome = StateAction {
        fault_route: request.route.fault_route(),
        counted: target.as_ref().map(|t| (t.target(), Action::Message)),
        target: target.as_ref().map(OwnedTarget::target),
        prepare: |now: &str| SentMessage {
            title,
            body: text,
            sent_at: now.to_owned(),
        },
        check: |seed: &mut Seed, _: &SentMessage| {
            let host = host_mut(seed, request)?;
            reachable_session(host, id, id_text, Action::Message)
                .map(|_| ())
                .map_err(from_broker)
        },
        apply: |seed: &mut Seed, message: SentMessage| {
            let host = host_mut(seed, request)?;
            let session =
                reachable_session(host, id, id_text, Action::Message).map_err(from_broker)?;
            let done = Done::Messaged {
                title: message.title.clone(),
                body: message.body.clone(),
            };
            session.messages.push(message);
            Ok((Some(done), ()))
        },
    }
    .run(request.app)?;
    Ok(write_reply(
        request,
        outcome,
        |()| empty(),
        record,
        exchange,
    ))
}

/// The session host the request names, found by its ARM coordinates, to change it.
fn host_mut<'s>(
    seed: &'s mut Seed,
    request: &ArmRequest<'_>,
) -> Result<&'s mut SessionHost, ArmError> {
    let params = &request.params;
    let missing_pool = || ArmError::HostPoolNotFound {
        host_pool: params.host_pool().to_owned(),
        resource_group: params.resource_group().to_owned(),
    };
    let index = arm::locate_pool(
        seed,
        &params.subscription,
        params.resource_group(),
        params.host_pool(),
    )
    .ok_or_else(missing_pool)?;
    let pool = arm::pool_mut(seed, index).ok_or_else(missing_pool)?;
    arm::find_host_mut(pool, params.session_host()).ok_or(ArmError::SessionHostNotFound)
}

/// A broker action's error in ARM's words.
fn from_broker(error: BrokerError) -> ArmError {
    match error {
        BrokerError::SessionHostUnreachable {
            session_host,
            action,
        } => ArmError::SessionHostUnreachable {
            session_host,
            action,
        },
        BrokerError::NotFound {
            code: "SessionHostNotFound",
            ..
        } => ArmError::SessionHostNotFound,
        BrokerError::InvalidData { message } => ArmError::InvalidParameter { message },
        BrokerError::NotFound { .. } | BrokerError::Forbidden { .. } => {
            ArmError::UserSessionNotFound
        }
    }
}

/// The session an ARM action names, by its classic names, for the activity record.
struct OwnedTarget {
    tenant_group: String,
    tenant: String,
    host_pool: String,
    session_host: String,
    session_id: i32,
}

impl OwnedTarget {
    fn target(&self) -> SessionTarget<'_> {
        SessionTarget {
            tenant_group: &self.tenant_group,
            tenant: &self.tenant,
            host_pool: &self.host_pool,
            session_host: &self.session_host,
            session_id: self.session_id,
            flavour: ApiFlavour::Arm,
        }
    }
}

/// The classic names of the session the request names, when its pool and host exist and its
/// id is a session id.
fn target(request: &ArmRequest<'_>) -> Option<OwnedTarget> {
    let params = &request.params;
    let session_id = arm::session_id(params.user_session())?;
    request.app.state.with(|inner| {
        let pool = arm::find_pool(
            &inner.seed,
            &params.subscription,
            params.resource_group(),
            params.host_pool(),
        )?;
        let host = arm::find_host(pool.pool, params.session_host())?;
        let address = pool.address();
        Some(OwnedTarget {
            tenant_group: address.tenant_group.to_owned(),
            tenant: address.tenant.to_owned(),
            host_pool: address.host_pool.to_owned(),
            session_host: host.name.clone(),
            session_id,
        })
    })
}

/// A 200 with no body, as the service answers a logoff, disconnect or message (CONFIRMED).
fn empty() -> Response {
    StatusCode::OK.into_response()
}

/// Answers a write: `normal` (the result's response) unless its fault makes something else of
/// it (`malformed`: the non-JSON 500).
fn write_reply<R>(
    request: &ArmRequest<'_>,
    outcome: Outcome<R>,
    normal: impl FnOnce(R) -> Response,
    record: &mut RequestRecord,
    exchange: &Exchange,
) -> Reply {
    record.fault = outcome.fault.map(|fault| fault.kind);
    let normal = match outcome.result {
        Some(result) => normal(result),
        // The fault stopped the action, so the normal response is never sent.
        None => empty(),
    };
    fault_reply(outcome.fault, normal, garbage_response, |error| {
        injected(request, error).into_response(exchange)
    })
}

/// The JSON object of a write's body; an empty body is an empty object only where the body is
/// optional.
fn body_object(body: &RequestBody, optional: bool) -> Result<Map<String, Value>, ArmError> {
    let invalid = |message: &str| ArmError::InvalidRequestContent {
        message: message.to_owned(),
    };
    let bytes = match body {
        RequestBody::Read(bytes) => bytes,
        RequestBody::Ignored | RequestBody::Unreadable => {
            return Err(invalid("The request body could not be read."));
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if optional {
            Ok(Map::new())
        } else {
            Err(invalid("The request body is empty."))
        };
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(invalid("The request body must be a JSON object.")),
        Err(error) => Err(invalid(&error.to_string())),
    }
}

/// A member of `object` by name, compared case-insensitively as the service's JSON binding does.
fn member<'o>(object: &'o Map<String, Value>, name: &str) -> Option<&'o Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// `allowNewSession` of `{"properties": {"allowNewSession": bool}}` (`None`: unchanged). Other
/// properties (`assignedUser`, `friendlyName`) are accepted and ignored (INFERRED).
fn parse_update(body: &RequestBody) -> Result<Option<bool>, ArmError> {
    let object = body_object(body, false)?;
    let Some(properties) = member(&object, "properties") else {
        return Ok(None);
    };
    let properties = match properties {
        Value::Null => return Ok(None),
        Value::Object(properties) => properties,
        _ => {
            return Err(ArmError::InvalidRequestContent {
                message: "'properties' must be a JSON object.".to_owned(),
            });
        }
    };
    match member(properties, "allowNewSession") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(allow)) => Ok(Some(*allow)),
        Some(other) => Err(ArmError::InvalidRequestContent {
            message: format!("Could not convert '{other}' to a boolean: 'allowNewSession'."),
        }),
    }
}

/// The title and text of an optional `{"messageTitle": "...", "messageBody": "..."}` body
/// (empty when absent).
fn parse_message(body: &RequestBody) -> Result<(String, String), ArmError> {
    let object = body_object(body, true)?;
    let text = |name: &str| match member(&object, name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(ArmError::InvalidRequestContent {
            message: format!("Could not convert '{other}' to a string: '{name}'."),
        }),
    };
    Ok((text("messageTitle")?, text("messageBody")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &'static str) -> RequestBody {
        RequestBody::Read(Bytes::from_static(text.as_bytes()))
    }

    #[test]
    fn update_bodies() {
        assert_eq!(
            parse_update(&read(r#"{"properties":{"allowNewSession":false}}"#)),
            Ok(Some(false))
        );
        assert_eq!(
            parse_update(&read(
                r#"{"Properties":{"AllowNewSession":true,"friendlyName":"x"}}"#
            )),
            Ok(Some(true))
        );
        assert_eq!(parse_update(&read("{}")), Ok(None));
        for bad in [
            "",
            "[]",
            "{",
            r#"{"properties":{"allowNewSession":"no"}}"#,
            r#"{"properties":1}"#,
        ] {
            assert!(parse_update(&read(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn message_bodies_are_optional() {
        assert_eq!(parse_message(&read("")), Ok((String::new(), String::new())));
        assert_eq!(
            parse_message(&read(r#"{"messageTitle":"t","messageBody":"b"}"#)),
            Ok(("t".to_owned(), "b".to_owned()))
        );
        assert!(parse_message(&read(r#"{"messageTitle":1}"#)).is_err());
        assert!(parse_message(&read("nope")).is_err());
    }
}
