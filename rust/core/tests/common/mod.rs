//! Helpers shared by the core's tests against the emulator: starting one, a generated bulk
//! host pool, a client with the emulator's static token, and logging sessions off at once.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

pub mod hostile;

use std::sync::Arc;

use rds_core::arm::ArmMapping;
use rds_core::{
    AccessToken, ActionOutcome, BrokerClient, BrokerClientBuilder, Error, LogoffOptions,
    SessionTarget, StaticToken, UserSession,
};
use rds_emulator::{
    DEFAULT_ACCESS_TOKEN, DEFAULT_ARM_ACCESS_TOKEN, Emulator, EmulatorConfig, EmulatorHandle,
    GenerateSpec, Seed,
};
use tokio::task::JoinHandle;

/// Tenant and host pool of the generated pool of [`start_with_bulk_pool`].
pub const BULK_TENANT: &str = "Bulk";
pub const BULK_POOL: &str = "Pool-Bulk";

/// Starts an emulator serving `seed` (with the default static token).
pub async fn start_with_seed(seed: Seed) -> Emulator {
    Emulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator")
}

/// Starts an emulator with the sample data plus [`BULK_TENANT`]/[`BULK_POOL`]: `hosts` hosts
/// of `sessions_per_host` sessions each.
pub async fn start_with_bulk_pool(hosts: u32, sessions_per_host: u32) -> Emulator {
    let emu = start_with_seed(Seed::sample()).await;
    let spec = GenerateSpec {
        tenant: BULK_TENANT.into(),
        host_pool: BULK_POOL.into(),
        hosts,
        sessions_per_host,
        ..GenerateSpec::default()
    };
    emu.generate(&spec).expect("generate");
    emu
}

/// A client builder for `emu` that sends the emulator's default static token.
pub fn static_token_client(emu: &Emulator) -> BrokerClientBuilder {
    flavour_client(emu, Flavour::Classic)
}

/// The two services the emulator serves over the same data; the behaviour tests run on both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// The classic broker (`/RdsManagement/V1`).
    Classic,
    /// Azure Resource Manager (`Microsoft.DesktopVirtualization`), through an ARM mapping.
    Arm,
}

impl Flavour {
    pub const ALL: [Flavour; 2] = [Flavour::Classic, Flavour::Arm];
}

/// A client builder for `emu` in `flavour`, with that flavour's static token. On ARM the
/// mapping names every host pool of the emulator's data explicitly (no discovery).
pub fn flavour_client(emu: &EmulatorHandle, flavour: Flavour) -> BrokerClientBuilder {
    match flavour {
        Flavour::Classic => BrokerClient::builder(
            emu.url(),
            Arc::new(StaticToken::new(AccessToken::new(DEFAULT_ACCESS_TOKEN))),
        ),
        Flavour::Arm => BrokerClient::builder(
            emu.url(),
            Arc::new(StaticToken::new(AccessToken::new(DEFAULT_ARM_ACCESS_TOKEN))),
        )
        .arm(arm_mapping(emu)),
    }
}

/// The ARM mapping of the emulator's data, as an admin would write it: each tenant's
/// subscription and each host pool's resource group and ARM name.
pub fn arm_mapping(emu: &EmulatorHandle) -> ArmMapping {
    let mut tenants = serde_json::Map::new();
    for pool in emu.arm_host_pools() {
        let tenant = tenants.entry(pool.tenant.clone()).or_insert_with(
            || serde_json::json!({"subscriptionId": pool.subscription_id, "hostPools": {}}),
        );
        tenant["hostPools"][&pool.host_pool] = serde_json::json!({"resourceGroup": pool.resource_group, "name": pool.arm_host_pool_name});
    }
    let text = serde_json::json!({ "tenants": tenants }).to_string();
    ArmMapping::parse(&text, "the emulator's data").expect("mapping")
}

/// Builds the client with a limit of `limit` requests in flight at once.
pub fn build_with_limit(builder: BrokerClientBuilder, limit: usize) -> BrokerClient {
    builder
        .build()
        .expect("client")
        .with_concurrency_limit(limit)
        .expect("limit")
}

/// Lists the sessions of the bulk pool.
pub async fn list_bulk_pool(client: &BrokerClient) -> Vec<UserSession> {
    client
        .list_sessions(BULK_TENANT, BULK_POOL)
        .await
        .expect("list the bulk pool")
}

/// Starts a logoff of every session of the bulk pool at once, each on its own task: only the
/// client (its concurrency limit) keeps them from all being in flight together.
pub fn spawn_bulk_logoffs(
    client: &BrokerClient,
    sessions: Vec<UserSession>,
) -> Vec<JoinHandle<Result<ActionOutcome, Error>>> {
    sessions
        .into_iter()
        .map(|s| {
            let client = client.clone();
            tokio::spawn(async move {
                let target =
                    SessionTarget::new(BULK_TENANT, BULK_POOL, s.session_host_name, s.session_id);
                client.logoff(&target, LogoffOptions::default()).await
            })
        })
        .collect()
}
