//! Starting and stopping the HTTP server, on the caller's runtime or on a thread of its own,
//! and the handle tests use to look at and change a running emulator.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::thread;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::admin::Admin;
use crate::broker::arm_config::{ArmConfig, ArmHostPool};
use crate::http::app::App;
use crate::http::router::router;
use crate::identity::jwt::IssuedToken;
use crate::knobs::activity::Activity;
use crate::knobs::fault_sequence::FaultStats;
use crate::knobs::faults::FaultConfig;
use crate::knobs::generate::{GenerateError, GenerateSpec, GeneratedPool};
use crate::knobs::latency::LatencyConfig;
use crate::model::Seed;
use crate::record::RequestRecord;
use crate::state::{EmulatorSettings, SharedState};

/// The bearer token the classic broker routes accept unless configured otherwise.
pub const DEFAULT_ACCESS_TOKEN: &str = "rds-emulator-token";

/// The bearer token the ARM routes accept unless configured otherwise (the ARM counterpart of
/// [`DEFAULT_ACCESS_TOKEN`]; its principal is [`crate::STATIC_ARM_PRINCIPAL_ID`]).
pub const DEFAULT_ARM_ACCESS_TOKEN: &str = "rds-emulator-arm-token";

/// How long [`Emulator::shutdown`] waits for in-flight requests before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How to start an emulator. `EmulatorConfig::default()` listens on a random loopback port,
/// accepts [`DEFAULT_ACCESS_TOKEN`] on the classic routes and [`DEFAULT_ARM_ACCESS_TOKEN`] on
/// the ARM routes, and serves [`Seed::sample`].
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free port. Default `127.0.0.1:0`.
    pub bind: SocketAddr,
    /// The token a classic broker request may send as `Authorization: Bearer <token>` (besides
    /// the classic tokens the emulated Entra ID issues). Must not be empty.
    pub access_token: String,
    /// The token an ARM request may send as `Authorization: Bearer <token>` (besides the ARM
    /// tokens the emulated Entra ID issues). Must not be empty.
    pub arm_access_token: String,
    /// The initial broker data.
    pub seed: Seed,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            access_token: DEFAULT_ACCESS_TOKEN.to_owned(),
            arm_access_token: DEFAULT_ARM_ACCESS_TOKEN.to_owned(),
            seed: Seed::sample(),
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    // Hand-written so the token never ends up in a log or a test failure message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("bind", &self.bind)
            .field("access_token", &"<redacted>")
            .field("arm_access_token", &"<redacted>")
            .field("seed", &self.seed)
            .finish()
    }
}

/// The admin side of a running emulator: its address and a view of its shared state.
///
/// [`Emulator`] and [`BackgroundEmulator`] differ only in where the server runs (a task on the
/// caller's runtime, or a thread of its own) and how it stops; everything a test does with a
/// running emulator goes through this one type, which both expose by `Deref` (so
/// `emulator.requests()` works on either) and which can be cloned to hand the admin view to
/// other tasks or threads. A clone does not keep the server alive: once its owner is shut
/// down or dropped, the accessors still work on the last state but nothing serves requests.
#[derive(Clone, Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    /// Every accessor below is a thin call into it, as is every HTTP admin route.
    admin: Admin,
}

impl EmulatorHandle {
    /// The base URL, e.g. `http://127.0.0.1:49152` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the current broker data.
    pub fn state(&self) -> Seed {
        self.admin.state()
    }

    /// Replaces the broker data (and identity, latency, fault and ARM configuration) and clears
    /// the request log, the activity record, the fault counters, the issued-token list, pending
    /// device codes and the ARM rate-limit buckets.
    pub fn set_state(&self, seed: Seed) {
        self.admin.set_state(seed);
    }

