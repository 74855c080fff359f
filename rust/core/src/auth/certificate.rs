//! Client certificates (PFX or PEM) and the signed client assertion Entra ID accepts instead
//! of a secret (docs/service-facts.md §2.3).

use crate::error::{Error, ErrorCode, shown};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use secrecy::{ExposeSecret, SecretBox};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a client assertion is valid. Entra recommends 5-10 minutes; it is used at once.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// The largest certificate file read: a PFX or PEM with a chain is a few KiB. The bound keeps
/// a wrong path (a disk image, `/dev/zero` behind a symlink) from filling memory.
pub const MAX_CERTIFICATE_FILE_BYTES: u64 = 1024 * 1024;

/// A certificate with its RSA private key. The key is held as a secret (zeroed on drop) and
/// only turned into a signing key for the moment an assertion is signed.
pub struct ClientCertificate {
    der: Vec<u8>,
    /// PKCS#1 DER of the private key.
    key: SecretBox<Vec<u8>>,
    subject: String,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("subject", &self.subject)
            .field("thumbprint", &self.thumbprint_sha1_hex())
            .finish_non_exhaustive()
    }
}

fn cert_error(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::CertificateInvalid, message)
}

impl ClientCertificate {
    /// Loads a `.pfx`/`.p12` file or a PEM file (certificate plus unencrypted private key).
    pub fn from_file(path: &Path, password: Option<&str>) -> Result<ClientCertificate, Error> {
        let bytes = read_certificate_file(path)?;
        if bytes.starts_with(b"-----BEGIN")
            || bytes.iter().take(64).any(|b| *b == b'-')
                && bytes.windows(10).any(|w| w == b"-----BEGIN")
        {
            let text = String::from_utf8(bytes).map_err(|_| {
                cert_error(format!(
                    "The certificate file {} is not valid PEM text",
                    shown(&path.to_string_lossy())
                ))
            })?;
            ClientCertificate::from_pem(&text)
        } else {
            ClientCertificate::from_pfx(&bytes, password.unwrap_or_default())
        }
    }

    /// Loads a PKCS#12 (PFX) archive holding one private key and its certificate.
    pub fn from_pfx(bytes: &[u8], password: &str) -> Result<ClientCertificate, Error> {
        let store = p12_keystore::KeyStore::from_pkcs12(
            bytes,
            password,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .map_err(|e| {
            // Never echo the password; the crate's error text does not contain it.
            Error::new(
                ErrorCode::CertificatePasswordInvalid,
                format!("Cannot open the PFX certificate (wrong password or not a PFX file): {e}"),
            )
        })?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| cert_error("The PFX file holds no private key with a certificate"))?;
        let cert = chain
            .certs()
            .first()
            .ok_or_else(|| cert_error("The PFX file holds a private key but no certificate"))?;
        let key = rsa::RsaPrivateKey::from_pkcs8_der(chain.key().as_der())
            .map_err(|e| cert_error(format!("The PFX private key is not an RSA key: {e}")))?;
        ClientCertificate::new(cert.as_der().to_vec(), key)
    }

    /// Loads PEM text with a `CERTIFICATE` block and a `PRIVATE KEY` or `RSA PRIVATE KEY` block.
    pub fn from_pem(text: &str) -> Result<ClientCertificate, Error> {
        let blocks = pem::parse_many(text)
            .map_err(|e| cert_error(format!("The PEM text cannot be parsed: {e}")))?;
        let cert = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or_else(|| cert_error("The PEM text has no CERTIFICATE block"))?;
        let key = blocks
            .iter()
            .find_map(|b| match b.tag() {
                "PRIVATE KEY" => Some(
                    rsa::RsaPrivateKey::from_pkcs8_der(b.contents()).map_err(|e| e.to_string()),
                ),
                "RSA PRIVATE KEY" => {
                    use rsa::pkcs1::DecodeRsaPrivateKey;
                    Some(
                        rsa::RsaPrivateKey::from_pkcs1_der(b.contents()).map_err(|e| e.to_string()),
                    )
                }
                "ENCRYPTED PRIVATE KEY" => Some(Err(
                    "encrypted PEM keys are not supported; use a PFX file with a password".into(),
                )),
                _ => None,
            })
            .ok_or_else(|| cert_error("The PEM text has no PRIVATE KEY block"))?
            .map_err(|e| cert_error(format!("The PEM private key cannot be used: {e}")))?;
        ClientCertificate::new(cert.contents().to_vec(), key)
    }

