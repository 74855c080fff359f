//! Azure Virtual Desktop on Azure Resource Manager (`Microsoft.DesktopVirtualization`), behind
//! the classic operations: a classic tenant and host pool are placed by the [`mapping`] (and
//! discovery by name where the mapping gives only a subscription), sessions are listed with
//! `UserSessions_ListByHostPool` following `nextLink`, and logoff, disconnect and message are
//! `DELETE .../userSessions/{id}`, `POST .../disconnect` and `POST .../sendMessage`
//! (docs/service-facts.md §3).

pub mod mapping;
mod wire;

use super::{Operation, SessionAction};
use crate::auth::Audience;
use crate::client::{BrokerClient, Done, Exchanged};
use crate::error::{ApiError, BrokerObject, Error, ErrorCode, ErrorKind, shown, shown_url};
use crate::model::{HostPool, SessionHost, SessionTarget, Tenant, UserSession};
use crate::route::{DeploymentUrl, Name, PathPart};
use crate::transport::{Answer, BodyLimit, MAX_ACTION_BODY_BYTES, MAX_LIST_BODY_BYTES, Request};
use crate::wire::parse_error_body;
use mapping::{ArmMapping, Placement};
use reqwest::Method;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use wire::{ArmHostPool, ArmResource, ArmSessionHost, ArmUserSession, Page, id_segment};

/// The api-version sent unless the mapping says otherwise: the newest stable (docs/service-facts.md §3.1).
pub const DEFAULT_API_VERSION: &str = "2025-10-10";

/// The api-version used once ARM calls the first one invalid (a user saw 2025-10-10 refused in
/// July 2026, docs/service-facts.md §3.1; 2024-04-03 is the stable Microsoft points to).
pub const FALLBACK_API_VERSION: &str = "2024-04-03";

/// The public cloud's Resource Manager.
pub const PUBLIC_ARM_ENDPOINT: &str = "https://management.azure.com";

/// The classic service's deployment URL host, which old scripts pass to `Add-RdsAccount`.
pub const CLASSIC_DEPLOYMENT_HOST: &str = "rdbroker.wvd.microsoft.com";

/// The built-in role that allows listing, logoff, disconnect and messages on user sessions.
pub const USER_SESSION_OPERATOR_ROLE: &str = "Desktop Virtualization User Session Operator";

/// The built-in role that allows updating session hosts (drain mode).
pub const SESSION_HOST_OPERATOR_ROLE: &str = "Desktop Virtualization Session Host Operator";

/// More pages than any host pool has; a `nextLink` loop stops here instead of running forever.
const MAX_PAGES: usize = 100_000;

/// Resource Manager hosts, their token audience and their sign-in authority.
const CLOUDS: &[(&str, &str, &str)] = &[
    (
        "management.azure.com",
        "https://management.azure.com/",
        "https://login.microsoftonline.com",
    ),
    (
        "management.usgovcloudapi.net",
        "https://management.usgovcloudapi.net/",
        "https://login.microsoftonline.us",
    ),
    (
        "management.chinacloudapi.cn",
        "https://management.chinacloudapi.cn/",
        "https://login.chinacloudapi.cn",
    ),
];

/// A mapping and where it came from (a file path or `-ArmMapping`).
#[derive(Clone, Debug)]
pub struct MappingSource {
    pub mapping: ArmMapping,
    pub source: String,
}

/// Which service a deployment URL (and the mapping) selects.
#[derive(Clone, Debug)]
pub(crate) enum Selected {
    Classic,
    Arm {
        endpoint: DeploymentUrl,
        mapping: Arc<ArmMapping>,
    },
}

/// The service, the token audience and the default sign-in authority for a deployment URL,
/// and what to tell the admin about the choice.
#[derive(Clone, Debug)]
pub(crate) struct Selection {
    pub selected: Selected,
    pub audience: Audience,
    /// The sovereign cloud's authority when none was given.
    pub authority_host: Option<&'static str>,
    pub note: Option<String>,
}

