//! Certificates met outside a signed document: the DER chain of a TLS
//! handshake, the PEM blocks a trusted proxy forwards, the PEM files an
//! operator names (the server's TLS identity, a certificate to bind an
//! endorser to), the subjects of a CA directory and the public key a TLS
//! handshake signature is checked with.
//!
//! The server reads every certificate through these functions, so that
//! X.509 decoding lives in this crate only. Path validation is
//! [`CaDirectory::verify_chain`](crate::chain::CaDirectory::verify_chain).

use base64::Engine;
use openssl::error::ErrorStack;
use openssl::pkey::PKey;
use std::path::Path;

/// A decoded X.509 certificate (OpenSSL's), as the chain verifier takes it.
pub use openssl::x509::X509;

/// A certificate that could not be decoded (OpenSSL's reason).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct CertificateError(#[from] ErrorStack);

/// Decodes one DER certificate.
pub fn from_der(der: &[u8]) -> Result<X509, CertificateError> {
    Ok(X509::from_der(der)?)
}

/// Decodes a chain of DER certificates, in order.
pub fn chain_from_der<D: AsRef<[u8]>>(ders: &[D]) -> Result<Vec<X509>, CertificateError> {
    ders.iter().map(|der| from_der(der.as_ref())).collect()
}

/// Decodes the first PEM certificate of `pem`.
pub fn from_pem(pem: &[u8]) -> Result<X509, CertificateError> {
    Ok(X509::from_pem(pem)?)
}

/// Why PEM blocks did not give a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PemChainError {
    /// A `BEGIN CERTIFICATE` line without its `END` line.
    #[error("a PEM certificate is not terminated")]
    Unterminated,
    /// The text between the lines is not base64.
    #[error("a PEM certificate is not base64")]
    NotBase64,
    /// The decoded bytes are not a certificate.
    #[error("a certificate cannot be read")]
    Unreadable,
    /// More certificates than the caller allows.
    #[error("more than {0} certificates")]
    TooMany(usize),
    /// No `BEGIN CERTIFICATE` line at all.
    #[error("no PEM certificate")]
    Empty,
}

/// The certificates of PEM `text`, in order, at most `max` of them.
/// Whitespace inside the base64 is ignored (a proxy may fold or unfold the
/// lines), and so is any text between the blocks.
pub fn chain_from_pem_text(text: &str, max: usize) -> Result<Vec<X509>, PemChainError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut rest = text;
    let mut chain = Vec::new();
    while let Some(start) = rest.find(BEGIN) {
        let body = &rest[start + BEGIN.len()..];
        let end = body.find(END).ok_or(PemChainError::Unterminated)?;
        let b64: String = body[..end].split_whitespace().collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| PemChainError::NotBase64)?;
        chain.push(X509::from_der(&der).map_err(|_| PemChainError::Unreadable)?);
        if chain.len() > max {
            return Err(PemChainError::TooMany(max));
        }
        rest = &body[end + END.len()..];
    }
    if chain.is_empty() {
        return Err(PemChainError::Empty);
    }
    Ok(chain)
}

/// A TLS server identity: its certificate chain and its private key, DER.
#[derive(Debug)]
pub struct TlsIdentity {
    /// The certificates, leaf first, DER.
    pub chain: Vec<Vec<u8>>,
    /// The private key, PKCS#8 DER.
    pub pkcs8_key: Vec<u8>,
}

