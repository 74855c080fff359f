//! The pipeline of every ARM request, in the order ARM's front door and the resource provider
//! apply their checks: the route (404/405 after authentication), the token (401), the
//! `api-version` (400), the rate limits (429, counted per principal, subscription and
//! operation class), the subscription (404), the role assignments (403), the resource group
//! (404), the locks (409); then the resource provider's own work in `reads` and `writes`
//! (host pool, session host and user session lookups, the operation, injected faults).
//!
//! INFERRED: ARM evaluates role assignments before it looks at the resource group, so a caller
//! without access learns nothing about what exists; locks are checked before the provider,
//! so a logoff under a locked scope is refused whether or not the session exists.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::Response;
use percent_encoding::percent_decode_str;

use super::error::ArmError;
use super::exchange::{Exchange, RateHeaders};
use super::query::first;
use super::request::{ArmRequest, Visibility};
use super::routes::{ArmMatch, ArmRoute, match_arm_route};
use super::{reads, writes};
use crate::broker::access::{self, LockedOperation};
use crate::broker::arm;
use crate::broker::arm_config::ArmConfig;
use crate::http::app::App;
use crate::http::auth::{Authentication, Principal};
use crate::http::frame::{self, RequestBody};
use crate::http::reply::Reply;
use crate::identity::audience::Api;
use crate::knobs::rate_limits::{Admission, OperationClass};
use crate::model::Seed;
use crate::record::RequestRecord;

/// Serves every request below `/subscriptions/` (any case).
pub(crate) async fn handler(State(app): State<App>, request: Request) -> Response {
    // Only writes carry a body the emulator reads (a session host update, a message).
    let read_body =
        |parts: &Parts| matches!(parts.method, Method::POST | Method::PATCH | Method::PUT);
    frame::serve(
        &app,
        request,
        Api::Arm,
        read_body,
        |app, parts, authentication, body, record| {
            let mut exchange = Exchange::new(parts, app.request_base_url(parts));
            let class = OperationClass::of_method(parts.method.as_str());
            let reply = serve(app, parts, authentication, body, record, &mut exchange)
                .unwrap_or_else(|error| Reply::Now(error.into_response(&exchange)));
            let reply = reply.map_response(|response| exchange.decorate(response));
            let status = reply.status();
            app.state
                .with(|inner| inner.activity.count_arm(class, status));
            reply
        },
    )
    .await
}

/// Runs the pipeline; an error is answered in ARM's shape by the caller.
fn serve(
    app: &App,
    parts: &Parts,
    authentication: &Authentication,
    body: RequestBody,
    record: &mut RequestRecord,
    exchange: &mut Exchange,
) -> Result<Reply, ArmError> {
    let query = record.query.clone();
    let (route, params) = match match_arm_route(&parts.method, &record.raw_path) {
        ArmMatch::Found(route, params) => (route, params),
        ArmMatch::WrongMethod(route, params, allow) => {
            record.route = route.name().to_owned();
            params.write_to(record);
            require(authentication)?;
            return Err(ArmError::MethodNotAllowed {
                method: parts.method.clone(),
                allow,
            });
        }
        ArmMatch::Undecodable(route, segment) => {
            record.route = route.name().to_owned();
            require(authentication)?;
            return Err(ArmError::InvalidPath { segment });
        }
        ArmMatch::NotFound => {
            require(authentication)?;
            return Err(ArmError::NoSuchRoute {
                api_version: first(query.as_deref(), "api-version").unwrap_or_default(),
            });
        }
    };
    record.route = route.name().to_owned();
    params.write_to(record);
    let principal = require(authentication)?;
    record.principal = Some(principal.object_id.clone());

    let api_version = first(query.as_deref(), "api-version");
    record.api_version.clone_from(&api_version);
    let config = app.state.with(|inner| inner.arm());
    let api_version = api_version.ok_or(ArmError::MissingApiVersion)?;
    if !config
        .api_versions
        .iter()
        .any(|known| known.eq_ignore_ascii_case(&api_version))
    {
        return Err(ArmError::InvalidApiVersion {
            given: api_version,
            supported: config.api_versions.clone(),
        });
    }

    let class = OperationClass::of_method(parts.method.as_str());
    throttle(
        app,
        &config,
        &principal,
        &params.subscription,
        class,
        exchange,
    )?;

    let scope = percent_decode_str(&record.raw_path)
        .decode_utf8_lossy()
        .into_owned();
    let mut request = ArmRequest {
        app,
        route,
        params,
        principal,
        api_version,
        class,
        scope,
        raw_path: record.raw_path.clone(),
        query,
        config,
        visibility: Visibility::All,
    };
    request.visibility = app.state.with(|inner| check_scope(&inner.seed, &request))?;
    match route {
        ArmRoute::UpdateSessionHost
        | ArmRoute::DeleteUserSession
        | ArmRoute::Disconnect
        | ArmRoute::SendMessage => writes::run(&request, body, record, exchange),
        _ => reads::run(&request, record, exchange),
    }
}

