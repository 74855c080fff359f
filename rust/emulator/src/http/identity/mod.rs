//! The emulated Microsoft Entra ID on the wire: the tenant endpoints (token, device code), the
//! managed identity endpoints and the device login page, over the identity domain
//! (`crate::identity`). Logged like broker requests, except the device login page.

pub(crate) mod device_login;
pub(crate) mod error;
pub(crate) mod managed;
pub(crate) mod request;
pub(crate) mod tenant;