/// Chooses the backend by configuration, never by editing the script:
/// - a Resource Manager URL (`https://management.azure.com`, the sovereign ones, or the
///   mapping's `armEndpoint`) is ARM;
/// - the classic URL `https://rdbroker.wvd.microsoft.com` is routed to ARM when a mapping is
///   configured (the classic service is retired), and refused with how to configure one when
///   not;
/// - any other URL is a classic broker (a private deployment, the emulator).
pub(crate) fn select(
    deployment_url: &DeploymentUrl,
    mapping: Option<MappingSource>,
    default_mapping_path: Option<&str>,
) -> Result<Selection, Error> {
    let host = deployment_url.host();
    let configured = match &mapping {
        Some(m) => match &m.mapping.arm_endpoint {
            Some(endpoint) => Some(DeploymentUrl::parse(endpoint)?),
            None => None,
        },
        None => None,
    };
    let is_mapping_endpoint = configured
        .as_ref()
        .is_some_and(|c| c.as_str().eq_ignore_ascii_case(deployment_url.as_str()));
    let known_cloud = CLOUDS.iter().find(|(h, _, _)| *h == host);
    let (endpoint, note) = if known_cloud.is_some() || is_mapping_endpoint {
        (deployment_url.clone(), None)
    } else if host == CLASSIC_DEPLOYMENT_HOST {
        let Some(m) = &mapping else {
            let file = default_mapping_path
                .map(|p| format!(" (the per-user file {})", shown_url(p)))
                .unwrap_or_default();
            return Err(Error::new(
                ErrorCode::ArmMappingRequired,
                format!(
                    "The classic Windows Virtual Desktop service at {} was retired on 2026-09-30; its host pools now live in Azure Resource Manager. To run this script unchanged against Azure Virtual Desktop, map its tenants to Azure subscriptions: Set-RdsArmMapping -TenantName <tenant> -SubscriptionId <subscription id> writes the mapping{file}, or set $env:RDSSESSIONS_ARM_MAPPING to a mapping file, or pass -ArmMapping @{{ <tenant> = @{{ SubscriptionId = '<id>' }} }} to Add-RdsAccount",
                    deployment_url.as_str()
                ),
            ));
        };
        let endpoint = match configured.clone() {
            Some(endpoint) => endpoint,
            None => DeploymentUrl::parse(PUBLIC_ARM_ENDPOINT)?,
        };
        let note = format!(
            "The classic deployment URL {} is routed to Azure Resource Manager at {} (ARM mapping {})",
            deployment_url.as_str(),
            endpoint.as_str(),
            shown_url(&m.source)
        );
        (endpoint, Some(note))
    } else {
        return Ok(Selection {
            selected: Selected::Classic,
            audience: Audience::classic(),
            authority_host: None,
            note: None,
        });
    };
    let cloud = CLOUDS.iter().find(|(h, _, _)| *h == endpoint.host());
    let (audience, authority_host) = match cloud {
        Some((_, audience, authority)) => (Audience::new(*audience), Some(*authority)),
        // A proxy or the emulator: the public cloud's audience.
        None => (Audience::new(CLOUDS[0].1), None),
    };
    Ok(Selection {
        selected: Selected::Arm {
            endpoint,
            mapping: Arc::new(mapping.map(|m| m.mapping).unwrap_or_default()),
        },
        audience,
        authority_host,
        note,
    })
}

/// Where a classic host pool is in ARM, once placed (and discovered).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Resolved {
    subscription: Name,
    resource_group: Name,
    host_pool: Name,
}

impl Resolved {
    fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DesktopVirtualization/hostPools/{}",
            self.subscription.as_str(),
            self.resource_group.as_str(),
            self.host_pool.as_str()
        )
    }
}

type PoolCache = Mutex<HashMap<(String, String), Arc<tokio::sync::OnceCell<Resolved>>>>;

/// An ARM deployment: the endpoint, the mapping, the api-version in use (shared by every
/// clone, so the fallback happens once per context) and the host pools found so far.
#[derive(Clone, Debug)]
pub(crate) struct Arm {
    /// The URL the script gave (the classic one, when routed).
    pub deployment_url: DeploymentUrl,
    pub endpoint: DeploymentUrl,
    /// Shown in the sessions' TenantGroupName, as classic scripts expect one.
    pub tenant_group: Name,
    mapping: Arc<ArmMapping>,
    api_version: Arc<RwLock<String>>,
    pools: Arc<PoolCache>,
}

