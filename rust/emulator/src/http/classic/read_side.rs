//! The classic broker's read side on the wire: tenants, host pools and session hosts, and the
//! session host update that sets drain mode.
//!
//! Shapes are the broker's `RdMgmtTenant`, `RdMgmtHostPool` and `RdMgmtSessionHost` in camelCase
//! (as the session list): the fields the management UX sample reads from the broker
//! (`Azure/RDS-Templates` wvd-management-ux `RdMgmt*.cs` and `SessionHostBL.cs`) and the
//! properties `Get-RdsTenant`, `Get-RdsHostPool` and `Set-RdsSessionHost` print. Lists are bare
//! arrays. UNCONFIRMED: the exact broker JSON (member order, `loadBalancerType` as the enum's
//! number 0/1/2 as the UX sample posts it, null for unset strings).

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;

use super::answer::{action_reply, read_reply};
use super::error::ClassicError;
use super::routes::{Params, RouteId};
use crate::broker::error::BrokerError;
use crate::broker::hosts::{
    AGENT_VERSION, HostFacts, LAST_UPDATE_TIME, OS_VERSION, SXS_STACK_VERSION, host_facts,
    set_allow_new_session,
};
use crate::broker::lookup::{self, PoolAddress};
use crate::clock::since_epoch;
use crate::http::action::StateAction;
use crate::http::app::App;
use crate::http::frame::RequestBody;
use crate::http::reply::{Reply, json_response};
use crate::identity::directory::Directory;
use crate::model::{HostPool, LoadBalancerType, Seed, SessionHost, Tenant};
use crate::record::RequestRecord;

/// A classic tenant (`RdMgmtTenant`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TenantView<'a> {
    tenant_group_name: &'a str,
    aad_tenant_id: String,
    tenant_name: &'a str,
    description: Option<&'a str>,
    friendly_name: Option<&'a str>,
    sso_adfs_authority: Option<&'a str>,
    sso_client_id: Option<&'a str>,
    sso_client_secret: Option<&'a str>,
    azure_subscription_id: String,
    log_analytics_workspace_id: Option<&'a str>,
    log_analytics_primary_key: Option<&'a str>,
}

/// A classic host pool (`RdMgmtHostPool`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HostPoolView<'a> {
    tenant_name: &'a str,
    tenant_group_name: &'a str,
    host_pool_name: &'a str,
    friendly_name: Option<&'a str>,
    description: Option<&'a str>,
    persistent: bool,
    custom_rdp_property: Option<&'a str>,
    max_session_limit: u32,
    /// 0 BreadthFirst, 1 DepthFirst, 2 Persistent (the UX sample's enum).
    load_balancer_type: u8,
    validation_env: bool,
    ring: Option<u32>,
    assignment_type: Option<&'a str>,
}

/// A classic session host (`RdMgmtSessionHost`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionHostView<'a> {
    tenant_group_name: &'a str,
    tenant_name: &'a str,
    host_pool_name: &'a str,
    session_host_name: &'a str,
    allow_new_session: bool,
    sessions: usize,
    last_heart_beat: String,
    agent_version: &'static str,
    assigned_user: Option<&'a str>,
    os_version: &'static str,
    sx_s_stack_version: &'static str,
    status: &'static str,
    status_timestamp: String,
    update_state: &'static str,
    last_update_time: &'static str,
    update_error_message: &'static str,
}

