//! `rds-emulator`: runs the RDS broker emulator as a standalone process: the classic broker
//! (`/RdsManagement/V1/...`) and, over the same data, its Azure Resource Manager flavour
//! (`/subscriptions/...`).
//!
//! Prints exactly one line to stdout once listening,
//! `RDS broker emulator listening on http://127.0.0.1:PORT`, which other programs read to find
//! the URL. Logs one line per broker request to stderr (method, raw path, status; never headers
//! or the token).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rds_emulator::{
    DEFAULT_ACCESS_TOKEN, DEFAULT_ARM_ACCESS_TOKEN, Emulator, EmulatorConfig, EmulatorSettings,
    FaultConfig, Seed,
};
use tokio::sync::{broadcast, oneshot};

/// Windows Virtual Desktop (classic) RDS broker emulator, with its Azure Resource Manager flavour.
#[derive(Parser)]
#[command(name = "rds-emulator", version, about, long_about = None)]
struct Args {
    /// Seed data (JSON, same shape as GET /_emulator/state). Default: the built-in sample.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,

    /// TCP port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Address to listen on. Non-loopback addresses need --allow-remote.
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,

    /// Allow listening on a non-loopback address (the emulator has no real security).
    #[arg(long)]
    allow_remote: bool,

    /// Bearer token clients must send. Prefer the environment variable: command lines are
    /// visible to other users of the machine.
    #[arg(
        long,
        env = "RDS_EMULATOR_TOKEN",
        hide_env_values = true,
        default_value = DEFAULT_ACCESS_TOKEN
    )]
    token: String,

    /// Bearer token the ARM routes (`/subscriptions/...`) accept besides the ARM tokens the
    /// emulated Entra ID issues. Prefer the environment variable.
    #[arg(
        long,
        env = "RDS_EMULATOR_ARM_TOKEN",
        hide_env_values = true,
        default_value = DEFAULT_ARM_ACCESS_TOKEN
    )]
    arm_token: String,

    /// Do not rate-limit ARM requests (no 429, no x-ms-ratelimit-* headers); overrides the
    /// data file's arm.rateLimits.enabled.
    #[arg(long)]
    no_arm_rate_limits: bool,

    /// Items per page of ARM lists when the client sends no pageSize (overrides the data
    /// file's arm.pageSize; default 100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    arm_page_size: Option<u32>,

    /// Lifetime in seconds of the access tokens the emulated Entra ID issues (overrides the
    /// data file's identity.tokenLifetimeSeconds; default 3600). Short lifetimes demonstrate
    /// token refresh.
    #[arg(long, value_name = "SECONDS")]
    token_lifetime: Option<u64>,

    /// Delay every broker request by this many milliseconds (overrides the data file's
    /// latency.fixedMs). Admin and identity endpoints are never delayed.
    #[arg(long, value_name = "MS")]
    latency_ms: Option<u64>,

    /// Add a uniformly distributed extra delay of 0..=MS milliseconds to every broker request
    /// (overrides latency.jitterMs).
    #[arg(long, value_name = "MS")]
    jitter_ms: Option<u64>,

    /// Seed of the jitter sequence, for reproducible runs (overrides latency.seed).
    #[arg(long, value_name = "N")]
    latency_seed: Option<u64>,

    /// Inject faults into broker requests as configured in FILE (JSON, same shape as the data
    /// file's `faults` and PUT /_emulator/faults; replaces the data file's `faults`).
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,

    /// Probability (0 to 1) that a broker request which would otherwise be processed gets an
    /// injected fault (overrides faults.rate; without other fault settings: every kind,
    /// every broker route).
    #[arg(long, value_name = "RATE")]
    fault_rate: Option<f64>,

    /// Seed of the fault sequence, for reproducible runs (overrides faults.seed).
    #[arg(long, value_name = "N")]
    fault_seed: Option<u64>,

    /// Do not keep a request log (GET /_emulator/requests stays empty; stderr still shows
    /// each request). For long benchmarks.
    #[arg(long)]
    no_request_log: bool,

    /// Stop when stdin reaches end of file, so the emulator dies with the process that
    /// spawned it.
    #[arg(long)]
    exit_on_stdin_eof: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rds-emulator: error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    if !args.bind.is_loopback() && !args.allow_remote {
        return Err(format!(
            "refusing to listen on non-loopback address {}; pass --allow-remote if you really \
             want the emulator reachable from other machines",
            args.bind
        ));
    }
    if args.token.is_empty() {
        return Err("the access token must not be empty".to_owned());
    }
    if args.arm_token.is_empty() {
        return Err("the ARM access token must not be empty".to_owned());
    }
    let mut seed = match &args.data {
        Some(path) => Seed::from_file(path).map_err(|e| e.to_string())?,
        None => Seed::sample(),
    };
    if let Some(seconds) = args.token_lifetime {
        seed.identity
            .get_or_insert_with(Default::default)
            .token_lifetime_seconds = seconds;
    }
    if args.latency_ms.is_some() || args.jitter_ms.is_some() || args.latency_seed.is_some() {
        let latency = seed.latency.get_or_insert_with(Default::default);
        if let Some(ms) = args.latency_ms {
            latency.fixed_ms = ms;
        }
        if let Some(ms) = args.jitter_ms {
            latency.jitter_ms = ms;
        }
        if let Some(value) = args.latency_seed {
            latency.seed = Some(value);
        }
    }
    if args.no_arm_rate_limits || args.arm_page_size.is_some() {
        let arm = seed.arm.get_or_insert_with(Default::default);
        if args.no_arm_rate_limits {
            arm.rate_limits.enabled = false;
        }
        if let Some(size) = args.arm_page_size {
            arm.page_size = usize::try_from(size).unwrap_or(usize::MAX);
        }
    }
    if let Some(path) = &args.faults {
        seed.faults = Some(read_faults(path)?);
    }
    if args.fault_rate.is_some() || args.fault_seed.is_some() {
        let faults = seed.faults.get_or_insert_with(FaultConfig::default);
        if let Some(rate) = args.fault_rate {
            faults.rate = rate;
        }
        if let Some(value) = args.fault_seed {
            faults.seed = Some(value);
        }
        faults
            .validate()
            .map_err(|reason| format!("invalid --fault-rate: {reason}"))?;
    }
    let bind = SocketAddr::new(args.bind, args.port);
    let config = EmulatorConfig {
        bind,
        access_token: args.token,
        arm_access_token: args.arm_token,
        seed,
    };
    let emulator = Emulator::start(config)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    if args.no_request_log {
        emulator.set_settings(EmulatorSettings {
            request_log: false,
            ..emulator.settings()
        });
    }

    // Subscribe before announcing the URL so no request can slip past the log.
    let (stop_log, log_stopped) = tokio::sync::oneshot::channel();
    let log = tokio::spawn(log_requests(emulator.subscribe_requests(), log_stopped));
    announce(&emulator.url()).map_err(|e| format!("cannot write to stdout: {e}"))?;

    let stdin_closed = if args.exit_on_stdin_eof {
        Some(watch_stdin())
    } else {
        None
    };
    wait_for_stop(stdin_closed).await;
    // Every request answered before the stop is logged before the process exits: a parent
    // that reads stderr after closing stdin must find the last request there.
    let _ = stop_log.send(());
    let _ = log.await;
    eprintln!("rds-emulator: shutting down");
    emulator.shutdown().await;
    Ok(())
}

