//! Every sign-in flow of the core against the emulator's Entra-like endpoints over HTTP, and
//! the broker accepting the tokens they produce.

mod common;

use rds_core::auth::certificate::ClientCertificate;
use rds_core::auth::entra::{
    Authority, ClientCertificateFlow, ClientSecretFlow, DeviceCodePrompt, PasswordFlow,
};
use rds_core::auth::managed_identity::{ManagedIdentityFlow, ManagedIdentitySource};
use rds_core::auth::{Acquire, RefreshingToken};
use rds_core::auth::{Audience, AuthHttp};
use rds_core::{BrokerClient, ErrorCode, ErrorKind, LogoffOptions, SessionTarget};
use rds_emulator::{Emulator, Seed};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

use common::start_with_seed;

const TENANT: &str = "contoso.onmicrosoft.com";
const APP_ID: &str = "22222222-2222-2222-2222-222222222222";
const APP_SECRET: &str = "emulator-test-secret-NOT-A-REAL-SECRET";
const PUBLIC_APP_ID: &str = "44444444-4444-4444-4444-444444444444";
const USER: &str = "admin@contoso.com";
const PASSWORD: &str = "emulator-test-password-NOT-A-REAL-PASSWORD";
const MSI_HEADER: &str = "emulator-test-identity-header-NOT-A-REAL-SECRET";
const CERT_APP_ID: &str = "55555555-5555-5555-5555-555555555555";
const KEY_A: &str = include_str!("../../emulator/tests/fixtures/test-only-rsa-key-a.pem");
const KEY_B: &str = include_str!("../../emulator/tests/fixtures/test-only-rsa-key-b.pem");

fn certificate_pem(key_pem: &str, expired: bool) -> String {
    let key = rcgen::KeyPair::from_pem(key_pem).expect("fixture key");
    let mut params = rcgen::CertificateParams::new(vec!["rds-test".to_owned()]).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "rds-test");
    (params.not_before, params.not_after) = if expired {
        (
            rcgen::date_time_ymd(2000, 1, 1),
            rcgen::date_time_ymd(2001, 1, 1),
        )
    } else {
        (
            rcgen::date_time_ymd(2020, 1, 1),
            rcgen::date_time_ymd(2099, 1, 1),
        )
    };
    params.self_signed(&key).expect("certificate").pem()
}

/// The sample world plus an application that trusts `certificates`, with `lifetime` tokens.
fn seed(certificates: Vec<String>, lifetime: Option<u64>) -> Seed {
    let mut value = serde_json::to_value(Seed::sample()).expect("seed json");
    let identity = value["identity"]
        .as_object_mut()
        .expect("sample has identity");
    identity["applications"]
        .as_array_mut()
        .expect("applications")
        .push(json!({"clientId": CERT_APP_ID, "displayName": "Cert app", "certificates": certificates}));
    if let Some(seconds) = lifetime {
        identity.insert("tokenLifetimeSeconds".into(), Value::from(seconds));
    }
    serde_json::from_value(value).expect("seed")
}

/// [`seed`] with a device code flow that polls every second and expires after `expires_in`.
fn device_code_seed(expires_in: u64) -> Seed {
    let mut value = serde_json::to_value(seed(vec![], None)).expect("json");
    value["identity"]["deviceCode"] = json!({"intervalSeconds": 1, "expiresInSeconds": expires_in});
    serde_json::from_value(value).expect("seed")
}

fn http() -> AuthHttp {
    AuthHttp::new(
        rds_core::client::default_http_client().expect("http"),
        Duration::from_secs(30),
    )
}

fn authority(emu: &Emulator, tenant: &str) -> Authority {
    Authority::new(&emu.url(), tenant).expect("authority")
}

fn secret_flow(emu: &Emulator, tenant: &str, app: &str, secret: &str) -> ClientSecretFlow {
    ClientSecretFlow::new(
        authority(emu, tenant),
        Audience::classic(),
        app,
        SecretString::from(secret),
        http(),
    )
}