    fn new(der: Vec<u8>, key: rsa::RsaPrivateKey) -> Result<ClientCertificate, Error> {
        let (_, parsed) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| cert_error(format!("The certificate cannot be parsed: {e}")))?;
        let validity = parsed.validity();
        let to_time = |t: &x509_parser::time::ASN1Time| {
            UNIX_EPOCH + Duration::from_secs(t.timestamp().max(0) as u64)
        };
        let pkcs1 = key
            .to_pkcs1_der()
            .map_err(|e| cert_error(format!("The private key cannot be encoded: {e}")))?;
        Ok(ClientCertificate {
            subject: parsed.subject().to_string(),
            not_before: to_time(&validity.not_before),
            not_after: to_time(&validity.not_after),
            key: SecretBox::new(Box::new(pkcs1.as_bytes().to_vec())),
            der,
        })
    }

    /// The certificate's subject, for messages.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// SHA-1 thumbprint in upper-case hex, as Windows and the Azure portal show it.
    pub fn thumbprint_sha1_hex(&self) -> String {
        use sha1::Digest as _;
        sha1::Sha1::digest(&self.der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    /// Fails with `CertificateExpired` / `CertificateNotYetValid` outside the validity period.
    pub fn check_validity(&self, now: SystemTime) -> Result<(), Error> {
        if now > self.not_after {
            return Err(Error::new(
                ErrorCode::CertificateExpired,
                format!(
                    "The certificate '{}' (thumbprint {}) has expired",
                    self.subject,
                    self.thumbprint_sha1_hex()
                ),
            ));
        }
        if now < self.not_before {
            return Err(Error::new(
                ErrorCode::CertificateNotYetValid,
                format!(
                    "The certificate '{}' (thumbprint {}) is not valid yet",
                    self.subject,
                    self.thumbprint_sha1_hex()
                ),
            ));
        }
        Ok(())
    }

    /// A client assertion for `client_id` at the token endpoint `audience`: PS256 with the
    /// `x5t#S256` thumbprint header, as the current Entra documentation specifies.
    pub fn assertion(&self, client_id: &str, audience: &str) -> Result<String, Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = AssertionClaims {
            aud: audience,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME.as_secs(),
        };
        let mut header = Header::new(Algorithm::PS256);
        header.x5t_s256 = Some(URL_SAFE_NO_PAD.encode(Sha256::digest(&self.der)));
        let key = EncodingKey::from_rsa_der(self.key.expose_secret());
        jsonwebtoken::encode(&header, &claims, &key).map_err(|e| {
            Error::new(
                ErrorCode::CertificateInvalid,
                format!("Signing the client assertion failed: {e}"),
            )
        })
    }
}

/// Reads a certificate file only when it is a regular file of at most
/// [`MAX_CERTIFICATE_FILE_BYTES`]: a FIFO would block the read forever, a device could stream
/// without end. The read itself is bounded too (files under /proc report size 0).
fn read_certificate_file(path: &Path) -> Result<Vec<u8>, Error> {
    let shown_path = || shown(&path.to_string_lossy());
    let metadata = std::fs::metadata(path).map_err(|e| {
        Error::new(
            ErrorCode::CertificateNotFound,
            format!(
                "Cannot read the certificate file (CertificatePath) {}: {e}",
                shown_path()
            ),
        )
    })?;
    if !metadata.is_file() {
        return Err(cert_error(format!(
            "The certificate file (CertificatePath) {} is not a regular file",
            shown_path()
        )));
    }
    let too_large = || {
        cert_error(format!(
            "The certificate file (CertificatePath) {} is larger than {} KiB; a certificate file is a few KiB",
            shown_path(),
            MAX_CERTIFICATE_FILE_BYTES / 1024
        ))
    };
    if metadata.len() > MAX_CERTIFICATE_FILE_BYTES {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(|e| {
        Error::new(
            ErrorCode::CertificateNotFound,
            format!(
                "Cannot read the certificate file (CertificatePath) {}: {e}",
                shown_path()
            ),
        )
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_CERTIFICATE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            cert_error(format!(
                "Cannot read the certificate file (CertificatePath) {}: {e}",
                shown_path()
            ))
        })?;
    if bytes.len() as u64 > MAX_CERTIFICATE_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}
