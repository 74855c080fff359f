//! One ARM request once it passed ARM's own checks (authentication, api-version, rate limits,
//! subscription, role assignments, resource group, locks), as the provider's reads and writes
//! see it.

use super::error::ArmError;
use super::routes::{ArmParams, ArmRoute};
use crate::broker::access;
use crate::broker::arm::{self, ArmPool};
use crate::broker::arm_config::ArmConfig;
use crate::http::app::App;
use crate::http::auth::Principal;
use crate::http::reply::InjectedError;
use crate::knobs::rate_limits::OperationClass;
use crate::model::Seed;

/// One ARM request that passed the ARM-side checks, as `reads` and `writes` see it.
pub(super) struct ArmRequest<'r> {
    pub app: &'r App,
    pub route: ArmRoute,
    pub params: ArmParams,
    pub principal: Principal,
    /// The `api-version` as sent.
    pub api_version: String,
    pub class: OperationClass,
    /// The request's scope: the decoded path.
    pub scope: String,
    /// The path as sent (still percent-encoded), for `nextLink`s.
    pub raw_path: String,
    pub query: Option<String>,
    pub config: ArmConfig,
    /// Lists of host pools at a scope the caller cannot read as a whole show the readable ones.
    pub visibility: Visibility,
}

/// What the caller may see of a host pool list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Visibility {
    All,
    /// Only the host pools a role assignment lets the caller read (INFERRED: ARM filters a
    /// list at a scope the caller can read only parts of).
    Readable,
}

impl ArmRequest<'_> {
    /// Whether the caller may perform `action` at `scope`.
    pub(super) fn allowed(&self, action: &str, scope: &str) -> bool {
        access::is_allowed(
            &self.config.role_assignments,
            |id| self.principal.is_named_by(id),
            action,
            scope,
        )
    }
}

/// The request's host pool, or ARM's 404.
pub(super) fn pool<'s>(seed: &'s Seed, request: &ArmRequest<'_>) -> Result<ArmPool<'s>, ArmError> {
    let params = &request.params;
    arm::find_pool(
        seed,
        &params.subscription,
        params.resource_group(),
        params.host_pool(),
    )
    .ok_or_else(|| ArmError::HostPoolNotFound {
        host_pool: params.host_pool().to_owned(),
        resource_group: params.resource_group().to_owned(),
    })
}

/// The ARM error of an injected fault on `request`.
pub(super) fn injected(request: &ArmRequest<'_>, error: InjectedError) -> ArmError {
    ArmError::Injected {
        error,
        class: request.class,
        subscription: request.params.subscription.clone(),
        principal: request.principal.object_id.clone(),
    }
}
