//! ARM's JSON shapes of host pools, session hosts and user sessions, and of a list page.
//!
//! User sessions are exactly as recorded live (CONFIRMED): `name` `{hostPool}/{sessionHost}/{id}`,
//! `id` with lower-cased type segments and names as stored, `type`
//! `Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions`, properties in the live
//! order (createTime with 7 fractional digits, userPrincipalName, sessionState, applicationType,
//! activeDirectoryUserName, objectId), `systemData` null in the host pool list and an object
//! elsewhere. Session hosts and host pools follow the spec's examples and the same id/type
//! conventions (INFERRED for the casing).

use std::time::Duration;

use serde::Serialize;

use crate::broker::arm::ArmPool;
use crate::broker::hosts::{
    AGENT_VERSION, LAST_UPDATE_TIME, OS_VERSION, SXS_STACK_VERSION, host_facts, vm_name,
};
use crate::clock::to_rfc3339_ticks;
use crate::identity::jwt::stable_guid;
use crate::model::{LoadBalancerType, Session, SessionHost};

/// When the emulated host pools and session hosts were created (their `systemData.createdAt`):
/// before the classic retirement, as a migration would have done it (INFERRED).
const CREATED_AT: &str = "2026-09-15T08:00:00.0000000Z";

/// One page of a list: `{"value": [...], "nextLink": <URL or null>}` (`nextLink` is always
/// present, JSON null on the last page, CONFIRMED).
#[derive(Serialize)]
pub(super) struct Page<T> {
    pub value: Vec<T>,
    #[serde(rename = "nextLink")]
    pub next_link: Option<String>,
}

/// ARM's `systemData`: who made the resource and when; only `createdAt` is known.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SystemData {
    created_by: Option<String>,
    created_by_type: Option<String>,
    created_at: String,
    last_modified_by: Option<String>,
    last_modified_by_type: Option<String>,
    last_modified_at: Option<String>,
}

impl SystemData {
    fn created(at: String) -> Self {
        Self {
            created_by: None,
            created_by_type: None,
            created_at: at,
            last_modified_by: None,
            last_modified_by_type: None,
            last_modified_at: None,
        }
    }
}

/// A host pool.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HostPoolView<'a> {
    name: std::borrow::Cow<'a, str>,
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    location: &'a str,
    tags: serde_json::Map<String, serde_json::Value>,
    system_data: SystemData,
    properties: HostPoolProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HostPoolProperties<'a> {
    object_id: String,
    friendly_name: Option<&'a str>,
    description: Option<&'a str>,
    host_pool_type: &'static str,
    personal_desktop_assignment_type: Option<&'static str>,
    custom_rdp_property: Option<&'a str>,
    max_session_limit: u32,
    load_balancer_type: &'static str,
    ring: Option<u32>,
    validation_environment: bool,
    vm_template: Option<&'a str>,
    application_group_references: Vec<String>,
    #[serde(rename = "ssoadfsAuthority")]
    sso_adfs_authority: Option<&'a str>,
    sso_client_id: Option<&'a str>,
    sso_client_secret_key_vault_path: Option<&'a str>,
    sso_secret_type: Option<&'a str>,
    preferred_app_group_type: &'static str,
    #[serde(rename = "startVMOnConnect")]
    start_vm_on_connect: bool,
    cloud_pc_resource: bool,
    public_network_access: &'static str,
}

/// A session host.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SessionHostView<'a> {
    name: String,
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    system_data: SystemData,
    properties: SessionHostProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionHostProperties<'a> {
    object_id: String,
    last_heart_beat: String,
    sessions: usize,
    agent_version: &'static str,
    allow_new_session: bool,
    assigned_user: Option<&'a str>,
    status: &'static str,
    status_timestamp: String,
    os_version: &'static str,
    #[serde(rename = "sxSStackVersion")]
    sxs_stack_version: &'static str,
    update_state: &'static str,
    last_update_time: &'static str,
    update_error_message: &'static str,
    virtual_machine_id: String,
    friendly_name: Option<&'a str>,
    resource_id: String,
    session_host_health_check_results: Vec<serde_json::Value>,
}

/// A user session.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserSessionView<'a> {
    name: String,
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    system_data: Option<SystemData>,
    properties: UserSessionProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserSessionProperties<'a> {
    create_time: String,
    user_principal_name: &'a str,
    session_state: &'a str,
    application_type: &'a str,
    active_directory_user_name: &'a str,
    object_id: String,
}

