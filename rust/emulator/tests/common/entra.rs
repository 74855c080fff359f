//! Helpers for the identity tests: the sample's test identities, certificates made with rcgen
//! from fixture RSA keys, client assertions, and form posts.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rds_emulator::{
    ApplicationConfig, Emulator, EmulatorConfig, IdentityConfig, ManagedIdentityConfig, Seed,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub use super::{Reply, read};
use sha1::Digest as _;

/// The sample's tenants (aliases of one directory).
pub const TENANT: &str = "contoso.onmicrosoft.com";
pub const TENANT_ID: &str = "11111111-1111-1111-1111-111111111111";
/// The sample's confidential application and its secret.
pub const APP_ID: &str = "22222222-2222-2222-2222-222222222222";
pub const APP_SECRET: &str = "emulator-test-secret-NOT-A-REAL-SECRET";
/// The sample's public client application.
pub const PUBLIC_APP_ID: &str = "44444444-4444-4444-4444-444444444444";
/// The sample's user.
pub const USER: &str = "admin@contoso.com";
pub const PASSWORD: &str = "emulator-test-password-NOT-A-REAL-PASSWORD";
/// The sample's system-assigned managed identity and App Service identity header.
pub const SYSTEM_MI_ID: &str = "33333333-3333-3333-3333-333333333333";
pub const MSI_HEADER: &str = "emulator-test-identity-header-NOT-A-REAL-SECRET";
/// Added by [`identity`]: an application with certificates, a user-assigned identity.
pub const CERT_APP_ID: &str = "55555555-5555-5555-5555-555555555555";
pub const USER_MI_ID: &str = "66666666-6666-6666-6666-666666666666";

pub const KEY_A: &str = include_str!("../fixtures/test-only-rsa-key-a.pem");
pub const KEY_B: &str = include_str!("../fixtures/test-only-rsa-key-b.pem");

pub const BROKER_SCOPE: &str = "https://mrs-prod.ame.gbl/mrs-RDInfra-prod/.default";

/// A self-signed test certificate and the PEM of its private key.
#[derive(Clone, Debug)]
pub struct TestCert {
    pub pem: String,
    pub der: Vec<u8>,
    pub key_pem: &'static str,
}

impl TestCert {
    /// `x5t#S256`: base64url SHA-256 of the DER.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&self.der))
    }

    /// `x5t`: base64url SHA-1 of the DER.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&self.der))
    }
}

/// A certificate for `key_pem`; `expired` makes one that ended in 2001.
pub fn certificate(key_pem: &'static str, subject: &str, expired: bool) -> TestCert {
    let key = rcgen::KeyPair::from_pem(key_pem).expect("fixture key loads");
    let mut params = rcgen::CertificateParams::new(vec![subject.to_owned()]).expect("params");
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    } else {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
    }
    let cert = params.self_signed(&key).expect("self-signed certificate");
    TestCert {
        pem: cert.pem(),
        der: cert.der().to_vec(),
        key_pem,
    }
}

/// The sample identity plus [`CERT_APP_ID`] (with `certificates` registered) and the
/// user-assigned identity [`USER_MI_ID`].
pub fn identity(certificates: Vec<String>) -> IdentityConfig {
    let mut identity = Seed::sample()
        .identity
        .expect("the sample has an identity section");
    identity.applications.push(ApplicationConfig {
        client_id: CERT_APP_ID.to_owned(),
        display_name: Some("Certificate app".to_owned()),
        client_secret: None,
        certificates,
        public_client: false,
    });
    identity.managed_identities.push(ManagedIdentityConfig {
        client_id: USER_MI_ID.to_owned(),
        system_assigned: false,
        display_name: None,
    });
    identity
}