fn password_flow(emu: &Emulator, password: &str) -> PasswordFlow {
    PasswordFlow::new(
        authority(emu, TENANT),
        Audience::classic(),
        PUBLIC_APP_ID,
        USER,
        SecretString::from(password),
        http(),
    )
}

/// A certificate from its PEM and its key's PEM.
fn client_certificate(certificate_pem: &str, key_pem: &str) -> ClientCertificate {
    ClientCertificate::from_pem(&format!("{certificate_pem}\n{key_pem}")).expect("certificate")
}

/// A certificate sign-in as [`CERT_APP_ID`].
fn certificate_flow(emu: &Emulator, certificate: ClientCertificate) -> ClientCertificateFlow {
    ClientCertificateFlow::new(
        authority(emu, TENANT),
        Audience::classic(),
        CERT_APP_ID,
        Arc::new(certificate),
        http(),
    )
}

/// Starts a device code sign-in for the public client.
async fn device_code_prompt(emu: &Emulator) -> DeviceCodePrompt {
    DeviceCodePrompt::start(
        authority(emu, TENANT),
        &Audience::classic(),
        PUBLIC_APP_ID,
        http(),
    )
    .await
    .expect("device code")
}

/// The Azure VM (IMDS) managed identity source of `emu`.
fn imds_source(emu: &Emulator) -> ManagedIdentitySource {
    ManagedIdentitySource::from_environment(|n| (n == "IMDS_ENDPOINT").then(|| emu.url()))
        .expect("source")
}

/// The App Service managed identity source of `emu`, sending `identity_header`.
fn app_service_source(emu: &Emulator, identity_header: &str) -> ManagedIdentitySource {
    ManagedIdentitySource::from_environment(|n| match n {
        "IDENTITY_ENDPOINT" => Some(format!("{}/msi/token", emu.url())),
        "IDENTITY_HEADER" => Some(identity_header.to_owned()),
        _ => None,
    })
    .expect("source")
}

/// The first session of the sample, to prove a token works on the broker.
fn first_session(emu: &Emulator) -> SessionTarget {
    let seed = emu.state();
    let tenant = &seed.tenant_groups[0].tenants[0];
    let pool = &tenant.host_pools[0];
    let host = &pool.session_hosts[0];
    SessionTarget::new(
        &tenant.name,
        &pool.name,
        &host.name,
        host.sessions[0].session_id,
    )
}

async fn logoff_with(emu: &Emulator, flow: Box<dyn Acquire>) -> Result<(), rds_core::Error> {
    let client = BrokerClient::builder(emu.url(), Arc::new(RefreshingToken::new(flow)))
        .http_client(http().client().clone())
        .build()?;
    client
        .logoff(&first_session(emu), LogoffOptions::default())
        .await
        .map(|_| ())
}

#[tokio::test]
async fn client_secret_token_logs_a_session_off() {
    let emu = start_with_seed(seed(vec![], None)).await;
    let flow = secret_flow(&emu, TENANT, APP_ID, APP_SECRET);
    let token = flow.acquire().await.expect("token");
    assert_eq!(token.subject().as_deref(), Some(APP_ID));
    assert!(token.expires_at().is_some());
    logoff_with(&emu, Box::new(flow))
        .await
        .expect("broker accepts the issued token");
    let call = emu
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.route == "logoffUser")
        .expect("logoff recorded");
    assert_eq!(call.status, 200);
}

#[tokio::test]
async fn entra_refusals_carry_their_codes_and_never_the_secret() {
    let emu = start_with_seed(seed(vec![], None)).await;
    let cases = [
        (TENANT, APP_ID, "wrong-secret-value", "AADSTS7000215"),
        (
            TENANT,
            "99999999-9999-9999-9999-999999999999",
            APP_SECRET,
            "AADSTS700016",
        ),
        (
            "nosuchtenant.onmicrosoft.com",
            APP_ID,
            APP_SECRET,
            "AADSTS90002",
        ),
    ];
    for (tenant, app, secret, code) in cases {
        let flow = secret_flow(&emu, tenant, app, secret);
        let err = flow.acquire().await.expect_err(code);
        assert_eq!(err.kind(), ErrorKind::Authentication, "{code}");
        assert_eq!(err.service_code(), Some(code));
        assert!(err.message().contains(code), "{}", err.message());
        assert!(
            !err.message().contains(secret),
            "the secret leaked into: {}",
            err.message()
        );
        assert!(!format!("{flow:?}").contains(secret));
    }
}