/// Runs one read-side route (authenticated already).
pub(super) fn dispatch(
    app: &App,
    route: RouteId,
    params: &Params,
    body: RequestBody,
    record: &mut RequestRecord,
) -> Result<Reply, ClassicError> {
    let (tenant_group, tenant) = (params.tenant_group(), params.tenant());
    let address = params.pool_address();
    let fault_route = route.fault_route();
    if route == RouteId::UpdateSessionHost {
        return update_session_host(app, address, params.session_host(), body, record);
    }
    let (body, fault) = app.state.with(|inner| {
        let aad_tenant_id = Directory(inner.identity()).tenant_id();
        let now = since_epoch();
        let seed = &mut inner.seed;
        let body = match route {
            RouteId::ListTenants => {
                let group = lookup::find_tenant_group(seed, tenant_group)?;
                // Like Get-RdsTenant, the list holds the tenants the caller may see.
                let views: Vec<TenantView<'_>> = group
                    .tenants
                    .iter()
                    .filter(|t| !t.forbidden)
                    .map(|t| tenant_view(tenant_group, t, &aad_tenant_id))
                    .collect();
                serde_json::to_vec(&views)
            }
            RouteId::GetTenant => {
                let found = lookup::find_tenant(seed, tenant_group, tenant)?;
                serde_json::to_vec(&tenant_view(tenant_group, found, &aad_tenant_id))
            }
            RouteId::ListHostPools => {
                let found = lookup::find_tenant(seed, tenant_group, tenant)?;
                let views: Vec<HostPoolView<'_>> = found
                    .host_pools
                    .iter()
                    .map(|pool| host_pool_view(tenant_group, tenant, pool))
                    .collect();
                serde_json::to_vec(&views)
            }
            RouteId::GetHostPool => {
                let pool = lookup::find_pool(seed, address)?;
                serde_json::to_vec(&host_pool_view(tenant_group, tenant, pool))
            }
            RouteId::ListSessionHosts => {
                let pool: &HostPool = lookup::find_pool(seed, address)?;
                let views: Vec<SessionHostView<'_>> = pool
                    .session_hosts
                    .iter()
                    .map(|host| session_host_view(address, host, now))
                    .collect();
                serde_json::to_vec(&views)
            }
            _ => {
                let host = lookup::find_host(seed, address, params.session_host())?;
                serde_json::to_vec(&session_host_view(address, host, now))
            }
        };
        let fault = inner.draw_fault(fault_route, |_| Ok::<_, BrokerError>(()))?;
        Ok::<_, BrokerError>((body, fault))
    })?;
    Ok(read_reply(fault, body, record))
}

/// `PATCH .../SessionHosts/{sh}` with `{"allowNewSession": bool}`: sets drain mode and answers
/// the updated session host. Checked in the broker's order: the path, the session host, then
/// the body.
fn update_session_host(
    app: &App,
    address: PoolAddress<'_>,
    session_host: &str,
    body: RequestBody,
    record: &mut RequestRecord,
) -> Result<Reply, ClassicError> {
    let update = parse_update(&body);
    let locate = |seed: &mut Seed, update: &Result<Option<bool>, BrokerError>| {
        lookup::find_host(seed, address, session_host)?;
        update.clone().map(|_| ())
    };
    let outcome = StateAction {
        fault_route: RouteId::UpdateSessionHost.fault_route(),
        counted: None,
        target: None,
        prepare: |_| update,
        check: locate,
        apply: |seed: &mut Seed, update: Result<Option<bool>, BrokerError>| {
            let host = lookup::find_host(seed, address, session_host)?;
            set_allow_new_session(host, update?);
            let view = session_host_view(address, host, since_epoch());
            Ok((None, serde_json::to_vec(&view)))
        },
    }
    .run(app)?;
    Ok(action_reply(
        outcome,
        |body| match body {
            Ok(body) => json_response(body.into()),
            Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
        },
        record,
    ))
}

/// The `allowNewSession` of a session host update (`None`: leave it). The property name is
/// matched case-insensitively, as the broker's JSON binding does; other members (the UX sample
/// sends the whole session host) are ignored.
fn parse_update(body: &RequestBody) -> Result<Option<bool>, BrokerError> {
    let invalid = |message: &str| BrokerError::InvalidData {
        message: message.to_owned(),
    };
    let bytes = match body {
        RequestBody::Read(bytes) => bytes,
        RequestBody::Ignored | RequestBody::Unreadable => {
            return Err(invalid("The request body could not be read."));
        }
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| {
        invalid("The request body must be a JSON session host, e.g. {\"allowNewSession\": false}.")
    })?;
    let object = value
        .as_object()
        .ok_or_else(|| invalid("The request body must be a JSON object."))?;
    let Some((_, allow)) = object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("allowNewSession"))
    else {
        return Ok(None);
    };
    match allow {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Bool(allow) => Ok(Some(*allow)),
        other => Err(invalid(&format!(
            "The value '{other}' is not valid for 'allowNewSession': expected true or false."
        ))),
    }
}