/// Reads a fault configuration file.
fn read_faults(path: &std::path::Path) -> Result<FaultConfig, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read faults file '{shown}': {e}"))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("'{shown}' is not a valid fault configuration: {e}"))
}

/// Writes the single stdout line that parent processes parse, and flushes it at once
/// (stdout is block-buffered when it is a pipe).
fn announce(url: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "RDS broker emulator listening on {url}")?;
    stdout.flush()
}

/// One stderr line per broker or identity request. Deliberately only method, raw path and
/// status: the query may carry message text, headers carry tokens and bodies carry secrets.
/// When `stop` fires, the records already sent are written, then the task ends.
async fn log_requests(
    mut records: broadcast::Receiver<rds_emulator::RequestRecord>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            // Records first: a stop never overtakes a request that is already queued.
            biased;
            received = records.recv() => match received {
                Ok(record) => log_request(&record),
                Err(broadcast::error::RecvError::Lagged(missed)) => log_missed(missed),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = &mut stop => break,
        }
    }
    loop {
        match records.try_recv() {
            Ok(record) => log_request(&record),
            Err(broadcast::error::TryRecvError::Lagged(missed)) => log_missed(missed),
            Err(_) => return,
        }
    }
}

fn log_request(record: &rds_emulator::RequestRecord) {
    match record.fault {
        Some(fault) => eprintln!(
            "{} {} -> {} (injected fault: {})",
            record.method,
            record.raw_path,
            record.status,
            fault.name()
        ),
        None => eprintln!("{} {} -> {}", record.method, record.raw_path, record.status),
    }
}

fn log_missed(missed: u64) {
    eprintln!("rds-emulator: {missed} request(s) not logged (log fell behind)");
}

/// Reads (and discards) stdin on a plain thread until end of file or error, then signals.
/// A thread, not a tokio task: tokio's stdin is itself a blocking thread that would keep the
/// runtime from shutting down.
fn watch_stdin() -> oneshot::Receiver<()> {
    let (closed, on_closed) = oneshot::channel();
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buffer = [0u8; 4096];
        loop {
            match stdin.read(&mut buffer) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = closed.send(());
    });
    on_closed
}

/// Waits for Ctrl+C, SIGTERM (Unix) or, when watched, the end of stdin.
async fn wait_for_stop(stdin_closed: Option<oneshot::Receiver<()>>) {
    let stdin_closed = async {
        match stdin_closed {
            Some(closed) => {
                let _ = closed.await;
            }
            None => std::future::pending().await,
        }
    };
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No signal handling available: rely on the other stop conditions.
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = stdin_closed => {}
        () = ctrl_c => {}
        () = terminate() => {}
    }
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut sigterm) => {
            sigterm.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending().await
}
