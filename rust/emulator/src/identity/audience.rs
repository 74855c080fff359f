//! The resources the emulated Entra ID issues tokens for, and which API accepts which audience.
//!
//! Two resources exist: the classic broker ([`BROKER_RESOURCE`]) and Azure Resource Manager
//! ([`ARM_RESOURCE`], also known by its older name `https://management.core.windows.net/`).
//! A v2.0 scope `<resource>/.default` and a v1/managed identity `resource=<resource>` both name
//! one of them; the token's `aud` is that resource's audience, so an ARM token is refused by
//! the classic routes and a classic token by the ARM routes.

use super::config::{ARM_RESOURCE, ARM_SCOPE, BROKER_RESOURCE, BROKER_SCOPE};

/// The API flavour a request is for (and the audience family its token must have).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// The classic RDS broker (`/RdsManagement/V1/...`).
    Classic,
    /// Azure Resource Manager (`/subscriptions/...`).
    Arm,
}

/// A resource tokens can be issued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Resource {
    /// The `aud` of its tokens.
    pub audience: &'static str,
    /// The `scope` the token endpoint answers with.
    pub scope: &'static str,
    /// The API that accepts its tokens.
    pub api: Api,
}

/// ARM's older resource name; Az PowerShell and the Azure CLI still ask for it.
const ARM_CORE_RESOURCE: &str = "https://management.core.windows.net/";

/// The classic broker.
pub(crate) const BROKER: Resource = Resource {
    audience: BROKER_RESOURCE,
    scope: BROKER_SCOPE,
    api: Api::Classic,
};

/// Azure Resource Manager under `https://management.azure.com/`.
pub(crate) const ARM: Resource = Resource {
    audience: ARM_RESOURCE,
    scope: ARM_SCOPE,
    api: Api::Arm,
};

/// Azure Resource Manager under its older name `https://management.core.windows.net/`.
const ARM_CORE: Resource = Resource {
    audience: ARM_CORE_RESOURCE,
    scope: "https://management.core.windows.net//.default",
    api: Api::Arm,
};

/// The audiences ARM accepts, in the order ARM's `InvalidAuthenticationTokenAudience` message
/// lists them.
pub(crate) const ARM_AUDIENCES: [&str; 4] = [
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

impl Resource {
    /// The resource a v1 `resource` value (or managed identity `resource`) names: the resource
    /// URI with or without its trailing slash, compared case-insensitively.
    pub(crate) fn from_resource(resource: &str) -> Option<Resource> {
        let wanted = resource.trim_end_matches('/');
        [BROKER, ARM, ARM_CORE].into_iter().find(|known| {
            known
                .audience
                .trim_end_matches('/')
                .eq_ignore_ascii_case(wanted)
        })
    }

    /// The resource a v2.0 scope item names: `<resource>/.default` (Entra's rule: the resource
    /// is everything before the last `/.default`, so `https://management.azure.com//.default`
    /// names `https://management.azure.com/`).
    pub(crate) fn from_scope(scope: &str) -> Option<Resource> {
        let cut = scope.len().checked_sub("/.default".len())?;
        let (resource, suffix) = (scope.get(..cut)?, scope.get(cut..)?);
        if !suffix.eq_ignore_ascii_case("/.default") || resource.is_empty() {
            return None;
        }
        Self::from_resource(resource)
    }
}

/// The API whose routes accept a token with audience `audience`, if any.
pub(crate) fn api_of_audience(audience: &str) -> Option<Api> {
    if audience == BROKER_RESOURCE {
        Some(Api::Classic)
    } else if ARM_AUDIENCES
        .iter()
        .any(|known| known.eq_ignore_ascii_case(audience))
    {
        Some(Api::Arm)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_name_their_resource() {
        assert_eq!(Resource::from_scope(BROKER_SCOPE), Some(BROKER));
        assert_eq!(Resource::from_scope(ARM_SCOPE), Some(ARM));
        assert_eq!(
            Resource::from_scope("https://management.azure.com//.default"),
            Some(ARM)
        );
        assert_eq!(
            Resource::from_scope("HTTPS://management.core.windows.net//.DEFAULT"),
            Some(ARM_CORE)
        );
        assert_eq!(
            Resource::from_scope("https://graph.microsoft.com/.default"),
            None
        );
        assert_eq!(Resource::from_scope(BROKER_RESOURCE), None);
        assert_eq!(Resource::from_scope("/.default"), None);
    }

    #[test]
    fn resources_and_audiences() {
        assert_eq!(
            Resource::from_resource("https://management.azure.com"),
            Some(ARM)
        );
        assert_eq!(
            Resource::from_resource(&format!("{BROKER_RESOURCE}/")),
            Some(BROKER)
        );
        assert_eq!(api_of_audience(ARM_RESOURCE), Some(Api::Arm));
        assert_eq!(
            api_of_audience("https://management.core.windows.net"),
            Some(Api::Arm)
        );
        assert_eq!(api_of_audience(BROKER_RESOURCE), Some(Api::Classic));
        assert_eq!(api_of_audience("https://graph.microsoft.com"), None);
    }
}
