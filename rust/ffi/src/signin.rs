//! The `SignIn` service: `Add-RdsAccount`'s sign-in, in the steps the core defines, so the
//! slow ones run as cancellable tasks (Ctrl+C drops them at once).

use crate::runtime::{self, SharedRuntime};
use crate::types::{ErrorInfo, SignInMode, SignInOptions};
use interoptopus::pattern::asynk::Async;
use interoptopus::{AsyncRuntime, ffi};
use rds_core::arm::{ArmMapping, MappingSource};
use rds_core::signin::{Credential, SignedIn};
use secrecy::SecretString;
use std::path::PathBuf;
use std::sync::Mutex;

/// A sign-in: created from [`SignInOptions`] with local checks only, then
/// [`SignIn::start_async`] (device code: the text to show) and [`SignIn::complete_async`]
/// (the first token); [`crate::RdsConnection::create`] takes the result.
#[ffi(service)]
#[derive(AsyncRuntime)]
pub struct SignIn {
    runtime: SharedRuntime,
    /// The sign-in until it completes (the device-code step needs it shared).
    pending: tokio::sync::Mutex<Option<rds_core::signin::SignIn>>,
    /// The signed-in client, until a connection takes it.
    done: Mutex<Option<SignedIn>>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn").finish_non_exhaustive()
    }
}

/// An empty string is "not given".
fn optional(value: ffi::String) -> Option<String> {
    let value = value.into_string();
    (!value.is_empty()).then_some(value)
}

/// A secret handed over from C#: moved into a zeroing container at once.
fn secret(value: ffi::String) -> SecretString {
    SecretString::from(value.into_string())
}

fn credential(mode: SignInMode, o: &mut SignInOptions) -> Credential {
    let take = |s: &mut ffi::String| std::mem::replace(s, ffi::String::from_string(String::new()));
    let tenant_id = take(&mut o.tenant_id).into_string();
    let client_id = take(&mut o.client_id).into_string();
    let secret_value = take(&mut o.secret);
    match mode {
        SignInMode::AccessToken => Credential::AccessToken(secret(secret_value)),
        SignInMode::ClientSecret => Credential::ClientSecret {
            tenant_id,
            client_id,
            secret: secret(secret_value),
        },
        SignInMode::CertificateFile => Credential::CertificateFile {
            tenant_id,
            client_id,
            path: PathBuf::from(take(&mut o.certificate_path).into_string()),
            password: Some(secret(secret_value)),
        },
        SignInMode::CertificatePem => Credential::CertificatePem {
            tenant_id,
            client_id,
            pem: secret(secret_value),
        },
        SignInMode::Password => Credential::Password {
            tenant_id: Some(tenant_id),
            client_id: Some(client_id),
            username: take(&mut o.user_name).into_string(),
            password: secret(secret_value),
        },
        SignInMode::ManagedIdentity => Credential::ManagedIdentity {
            client_id: Some(client_id),
            identity_endpoint: optional(take(&mut o.identity_endpoint)),
            identity_header: Some(secret(secret_value)),
            imds_endpoint: optional(take(&mut o.imds_endpoint)),
        },
        SignInMode::DeviceCode => Credential::DeviceCode {
            tenant_id: Some(tenant_id),
            client_id: Some(client_id),
        },
    }
}

impl SignIn {
    /// The signed-in client, once; for a token sign-in (nothing to wait for) it completes here.
    pub(crate) fn take_signed_in(&self) -> Result<SignedIn, ErrorInfo> {
        if let Some(done) = self.done.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Ok(done);
        }
        let pending = self.pending.try_lock().ok().and_then(|mut p| p.take());
        match pending {
            Some(pending) if pending.needs_no_request() => {
                runtime::block_on(pending.complete())?.map_err(ErrorInfo::from)
            }
            Some(pending) => {
                *self.pending.try_lock().map_err(|_| not_ready())? = Some(pending);
                Err(not_ready())
            }
            None => Err(not_ready()),
        }
    }
}

fn not_ready() -> ErrorInfo {
    ErrorInfo::internal_message(
        "The sign-in has not completed (or its connection was already created)",
    )
}

#[ffi]
impl SignIn {
    /// Checks the options locally (URLs, ids, the certificate file) and sends nothing.
    pub fn create(options: SignInOptions) -> ffi::Result<Self, ErrorInfo> {
        crate::catch_panics(move || {
            let mut options = options;
            let credential = credential(options.mode, &mut options);
            let (retry, request_timeout) = options.retry.to_core().map_err(ErrorInfo::from)?;
            let source = options.arm_mapping_source.into_string();
            let arm_mapping = match optional(options.arm_mapping_json) {
                Some(text) => Some(MappingSource {
                    mapping: ArmMapping::parse(&text, &source).map_err(ErrorInfo::from)?,
                    source,
                }),
                None => None,
            };
            let core_options = rds_core::signin::SignInOptions {
                deployment_url: options.deployment_url.into_string(),
                tenant_group: options.tenant_group.into_string(),
                authority_host: optional(options.authority_host),
                retry,
                request_timeout,
                arm_mapping,
                default_mapping_path: optional(options.default_mapping_path),
            };
            let http = runtime::shared_http_client().map_err(ErrorInfo::from)?;
            let sign_in = rds_core::signin::SignIn::new(core_options, credential, http)
                .map_err(ErrorInfo::from)?;
            Ok(SignIn {
                runtime: SharedRuntime,
                pending: tokio::sync::Mutex::new(Some(sign_in)),
                done: Mutex::new(None),
            })
        })
    }

    /// What to tell the admin before the sign-in (a classic URL routed to ARM), one line each.
    pub fn notes(&self) -> ffi::String {
        let notes = self
            .pending
            .try_lock()
            .ok()
            .and_then(|p| p.as_ref().map(|s| s.notes()))
            .unwrap_or_default();
        ffi::String::from_string(notes.join("\n"))
    }

    /// Device code: asks the authority for a code and returns the text to show the user;
    /// empty for every other mode. Cancellable.
    pub async fn start_async(this: Async<Self>) -> ffi::Result<ffi::String, ErrorInfo> {
        let pending = this.pending.lock().await;
        let Some(sign_in) = pending.as_ref() else {
            return ffi::Err(not_ready());
        };
        match sign_in.start().await {
            Ok(message) => ffi::Ok(ffi::String::from_string(message.unwrap_or_default())),
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }

    /// Acquires the first token (a device code: waits for the user) and returns who signed
    /// in. Cancellable: Ctrl+C drops the request or the polling at once.
    pub async fn complete_async(this: Async<Self>) -> ffi::Result<ffi::String, ErrorInfo> {
        let Some(sign_in) = this.pending.lock().await.take() else {
            return ffi::Err(not_ready());
        };
        match sign_in.complete().await {
            Ok(signed_in) => {
                let user = signed_in.user_name.clone();
                *this.done.lock().unwrap_or_else(|p| p.into_inner()) = Some(signed_in);
                ffi::Ok(ffi::String::from_string(user))
            }
            Err(e) => ffi::Err(ErrorInfo::from(e)),
        }
    }
}
