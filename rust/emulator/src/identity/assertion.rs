//! Certificate credentials: parsing registered certificates and checking client assertions
//! (RFC 7523 JWTs signed with the certificate's private key), as Entra does.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use x509_parser::public_key::PublicKey;

use super::error::AadError;
use crate::clock::utc_timestamp;

/// How far the assertion's `exp`/`nbf` may be off from the emulator's clock (seconds).
pub(crate) const CLOCK_SKEW_SECONDS: u64 = 60;

/// A registered certificate, reduced to what assertion checks need.
#[derive(Clone, Debug)]
pub(crate) struct RegisteredCertificate {
    /// base64url SHA-256 of the DER (`x5t#S256`).
    x5t_s256: String,
    /// base64url SHA-1 of the DER (`x5t`).
    x5t: String,
    /// Upper-case hex SHA-1, the thumbprint Windows and the portal show.
    thumbprint: String,
    not_before: i64,
    not_after: i64,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
}

impl RegisteredCertificate {
    /// Parses one certificate given as PEM or bare base64 DER. Only RSA keys are accepted:
    /// Entra requires RS256/PS256 assertions.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let der = if text.contains("-----BEGIN") {
            x509_parser::pem::Pem::iter_from_buffer(text.as_bytes())
                .filter_map(Result::ok)
                .find(|pem| pem.label == "CERTIFICATE")
                .map(|pem| pem.contents)
                .ok_or_else(|| "no '-----BEGIN CERTIFICATE-----' block found".to_owned())?
        } else {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            STANDARD
                .decode(compact)
                .map_err(|e| format!("neither PEM nor base64 DER ({e})"))?
        };
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| format!("not an X.509 certificate ({e})"))?;
        let Ok(PublicKey::RSA(rsa)) = cert.public_key().parsed() else {
            return Err("the public key is not RSA (Entra assertions are RS256/PS256)".to_owned());
        };
        use sha1::Digest as _;
        let sha1 = sha1::Sha1::digest(&der);
        let sha256 = sha2::Sha256::digest(&der);
        let validity = cert.validity();
        Ok(Self {
            x5t_s256: URL_SAFE_NO_PAD.encode(sha256),
            x5t: URL_SAFE_NO_PAD.encode(sha1),
            thumbprint: hex_upper(&sha1),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            modulus: rsa.modulus.to_vec(),
            exponent: rsa.exponent.to_vec(),
        })
    }
}

/// What an assertion is checked against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AssertionCheck<'a> {
    /// The application the assertion must be for (`iss` and `sub`).
    pub client_id: &'a str,
    /// The application's registered certificates (PEM or base64 DER).
    pub certificates: &'a [String],
    /// Accepted `aud` values: the token endpoint URLs this emulator answers on.
    pub audiences: &'a [String],
    /// Epoch seconds.
    pub now: u64,
}

