//! The emulated Entra ID token endpoint: client secret (body and Basic), client assertions
//! signed with certificates, and the resource-owner password flow, with Entra's error bodies.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::json;

use common::entra::{
    APP_ID, APP_SECRET, AssertionSpec, BROKER_SCOPE, CERT_APP_ID, KEY_A, KEY_B, PASSWORD,
    PUBLIC_APP_ID, TENANT, TENANT_ID, TestCert, Thumbprint, UNKNOWN_APP_ID, USER, assert_aad_error,
    assert_unknown_application, assertion_token, certificate, claims, client_secret_token,
    identity, list_with_token, now, post_form, read, start_with, token_url,
};
use common::{Reply, admin_send};
use rds_emulator::{BROKER_RESOURCE, Emulator};
use reqwest::Method;

/// An emulator whose certificate app has `registered` certificates.
async fn start(registered: &[&TestCert]) -> Emulator {
    start_with(identity(registered.iter().map(|c| c.pem.clone()).collect())).await
}

/// Client credentials for [`APP_ID`] with `secret` sent by HTTP Basic authentication.
async fn basic_token(base: &str, tenant: &str, secret: &str) -> Reply {
    let basic = STANDARD.encode(format!("{APP_ID}:{secret}"));
    read(
        common::client()
            .post(token_url(base, tenant))
            .header("Authorization", format!("Basic {basic}"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", BROKER_SCOPE),
            ])
            .send()
            .await
            .expect("sent"),
    )
    .await
}

