//! Test knobs: behaviour the real broker does not have, switched on by tests and benchmarks.
//! Injected latency, injected faults, the activity record and generated host pools. Each file
//! holds a knob's configuration and its run-time state, free of HTTP.

pub(crate) mod activity;
pub(crate) mod fault_sequence;
pub(crate) mod faults;
pub(crate) mod generate;
pub(crate) mod latency;
pub(crate) mod rate_limits;