fn tenant_view<'a>(tenant_group: &'a str, tenant: &'a Tenant, aad: &str) -> TenantView<'a> {
    TenantView {
        tenant_group_name: tenant_group,
        aad_tenant_id: tenant
            .aad_tenant_id
            .clone()
            .unwrap_or_else(|| aad.to_owned()),
        tenant_name: &tenant.name,
        description: None,
        friendly_name: None,
        sso_adfs_authority: None,
        sso_client_id: None,
        sso_client_secret: None,
        azure_subscription_id: tenant.subscription_id(tenant_group),
        log_analytics_workspace_id: None,
        log_analytics_primary_key: None,
    }
}

fn host_pool_view<'a>(
    tenant_group: &'a str,
    tenant: &'a str,
    pool: &'a HostPool,
) -> HostPoolView<'a> {
    let balancer = pool.load_balancer_type.unwrap_or_default();
    let persistent = balancer == LoadBalancerType::Persistent;
    HostPoolView {
        tenant_name: tenant,
        tenant_group_name: tenant_group,
        host_pool_name: &pool.name,
        friendly_name: None,
        description: None,
        persistent,
        custom_rdp_property: None,
        max_session_limit: pool.max_session_limit(),
        load_balancer_type: match balancer {
            LoadBalancerType::BreadthFirst => 0,
            LoadBalancerType::DepthFirst => 1,
            LoadBalancerType::Persistent => 2,
        },
        validation_env: false,
        ring: None,
        assignment_type: persistent.then_some("Automatic"),
    }
}

fn session_host_view<'a>(
    address: PoolAddress<'a>,
    host: &'a SessionHost,
    now: Duration,
) -> SessionHostView<'a> {
    let pool_key = format!(
        "{}/{}/{}",
        address.tenant_group, address.tenant, address.host_pool
    );
    let HostFacts {
        status,
        last_heart_beat,
        status_timestamp,
        sessions,
        ..
    } = host_facts(&pool_key, host, now);
    SessionHostView {
        tenant_group_name: address.tenant_group,
        tenant_name: address.tenant,
        host_pool_name: address.host_pool,
        session_host_name: &host.name,
        allow_new_session: host.allow_new_session,
        sessions,
        last_heart_beat,
        agent_version: AGENT_VERSION,
        assigned_user: None,
        os_version: OS_VERSION,
        sx_s_stack_version: SXS_STACK_VERSION,
        status,
        status_timestamp,
        update_state: "Succeeded",
        last_update_time: LAST_UPDATE_TIME,
        update_error_message: "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;

    fn read(text: &'static str) -> RequestBody {
        RequestBody::Read(Bytes::from_static(text.as_bytes()))
    }

    #[test]
    fn updates_name_allow_new_session_in_any_case() {
        assert_eq!(
            parse_update(&read(r#"{"allowNewSession":false}"#)),
            Ok(Some(false))
        );
        assert_eq!(
            parse_update(&read(r#"{"AllowNewSession":true,"x":1}"#)),
            Ok(Some(true))
        );
        assert_eq!(parse_update(&read(r#"{"sessionHostName":"h"}"#)), Ok(None));
        assert_eq!(parse_update(&read(r#"{"allowNewSession":null}"#)), Ok(None));
        for bad in ["", "[]", "nope", r#"{"allowNewSession":"no"}"#] {
            assert!(parse_update(&read(bad)).is_err(), "{bad}");
        }
        assert!(parse_update(&RequestBody::Unreadable).is_err());
    }
}