/// Starts an emulator serving the sample broker data with `identity`.
pub async fn start_with(identity: IdentityConfig) -> Emulator {
    let mut seed = Seed::sample();
    seed.identity = Some(identity);
    Emulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

pub fn token_url(base: &str, tenant: &str) -> String {
    format!("{base}/{tenant}/oauth2/v2.0/token")
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Which thumbprint header an assertion carries.
#[derive(Clone, Copy, Debug)]
pub enum Thumbprint {
    Sha256,
    Sha1,
}

/// A client assertion; start from [`AssertionSpec::new`] and change what a test needs.
#[derive(Clone, Debug)]
pub struct AssertionSpec {
    pub alg: Algorithm,
    pub thumbprint: Thumbprint,
    /// The certificate named in the header.
    pub cert: TestCert,
    /// The key that signs (normally the certificate's).
    pub signing_key: &'static str,
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub nbf: u64,
    pub jti: Option<String>,
}

impl AssertionSpec {
    /// A valid PS256 + `x5t#S256` assertion for `client_id` at `audience`.
    pub fn new(cert: &TestCert, client_id: &str, audience: &str) -> Self {
        let now = now();
        Self {
            alg: Algorithm::PS256,
            thumbprint: Thumbprint::Sha256,
            cert: cert.clone(),
            signing_key: cert.key_pem,
            iss: client_id.to_owned(),
            sub: client_id.to_owned(),
            aud: audience.to_owned(),
            exp: now + 600,
            nbf: now,
            jti: Some(format!("jti-{now}-{}", std::process::id())),
        }
    }

    pub fn sign(&self) -> String {
        let mut header = Header::new(self.alg);
        match self.thumbprint {
            Thumbprint::Sha256 => header.x5t_s256 = Some(self.cert.x5t_s256()),
            Thumbprint::Sha1 => header.x5t = Some(self.cert.x5t()),
        }
        let mut claims = json!({
            "iss": self.iss, "sub": self.sub, "aud": self.aud,
            "exp": self.exp, "nbf": self.nbf, "iat": self.nbf,
        });
        if let Some(jti) = &self.jti {
            claims["jti"] = json!(jti);
        }
        let key = EncodingKey::from_rsa_pem(self.signing_key.as_bytes()).expect("RSA key");
        jsonwebtoken::encode(&header, &claims, &key).expect("assertion signs")
    }
}

/// POSTs a form.
pub async fn post_form(url: &str, form: &[(&str, &str)]) -> Reply {
    read(
        super::client()
            .post(url)
            .form(form)
            .send()
            .await
            .expect("request sent"),
    )
    .await
}

/// Client credentials with a secret in the body.
pub async fn client_secret_token(base: &str, client_id: &str, secret: &str) -> Reply {
    post_form(
        &token_url(base, TENANT),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", BROKER_SCOPE),
        ],
    )
    .await
}

/// Client credentials with an assertion.
pub async fn assertion_token(base: &str, client_id: Option<&str>, assertion: &str) -> Reply {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", BROKER_SCOPE),
    ];
    if let Some(client_id) = client_id {
        form.push(("client_id", client_id));
    }
    post_form(&token_url(base, TENANT), &form).await
}

/// Asserts an Entra error body: status, `error`, the AADSTS code and the body's shape.
pub fn assert_aad_error(reply: &Reply, status: StatusCode, error: &str, code: u64) -> String {
    assert_eq!(reply.status, status, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let description = body["error_description"]
        .as_str()
        .expect("error_description")
        .to_owned();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    for field in ["trace_id", "correlation_id", "timestamp"] {
        let value = body[field].as_str().unwrap_or_else(|| panic!("{field}"));
        assert!(description.contains(value), "{field} in {description}");
    }
    assert!(uuid_like(body["trace_id"].as_str().expect("trace id")));
    assert!(description.contains("\r\nTrace ID: "), "{description}");
    description
}

/// A client id no test directory knows.
pub const UNKNOWN_APP_ID: &str = "99999999-9999-9999-9999-999999999999";

/// Asserts Entra's error for a client id the directory does not know (AADSTS700016).
pub fn assert_unknown_application(reply: &Reply) -> String {
    assert_aad_error(
        reply,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
    )
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.chars().filter(|c| *c == '-').count() == 4
}

/// The claims of a JWT, unverified.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON claims")
}

/// GETs a broker sessions list with `Authorization: Bearer <token>`.
pub async fn list_with_token(base: &str, token: &str) -> Reply {
    let path = super::sessions_path(super::TG, "Contoso", "Pool-Desktop");
    read(
        super::client()
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent"),
    )
    .await
}