/// The principal of an accepted request, or ARM's 401.
fn require(authentication: &Authentication) -> Result<Principal, ArmError> {
    match authentication {
        Authentication::Accepted(principal) => Ok(principal.clone()),
        Authentication::Missing => Err(ArmError::MissingAuthorization),
        Authentication::Malformed => Err(ArmError::MalformedAuthorization),
        Authentication::NotAToken | Authentication::Invalid => Err(ArmError::InvalidToken),
        Authentication::Expired { expires_at } => Err(ArmError::ExpiredToken {
            expires_at: *expires_at,
        }),
        Authentication::WrongAudience { audience } => Err(ArmError::WrongAudience {
            audience: audience.clone(),
        }),
    }
}

/// Takes the request's token from its buckets, remembering the figures for the headers.
fn throttle(
    app: &App,
    config: &ArmConfig,
    principal: &Principal,
    subscription: &str,
    class: OperationClass,
    exchange: &mut Exchange,
) -> Result<(), ArmError> {
    let admission = app.state.with(|inner| {
        inner.rate_limiter.admit(
            &config.rate_limits,
            &principal.object_id,
            subscription,
            class,
            Instant::now(),
        )
    });
    match admission {
        Admission::Unlimited => Ok(()),
        Admission::Admitted {
            remaining,
            global_remaining,
        } => {
            exchange.set_rate(RateHeaders {
                class,
                remaining,
                global_remaining,
            });
            Ok(())
        }
        Admission::Throttled {
            retry_after_seconds,
            remaining,
            global_remaining,
            global,
        } => {
            exchange.set_rate(RateHeaders {
                class,
                remaining,
                global_remaining,
            });
            Err(ArmError::Throttled {
                class,
                subscription: subscription.to_owned(),
                principal: principal.object_id.clone(),
                retry_after_seconds,
                global,
            })
        }
    }
}

/// ARM's own checks of the request's scope: the subscription exists, a role assignment allows
/// the action, the resource group exists, no lock refuses the operation.
fn check_scope(seed: &Seed, request: &ArmRequest<'_>) -> Result<Visibility, ArmError> {
    let params = &request.params;
    if !arm::subscription_exists(seed, &params.subscription) {
        return Err(ArmError::SubscriptionNotFound {
            subscription: params.subscription.clone(),
        });
    }
    let action = request.route.action();
    let lists_host_pools = matches!(
        request.route,
        ArmRoute::ListHostPools | ArmRoute::ListHostPoolsByResourceGroup
    );
    // A host pool list is authorized at the scope it lists (the subscription or the resource
    // group, INFERRED as ARM does for provider lists); everything else at its own path.
    let scope = if lists_host_pools {
        let cut = request
            .scope
            .to_ascii_lowercase()
            .rfind("/providers/")
            .unwrap_or(request.scope.len());
        &request.scope[..cut]
    } else {
        request.scope.as_str()
    };
    let visibility = if request.allowed(action, scope) {
        Visibility::All
    } else if lists_host_pools
        && access::is_allowed_below(
            &request.config.role_assignments,
            |id| request.principal.is_named_by(id),
            action,
            scope,
        )
    {
        Visibility::Readable
    } else {
        return Err(ArmError::AuthorizationFailed {
            client: request.principal.client_name().to_owned(),
            object_id: request.principal.object_id.clone(),
            action: action.to_owned(),
            scope: scope.to_owned(),
        });
    };
    if let Some(resource_group) = &params.resource_group
        && !arm::resource_group_exists(seed, &params.subscription, resource_group)
    {
        return Err(ArmError::ResourceGroupNotFound {
            resource_group: resource_group.clone(),
        });
    }
    let operation = match request.class {
        OperationClass::Reads => None,
        OperationClass::Deletes => Some(LockedOperation::Delete),
        OperationClass::Writes => Some(LockedOperation::Write),
    };
    if let Some(operation) = operation {
        let locks = access::locks_refusing(&request.config.locks, &request.scope, operation);
        if !locks.is_empty() {
            return Err(ArmError::ScopeLocked {
                scope: request.scope.clone(),
                operation: operation.name(),
                locks: locks.iter().map(|lock| lock.scope.clone()).collect(),
            });
        }
    }
    Ok(visibility)
}
