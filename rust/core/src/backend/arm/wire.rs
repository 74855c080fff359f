//! ARM's JSON, as live traffic shows it (docs/service-facts.md §3.3): pages of `{"value":[...],
//! "nextLink": <url or null>}`, resources with `id`, `name`, `type` and `properties`.

use crate::model::{HostPool, SessionHost, UserSession};
use serde::Deserialize;

/// One page of a list.
#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    /// An absolute URL when more pages exist; `null` (or absent, in the spec's examples) on
    /// the last one.
    #[serde(default, rename = "nextLink")]
    pub next_link: Option<String>,
}

/// A user session resource.
#[derive(Debug, Deserialize)]
pub(crate) struct ArmUserSession {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub properties: UserSessionProperties,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserSessionProperties {
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub application_type: Option<String>,
    #[serde(default)]
    pub session_state: Option<String>,
    #[serde(default)]
    pub active_directory_user_name: Option<String>,
    #[serde(default)]
    pub create_time: Option<String>,
}

/// A host pool resource (only what discovery needs).
#[derive(Debug, Deserialize)]
pub(crate) struct ArmResource {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// A host pool resource.
#[derive(Debug, Deserialize)]
pub(crate) struct ArmHostPool {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub properties: HostPoolProperties,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HostPoolProperties {
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `Pooled` or `Personal`.
    #[serde(default)]
    pub host_pool_type: Option<String>,
    #[serde(default)]
    pub load_balancer_type: Option<String>,
    #[serde(default)]
    pub max_session_limit: Option<i64>,
    #[serde(default)]
    pub custom_rdp_property: Option<String>,
    #[serde(default)]
    pub validation_environment: Option<bool>,
    #[serde(default)]
    pub ring: Option<i64>,
    #[serde(default)]
    pub personal_desktop_assignment_type: Option<String>,
}

impl ArmHostPool {
    /// The classic shape, named as the script knows it.
    pub fn into_classic(self, tenant_group: &str, tenant: &str, host_pool: &str) -> HostPool {
        let p = self.properties;
        HostPool {
            tenant_group_name: tenant_group.to_owned(),
            tenant_name: tenant.to_owned(),
            host_pool_name: host_pool.to_owned(),
            friendly_name: p.friendly_name,
            description: p.description,
            persistent: p
                .host_pool_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("Personal")),
            custom_rdp_property: p.custom_rdp_property,
            max_session_limit: p.max_session_limit,
            load_balancer_type: p.load_balancer_type,
            validation_env: p.validation_environment.unwrap_or(false),
            ring: p.ring,
            assignment_type: p.personal_desktop_assignment_type,
            arm_id: self.id,
        }
    }
}

/// A session host resource.
#[derive(Debug, Deserialize)]
pub(crate) struct ArmSessionHost {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub properties: SessionHostProperties,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionHostProperties {
    #[serde(default = "yes")]
    pub allow_new_session: bool,
    #[serde(default)]
    pub sessions: i64,
    #[serde(default)]
    pub last_heart_beat: Option<String>,
    #[serde(default)]
    pub agent_version: Option<String>,
    #[serde(default)]
    pub assigned_user: Option<String>,
    #[serde(default)]
    pub os_version: Option<String>,
    #[serde(default, rename = "sxSStackVersion")]
    pub sxs_stack_version: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub update_state: Option<String>,
    #[serde(default)]
    pub last_update_time: Option<String>,
    #[serde(default)]
    pub update_error_message: Option<String>,
}

impl Default for SessionHostProperties {
    /// A session host takes new sessions unless it says otherwise.
    fn default() -> SessionHostProperties {
        SessionHostProperties {
            allow_new_session: true,
            sessions: 0,
            last_heart_beat: None,
            agent_version: None,
            assigned_user: None,
            os_version: None,
            sxs_stack_version: None,
            status: None,
            update_state: None,
            last_update_time: None,
            update_error_message: None,
        }
    }
}

fn yes() -> bool {
    true
}

impl ArmSessionHost {
    /// The classic shape: the session host's name is the last part of `hostPool/sessionHost`
    /// (or of the id).
    pub fn into_classic(
        self,
        tenant_group: &str,
        tenant: &str,
        host_pool: &str,
    ) -> Option<SessionHost> {
        let name = self
            .name
            .as_deref()
            .and_then(|n| n.rsplit('/').next())
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .or_else(|| Some(id_segment(self.id.as_deref()?, "sessionhosts")?.to_owned()))?;
        let p = self.properties;
        Some(SessionHost {
            tenant_group_name: tenant_group.to_owned(),
            tenant_name: tenant.to_owned(),
            host_pool_name: host_pool.to_owned(),
            session_host_name: name,
            allow_new_session: p.allow_new_session,
            sessions: p.sessions,
            last_heart_beat: p.last_heart_beat,
            agent_version: p.agent_version,
            assigned_user: p.assigned_user,
            os_version: p.os_version,
            sx_s_stack_version: p.sxs_stack_version,
            status: p.status,
            update_state: p.update_state,
            last_update_time: p.last_update_time,
            update_error_message: p.update_error_message,
        })
    }
}

/// The segment after `after` (compared case-insensitively: live ids lower-case the type
/// segments) in an ARM resource id.
pub(crate) fn id_segment<'a>(id: &'a str, after: &str) -> Option<&'a str> {
    let mut segments = id.split('/');
    segments.find(|s| s.eq_ignore_ascii_case(after))?;
    segments.next().filter(|s| !s.is_empty())
}

impl ArmUserSession {
    /// The classic shape of this session: the session host and id from the resource id (or
    /// the three-part name `hostPool/sessionHost/id`), the rest from the properties; tenant
    /// and host pool as the script named them, so pipes bind back to the classic names.
    pub fn into_classic(
        self,
        tenant_group: &str,
        tenant: &str,
        host_pool: &str,
    ) -> Result<UserSession, String> {
        let from_id = self.id.as_deref().and_then(|id| {
            Some((
                id_segment(id, "sessionhosts")?.to_owned(),
                id_segment(id, "usersessions")?.to_owned(),
            ))
        });
        let from_name = self.name.as_deref().and_then(|name| {
            let parts: Vec<&str> = name.split('/').collect();
            (parts.len() == 3).then(|| (parts[1].to_owned(), parts[2].to_owned()))
        });
        let (session_host, id) = from_id.or(from_name).ok_or_else(|| {
            format!(
                "a user session without a session host and id in its id or name ({})",
                crate::error::shown(self.id.as_deref().or(self.name.as_deref()).unwrap_or(""))
            )
        })?;
        let session_id = id.parse::<i32>().map_err(|_| {
            format!(
                "a user session id that is not a number ({})",
                crate::error::shown(&id)
            )
        })?;
        let p = self.properties;
        Ok(UserSession {
            tenant_group_name: tenant_group.to_owned(),
            tenant_name: tenant.to_owned(),
            host_pool_name: host_pool.to_owned(),
            session_host_name: session_host,
            session_id,
            user_principal_name: p.user_principal_name,
            ad_user_name: p.active_directory_user_name,
            application_type: p.application_type,
            session_state: p.session_state,
            create_time: p.create_time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of a live recording (docs/service-facts.md §3.3): three-part name, lower-cased type
    /// segments in the id, live property order, `"nextLink": null`.
    const LIVE_PAGE: &str = r#"{"value":[{"id":"/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups/Contoso_Pool-Desktop/providers/Microsoft.DesktopVirtualization/hostpools/Pool-Desktop/sessionhosts/sh1.contoso.com/usersessions/17","name":"Pool-Desktop/sh1.contoso.com/17","type":"Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions","systemData":null,"properties":{"createTime":"2026-11-23T21:04:00.0000000Z","userPrincipalName":"ana@contoso.com","sessionState":"Disconnected","applicationType":"Desktop","activeDirectoryUserName":"CONTOSO\\ana","objectId":"aaaaaaaa-0000-0000-0000-000000000001"}}],"nextLink":null}"#;

    #[test]
    fn a_live_page_becomes_classic_sessions() {
        let page: Page<ArmUserSession> = serde_json::from_str(LIVE_PAGE).expect("page");
        assert_eq!(page.next_link, None);
        let session = page
            .value
            .into_iter()
            .next()
            .expect("one")
            .into_classic("Default Tenant Group", "Contoso", "Pool-Desktop")
            .expect("classic");
        assert_eq!(session.session_host_name, "sh1.contoso.com");
        assert_eq!(session.session_id, 17);
        assert_eq!(session.ad_user_name.as_deref(), Some("CONTOSO\\ana"));
        assert_eq!(session.session_state.as_deref(), Some("Disconnected"));
        assert_eq!(session.tenant_name, "Contoso");
        assert_eq!(session.create_time_unix_ms(), Some(1_795_467_840_000));
    }

    #[test]
    fn the_spec_examples_bare_name_needs_the_id_and_odd_items_say_why() {
        let bare: ArmUserSession = serde_json::from_str(
            r#"{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.DesktopVirtualization/hostPools/hp/sessionHosts/sh/userSessions/1","name":"1","properties":{}}"#,
        )
        .expect("item");
        assert_eq!(bare.into_classic("g", "t", "hp").expect("ok").session_id, 1);
        let odd: ArmUserSession =
            serde_json::from_str(r#"{"name":"x","properties":{}}"#).expect("item");
        assert!(odd.into_classic("g", "t", "hp").is_err());
        let not_a_number: ArmUserSession =
            serde_json::from_str(r#"{"name":"hp/sh/abc","properties":{}}"#).expect("item");
        assert!(
            not_a_number
                .into_classic("g", "t", "hp")
                .expect_err("abc")
                .contains("not a number")
        );
    }
}