/// Why a certificate file and a key file do not make a TLS identity.
#[derive(Debug, thiserror::Error)]
pub enum TlsIdentityError {
    /// The certificate file is not PEM certificates.
    #[error("not PEM certificates: {0}")]
    NotCertificates(ErrorStack),
    /// The certificate file holds no certificate.
    #[error("no certificate in it")]
    NoCertificate,
    /// The key file is not an unencrypted PEM private key.
    #[error("not an unencrypted PEM private key")]
    NotAKey,
    /// The key is not the first certificate's.
    #[error("the key is not the certificate's")]
    KeyMismatch,
    /// Re-encoding failed (OpenSSL's reason).
    #[error(transparent)]
    Encoding(#[from] ErrorStack),
}

/// The TLS identity of PEM certificates (leaf first) and an unencrypted
/// PEM key (PKCS#8, PKCS#1 or SEC1), checked to belong together.
pub fn tls_identity(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsIdentity, TlsIdentityError> {
    let certs = X509::stack_from_pem(cert_pem).map_err(TlsIdentityError::NotCertificates)?;
    let first = certs.first().ok_or(TlsIdentityError::NoCertificate)?;
    let key = PKey::private_key_from_pem(key_pem).map_err(|_| TlsIdentityError::NotAKey)?;
    let matches = first
        .public_key()
        .map(|public| public.public_eq(&key))
        .unwrap_or(false);
    if !matches {
        return Err(TlsIdentityError::KeyMismatch);
    }
    let chain = certs
        .iter()
        .map(|c| c.to_der())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TlsIdentity {
        chain,
        pkcs8_key: key.private_key_to_pkcs8()?,
    })
}

/// The public key of a DER certificate, in the two forms TLS signature
/// checks take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyDer {
    /// The whole `SubjectPublicKeyInfo` (algorithm and key), DER.
    pub spki: Vec<u8>,
    /// The `subjectPublicKey` bits alone (an RSA key's PKCS#1 DER, an EC
    /// point), as raw-key verifiers take them.
    pub key: Vec<u8>,
}

/// The public key of a DER certificate, read without building the whole
/// OpenSSL object.
pub fn public_key_der(der: &[u8]) -> Result<PublicKeyDer, der::Error> {
    use der::{Decode, Encode};
    let certificate = x509_cert::Certificate::from_der(der)?;
    let info = &certificate.tbs_certificate().subject_public_key_info();
    Ok(PublicKeyDer {
        spki: info.to_der()?,
        key: info.subject_public_key.raw_bytes().to_vec(),
    })
}

/// The subject names (DER) of the CA certificates of an OpenSSL hashed
/// directory (`<8 hex digits>.<n>` files), sorted and without duplicates;
/// unreadable files are left out. An unreadable directory gives none.
pub fn directory_subjects(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<Vec<u8>> = entries
        .filter_map(Result::ok)
        .filter(|e| is_hashed_name(&e.file_name().to_string_lossy()))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|pem| X509::from_pem(&pem).ok())
        .filter_map(|c| c.subject_name().to_der().ok())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `<8 hex digits>.<digits>`: the name OpenSSL's `c_rehash` gives a CA
/// certificate.
fn is_hashed_name(name: &str) -> bool {
    name.split_once('.').is_some_and(|(h, n)| {
        h.len() == 8
            && h.bytes().all(|b| b.is_ascii_hexdigit())
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_text_refusals_are_typed() {
        assert_eq!(
            chain_from_pem_text("nothing", 8).unwrap_err(),
            PemChainError::Empty
        );
        assert_eq!(
            chain_from_pem_text("-----BEGIN CERTIFICATE-----\nAAAA", 8).unwrap_err(),
            PemChainError::Unterminated
        );
        assert_eq!(
            chain_from_pem_text(
                "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----",
                8
            )
            .unwrap_err(),
            PemChainError::NotBase64
        );
        assert_eq!(
            chain_from_pem_text(
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                8
            )
            .unwrap_err(),
            PemChainError::Unreadable
        );
    }

    #[test]
    fn hashed_names() {
        assert!(is_hashed_name("0a1b2c3d.0"));
        assert!(is_hashed_name("0A1B2C3D.12"));
        assert!(!is_hashed_name("0a1b2c3d.r0"));
        assert!(!is_hashed_name("0a1b2c3.0"));
        assert!(!is_hashed_name("0a1b2c3d."));
        assert!(!is_hashed_name("ca.pem"));
    }
}