    /// The broker and identity requests so far, oldest first: at most the latest
    /// [`EmulatorSettings::request_log_capacity`] (default 100,000), none while
    /// [`EmulatorSettings::request_log`] is off.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.admin.requests()
    }

    /// Empties the request log without touching the data.
    pub fn clear_requests(&self) {
        self.admin.clear_requests();
    }

    /// Approves a pending device code (as the user would on the verification page) for a
    /// configured user. False when the code is unknown, expired or decided, or the user unknown.
    pub fn approve_device_code(&self, user_code: &str, username: &str) -> bool {
        self.admin.approve_device_code(user_code, username)
    }

    /// Denies a pending device code. False when the code is unknown, expired or decided.
    pub fn deny_device_code(&self, user_code: &str) -> bool {
        self.admin.deny_device_code(user_code)
    }

    /// Every access token issued so far (metadata only, never the token), oldest first.
    pub fn tokens_issued(&self) -> Vec<IssuedToken> {
        self.admin.tokens_issued()
    }

    /// What the session actions did and the in-flight figures (see [`Activity`]).
    pub fn activity(&self) -> Activity {
        self.admin.activity()
    }

    /// Clears the activity record and restarts `maxInFlight` and `brokerRequests`; also zeroes
    /// the fault counters and restarts the fault sequence.
    pub fn clear_activity(&self) {
        self.admin.clear_activity();
    }

    /// Restarts `maxInFlight` at the number of requests in flight now.
    pub fn reset_max_in_flight(&self) {
        self.admin.reset_max_in_flight();
    }

    /// The latency injected into broker requests, if any.
    pub fn latency(&self) -> Option<LatencyConfig> {
        self.admin.latency()
    }

    /// Sets (`None`: removes) the latency injected into every broker request. Stored in the
    /// state's `latency`; the jitter sequence restarts from its seed.
    pub fn set_latency(&self, latency: Option<LatencyConfig>) {
        self.admin.set_latency(latency);
    }

    /// The fault injection in force, if any.
    pub fn faults(&self) -> Option<FaultConfig> {
        self.admin.faults()
    }

    /// Sets (`None`: removes) the faults injected into broker requests. Stored in the state's
    /// `faults`; the fault counters are zeroed and the fault sequence restarts from its seed.
    /// Not validated (see [`FaultConfig::validate`]).
    pub fn set_faults(&self, faults: Option<FaultConfig>) {
        self.admin.set_faults(faults);
    }

    /// Fault candidates and injected faults since the last reset ([`Self::set_faults`],
    /// [`Self::clear_activity`], [`Self::set_state`]).
    pub fn fault_stats(&self) -> FaultStats {
        self.admin.fault_stats()
    }

    /// Adds (or replaces) a generated host pool, keeping everything else.
    pub fn generate(&self, spec: &GenerateSpec) -> Result<GeneratedPool, GenerateError> {
        self.admin.generate(spec)
    }

    /// The ARM flavour's settings in force (api-versions, page size, missing-session answer,
    /// rate limits, role assignments, locks); the defaults when the state has none.
    pub fn arm(&self) -> ArmConfig {
        self.admin.arm()
    }

    /// Replaces the ARM flavour's settings (stored in the state's `arm`) and refills the
    /// rate-limit buckets. Not validated beyond the types.
    pub fn set_arm(&self, config: ArmConfig) {
        self.admin.set_arm(config);
    }

    /// Where every host pool is under ARM (subscription, resource group, ARM name, id), in the
    /// order of the state.
    pub fn arm_host_pools(&self) -> Vec<ArmHostPool> {
        self.admin.arm_host_pools()
    }

    /// Refills every ARM rate-limit bucket.
    pub fn reset_arm_rate_limits(&self) {
        self.admin.reset_rate_limits();
    }

    /// The request log switch and capacity.
    pub fn settings(&self) -> EmulatorSettings {
        self.admin.settings()
    }

    /// Replaces the settings; a smaller capacity drops the oldest records at once.
    pub fn set_settings(&self, settings: EmulatorSettings) {
        self.admin.set_settings(settings);
    }

    /// A live feed of request records, each sent once its response status is known.
    /// A receiver that falls more than 1024 records behind misses the oldest ones.
    pub fn subscribe_requests(&self) -> broadcast::Receiver<RequestRecord> {
        self.admin.subscribe_requests()
    }
}