#[tokio::test]
async fn client_secret_yields_a_broker_token() {
    let emulator = start(&[]).await;
    let before = now();
    let reply = client_secret_token(&emulator.url(), APP_ID, APP_SECRET).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], BROKER_SCOPE);
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["ext_expires_in"], 3600);
    let token = reply.access_token();

    let claims = claims(&token);
    assert_eq!(claims["aud"], BROKER_RESOURCE);
    assert_eq!(claims["appid"], APP_ID);
    assert_eq!(claims["app_displayname"], "RdsSessions test automation");
    assert_eq!(claims["tid"], TENANT_ID);
    assert_eq!(
        claims["iss"],
        format!("{}/{TENANT_ID}/v2.0", emulator.url())
    );
    // `iat` is the issue time rounded to the nearest second.
    let iat = claims["iat"].as_u64().expect("iat");
    assert!(iat >= before && iat <= now() + 1);
    assert_eq!(claims["exp"].as_u64(), Some(iat + 3600));
    assert!(claims["oid"].as_str().is_some_and(|oid| oid.len() == 36));
    assert!(claims.get("upn").is_none());

    let list = list_with_token(&emulator.url(), &token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);

    let log = emulator.requests();
    let token_record = &log[0];
    assert_eq!(token_record.route, "token");
    assert_eq!(token_record.method, "POST");
    assert_eq!(
        token_record.grant_type.as_deref(),
        Some("client_credentials")
    );
    assert_eq!(token_record.client_id.as_deref(), Some(APP_ID));
    assert_eq!(token_record.tenant.as_deref(), Some(TENANT));
    assert_eq!(token_record.caller.as_deref(), Some(APP_ID));
    assert_eq!((token_record.status, token_record.authorized), (200, true));
    assert_eq!(log[1].route, "listSessions");
    assert_eq!(log[1].caller.as_deref(), Some(APP_ID));
    assert!(log[1].authorized);

    let issued = emulator.tokens_issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].client_id, APP_ID);
    assert_eq!(issued[0].grant, "client_credentials");
    assert_eq!(issued[0].credential.as_deref(), Some("secret"));
    assert_eq!(issued[0].username, None);
    assert_eq!(issued[0].issued_at, iat);
    assert_eq!(issued[0].expires_at, iat + 3600);
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_tenant_id_and_basic_client_authentication_work_too() {
    let emulator = start(&[]).await;
    let reply = basic_token(&emulator.url(), TENANT_ID, APP_SECRET).await;
    let token = reply.access_token();
    assert_eq!(claims(&token)["appid"], APP_ID);
    assert_eq!(
        emulator.tokens_issued()[0].tenant.as_deref(),
        Some(TENANT_ID)
    );

    let reply = basic_token(&emulator.url(), TENANT, "not-the-secret").await;
    assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 7000215);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_and_never_echoed() {
    let emulator = start(&[]).await;
    let wrong = "wrong-secret-value-7c1e";
    let reply = read(
        common::client()
            .post(token_url(&emulator.url(), TENANT))
            .header("client-request-id", "0f0e0d0c-0b0a-4909-8807-060504030201")
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", APP_ID),
                ("client_secret", wrong),
                ("scope", BROKER_SCOPE),
            ])
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let description = assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 7000215);
    assert!(
        description.contains("Invalid client secret provided."),
        "{description}"
    );
    assert_eq!(
        reply.json()["correlation_id"],
        "0f0e0d0c-0b0a-4909-8807-060504030201",
        "the client-request-id is echoed as Entra does"
    );
    assert!(!reply.body.contains(wrong));
    assert!(!reply.body.contains(APP_SECRET));
    let log = serde_json::to_string(&emulator.requests()).expect("log");
    assert!(!log.contains(wrong), "{log}");
    assert!(emulator.tokens_issued().is_empty());
    assert!(!emulator.requests()[0].authorized);
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_apps_scopes_tenants_and_grants_fail_like_entra() {
    let emulator = start(&[]).await;
    let base = emulator.url();

    let unknown = UNKNOWN_APP_ID;
    let reply = client_secret_token(&base, unknown, APP_SECRET).await;
    let description = assert_unknown_application(&reply);
    assert!(
        description.contains(&format!(
            "Application with identifier '{unknown}' was not found in the directory '{TENANT}'."
        )),
        "{description}"
    );

    for scope in [
        "https://graph.microsoft.com/.default",
        BROKER_RESOURCE,
        "openid",
    ] {
        let reply = post_form(
            &token_url(&base, TENANT),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", APP_ID),
                ("client_secret", APP_SECRET),
                ("scope", scope),
            ],
        )
        .await;
        assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_scope", 70011);
    }

    let reply = post_form(
        &token_url(&base, "fabrikam.onmicrosoft.com"),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("client_secret", APP_SECRET),
            ("scope", BROKER_SCOPE),
        ],
    )
    .await;
    let description = assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_request", 90002);
    assert!(
        description.contains("fabrikam.onmicrosoft.com"),
        "{description}"
    );

    let reply = post_form(
        &token_url(&base, TENANT),
        &[("grant_type", "authorization_code"), ("client_id", APP_ID)],
    )
    .await;
    assert_aad_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        70003,
    );

    let reply = post_form(&token_url(&base, TENANT), &[("client_id", APP_ID)]).await;
    assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_request", 900144);

    let reply = post_form(
        &token_url(&base, TENANT),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP_ID),
            ("scope", BROKER_SCOPE),
        ],
    )
    .await;
    assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 7000218);
    assert!(emulator.tokens_issued().is_empty());
    emulator.shutdown().await;
}

#[tokio::test]
async fn certificate_assertions_ps256_sha256_and_rs256_sha1() {
    let cert = certificate(KEY_A, "rds-test-a", false);
    let emulator = start(&[&cert]).await;
    let base = emulator.url();
    let audience = token_url(&base, TENANT);

    let assertion = AssertionSpec::new(&cert, CERT_APP_ID, &audience).sign();
    let reply = assertion_token(&base, Some(CERT_APP_ID), &assertion).await;
    let token = reply.access_token();
    assert_eq!(claims(&token)["appid"], CERT_APP_ID);
    assert_eq!(list_with_token(&base, &token).await.status, StatusCode::OK);

    let rs256 = AssertionSpec {
        alg: Algorithm::RS256,
        thumbprint: Thumbprint::Sha1,
        // The tenant id is an alias of the same directory, so it is a valid audience as well.
        aud: token_url(&base, TENANT_ID),
        ..AssertionSpec::new(&cert, CERT_APP_ID, &audience)
    }
    .sign();
    // Without client_id: the emulator takes it from the assertion's issuer.
    let reply = assertion_token(&base, None, &rs256).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let issued = emulator.tokens_issued();
    assert_eq!(issued.len(), 2);
    assert!(
        issued
            .iter()
            .all(|t| t.credential.as_deref() == Some("certificate"))
    );
    let log = serde_json::to_string(&emulator.requests()).expect("log");
    assert!(!log.contains(&assertion) && !log.contains(&rs256));
    emulator.shutdown().await;
}