#[tokio::test]
async fn an_unreachable_authority_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let flow = ClientSecretFlow::new(
        Authority::new(&url, TENANT).expect("authority"),
        Audience::classic(),
        APP_ID,
        SecretString::from(APP_SECRET),
        http(),
    );
    let err = flow.acquire().await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(err.code(), ErrorCode::AuthorityUnreachable);
}

#[tokio::test]
async fn certificate_assertion_signs_in_and_logs_off() {
    let pem = certificate_pem(KEY_A, false);
    let emu = start_with_seed(seed(vec![pem.clone()], None)).await;
    let certificate = client_certificate(&pem, KEY_A);
    assert_eq!(certificate.thumbprint_sha1_hex().len(), 40);
    let flow = certificate_flow(&emu, certificate);
    logoff_with(&emu, Box::new(flow))
        .await
        .expect("certificate sign-in works on the broker");
}

#[tokio::test]
async fn an_unregistered_certificate_is_refused_by_the_authority() {
    let emu = start_with_seed(seed(vec![certificate_pem(KEY_A, false)], None)).await;
    let other = client_certificate(&certificate_pem(KEY_B, false), KEY_B);
    let err = certificate_flow(&emu, other)
        .acquire()
        .await
        .expect_err("unregistered");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.service_code(), Some("AADSTS700027"));
    assert_eq!(err.code(), ErrorCode::InvalidClientCertificate);
}

#[tokio::test]
async fn an_expired_certificate_fails_locally_before_any_request() {
    let pem = certificate_pem(KEY_A, true);
    let emu = start_with_seed(seed(vec![pem.clone()], None)).await;
    let expired = client_certificate(&pem, KEY_A);
    let err = certificate_flow(&emu, expired)
        .acquire()
        .await
        .expect_err("expired");
    assert_eq!(err.code(), ErrorCode::CertificateExpired);
    assert!(emu.tokens_issued().is_empty());
    assert!(
        emu.requests().iter().all(|r| r.route != "token"),
        "no token request was sent"
    );
}