/// Verifies a client assertion. Order: format, algorithm, certificate lookup by thumbprint,
/// certificate validity, signature, then the claims (`iss`/`sub`, `aud`, time, `jti`), so
/// nothing unauthenticated is judged on its claims.
pub(crate) fn verify_client_assertion(
    assertion: &str,
    check: AssertionCheck<'_>,
) -> Result<(), AadError> {
    let malformed = |reason: &str| {
        AadError::invalid_client(
            50027,
            format!("JWT token is invalid or malformed. [Reason - {reason}]"),
        )
    };
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| malformed("The client assertion is not a JWT."))?;
    if !matches!(header.alg, Algorithm::PS256 | Algorithm::RS256) {
        return Err(signature_failure(&format!(
            "The signing algorithm '{:?}' is not supported; use PS256 or RS256.",
            header.alg
        )));
    }
    let (by_sha256, by_sha1) = (header.x5t_s256.as_deref(), header.x5t.as_deref());
    if by_sha256.is_none() && by_sha1.is_none() {
        return Err(signature_failure(
            "The client assertion header has neither 'x5t#S256' nor 'x5t'.",
        ));
    }
    let registered: Vec<RegisteredCertificate> = check
        .certificates
        .iter()
        .filter_map(|text| RegisteredCertificate::parse(text).ok())
        .collect();
    let certificate = registered.iter().find(|cert| {
        by_sha256.is_some_and(|t| t == cert.x5t_s256) || by_sha1.is_some_and(|t| t == cert.x5t)
    });
    let Some(certificate) = certificate else {
        return Err(AadError::invalid_client(
            700027,
            format!(
                "The certificate with identifier used to sign the client assertion is not \
                 registered on application. [Reason - The key was not found., Thumbprint of key \
                 used by client: '{}', Please visit the Azure Portal, Graph Explorer or directly \
                 use MS Graph to see configured keys for app Id '{}'.]",
                claimed_thumbprint(by_sha256, by_sha1),
                check.client_id
            ),
        ));
    };
    let now = i64::try_from(check.now).unwrap_or(i64::MAX);
    if now > certificate.not_after {
        return Err(AadError::invalid_client(
            700027,
            format!(
                "The certificate used to sign the client assertion has expired. [Reason - The \
                 certificate expired on {}, Thumbprint of key used by client: '{}']",
                utc_timestamp(u64::try_from(certificate.not_after).unwrap_or_default()),
                certificate.thumbprint
            ),
        ));
    }
    if now < certificate.not_before {
        return Err(AadError::invalid_client(
            700027,
            format!(
                "The certificate used to sign the client assertion is not yet valid. [Reason - \
                 The certificate is valid from {}, Thumbprint of key used by client: '{}']",
                utc_timestamp(u64::try_from(certificate.not_before).unwrap_or_default()),
                certificate.thumbprint
            ),
        ));
    }
    let (message, signature) = assertion
        .rsplit_once('.')
        .ok_or_else(|| malformed("The client assertion is not a JWT."))?;
    let key = DecodingKey::from_rsa_raw_components(&certificate.modulus, &certificate.exponent);
    let signature_ok =
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, header.alg)
            .unwrap_or(false);
    if !signature_ok {
        return Err(signature_failure(&format!(
            "The key was found but the signature does not verify with it, Thumbprint of key \
             used by client: '{}'",
            certificate.thumbprint
        )));
    }

    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
        .map_err(|_| malformed("The client assertion's claims are not a JSON object."))?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(check.client_id) || text("sub") != Some(check.client_id) {
        return Err(AadError::invalid_client(
            700023,
            format!(
                "Client assertion issuer and subject must both be the client id '{}'. \
                 [Reason - The 'iss' or 'sub' claim does not match.]",
                check.client_id
            ),
        ));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => check.audiences.contains(aud),
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .any(|aud| check.audiences.iter().any(|a| a == aud)),
        _ => false,
    };
    if !audience_ok {
        return Err(AadError::invalid_client(
            50012,
            format!(
                "Client assertion contains an invalid audience. Expected '{}'.",
                check
                    .audiences
                    .first()
                    .map(String::as_str)
                    .unwrap_or_default()
            ),
        ));
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_f64);
    let skewed_now = check.now as f64;
    let skew = CLOCK_SKEW_SECONDS as f64;
    let Some(exp) = time("exp") else {
        return Err(malformed("The client assertion has no 'exp' claim."));
    };
    let not_yet = time("nbf").is_some_and(|nbf| nbf > skewed_now + skew);
    if exp + skew <= skewed_now || not_yet {
        return Err(AadError::invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, expiry \
                 time of assertion {}.",
                utc_timestamp(check.now),
                utc_timestamp(exp.max(0.0) as u64)
            ),
        ));
    }
    if text("jti").is_none_or(str::is_empty) {
        return Err(malformed("The client assertion has no 'jti' claim."));
    }
    Ok(())
}

fn signature_failure(reason: &str) -> AadError {
    AadError::invalid_client(
        700027,
        format!("Client assertion failed signature validation. [Reason - {reason}]"),
    )
}

/// The thumbprint the client claimed, in hex, for error messages.
fn claimed_thumbprint(by_sha256: Option<&str>, by_sha1: Option<&str>) -> String {
    by_sha1
        .or(by_sha256)
        .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
        .map(|bytes| hex_upper(&bytes))
        .unwrap_or_else(|| "(not decodable)".to_owned())
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