/// A running emulator served by a task on the caller's tokio runtime.
///
/// Dropping it without [`Emulator::shutdown`] still asks the server to stop, but does not wait.
#[derive(Debug)]
pub struct Emulator {
    handle: EmulatorHandle,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl Emulator {
    /// Binds the listener, spawns the server task and returns once the socket is listening
    /// (connections made from then on are queued and served).
    ///
    /// Must be called from within a tokio runtime. Fails when the address cannot be bound or
    /// an access token is empty.
    pub async fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        if config.access_token.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the access token must not be empty",
            ));
        }
        if config.arm_access_token.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the ARM access token must not be empty",
            ));
        }
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let state = SharedState::new(config.seed);
        let app = App::new(
            state.clone(),
            &config.access_token,
            &config.arm_access_token,
            &format!("http://{addr}"),
        );
        let router = router(app);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    // A dropped sender means the handle is gone: stop as well.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Emulator {
            handle: EmulatorHandle {
                addr,
                admin: Admin::new(state),
            },
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Stops accepting connections, lets in-flight requests finish (up to a few seconds)
    /// and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            // A client holding a connection open mid-request must not hang the caller.
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Deref for Emulator {
    type Target = EmulatorHandle;

    /// The admin accessors ([`EmulatorHandle`]) live on the handle so they are written once.
    fn deref(&self) -> &EmulatorHandle {
        &self.handle
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An emulator on its own thread with its own single-threaded tokio runtime.
///
/// For synchronous tests, in particular tests of a blocking C ABI that runs its own runtime
/// and therefore must not be called from inside one. Dropping it stops the server and joins
/// the thread.
#[derive(Debug)]
pub struct BackgroundEmulator {
    handle: EmulatorHandle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl BackgroundEmulator {
    /// Starts the server thread and returns once the emulator is listening.
    /// May be called from anywhere, including from inside another tokio runtime.
    pub fn start(config: EmulatorConfig) -> io::Result<BackgroundEmulator> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<EmulatorHandle>>();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("rds-emulator".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Emulator::start(config).await {
                        Ok(emulator) => {
                            let _ = ready_tx.send(Ok(emulator.handle.clone()));
                            // Also ends when the handle is dropped without sending.
                            let _ = stopped.await;
                            emulator.shutdown().await;
                        }
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                        }
                    }
                });
            })?;
        let handle = match ready_rx.recv() {
            Ok(result) => result?,
            Err(_) => {
                let _ = thread.join();
                return Err(io::Error::other(
                    "the emulator thread ended before it was listening",
                ));
            }
        };
        Ok(BackgroundEmulator {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Deref for BackgroundEmulator {
    type Target = EmulatorHandle;

    /// The admin accessors ([`EmulatorHandle`]) live on the handle so they are written once.
    fn deref(&self) -> &EmulatorHandle {
        &self.handle
    }
}

impl Drop for BackgroundEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread has already been reported by the panic hook;
            // re-raising it from a destructor would only risk an abort.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_debug_output_never_shows_the_credentials() {
        // Debug output (test failures, logs of an EmulatorConfig) never shows the credentials.
        let debug = format!("{:?}", EmulatorConfig::default());
        assert!(!debug.contains("NOT-A-REAL"), "{debug}");
        assert!(debug.contains("admin@contoso.com"), "{debug}");
        let config = EmulatorConfig {
            access_token: "super-secret-token".to_owned(),
            ..EmulatorConfig::default()
        };
        assert!(!format!("{config:?}").contains("super-secret-token"));
    }
}
