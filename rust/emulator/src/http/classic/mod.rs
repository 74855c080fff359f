//! The classic Windows Virtual Desktop RDS broker API (`/RdsManagement/V1/...`) on the wire:
//! its route table, request values, session operations and error bodies, over the shared
//! broker domain (`crate::broker`). Another API flavour belongs next to this one, as a sibling
//! module of `http`.

pub(crate) mod error;
pub(crate) mod query;
pub(crate) mod routes;
pub(crate) mod sessions;