impl Arm {
    pub fn new(
        deployment_url: DeploymentUrl,
        endpoint: DeploymentUrl,
        tenant_group: Name,
        mapping: Arc<ArmMapping>,
    ) -> Arm {
        let version = mapping
            .api_version
            .clone()
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
        Arm {
            deployment_url,
            endpoint,
            tenant_group,
            mapping,
            api_version: Arc::new(RwLock::new(version)),
            pools: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The api-version in use.
    pub fn api_version(&self) -> String {
        self.api_version
            .read()
            .map(|v| v.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    fn url(&self, parts: &[PathPart<'_>], api_version: &str) -> url::Url {
        let mut url = self.endpoint.join_path(parts);
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        url
    }

    /// Sends a request built for the api-version in use; when ARM calls that version invalid,
    /// switches to [`FALLBACK_API_VERSION`] for this context (once) and sends it again.
    async fn exchange(
        &self,
        client: &BrokerClient,
        operation: &Operation<'_>,
        build: impl Fn(&str) -> Result<Request, Error>,
    ) -> Result<Done, Exchanged> {
        let version = self.api_version();
        let request = build(&version).map_err(Exchanged::from)?;
        match client.exchange(&request, operation).await {
            Err(failed)
                if failed.error.code() == ErrorCode::ApiVersionNotSupported
                    && version != FALLBACK_API_VERSION =>
            {
                if let Ok(mut current) = self.api_version.write() {
                    *current = FALLBACK_API_VERSION.to_owned();
                }
                let request = build(FALLBACK_API_VERSION).map_err(Exchanged::from)?;
                let mut done = client.exchange(&request, operation).await?;
                done.notes.insert(
                    0,
                    format!(
                        "Azure Resource Manager refused api-version {version}; using {FALLBACK_API_VERSION} for this context from now on"
                    ),
                );
                Ok(done)
            }
            other => other,
        }
    }

    /// Where the classic host pool is: the mapping's placement, its resource group discovered
    /// by name when the mapping does not give one (cached for the context). Notes what it
    /// found the first time.
    async fn resolve(
        &self,
        client: &BrokerClient,
        tenant: &str,
        host_pool: &str,
        notes: &mut Vec<String>,
    ) -> Result<Resolved, Error> {
        let placement = self.mapping.place(tenant, host_pool)?;
        let subscription = Name::new("SubscriptionId", &placement.subscription_id)?;
        let arm_name = Name::new("HostPoolName", &placement.host_pool)?;
        if let Some(group) = &placement.resource_group {
            return Ok(Resolved {
                subscription,
                resource_group: Name::new("ResourceGroupName", group)?,
                host_pool: arm_name,
            });
        }
        let key = (tenant.to_lowercase(), host_pool.to_lowercase());
        let cell = {
            let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
            pools.entry(key).or_default().clone()
        };
        let found_now = std::sync::atomic::AtomicBool::new(false);
        let (flag, this) = (&found_now, self);
        let resolved = cell
            .get_or_try_init(|| async move {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
                this.discover(
                    client,
                    tenant,
                    host_pool,
                    &placement,
                    subscription,
                    arm_name,
                )
                .await
            })
            .await?
            .clone();
        if found_now.into_inner() {
            notes.push(format!(
                "Host pool {} of tenant {} is {} (found by name in the subscription; kept for this context)",
                shown(host_pool),
                shown(tenant),
                resolved.id()
            ));
        }
        Ok(resolved)
    }

    /// Lists the subscription's host pools (`HostPools_List`, every page) and picks the one
    /// named like the classic host pool; of several, the one in the migration tool's resource
    /// group `{Tenant}_{HostPool}`; else a clear error listing them.
    async fn discover(
        &self,
        client: &BrokerClient,
        tenant: &str,
        host_pool: &str,
        placement: &Placement,
        subscription: Name,
        arm_name: Name,
    ) -> Result<Resolved, Error> {
        let operation = Operation::read(
            format!(
                "Could not find host pool {} of tenant {} in subscription {}",
                shown(&placement.host_pool),
                shown(tenant),
                placement.subscription_id
            ),
            USER_SESSION_OPERATOR_ROLE,
        );
        let first = |version: &str| {
            Ok(Request {
                method: Method::GET,
                url: self.url(
                    &[
                        PathPart::Literal("subscriptions"),
                        PathPart::Name(&subscription),
                        PathPart::Literal("providers"),
                        PathPart::Literal("Microsoft.DesktopVirtualization"),
                        PathPart::Literal("hostPools"),
                    ],
                    version,
                ),
                json_body: None,
                limit: BodyLimit::Fail(MAX_LIST_BODY_BYTES),
            })
        };
        let (pools, _) = self
            .all_pages::<ArmResource>(client, &operation, first)
            .await?;
        let listed = pools.len();
        let candidates: Vec<(String, String)> = pools
            .into_iter()
            .filter_map(|pool| {
                let name = pool.name?;
                let group = id_segment(pool.id.as_deref()?, "resourcegroups")?.to_owned();
                name.eq_ignore_ascii_case(arm_name.as_str())
                    .then_some((group, name))
            })
            .collect();
        let chosen = match candidates.len() {
            0 => {
                return Err(Error::new(
                    ErrorCode::HostPoolNotFound,
                    format!(
                        "{}: none of the {listed} host pools of the subscription is named {}. Map it with Set-RdsArmMapping -TenantName {} -HostPoolName {} -ResourceGroupName <resource group> [-ArmHostPoolName <name in Azure>]",
                        operation.text,
                        shown(arm_name.as_str()),
                        shown(tenant),
                        shown(host_pool)
                    ),
                ));
            }
            1 => candidates.into_iter().next(),
            _ => {
                let migrated = format!("{tenant}_{host_pool}");
                let preferred: Vec<_> = candidates
                    .iter()
                    .filter(|(group, _)| group.eq_ignore_ascii_case(&migrated))
                    .cloned()
                    .collect();
                if preferred.len() == 1 {
                    preferred.into_iter().next()
                } else {
                    let list: Vec<String> = candidates
                        .iter()
                        .take(10)
                        .map(|(group, name)| {
                            format!("resource group '{group}' (host pool '{name}')")
                        })
                        .collect();
                    return Err(Error::new(
                        ErrorCode::HostPoolAmbiguous,
                        format!(
                            "{}: {} host pools of the subscription are named {}: {}. Say which with Set-RdsArmMapping -TenantName {} -HostPoolName {} -ResourceGroupName <resource group>",
                            operation.text,
                            candidates.len(),
                            shown(arm_name.as_str()),
                            list.join(", "),
                            shown(tenant),
                            shown(host_pool)
                        ),
                    ));
                }
            }
        };
        let (group, name) = chosen.unwrap_or_default();
        Ok(Resolved {
            subscription,
            resource_group: Name::new("ResourceGroupName", &group)?,
            host_pool: Name::new("HostPoolName", &name)?,
        })
    }

    /// Every page of a list: the first request, then each `nextLink` verbatim (it carries the
    /// api-version and the continuation) until it is null, on this endpoint's origin only (the
    /// bearer token goes along).
    async fn all_pages<T: serde::de::DeserializeOwned>(
        &self,
        client: &BrokerClient,
        operation: &Operation<'_>,
        first: impl Fn(&str) -> Result<Request, Error>,
    ) -> Result<(Vec<T>, Vec<String>), Error> {
        let done = self
            .exchange(client, operation, first)
            .await
            .map_err(|e| e.error)?;
        let mut notes = done.notes;
        let mut page: Page<T> = parse_page(&done.answer, operation)?;
        let mut items = std::mem::take(&mut page.value);
        let mut pages = 1;
        while let Some(next) = page.next_link.take().filter(|l| !l.is_empty()) {
            let url = url::Url::parse(&next)
                .ok()
                .filter(|u| self.endpoint.same_origin(u))
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::BrokerProtocolError,
                        format!(
                            "{}: the nextLink of page {pages} points to {}, not to {}; it is not followed (the access token would go along)",
                            operation.text,
                            shown_url(&next),
                            self.endpoint.as_str()
                        ),
                    )
                })?;
            if pages >= MAX_PAGES {
                return Err(Error::new(
                    ErrorCode::BrokerProtocolError,
                    format!("{}: more than {MAX_PAGES} pages", operation.text),
                ));
            }
            let request = Request {
                method: Method::GET,
                url,
                json_body: None,
                limit: BodyLimit::Fail(MAX_LIST_BODY_BYTES),
            };
            let done = client
                .exchange(&request, operation)
                .await
                .map_err(|e| e.error)?;
            notes.extend(done.notes);
            page = parse_page(&done.answer, operation)?;
            items.append(&mut page.value);
            pages += 1;
        }
        Ok((items, notes))
    }

    /// `GET .../hostPools/{hp}/userSessions` (every page), in the classic shape.
    pub async fn list_sessions(
        &self,
        client: &BrokerClient,
        tenant: &str,
        host_pool: &str,
    ) -> Result<(Vec<UserSession>, Vec<String>), Error> {
        let operation = Operation::list_sessions(tenant, host_pool);
        Name::new("TenantName", tenant)?;
        Name::new("HostPoolName", host_pool)?;
        let mut notes = Vec::new();
        let pool = self
            .resolve(client, tenant, host_pool, &mut notes)
            .await
            .map_err(|e| e.context(&operation.text))?;
        let first = |version: &str| {
            Ok(Request {
                method: Method::GET,
                url: self.url(
                    &pool_parts(&pool, &[PathPart::Literal("userSessions")]),
                    version,
                ),
                json_body: None,
                limit: BodyLimit::Fail(MAX_LIST_BODY_BYTES),
            })
        };
        let (items, more) = self
            .all_pages::<ArmUserSession>(client, &operation, first)
            .await?;
        notes.extend(more);
        let mut sessions = Vec::with_capacity(items.len());
        for item in items {
            match item.into_classic(self.tenant_group.as_str(), tenant, host_pool) {
                Ok(session) => sessions.push(session),
                Err(why) => notes.push(format!("Skipped {why}")),
            }
        }
        Ok((sessions, notes))
    }

    /// The tenants of the mapping (ARM has no tenants: the mapping is where they live now), or
    /// the one named; only the names and the subscription are known.
    pub fn tenants(&self, name: Option<&str>) -> Result<Vec<Tenant>, Error> {
        let tenant = |(key, entry): (&String, &mapping::TenantMapping)| Tenant {
            tenant_group_name: self.tenant_group.as_str().to_owned(),
            tenant_name: key.clone(),
            azure_subscription_id: Some(entry.subscription_id.clone()),
            ..Tenant::default()
        };
        match name {
            None => Ok(self.mapping.tenants.iter().map(tenant).collect()),
            Some(name) => {
                Name::new("Name", name)?;
                let found = self
                    .mapping
                    .tenants
                    .iter()
                    .find(|(key, _)| key.to_lowercase() == name.to_lowercase())
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::TenantNotFound,
                            format!(
                                "Tenant {} is not in the ARM mapping, where the tenants of Azure Virtual Desktop on Azure Resource Manager are named (Get-RdsArmMapping lists them; Set-RdsArmMapping adds one)",
                                shown(name)
                            ),
                        )
                    })?;
                Ok(vec![tenant(found)])
            }
        }
    }

    /// The tenant's host pools: each host pool the mapping names, and the other host pools of
    /// the tenant's resource group (`HostPools_ListByResourceGroup`); for a tenant mapped to a
    /// subscription only, every host pool of the subscription (`HostPools_List`). By name, the
    /// one (`HostPools_Get`). Classic names are given back: a host pool mapped under another
    /// ARM name shows its classic one.
    pub async fn host_pools(
        &self,
        client: &BrokerClient,
        tenant: &str,
        name: Option<&str>,
        operation: &Operation<'_>,
    ) -> Result<(Vec<HostPool>, Vec<String>), Error> {
        Name::new("TenantName", tenant)?;
        let mut notes = Vec::new();
        let group = self.tenant_group.as_str();
        if let Some(name) = name {
            Name::new("Name", name)?;
            let pool = self
                .resolve(client, tenant, name, &mut notes)
                .await
                .map_err(|e| e.context(&operation.text))?;
            let done = self
                .exchange(client, operation, |version| {
                    Ok(get(self.url(&pool_parts(&pool, &[]), version)))
                })
                .await
                .map_err(|e| e.error)?;
            notes.extend(done.notes);
            let item: ArmHostPool = parse_one(&done.answer, operation)?;
            return Ok((vec![item.into_classic(group, tenant, name)], notes));
        }
        let (display, entry) = self.mapping.tenant(tenant).ok_or_else(|| {
            self.mapping
                .place(tenant, "")
                .err()
                .unwrap_or_else(|| Error::new(ErrorCode::ArmMappingNotFound, "not mapped"))
                .context(&operation.text)
        })?;
        let subscription = Name::new("SubscriptionId", &entry.subscription_id)?;
        let resource_group = entry
            .resource_group
            .as_deref()
            .map(|g| Name::new("ResourceGroupName", g))
            .transpose()?;
        let first = |version: &str| {
            let mut parts = vec![
                PathPart::Literal("subscriptions"),
                PathPart::Name(&subscription),
            ];
            if let Some(group) = &resource_group {
                parts.extend([PathPart::Literal("resourceGroups"), PathPart::Name(group)]);
            }
            parts.extend([
                PathPart::Literal("providers"),
                PathPart::Literal("Microsoft.DesktopVirtualization"),
                PathPart::Literal("hostPools"),
            ]);
            Ok(get(self.url(&parts, version)))
        };
        // A tenant whose host pools are all named in the mapping (and no resource group): only
        // those, not every other tenant's in a shared subscription.
        let (mut listed, more) = if resource_group.is_none() && !entry.host_pools.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            self.all_pages::<ArmHostPool>(client, operation, first)
                .await?
        };
        notes.extend(more);
        // Mapped host pools show their classic names; those placed outside the listed scope
        // are fetched one by one.
        let mut result = Vec::new();
        for classic in entry.host_pools.keys() {
            let pool = self
                .resolve(client, display, classic, &mut notes)
                .await
                .map_err(|e| e.context(&operation.text))?;
            if let Some(index) = listed
                .iter()
                .position(|p| p.id.as_deref().is_some_and(|id| same_pool(id, &pool)))
            {
                result.push(listed.remove(index).into_classic(group, tenant, classic));
                continue;
            }
            let done = self
                .exchange(client, operation, |version| {
                    Ok(get(self.url(&pool_parts(&pool, &[]), version)))
                })
                .await
                .map_err(|e| e.error)?;
            notes.extend(done.notes);
            let item: ArmHostPool = parse_one(&done.answer, operation)?;
            result.push(item.into_classic(group, tenant, classic));
        }
        for item in listed {
            let name = item.name.clone().unwrap_or_default();
            result.push(item.into_classic(group, tenant, &name));
        }
        Ok((result, notes))
    }

    /// The session hosts of a host pool (`SessionHosts_List`, every page), or the one named.
    pub async fn session_hosts(
        &self,
        client: &BrokerClient,
        tenant: &str,
        host_pool: &str,
        name: Option<&str>,
        operation: &Operation<'_>,
    ) -> Result<(Vec<SessionHost>, Vec<String>), Error> {
        Name::new("TenantName", tenant)?;
        Name::new("HostPoolName", host_pool)?;
        let host = name.map(|n| Name::new("Name", n)).transpose()?;
        let mut notes = Vec::new();
        let pool = self
            .resolve(client, tenant, host_pool, &mut notes)
            .await
            .map_err(|e| e.context(&operation.text))?;
        let group = self.tenant_group.as_str();
        let items: Vec<ArmSessionHost> = match &host {
            Some(host) => {
                let done = self
                    .exchange(client, operation, |version| {
                        Ok(get(self.url(
                            &pool_parts(
                                &pool,
                                &[PathPart::Literal("sessionHosts"), PathPart::Name(host)],
                            ),
                            version,
                        )))
                    })
                    .await
                    .map_err(|e| e.error)?;
                notes.extend(done.notes);
                vec![parse_one(&done.answer, operation)?]
            }
            None => {
                let first = |version: &str| {
                    Ok(get(self.url(
                        &pool_parts(&pool, &[PathPart::Literal("sessionHosts")]),
                        version,
                    )))
                };
                let (items, more) = self.all_pages(client, operation, first).await?;
                notes.extend(more);
                items
            }
        };
        let hosts = items
            .into_iter()
            .filter_map(|item| item.into_classic(group, tenant, host_pool))
            .collect();
        Ok((hosts, notes))
    }

    /// Drain mode: `PATCH .../sessionHosts/{sh}` `{"properties":{"allowNewSession":bool}}`,
    /// answered with the whole session host.
    pub async fn update_session_host(
        &self,
        client: &BrokerClient,
        tenant: &str,
        host_pool: &str,
        name: &str,
        allow_new_session: bool,
        operation: &Operation<'_>,
    ) -> Result<(SessionHost, Vec<String>), Error> {
        Name::new("TenantName", tenant)?;
        Name::new("HostPoolName", host_pool)?;
        let host = Name::new("Name", name)?;
        let mut notes = Vec::new();
        let pool = self
            .resolve(client, tenant, host_pool, &mut notes)
            .await
            .map_err(|e| e.context(&operation.text))?;
        let done = self
            .exchange(client, operation, |version| {
                Ok(Request {
                    method: Method::PATCH,
                    url: self.url(
                        &pool_parts(
                            &pool,
                            &[PathPart::Literal("sessionHosts"), PathPart::Name(&host)],
                        ),
                        version,
                    ),
                    json_body: Some(
                        serde_json::json!({"properties": {"allowNewSession": allow_new_session}})
                            .to_string(),
                    ),
                    limit: BodyLimit::Fail(MAX_ACTION_BODY_BYTES),
                })
            })
            .await
            .map_err(|e| e.error)?;
        notes.extend(done.notes);
        let item: ArmSessionHost = parse_one(&done.answer, operation)?;
        let host = item
            .into_classic(self.tenant_group.as_str(), tenant, host_pool)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::BrokerProtocolError,
                    format!("{}: the answer names no session host", operation.text),
                )
            })?;
        Ok((host, notes))
    }

    /// Logoff (`DELETE .../userSessions/{id}[?force=true]`), disconnect and message.
    pub async fn session_action(
        &self,
        client: &BrokerClient,
        target: &SessionTarget,
        action: &SessionAction,
        operation: &Operation<'_>,
    ) -> Result<Done, Exchanged> {
        let names = super::classic::TargetNames::validate(target).map_err(Exchanged::from)?;
        let session_id =
            Name::new("SessionId", &target.session_id.to_string()).map_err(Exchanged::from)?;
        let mut notes = Vec::new();
        let pool = self
            .resolve(client, &target.tenant, &target.host_pool, &mut notes)
            .await
            .map_err(|e| Exchanged::from(e.context(&operation.text)))?;
        let build = |version: &str| {
            let mut tail = vec![
                PathPart::Literal("sessionHosts"),
                PathPart::Name(&names.session_host),
                PathPart::Literal("userSessions"),
                PathPart::Name(&session_id),
            ];
            let (method, body) = match action {
                SessionAction::Logoff { .. } => (Method::DELETE, None),
                SessionAction::Disconnect => {
                    tail.push(PathPart::Literal("disconnect"));
                    (Method::POST, None)
                }
                SessionAction::SendMessage { title, body } => {
                    tail.push(PathPart::Literal("sendMessage"));
                    let json = serde_json::json!({"messageTitle": title, "messageBody": body});
                    (Method::POST, Some(json.to_string()))
                }
            };
            let mut url = self.url(&pool_parts(&pool, &tail), version);
            // Like Az, `force` is sent only when asked for (docs/service-facts.md §3.2-3.3; what it changes on
            // ARM is UNCONFIRMED, the classic meaning is "remove even if the host is gone").
            if let SessionAction::Logoff { force: true } = action {
                url.query_pairs_mut().append_pair("force", "true");
            }
            Ok(Request {
                method,
                url,
                json_body: body,
                limit: BodyLimit::Truncate(MAX_ACTION_BODY_BYTES),
            })
        };
        let mut done = self.exchange(client, operation, build).await?;
        if matches!(action, SessionAction::Logoff { .. }) && done.answer.status.as_u16() == 204 {
            // The spec's "204: the user session does not exist": nothing was left to log off.
            done.notes.push(format!(
                "session {} did not exist (ARM answered 204 to the logoff); counted as done",
                target.session_id
            ));
        }
        notes.append(&mut done.notes);
        done.notes = notes;
        Ok(done)
    }

    /// What a non-2xx ARM answer means, with the final ErrorId: ARM's `CloudError` codes
    /// (where `code` may be the string "404"), and what to do about locks and roles.
    pub fn classify(&self, answer: &Answer, operation: &Operation<'_>) -> Error {
        let parsed = parse_error_body(&answer.body);
        let status = answer.status.as_u16();
        let service_code = parsed.code.clone().unwrap_or_default();
        let code_lower = service_code.to_ascii_lowercase();
        let message_lower = parsed
            .message
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let code = match (status, code_lower.as_str()) {
            (404, "subscriptionnotfound") => ErrorCode::SubscriptionNotFound,
            (404, "resourcegroupnotfound") => ErrorCode::ResourceGroupNotFound,
            (404, _) if message_lower.contains("user session") => ErrorCode::SessionNotFound,
            (404, _)
                if message_lower.contains("sessionhosts/")
                    || message_lower.contains("session host") =>
            {
                ErrorCode::SessionHostNotFound
            }
            (404, "resourcenotfound") if message_lower.contains("hostpools/") => {
                ErrorCode::HostPoolNotFound
            }
            (409, "scopelocked") => ErrorCode::ResourceLocked,
            (403, "authorizationfailed") => ErrorCode::AuthorizationFailed,
            (400, "invalidapiversionparameter" | "noregisteredproviderfound") => {
                ErrorCode::ApiVersionNotSupported
            }
            (400, _)
                if message_lower.contains("api-version") && message_lower.contains("invalid") =>
            {
                ErrorCode::ApiVersionNotSupported
            }
            _ => super::status_code(status, BrokerObject::Unknown),
        };
        let api = ApiError {
            status,
            code: parsed.code,
            message: parsed.message,
            target: parsed.target,
            retry_after_secs: answer.retry_after().map(|d| d.as_secs()),
            correlation_id: Some(answer.correlation_id.clone()),
        };
        let said = api.message.clone();
        let explanation = match code {
            ErrorCode::BrokerRedirectRefused => super::redirect_text(answer),
            ErrorCode::ResourceLocked => format!(
                "{}. A logoff is an Azure Resource Manager DELETE of the user session, so a CanNotDelete or ReadOnly lock on the host pool, its resource group or the subscription blocks it (a ReadOnly lock also blocks disconnect and messages). Remove the lock, or move it off the host pool's scope, to log users off",
                said.as_deref()
                    .unwrap_or("A resource lock forbids the operation")
                    .trim_end_matches('.')
            ),
            ErrorCode::AuthorizationFailed => format!(
                "{}. The signed-in identity needs the built-in role '{}' on the host pool, its resource group or the subscription",
                said.as_deref()
                    .unwrap_or("Azure Resource Manager refused the identity")
                    .trim_end_matches('.'),
                operation.role
            ),
            ErrorCode::SessionNotFound => match operation.target {
                Some(t) => format!(
                    "session {} does not exist (already logged off?) ({})",
                    t.session_id,
                    said.as_deref().unwrap_or("User session does not exist")
                ),
                None => said.unwrap_or_else(|| "the user session does not exist".to_owned()),
            },
            ErrorCode::BrokerUnauthorized => format!(
                "Azure Resource Manager rejected the access token ({}); run Add-RdsAccount again",
                said.as_deref()
                    .unwrap_or("missing, expired, or for another audience")
            ),
            _ => said.unwrap_or_else(|| match code.kind() {
                ErrorKind::Throttled => "Azure Resource Manager is throttling requests".to_owned(),
                ErrorKind::ServerError => {
                    "Azure Resource Manager failed to process the request".to_owned()
                }
                _ => "Azure Resource Manager rejected the request".to_owned(),
            }),
        };
        super::http_error(code, explanation, api)
    }
}