#[tokio::test]
async fn assertion_failures_have_entra_codes() {
    let cert = certificate(KEY_A, "rds-test-a", false);
    let unregistered = certificate(KEY_B, "rds-test-b", false);
    let expired_cert = certificate(KEY_B, "rds-test-expired", true);
    let emulator = start(&[&cert, &expired_cert]).await;
    let base = emulator.url();
    let audience = token_url(&base, TENANT);
    let valid = AssertionSpec::new(&cert, CERT_APP_ID, &audience);

    let cases: Vec<(&str, AssertionSpec, u64, &str)> = vec![
        (
            "signed by another key",
            AssertionSpec {
                signing_key: KEY_B,
                ..valid.clone()
            },
            700027,
            "Client assertion failed signature validation.",
        ),
        (
            "certificate not registered",
            AssertionSpec::new(&unregistered, CERT_APP_ID, &audience),
            700027,
            "is not registered on application",
        ),
        (
            "registered certificate expired",
            AssertionSpec::new(&expired_cert, CERT_APP_ID, &audience),
            700027,
            "has expired",
        ),
        (
            "assertion expired",
            AssertionSpec {
                exp: now() - 3600,
                nbf: now() - 7200,
                ..valid.clone()
            },
            700024,
            "Client assertion is not within its valid time range.",
        ),
        (
            "assertion not yet valid",
            AssertionSpec {
                nbf: now() + 3600,
                exp: now() + 7200,
                ..valid.clone()
            },
            700024,
            "not within its valid time range",
        ),
        (
            "wrong audience",
            AssertionSpec {
                aud: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
                    .to_owned(),
                ..valid.clone()
            },
            50012,
            "invalid audience",
        ),
        (
            "subject is another client",
            AssertionSpec {
                sub: "someone-else".to_owned(),
                ..valid.clone()
            },
            700023,
            "issuer and subject",
        ),
        (
            "no jti",
            AssertionSpec {
                jti: None,
                ..valid.clone()
            },
            50027,
            "jti",
        ),
    ];
    for (name, spec, code, text) in cases {
        let assertion = spec.sign();
        let reply = assertion_token(&base, Some(CERT_APP_ID), &assertion).await;
        let description =
            assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", code);
        assert!(description.contains(text), "{name}: {description}");
        assert!(!reply.body.contains(&assertion), "{name}");
    }

    // Within the 60 s clock skew an assertion that just expired still passes.
    let skewed = AssertionSpec {
        exp: now() - 30,
        nbf: now() - 300,
        ..valid.clone()
    };
    let reply = assertion_token(&base, Some(CERT_APP_ID), &skewed.sign()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // An assertion for the confidential secret app, which has no certificate.
    let reply = assertion_token(
        &base,
        Some(APP_ID),
        &AssertionSpec::new(&cert, APP_ID, &audience).sign(),
    )
    .await;
    assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 700027);

    let reply = assertion_token(&base, Some(CERT_APP_ID), "not.a-jwt").await;
    assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 50027);
    assert_eq!(emulator.tokens_issued().len(), 1, "only the skewed one");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_assertion_audience_follows_the_host_the_client_used() {
    let cert = certificate(KEY_A, "rds-test-a", false);
    let emulator = start(&[&cert]).await;
    let host = "login.emulator.test:4443";
    let audience = format!("http://{host}/{TENANT}/oauth2/v2.0/token");
    let assertion = AssertionSpec::new(&cert, CERT_APP_ID, &audience).sign();
    let reply = read(
        common::client()
            .post(token_url(&emulator.url(), TENANT))
            .header("Host", host)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CERT_APP_ID),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion),
                ("scope", BROKER_SCOPE),
            ])
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let token = reply.access_token();
    assert_eq!(
        claims(&token)["iss"],
        format!("http://{host}/{TENANT_ID}/v2.0")
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn password_grant() {
    let emulator = start(&[]).await;
    let url = token_url(&emulator.url(), TENANT);
    let password_form =
        |client_id: &'static str, username: &'static str, password: &'static str| {
            vec![
                ("grant_type", "password"),
                ("client_id", client_id),
                ("username", username),
                ("password", password),
                ("scope", BROKER_SCOPE),
            ]
        };

    // A public client needs no secret; the username is matched case-insensitively.
    let reply = post_form(
        &url,
        &password_form(PUBLIC_APP_ID, "Admin@Contoso.com", PASSWORD),
    )
    .await;
    let token = reply.access_token();
    let user_claims = claims(&token);
    assert_eq!(user_claims["upn"], USER);
    assert_eq!(user_claims["name"], "Contoso Admin");
    assert_eq!(user_claims["appid"], PUBLIC_APP_ID);
    let list = list_with_token(&emulator.url(), &token).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        emulator
            .requests()
            .last()
            .and_then(|r| r.caller.clone())
            .as_deref(),
        Some(USER)
    );

    // A confidential client must also authenticate itself.
    let mut form = password_form(APP_ID, USER, PASSWORD);
    let reply = post_form(&url, &form).await;
    assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 7000218);
    form.push(("client_secret", APP_SECRET));
    assert_eq!(post_form(&url, &form).await.status, StatusCode::OK);

    // A public client must not present a secret.
    let mut form = password_form(PUBLIC_APP_ID, USER, PASSWORD);
    form.push(("client_secret", "anything"));
    let reply = post_form(&url, &form).await;
    assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 700025);

    for (username, password) in [
        (USER, "wrong-password-3b9d"),
        ("nobody@contoso.com", PASSWORD),
    ] {
        let reply = post_form(&url, &password_form(PUBLIC_APP_ID, username, password)).await;
        let description = assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", 50126);
        assert!(
            description
                .contains("Error validating credentials due to invalid username or password."),
            "{description}"
        );
        assert!(!reply.body.contains(password));
    }
    let reply = post_form(&url, &password_form(UNKNOWN_APP_ID, USER, PASSWORD)).await;
    assert_unknown_application(&reply);

    let issued = emulator.tokens_issued();
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0].username.as_deref(), Some(USER));
    assert_eq!(issued[0].grant, "password");
    assert_eq!(issued[0].credential, None);
    assert_eq!(issued[1].credential.as_deref(), Some("secret"));

    let everything = format!(
        "{}{}",
        serde_json::to_string(&emulator.requests()).expect("log"),
        serde_json::to_string(&issued).expect("issued")
    );
    assert!(!everything.contains(PASSWORD) && !everything.contains("wrong-password-3b9d"));
    assert!(!everything.contains(APP_SECRET));
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_tokens_admin_route_lists_issued_tokens() {
    let emulator = start(&[]).await;
    client_secret_token(&emulator.url(), APP_ID, APP_SECRET)
        .await
        .access_token();
    let reply = read(admin_send(&emulator, Method::GET, "tokens", None).await).await;
    assert_eq!(reply.status, StatusCode::OK);
    let issued = &emulator.tokens_issued()[0];
    assert_eq!(
        reply.json(),
        json!([{
            "clientId": APP_ID,
            "username": null,
            "grant": "client_credentials",
            "credential": "secret",
            "tenant": TENANT,
            "issuedAt": issued.issued_at,
            "expiresAt": issued.expires_at,
        }])
    );
    // Replacing the state starts a clean slate, but issued tokens stay valid.
    let token = client_secret_token(&emulator.url(), APP_ID, APP_SECRET)
        .await
        .access_token();
    emulator.set_state(emulator.state());
    assert!(emulator.tokens_issued().is_empty());
    assert_eq!(
        list_with_token(&emulator.url(), &token).await.status,
        StatusCode::OK
    );
    emulator.shutdown().await;
}
