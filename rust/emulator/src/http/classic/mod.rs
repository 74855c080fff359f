//! The classic Windows Virtual Desktop RDS broker API (`/RdsManagement/V1/...`) on the wire:
//! its route table, request values, session operations, read side (tenants, host pools,
//! session hosts, drain mode) and error bodies, over the shared broker domain
//! (`crate::broker`). The ARM flavour is its sibling, `http::arm`.

pub(crate) mod answer;
pub(crate) mod error;
pub(crate) mod query;
pub(crate) mod read_side;
pub(crate) mod routes;
pub(crate) mod sessions;
