//! The broker's domain, free of HTTP: finding objects by name, applying the session actions and
//! the errors they fail with, in the order the real broker checks them.
//!
//! Every API flavour the emulator serves works on this same domain over the same data: the
//! classic RDS broker API (`http::classic`) and Azure Resource Manager (`http::arm`), which
//! finds the same host pools by their ARM coordinates (`arm`), checks role assignments and
//! locks (`access`) and then runs the same actions. How an error or a session is written on
//! the wire is the flavour's business.

pub(crate) mod access;
pub(crate) mod actions;
pub(crate) mod arm;
pub(crate) mod arm_config;
pub(crate) mod error;
pub(crate) mod hosts;
pub(crate) mod lookup;
