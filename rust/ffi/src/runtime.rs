//! The process-wide tokio runtime and HTTP connection pool.
//!
//! One runtime for the whole process (PowerShell may open many runspaces; each must not start
//! its own thread pool), created on first use and never dropped: dropping a runtime from a
//! thread it owns panics, and a PowerShell process never unloads native libraries anyway.

use crate::types::ErrorInfo;
use interoptopus::pattern::asynk::{AsyncRuntime, TaskHandle};
use once_cell::sync::{Lazy, OnceCell};
use std::future::Future;

static RUNTIME: Lazy<Result<tokio::runtime::Runtime, String>> = Lazy::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rds-sessions")
        // Requests are I/O bound; a couple of workers serve thousands of concurrent logoffs.
        .worker_threads(2)
        .build()
        .map_err(|e| format!("Could not start the RdsSessions runtime: {e}"))
});

static HTTP: OnceCell<reqwest::Client> = OnceCell::new();

fn runtime() -> Result<&'static tokio::runtime::Runtime, ErrorInfo> {
    RUNTIME.as_ref().map_err(|e| ErrorInfo::internal_message(e))
}

/// Runs `future` to completion on the shared runtime, blocking the calling (foreign) thread.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, ErrorInfo> {
    Ok(runtime()?.block_on(future))
}

/// The one `reqwest::Client` (and so one connection pool) of the process.
pub(crate) fn shared_http_client() -> Result<reqwest::Client, rds_core::Error> {
    HTTP.get_or_try_init(rds_core::client::default_http_client)
        .cloned()
}

/// `AsyncRuntime` for interoptopus async services that spawns onto the shared runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct SharedRuntime;

impl AsyncRuntime for SharedRuntime {
    type T = ();

    fn spawn<Fn, F>(&self, f: Fn) -> TaskHandle
    where
        Fn: FnOnce(Self::T) -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        match RUNTIME.as_ref() {
            Ok(rt) => {
                let join = rt.spawn(f(()));
                TaskHandle::from_handle(join.abort_handle(), tokio::task::AbortHandle::abort)
            }
            // Without a runtime the future is dropped unpolled; interoptopus reports that to the
            // caller as a cancelled task instead of hanging it.
            Err(_) => TaskHandle::from_handle((), |_| {}),
        }
    }
}
