//! The classic broker's session operations on the wire: listing a host pool's sessions and the
//! three session actions, each with its activity record and injected fault.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::ClassicError;
use super::query::{parse_force, query_value, required_query_value};
use super::routes::{RouteId, RouteMatch, match_route};
use crate::broker::actions::{self, LogoffRequest};
use crate::broker::error::BrokerError;
use crate::broker::lookup::{self, PoolAddress};
use crate::clock::now_rfc3339_millis;
use crate::http::app::App;
use crate::http::auth::Authentication;
use crate::http::frame;
use crate::identity::audience::Api;
use crate::http::reply::{Reply, fault_reply, garbage_response, json_response};
use crate::knobs::activity::{Done, SessionTarget};
use crate::knobs::fault_sequence::Fault;
use crate::knobs::faults::FaultRoute;
use crate::model::{Seed, SentMessage};
use crate::record::RequestRecord;

/// Every request no other route takes is a classic broker request, including unknown paths, so
/// clients that build a wrong URL see the broker's own 404 body and show up in the request log.
pub(crate) async fn handler(State(app): State<App>, request: Request) -> Response {
    frame::serve(&app, request, Api::Classic, |_| false, |app, parts, authentication, _body, record| {
        dispatch(app, parts, authentication, record)
            .unwrap_or_else(|error| Reply::Now(error.into_response()))
    })
    .await
}

/// One element of the `GET .../Sessions` response (the broker's `RdMgmtUserSession`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct SessionView<'a> {
    tenant_group_name: &'a str,
    tenant_name: &'a str,
    host_pool_name: &'a str,
    session_host_name: &'a str,
    session_id: i32,
    user_principal_name: &'a str,
    ad_user_name: &'a str,
    application_type: &'a str,
    session_state: &'a str,
    create_time: &'a str,
}

/// Routes one request and runs it. Fills in `record` with everything learned on the way,
/// even when the request fails, so the log shows what the client actually sent.
fn dispatch(
    app: &App,
    parts: &Parts,
    authentication: &Authentication,
    record: &mut RequestRecord,
) -> Result<Reply, ClassicError> {
    let (route, params) = match match_route(&parts.method, &record.raw_path) {
        Ok(RouteMatch::Found(route, params)) => (route, params),
        Ok(RouteMatch::WrongMethod(route, params, allow)) => {
            record.route = route.name().to_owned();
            params.write_to(record);
            return Err(ClassicError::MethodNotAllowed { allow });
        }
        Ok(RouteMatch::NotFound) => {
            return Err(ClassicError::RouteNotFound {
                method: parts.method.clone(),
                raw_path: record.raw_path.clone(),
            });
        }
        Err((route, decode_error)) => {
            record.route = route.name().to_owned();
            // Authentication still comes first: an anonymous caller learns nothing else.
            ClassicError::require(authentication)?;
            return Err(decode_error.into());
        }
    };
    record.route = route.name().to_owned();
    params.write_to(record);
    ClassicError::require(authentication)?;
    match route {
        RouteId::ListSessions => list_sessions(app, params.pool_address(), record),
        RouteId::LogoffUser => {
            let force = parse_force(record.query.as_deref());
            record.force = force.as_ref().ok().copied().flatten();
            let forced = record.force.unwrap_or_default();
            let request = LogoffRequest {
                session: params.session_request(),
                force: force.map(Option::unwrap_or_default),
            };
            let action = SessionAction {
                route,
                target: params.session_target(),
                prepare: |_| (),
                check: |seed, _| actions::check_logoff(seed, &request),
                apply: |seed, ()| {
                    actions::logoff_user(seed, &request)?;
                    Ok(Done::LoggedOff { forced })
                },
            };
            action.run(app, record)
        }
        RouteId::DisconnectUser => {
            let request = params.session_request();
            let action = SessionAction {
                route,
                target: params.session_target(),
                prepare: |_| (),
                check: |seed, _| actions::check_disconnect(seed, &request),
                apply: |seed, ()| {
                    actions::disconnect_user(seed, &request)?;
                    Ok(Done::Disconnected)
                },
            };
            action.run(app, record)
        }
        RouteId::SendMessageUser => {
            let query = record.query.as_deref();
            let title = query_value(query, "MessageTitle");
            let body = query_value(query, "MessageBody");
            record.message_title = title.as_ref().ok().cloned().flatten();
            record.message_body = body.as_ref().ok().cloned().flatten();
            let request = params.session_request();
            let action = SessionAction {
                route,
                target: params.session_target(),
                prepare: |now| {
                    required_query_value(title, "MessageTitle").and_then(|title| {
                        Ok(SentMessage {
                            title,
                            body: required_query_value(body, "MessageBody")?,
                            sent_at: now.to_owned(),
                        })
                    })
                },
                check: |seed, message| {
                    let parsed = message.as_ref().map(|_| ()).map_err(Clone::clone);
                    actions::check_send_message(seed, &request, parsed)
                },
                apply: |seed, message| {
                    let sent = actions::send_message_user(seed, &request, message)?;
                    Ok(Done::Messaged {
                        title: sent.title.clone(),
                        body: sent.body.clone(),
                    })
                },
            };
            action.run(app, record)
        }
    }
}