#[tokio::test]
async fn a_pfx_with_a_password_loads_and_a_wrong_password_is_clear() {
    let pem = certificate_pem(KEY_A, false);
    let cert = p12_keystore::Certificate::from_der(&pem::parse(&pem).expect("pem").into_contents())
        .expect("cert");
    let key_der = pem::parse(KEY_A).expect("key pem").into_contents();
    let key = p12_keystore::PrivateKey::from_der(&key_der).expect("key");
    let chain = p12_keystore::PrivateKeyChain::new(b"id".to_vec(), key, vec![cert]);
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry("rds", p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    let pfx = store.writer("pfx-password").write().expect("pfx");
    let loaded = ClientCertificate::from_pfx(&pfx, "pfx-password").expect("right password");
    assert!(loaded.subject().contains("rds-test"));
    let err = ClientCertificate::from_pfx(&pfx, "Tr0ub4dor-guess").expect_err("wrong password");
    assert_eq!(err.code(), ErrorCode::CertificatePasswordInvalid);
    assert!(
        !err.message().contains("Tr0ub4dor-guess"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn password_sign_in_works_and_a_wrong_password_is_invalid_grant() {
    let emu = start_with_seed(seed(vec![], None)).await;
    let flow = password_flow(&emu, PASSWORD);
    assert_eq!(
        flow.acquire().await.expect("token").subject().as_deref(),
        Some(USER)
    );
    logoff_with(&emu, Box::new(flow))
        .await
        .expect("user token works on the broker");

    let wrong = password_flow(&emu, "nope-nope");
    let err = wrong.acquire().await.expect_err("wrong password");
    assert_eq!(err.service_code(), Some("AADSTS50126"));
    assert_eq!(err.code(), ErrorCode::InvalidUserCredentials);
    assert!(!err.message().contains("nope-nope"));
}

#[tokio::test]
async fn device_code_waits_for_approval() {
    let emu = start_with_seed(device_code_seed(60)).await;
    let prompt = device_code_prompt(&emu).await;
    assert!(prompt.message().contains(prompt.user_code()));
    assert!(prompt.verification_uri().starts_with(&emu.url()));
    let user_code = prompt.user_code().to_owned();
    let waiting = tokio::spawn(async move { prompt.complete().await });
    tokio::time::sleep(Duration::from_millis(1500)).await; // at least one authorization_pending
    assert!(
        !waiting.is_finished(),
        "the client waits while the user has not signed in"
    );
    assert!(
        emu.requests().iter().any(|r| r.route == "token"),
        "the client polled"
    );
    let issued_before = emu.tokens_issued().len();
    assert!(
        emu.approve_device_code(&user_code, USER),
        "the pending code is known to the authority"
    );
    let token = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("completes")
        .expect("join")
        .expect("token");
    assert_eq!(token.subject().as_deref(), Some(USER));
    assert_eq!(emu.tokens_issued().len(), issued_before + 1);
}

#[tokio::test]
async fn a_declined_device_code_is_an_authentication_error() {
    let emu = start_with_seed(device_code_seed(60)).await;
    let prompt = device_code_prompt(&emu).await;
    assert!(emu.deny_device_code(prompt.user_code()));
    let err = tokio::time::timeout(Duration::from_secs(10), prompt.complete())
        .await
        .expect("completes")
        .expect_err("declined");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(
        err.message().contains("authorization_declined"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn an_expired_device_code_stops_the_wait() {
    let emu = start_with_seed(device_code_seed(2)).await;
    let prompt = device_code_prompt(&emu).await;
    let err = tokio::time::timeout(Duration::from_secs(15), prompt.complete())
        .await
        .expect("completes")
        .expect_err("expired");
    assert_eq!(err.kind(), ErrorKind::Authentication);
}

#[tokio::test]
async fn managed_identity_imds_and_app_service() {
    let emu = start_with_seed(seed(vec![], None)).await;
    let flow = ManagedIdentityFlow::new(imds_source(&emu), Audience::classic(), None, http());
    assert!(
        flow.acquire()
            .await
            .expect("IMDS token")
            .expires_at()
            .is_some()
    );

    let app = app_service_source(&emu, MSI_HEADER);
    logoff_with(
        &emu,
        Box::new(ManagedIdentityFlow::new(
            app,
            Audience::classic(),
            None,
            http(),
        )),
    )
    .await
    .expect("App Service token works");

    let wrong = app_service_source(&emu, "wrong-header");
    let err = ManagedIdentityFlow::new(wrong, Audience::classic(), None, http())
        .acquire()
        .await
        .expect_err("wrong header");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(!err.message().contains("wrong-header"));

    let err = ManagedIdentityFlow::new(
        imds_source(&emu),
        Audience::classic(),
        Some("77777777-7777-7777-7777-777777777777".into()),
        http(),
    )
    .acquire()
    .await
    .expect_err("unknown identity");
    assert_eq!(err.kind(), ErrorKind::Authentication);
}

#[tokio::test]
async fn tokens_are_renewed_when_they_expire_mid_run() {
    // Two-second tokens: a run that outlives several of them keeps working.
    let emu = start_with_seed(seed(vec![], Some(2))).await;
    let flow = secret_flow(&emu, TENANT, APP_ID, APP_SECRET);
    let client = BrokerClient::builder(emu.url(), Arc::new(RefreshingToken::new(Box::new(flow))))
        .http_client(http().client().clone())
        .build()
        .expect("client");
    let seed_state = emu.state();
    let tenant = &seed_state.tenant_groups[0].tenants[0];
    let pool = &tenant.host_pools[0];
    let mut targets = Vec::new();
    for host in &pool.session_hosts {
        for session in &host.sessions {
            targets.push(SessionTarget::new(
                &tenant.name,
                &pool.name,
                &host.name,
                session.session_id,
            ));
        }
    }
    assert!(targets.len() >= 3);
    for target in targets.iter().take(3) {
        client
            .logoff(target, LogoffOptions::default())
            .await
            .expect("logoff with a live token");
        tokio::time::sleep(Duration::from_millis(2100)).await; // the previous token is now expired
    }
    assert!(
        emu.tokens_issued().len() >= 3,
        "a new token per lifetime: {}",
        emu.tokens_issued().len()
    );
    assert!(
        emu.requests()
            .iter()
            .filter(|r| r.route == "logoffUser")
            .all(|r| r.status == 200)
    );
}

/// Every sign-in through [`rds_core::signin::SignIn`] asks the audience of the service the
/// deployment URL selects: with an ARM mapping, Resource Manager's; the emulator's ARM routes
/// accept those tokens, and a classic-audience token is refused there.
#[tokio::test]
async fn sign_ins_for_arm_get_arm_tokens_that_the_arm_routes_accept() {
    use rds_core::arm::{ArmMapping, MappingSource};
    use rds_core::signin::{Credential, SignIn, SignInOptions};
    let emu = start_with_seed(seed(vec![], None)).await;
    let mut mapping_json = serde_json::to_value(common::arm_mapping(&emu)).expect("json");
    mapping_json["armEndpoint"] = Value::from(emu.url());
    let mapping = ArmMapping::parse(&mapping_json.to_string(), "test").expect("mapping");
    let credentials = [
        Credential::ClientSecret {
            tenant_id: TENANT.into(),
            client_id: APP_ID.into(),
            secret: SecretString::from(APP_SECRET),
        },
        Credential::Password {
            tenant_id: Some(TENANT.into()),
            client_id: Some(PUBLIC_APP_ID.into()),
            username: USER.into(),
            password: SecretString::from(PASSWORD),
        },
        Credential::ManagedIdentity {
            client_id: None,
            identity_endpoint: None,
            identity_header: None,
            imds_endpoint: Some(emu.url()),
        },
        Credential::ManagedIdentity {
            client_id: None,
            identity_endpoint: Some(format!("{}/msi/token", emu.url())),
            identity_header: Some(SecretString::from(MSI_HEADER)),
            imds_endpoint: None,
        },
    ];
    for credential in credentials {
        let what = format!("{credential:?}");
        let options = SignInOptions {
            authority_host: Some(emu.url()),
            arm_mapping: Some(MappingSource {
                mapping: mapping.clone(),
                source: "test".into(),
            }),
            ..SignInOptions::new(emu.url())
        };
        let sign_in = SignIn::new(options, credential, http().client().clone()).expect(&what);
        assert_eq!(
            sign_in.audience().resource(),
            "https://management.azure.com/",
            "{what}"
        );
        let client = sign_in.complete().await.expect(&what).client;
        assert!(client.arm_endpoint().is_some(), "{what}");
        let sessions = client
            .list_sessions("Contoso", "Pool-Desktop")
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(!sessions.is_empty(), "{what}");
    }

    // A classic-audience token is refused by the ARM routes.
    let classic_token = secret_flow(&emu, TENANT, APP_ID, APP_SECRET)
        .acquire()
        .await
        .expect("classic token");
    let client = BrokerClient::builder(
        emu.url(),
        Arc::new(rds_core::StaticToken::new(classic_token)),
    )
    .arm(common::arm_mapping(&emu))
    .build()
    .expect("client");
    let err = client
        .list_sessions("Contoso", "Pool-Desktop")
        .await
        .expect_err("wrong audience");
    assert_eq!(err.code(), ErrorCode::BrokerUnauthorized, "{err}");
}
