//! Verification: the profile, then the Reference digest, then the
//! signature value with the KeyInfo certificates.

use super::algorithm::{digest_of, signature_method};
use super::digest::{reference_digest, signed_info_bytes};
use super::form;
use super::parse::parse;
use super::profile::check_profile;
use super::{Layout, SignatureError, VerifiedSignature};
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, PKeyRef, Public};
use openssl::sign::Verifier;
use openssl::x509::X509;

/// What a signature signs, as one value: SHA-256 over its SignatureValue and
/// DigestValue. Two documents that verify and have the same value are the
/// same signed content, however each writes it (character references,
/// quoting, line ends inside the content: canonicalization erases them), so
/// a store can tell a re-serialised copy of an entry from another entry.
/// Reads the profile's parts only; verifies nothing.
pub fn signed_identity(xml: &str) -> Result<[u8; 32], SignatureError> {
    let doc = parse(xml)?;
    let parts = check_profile(xml, &doc, Layout::Stored)?;
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(&parts.signature_value);
    hasher.update(&parts.digest_value);
    Ok(hasher.finish())
}

/// Verifies the signature of `xml` under the strict profile, as an upload.
pub fn verify(xml: &str) -> Result<VerifiedSignature, SignatureError> {
    verify_with(xml, Layout::Signers)
}

/// Verifies the signature of `xml` under the strict profile, reading its
/// unsigned parts as `layout` says.
pub fn verify_with(xml: &str, layout: Layout) -> Result<VerifiedSignature, SignatureError> {
    let doc = parse(xml)?;
    let parts = check_profile(xml, &doc, layout)?;
    let digest = reference_digest(
        &doc,
        parts.signature,
        parts.reference_c14n,
        digest_of(&parts.digest_method)?,
    )?;
    if digest.as_ref() != parts.digest_value.as_slice() {
        return Err(SignatureError::DigestMismatch);
    }
    let signed_info = signed_info_bytes(&doc, parts.signed_info, parts.c14n)?;
    let (key_type, md) = signature_method(&parts.signature_method)?;
    let signer = parts
        .certificates
        .iter()
        .find(|cert| {
            cert.public_key().is_ok_and(|key| {
                key.id() == key_type
                    && verify_value(&key, md, key_type, &signed_info, &parts.signature_value)
            })
        })
        .cloned()
        .ok_or(SignatureError::BadSignatureValue)?;
    if layout == Layout::Signers {
        form::check_certificate_path(&parts.certificates, &signer)?;
    }
    Ok(VerifiedSignature {
        signer,
        certificates: parts.certificates,
        signature_method: parts.signature_method,
        digest_method: parts.digest_method,
    })
}

fn verify_value(
    key: &PKeyRef<Public>,
    md: MessageDigest,
    key_type: Id,
    data: &[u8],
    value: &[u8],
) -> bool {
    let der;
    let value = if key_type == Id::EC {
        match raw_to_der_ecdsa(value) {
            Some(d) => {
                der = d;
                der.as_slice()
            }
            None => return false,
        }
    } else {
        value
    };
    Verifier::new(md, key)
        .and_then(|mut v| {
            v.update(data)?;
            v.verify(value)
        })
        .unwrap_or(false)
}

/// XML-DSig carries ECDSA signatures as `r ‖ s`; OpenSSL wants DER.
fn raw_to_der_ecdsa(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let sig =
        EcdsaSig::from_private_components(BigNum::from_slice(r).ok()?, BigNum::from_slice(s).ok()?)
            .ok()?;
    sig.to_der().ok()
}

/// The public key of a certificate, for callers that check key types.
pub fn public_key(cert: &X509) -> Result<PKey<Public>, SignatureError> {
    cert.public_key()
        .map_err(|e| SignatureError::Certificate(e.to_string()))
}