/// `GET .../Sessions`: the pool's sessions in wire form, ordered by session host, then session.
fn list_sessions(
    app: &App,
    address: PoolAddress<'_>,
    record: &mut RequestRecord,
) -> Result<Reply, ClassicError> {
    let (body, fault) = app.state.with(|inner| {
        let sessions = lookup::list_sessions(&mut inner.seed, address)?;
        let views: Vec<SessionView<'_>> = sessions
            .into_iter()
            .map(|(host, session)| SessionView {
                tenant_group_name: address.tenant_group,
                tenant_name: address.tenant,
                host_pool_name: address.host_pool,
                session_host_name: &host.name,
                session_id: session.session_id,
                user_principal_name: &session.user_principal_name,
                ad_user_name: &session.ad_user_name,
                application_type: &session.application_type,
                session_state: &session.session_state,
                create_time: &session.create_time,
            })
            .collect();
        // Serialized while the lock is held because the views borrow from the state.
        let body = serde_json::to_vec(&views);
        let fault = inner.draw_fault(FaultRoute::ListSessions, |_| Ok::<_, BrokerError>(()))?;
        Ok::<_, BrokerError>((body, fault))
    })?;
    record.fault = fault.map(|fault| fault.kind);
    let body = match body {
        Ok(body) => body,
        // As axum's `Json` answers a value that does not serialize (cannot happen for these
        // plain views).
        Err(error) => {
            return Ok(Reply::Now(
                (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
            ));
        }
    };
    let body = Bytes::from(body);
    // A proper prefix of a JSON array lacks its closing bracket: never valid JSON.
    let truncated = body.slice(..body.len() / 2);
    Ok(fault_reply(
        fault,
        json_response(body),
        || json_response(truncated),
        |error| ClassicError::Injected(error).into_response(),
    ))
}

/// One session action request, as [`SessionAction::run`] carries it out.
struct SessionAction<'a, T, P, C, A>
where
    P: FnOnce(&str) -> T,
    C: FnOnce(&mut Seed, &T) -> Result<(), BrokerError>,
    A: FnOnce(&mut Seed, T) -> Result<Done, BrokerError>,
{
    route: RouteId,
    /// The session named, when its id is a number.
    target: Option<SessionTarget<'a>>,
    /// Builds what the action needs from the current time (RFC 3339 with milliseconds).
    prepare: P,
    /// The action's checks, run only when the route is a fault candidate.
    check: C,
    /// Carries out the action.
    apply: A,
}

impl<T, P, C, A> SessionAction<'_, T, P, C, A>
where
    P: FnOnce(&str) -> T,
    C: FnOnce(&mut Seed, &T) -> Result<(), BrokerError>,
    A: FnOnce(&mut Seed, T) -> Result<Done, BrokerError>,
{
    /// Runs the action under the state's lock: counts the request for its session, prepares
    /// what the action needs, draws the request's fault (after the checks), applies the action
    /// unless the fault stops it and records it in the activity record; answers 200 or what
    /// the fault makes of it.
    fn run(self, app: &App, record: &mut RequestRecord) -> Result<Reply, ClassicError> {
        let Self {
            route,
            target,
            prepare,
            check,
            apply,
        } = self;
        let fault = app.state.with(|inner| {
            if let (Some(target), Some(action)) = (target, route.action()) {
                inner.activity.count(target, action);
            }
            // Taken under the lock, so the activity record is in time order.
            let now = now_rfc3339_millis();
            let prepared = prepare(&now);
            let fault = inner.draw_fault(route.fault_route(), |seed| check(seed, &prepared))?;
            if fault.is_some_and(Fault::blocks_action) {
                return Ok(fault);
            }
            let done = apply(&mut inner.seed, prepared)?;
            if let Some(target) = target {
                inner.activity.record(target, done, now);
            }
            Ok::<_, BrokerError>(fault)
        })?;
        record.fault = fault.map(|fault| fault.kind);
        Ok(fault_reply(
            fault,
            StatusCode::OK.into_response(),
            garbage_response,
            |error| ClassicError::Injected(error).into_response(),
        ))
    }
}