fn get(url: url::Url) -> Request {
    Request {
        method: Method::GET,
        url,
        json_body: None,
        limit: BodyLimit::Fail(MAX_LIST_BODY_BYTES),
    }
}

/// Whether an ARM id (type segments in any case) is the resolved host pool.
fn same_pool(id: &str, pool: &Resolved) -> bool {
    id_segment(id, "subscriptions")
        .is_some_and(|s| s.eq_ignore_ascii_case(pool.subscription.as_str()))
        && id_segment(id, "resourcegroups")
            .is_some_and(|g| g.eq_ignore_ascii_case(pool.resource_group.as_str()))
        && id_segment(id, "hostpools")
            .is_some_and(|h| h.eq_ignore_ascii_case(pool.host_pool.as_str()))
}

fn parse_one<T: serde::de::DeserializeOwned>(
    answer: &Answer,
    operation: &Operation<'_>,
) -> Result<T, Error> {
    serde_json::from_slice::<T>(&answer.body).map_err(|e| {
        Error::new(
            ErrorCode::BrokerProtocolError,
            format!(
                "{}: the answer is not an Azure Resource Manager resource ({}). Correlation id: {}.",
                operation.text,
                crate::error::service_text(&e.to_string()),
                answer.correlation_id
            ),
        )
    })
}

fn parse_page<T: serde::de::DeserializeOwned>(
    answer: &Answer,
    operation: &Operation<'_>,
) -> Result<Page<T>, Error> {
    serde_json::from_slice::<Page<T>>(&answer.body).map_err(|e| {
        Error::new(
            ErrorCode::BrokerProtocolError,
            format!(
                "{}: the answer is not a page of Azure Resource Manager resources ({}). Correlation id: {}.",
                operation.text,
                crate::error::service_text(&e.to_string()),
                answer.correlation_id
            ),
        )
    })
}

/// `subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.DesktopVirtualization/hostPools/{hp}` + `tail`.
fn pool_parts<'a>(pool: &'a Resolved, tail: &[PathPart<'a>]) -> Vec<PathPart<'a>> {
    let mut parts = vec![
        PathPart::Literal("subscriptions"),
        PathPart::Name(&pool.subscription),
        PathPart::Literal("resourceGroups"),
        PathPart::Name(&pool.resource_group),
        PathPart::Literal("providers"),
        PathPart::Literal("Microsoft.DesktopVirtualization"),
        PathPart::Literal("hostPools"),
        PathPart::Name(&pool.host_pool),
    ];
    parts.extend_from_slice(tail);
    parts
}
