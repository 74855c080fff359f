//! The executable with identity flows: `--token-lifetime`, and no credential ever reaches
//! stdout or stderr.

mod common;

use common::entra::{
    APP_ID, APP_SECRET, MSI_HEADER, PASSWORD, PUBLIC_APP_ID, TENANT, USER, claims,
};
use common::process::EmulatorProcess;
use common::{TG, blocking_form, blocking_request, sessions_path};

const SCOPE: &str = "https%3A%2F%2Fmrs-prod.ame.gbl%2Fmrs-RDInfra-prod%2F.default";

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// POSTs a form body (already URL-encoded) to the token endpoint of [`TENANT`].
fn post_token(url: &str, form: &str) -> (u16, String) {
    let token_path = format!("/{TENANT}/oauth2/v2.0/token");
    blocking_form(url, &token_path, form)
}

/// The `access_token` of a token response body.
fn access_token(body: &str) -> String {
    json(body)["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

#[test]
fn token_lifetime_flag_and_no_credentials_in_the_output() {
    let static_token = "binary-identity-static-token-41ab";
    let mut emulator = EmulatorProcess::start(
        &["--token-lifetime", "120"],
        &[("RDS_EMULATOR_TOKEN", static_token)],
        true,
    );
    let url = emulator.url.clone();
    let token_path = format!("/{TENANT}/oauth2/v2.0/token");

    // Client secret: the flag sets the lifetime.
    let (status, body) = post_token(
        &url,
        &format!(
            "grant_type=client_credentials&client_id={APP_ID}&client_secret={APP_SECRET}&scope={SCOPE}"
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["expires_in"], 120);
    let app_token = access_token(&body);
    let app_claims = claims(&app_token);
    assert_eq!(
        app_claims["exp"].as_u64(),
        app_claims["iat"].as_u64().map(|iat| iat + 120)
    );

    // Password, wrong password, wrong secret.
    let (status, body) = post_token(
        &url,
        &format!(
            "grant_type=password&client_id={PUBLIC_APP_ID}&username={USER}&password={PASSWORD}&scope={SCOPE}"
        ),
    );
    assert_eq!(status, 200, "{body}");
    let user_token = access_token(&body);
    let wrong_password = "binary-wrong-password-9e2c";
    let (status, _) = post_token(
        &url,
        &format!(
            "grant_type=password&client_id={PUBLIC_APP_ID}&username={USER}&password={wrong_password}&scope={SCOPE}"
        ),
    );
    assert_eq!(status, 400);
    let wrong_secret = "binary-wrong-secret-5d7a";
    let (status, _) = post_token(
        &url,
        &format!(
            "grant_type=client_credentials&client_id={APP_ID}&client_secret={wrong_secret}&scope={SCOPE}"
        ),
    );
    assert_eq!(status, 401);

    // Managed identity (App Service) and the broker with the issued tokens.
    let (status, body) = blocking_request(
        &url,
        "GET",
        "/msi/token?resource=https://mrs-prod.ame.gbl/mrs-RDInfra-prod&api-version=2019-08-01",
        &[("X-IDENTITY-HEADER", MSI_HEADER)],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let mi_token = access_token(&body);
    let list = sessions_path(TG, "Contoso", "Pool-Desktop");
    for token in [&app_token, &user_token, &mi_token] {
        let (status, body) = blocking_request(
            &url,
            "GET",
            &list,
            &[("Authorization", &format!("Bearer {token}"))],
            "",
        );
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = blocking_request(&url, "GET", "/_emulator/requests", &[], "");
    assert_eq!(status, 200);
    let request_log = body;

    emulator.close_stdin_and_wait();
    let rest = emulator.rest_of_stdout();
    let stderr = emulator.stderr();
    assert!(
        stderr.contains(&format!("POST {token_path} -> 200")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("POST {token_path} -> 401")),
        "{stderr}"
    );
    assert!(stderr.contains("GET /msi/token -> 200"), "{stderr}");
    let secrets = [
        static_token,
        APP_SECRET,
        PASSWORD,
        MSI_HEADER,
        wrong_password,
        wrong_secret,
        &app_token,
        &user_token,
        &mi_token,
    ];
    for secret in secrets {
        assert!(!stderr.contains(secret), "stderr leaks {secret}: {stderr}");
        assert!(!rest.contains(secret), "stdout leaks {secret}");
        assert!(!request_log.contains(secret), "request log leaks {secret}");
    }
}
