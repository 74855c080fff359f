//! Azure Resource Manager's `Microsoft.DesktopVirtualization` API on the wire, over the same
//! data as the classic flavour: host pools, session hosts and user sessions found by their ARM
//! coordinates, with ARM's authentication, api-versions, rate limits, role assignments, locks,
//! paging, headers and error bodies.
//!
//! * `routes`: the route table; `query`: api-version, paging, `$filter`, `force`;
//! * `handler`: the pipeline every ARM request goes through (route, token, api-version, rate
//!   limit, subscription, role assignments, resource group, locks), then `reads` or `writes`
//!   on the `request` that passed;
//! * `views`: the JSON shapes; `exchange`: the headers of every answer; `error`: `CloudError`.

pub(crate) mod error;
pub(crate) mod exchange;
pub(crate) mod handler;
pub(crate) mod query;
pub(crate) mod reads;
pub(crate) mod request;
pub(crate) mod routes;
pub(crate) mod views;
pub(crate) mod writes;