/// The host pool `pool`.
pub(super) fn host_pool<'a>(pool: &ArmPool<'a>) -> HostPoolView<'a> {
    let balancer = pool.pool.load_balancer_type.unwrap_or_default();
    let personal = balancer == LoadBalancerType::Persistent;
    HostPoolView {
        name: pool.name(),
        id: pool.id(),
        kind: "Microsoft.DesktopVirtualization/hostpools",
        location: pool.pool.location(),
        tags: serde_json::Map::new(),
        system_data: SystemData::created(CREATED_AT.to_owned()),
        properties: HostPoolProperties {
            object_id: stable_guid(&format!("hostpool:{}", pool.id().to_lowercase())),
            friendly_name: None,
            description: None,
            host_pool_type: if personal { "Personal" } else { "Pooled" },
            personal_desktop_assignment_type: personal.then_some("Automatic"),
            custom_rdp_property: None,
            max_session_limit: pool.pool.max_session_limit(),
            load_balancer_type: balancer.name(),
            ring: None,
            validation_environment: false,
            vm_template: None,
            application_group_references: Vec::new(),
            sso_adfs_authority: None,
            sso_client_id: None,
            sso_client_secret_key_vault_path: None,
            sso_secret_type: None,
            preferred_app_group_type: "Desktop",
            start_vm_on_connect: false,
            cloud_pc_resource: false,
            public_network_access: "Enabled",
        },
    }
}

/// The session host `host` of `pool` at `now` (since the epoch).
pub(super) fn session_host<'a>(
    pool: &ArmPool<'_>,
    host: &'a SessionHost,
    now: Duration,
) -> SessionHostView<'a> {
    let facts = host_facts(&pool.id().to_lowercase(), host, now);
    SessionHostView {
        name: format!("{}/{}", pool.name(), host.name),
        id: format!("{}/sessionhosts/{}", pool.id(), host.name),
        kind: "Microsoft.DesktopVirtualization/hostpools/sessionhosts",
        system_data: SystemData::created(CREATED_AT.to_owned()),
        properties: SessionHostProperties {
            object_id: facts.object_id,
            last_heart_beat: facts.last_heart_beat,
            sessions: facts.sessions,
            agent_version: AGENT_VERSION,
            allow_new_session: host.allow_new_session,
            assigned_user: None,
            status: facts.status,
            status_timestamp: facts.status_timestamp,
            os_version: OS_VERSION,
            sxs_stack_version: SXS_STACK_VERSION,
            update_state: "Succeeded",
            last_update_time: LAST_UPDATE_TIME,
            update_error_message: "",
            virtual_machine_id: facts.virtual_machine_id,
            friendly_name: None,
            resource_id: format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachines/{}",
                pool.subscription,
                pool.resource_group,
                vm_name(host)
            ),
            session_host_health_check_results: Vec::new(),
        },
    }
}

/// The user session `session` on `host` of `pool`; `with_system_data` is false in the host
/// pool list, which answers `"systemData": null` (CONFIRMED).
pub(super) fn user_session<'a>(
    pool: &ArmPool<'_>,
    host: &SessionHost,
    session: &'a Session,
    with_system_data: bool,
) -> UserSessionView<'a> {
    // Seeds hold RFC 3339 times; anything else is echoed as it is.
    let create_time =
        to_rfc3339_ticks(&session.create_time).unwrap_or_else(|| session.create_time.clone());
    UserSessionView {
        name: format!("{}/{}/{}", pool.name(), host.name, session.session_id),
        id: format!(
            "{}/sessionhosts/{}/usersessions/{}",
            pool.id(),
            host.name,
            session.session_id
        ),
        kind: "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions",
        system_data: with_system_data.then(|| SystemData::created(create_time.clone())),
        properties: UserSessionProperties {
            create_time,
            user_principal_name: &session.user_principal_name,
            session_state: &session.session_state,
            application_type: &session.application_type,
            active_directory_user_name: &session.ad_user_name,
            // The user's object id: the `oid` the emulated Entra ID gives this user's tokens.
            object_id: stable_guid(&format!(
                "user:{}",
                session.user_principal_name.to_ascii_lowercase()
            )),
        },
    }
}
