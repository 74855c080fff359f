//! The classic broker's session operations on the wire: listing a host pool's sessions and the
//! three session actions, each with its activity record and injected fault.

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::answer::{action_reply, read_reply};
use super::error::ClassicError;
use super::query::{parse_force, query_value, required_query_value};
use super::read_side;
use super::routes::{RouteId, RouteMatch, match_route};
use crate::broker::actions::{self, LogoffRequest};
use crate::broker::error::BrokerError;
use crate::broker::lookup::{self, PoolAddress};
use crate::http::action::StateAction;
use crate::http::app::App;
use crate::http::auth::Authentication;
use crate::http::frame::{self, RequestBody};
use crate::http::reply::Reply;
use crate::identity::audience::Api;
use crate::knobs::activity::Done;
use crate::knobs::faults::FaultRoute;
use crate::model::SentMessage;
use crate::record::RequestRecord;

/// Every request no other route takes is a classic broker request, including unknown paths, so
/// clients that build a wrong URL see the broker's own 404 body and show up in the request log.
pub(crate) async fn handler(State(app): State<App>, request: Request) -> Response {
    // Only a session host update reads its body; the actions accept any body and ignore it.
    let read_body = |parts: &Parts| parts.method == Method::PATCH;
    frame::serve(
        &app,
        request,
        Api::Classic,
        read_body,
        |app, parts, authentication, body, record| {
            dispatch(app, parts, authentication, body, record)
                .unwrap_or_else(|error| Reply::Now(error.into_response()))
        },
    )
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
    body: RequestBody,
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
    let target = params.session_target();
    let counted = target.zip(route.action());
    match route {
        RouteId::ListSessions => list_sessions(app, params.pool_address(), record),
        RouteId::ListTenants
        | RouteId::GetTenant
        | RouteId::ListHostPools
        | RouteId::GetHostPool
        | RouteId::ListSessionHosts
        | RouteId::GetSessionHost
        | RouteId::UpdateSessionHost => read_side::dispatch(app, route, &params, body, record),
        RouteId::LogoffUser => {
            let force = parse_force(record.query.as_deref());
            record.force = force.as_ref().ok().copied().flatten();
            let forced = record.force.unwrap_or_default();
            let request = LogoffRequest {
                session: params.session_request(),
                force: force.map(Option::unwrap_or_default),
            };
            let outcome = StateAction {
                fault_route: route.fault_route(),
                counted,
                target,
                prepare: |_| (),
                check: |seed, _| actions::check_logoff(seed, &request),
                apply: |seed, ()| {
                    actions::logoff_user(seed, &request)?;
                    Ok((Some(Done::LoggedOff { forced }), ()))
                },
            }
            .run(app)?;
            Ok(action_reply(
                outcome,
                |()| StatusCode::OK.into_response(),
                record,
            ))
        }
        RouteId::DisconnectUser => {
            let request = params.session_request();
            let outcome = StateAction {
                fault_route: route.fault_route(),
                counted,
                target,
                prepare: |_| (),
                check: |seed, _| actions::check_disconnect(seed, &request),
                apply: |seed, ()| {
                    actions::disconnect_user(seed, &request)?;
                    Ok((Some(Done::Disconnected), ()))
                },
            }
            .run(app)?;
            Ok(action_reply(
                outcome,
                |()| StatusCode::OK.into_response(),
                record,
            ))
        }
        RouteId::SendMessageUser => {
            let query = record.query.as_deref();
            let title = query_value(query, "MessageTitle");
            let body = query_value(query, "MessageBody");
            record.message_title = title.as_ref().ok().cloned().flatten();
            record.message_body = body.as_ref().ok().cloned().flatten();
            let request = params.session_request();
            let outcome = StateAction {
                fault_route: route.fault_route(),
                counted,
                target,
                prepare: |now: &str| {
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
                    let done = Done::Messaged {
                        title: sent.title.clone(),
                        body: sent.body.clone(),
                    };
                    Ok((Some(done), ()))
                },
            }
            .run(app)?;
            Ok(action_reply(
                outcome,
                |()| StatusCode::OK.into_response(),
                record,
            ))
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
    Ok(read_reply(fault, body, record))
}
