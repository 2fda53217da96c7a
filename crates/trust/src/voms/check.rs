//! Verifying an attribute certificate: its AA against the vomsdir and the
//! CA directory, its signature, issuer, holder, critical extensions and
//! validity.

use super::ac::{AttributeCertificate, der_rfc2253, parse_chain, same_name};
use super::{Malformation, VomsAttributes, VomsDir, VomsError};
use crate::chain::{CaDirectory, Instants, VerifiedChain};
use crate::dn::rfc2253;
use chrono::{DateTime, Utc};
use der::asn1::ObjectIdentifier as Oid;
use openssl::hash::MessageDigest;
use openssl::sign::Verifier;
use openssl::x509::X509;

impl VomsDir {
    /// Verifies every VOMS AC of a verified proxy chain (see [`parse_chain`]) at `at` (an
    /// instant, or [`Instants`]: the validity periods of the ACs and AA certificates at
    /// another), the AA certificates against `ca`. Returns the attributes of each AC, in
    /// order; an empty list when the chain carries none. Any AC that fails refuses the whole
    /// chain.
    pub fn verify(
        &self,
        chain: &VerifiedChain,
        ca: &CaDirectory,
        at: impl Into<Instants>,
    ) -> Result<Vec<VomsAttributes>, VomsError> {
        let instants = at.into();
        parse_chain(chain.certificates())?
            .iter()
            .map(|ac| self.verify_ac(ac, chain, ca, instants))
            .collect()
    }

    /// Verifies one AC parsed from `chain`: AA certificate against the `.lsc` file and `ca`,
    /// AC signature, issuer, holder (a certificate of `chain` between the proxy carrying the
    /// AC and the end-entity certificate), critical extensions and validity at `at`.
    pub fn verify_ac(
        &self,
        ac: &AttributeCertificate,
        chain: &VerifiedChain,
        ca: &CaDirectory,
        at: impl Into<Instants>,
    ) -> Result<VomsAttributes, VomsError> {
        let instants = at.into();
        let claimed = &ac.claimed;
        let aa = ac
            .aa_certs
            .first()
            .ok_or_else(|| VomsError::NoAaCertificate {
                vo: claimed.vo.clone(),
            })?;
        self.check_lsc(claimed, &ac.aa_certs)?;
        let aa_subject = rfc2253(aa.subject_name());
        ca.verify_chain_at(aa, &ac.aa_certs[1..], instants)
            .map_err(|source| VomsError::UntrustedAa {
                subject: aa_subject.clone(),
                source,
            })?;
        check_signature(ac, aa, &aa_subject)?;
        check_issuer(ac, aa, &aa_subject)?;
        check_holder(ac, chain)?;
        if let Some(oid) = ac.unknown_critical.first() {
            return Err(VomsError::UnsupportedCriticalExtension(oid.clone()));
        }
        check_validity(claimed, instants.certificates)?;
        Ok(VomsAttributes {
            issuer: aa_subject,
            ..claimed.clone()
        })
    }
}

/// The digest for an AC signature algorithm (RSA PKCS#1 v1.5 or ECDSA).
fn digest_for(alg: &Oid) -> Option<MessageDigest> {
    Some(match alg.to_string().as_str() {
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" => MessageDigest::sha1(),
        "1.2.840.113549.1.1.14" | "1.2.840.10045.4.3.1" => MessageDigest::sha224(),
        "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" => MessageDigest::sha256(),
        "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => MessageDigest::sha384(),
        "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => MessageDigest::sha512(),
        _ => return None,
    })
}

fn check_signature(
    ac: &AttributeCertificate,
    aa: &X509,
    aa_subject: &str,
) -> Result<(), VomsError> {
    if ac.signature_algorithm != ac.inner_signature_algorithm {
        return Err(VomsError::Malformed(
            Malformation::SignatureAlgorithmMismatch,
        ));
    }
    let digest = digest_for(&ac.signature_algorithm)
        .ok_or_else(|| VomsError::UnsupportedAlgorithm(ac.signature_algorithm.to_string()))?;
    let key = aa.public_key()?;
    let mut verifier = Verifier::new(digest, &key)?;
    verifier.update(&ac.info_der)?;
    if verifier.verify(&ac.signature).unwrap_or(false) {
        Ok(())
    } else {
        Err(VomsError::ForgedSignature {
            aa: aa_subject.to_owned(),
        })
    }
}

fn check_issuer(ac: &AttributeCertificate, aa: &X509, aa_subject: &str) -> Result<(), VomsError> {
    match &ac.issuer_name {
        Some(name) if same_name(name, aa.subject_name()) => Ok(()),
        other => Err(VomsError::IssuerMismatch {
            ac_issuer: other.as_deref().map(der_rfc2253).unwrap_or_default(),
            aa: aa_subject.to_owned(),
        }),
    }
}

/// The holder must be a certificate between the AC's carrier and the end entity.
fn check_holder(ac: &AttributeCertificate, chain: &VerifiedChain) -> Result<(), VomsError> {
    let certs = chain.certificates();
    let end = chain.end_entity_index().min(certs.len().saturating_sub(1));
    let candidates = certs.get(ac.carrier + 1..=end).unwrap_or_default();
    if candidates.iter().any(|c| ac.holder.matches(c)) {
        return Ok(());
    }
    let offered = candidates
        .iter()
        .map(|c| {
            let serial = c
                .serial_number()
                .to_bn()
                .ok()
                .and_then(|b| b.to_hex_str().ok());
            format!(
                "serial {} of {}",
                serial.map(|s| s.to_string()).unwrap_or_default(),
                rfc2253(c.issuer_name())
            )
        })
        .collect::<Vec<_>>();
    Err(VomsError::HolderMismatch {
        holder: ac.holder.describe(),
        offered: if offered.is_empty() {
            "no certificate".into()
        } else {
            offered.join("; ")
        },
    })
}

fn check_validity(claimed: &VomsAttributes, at: DateTime<Utc>) -> Result<(), VomsError> {
    if at < claimed.not_before {
        return Err(VomsError::NotYetValid {
            vo: claimed.vo.clone(),
            not_before: claimed.not_before,
            at,
        });
    }
    if at > claimed.not_after {
        return Err(VomsError::Expired {
            vo: claimed.vo.clone(),
            not_after: claimed.not_after,
            at,
        });
    }
    Ok(())
}
