//! One document checked completely at one instant: format, signature,
//! endorser binding, and (with a CA directory) chain, CRLs and VOMS.

use crate::chain::{CaDirectory, ChainError, Instants, is_proxy};
use crate::dn;
use crate::dsig::{self, SignatureError, VerifiedSignature};
use crate::endorsement::{BindingError, EmailBinding, check_binding};
use crate::voms::{VomsAttributes, VomsDir, VomsError};
use chrono::{DateTime, Utc};
use marketplace_format::{Metadata, ParsedDocument, Problem, datetime};
use openssl::x509::X509;
use serde::Serialize;

/// What to check beyond format and signature.
#[derive(Default)]
pub struct CheckOptions<'a> {
    /// Verify the signer's chain against this CA directory (with CRLs).
    pub ca_dir: Option<&'a CaDirectory>,
    /// Verify VOMS attributes against this vomsdir (needs `ca_dir`).
    pub vomsdir: Option<&'a VomsDir>,
    /// The instant every time-dependent rule is evaluated at.
    pub at: Option<DateTime<Utc>>,
    /// An earlier instant at which a transparency log proves the document
    /// existed (a policy's `signing_time = "log"`): the validity periods of
    /// the signer's certificates and VOMS attribute certificates are judged
    /// then, so that a certificate that has expired since still counts.
    /// Revocation and the entry's own expiry stay judged at `at`.
    pub certificates_at: Option<DateTime<Utc>>,
    /// How the parts the signature does not cover are read: as a new
    /// upload's (the default) or as an accepted entry's.
    pub layout: dsig::Layout,
}

/// The signature part of a report.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SignatureStatus {
    /// No ds:Signature.
    Unsigned,
    /// The signature verifies and the certificate is the endorser's.
    Valid {
        /// Subject of the signing certificate (RFC 2253).
        signer: String,
        /// Subject of the identity behind any proxies (RFC 2253).
        identity: String,
        /// How the endorser's e-mail is bound.
        email: EmailBinding,
        /// Whether the legacy SHA-1 algorithms were used.
        legacy_sha1: bool,
        /// Issuer of the identity behind any proxies (RFC 2253).
        identity_issuer: String,
        /// The public key of that identity: what binds an endorser e-mail
        /// from one entry to the next (a proxy's key changes every time).
        identity_key: PublicKeySummary,
        /// The public key that made the signature (the proxy's, when a
        /// proxy signed).
        signer_key: PublicKeySummary,
    },
    /// The signature is refused.
    Invalid {
        /// Why (serialised as its message).
        reason: SignatureRefusal,
    },
}

/// Why a signature is refused: the signature itself, or its certificate is
/// not the endorser the document names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureRefusal {
    /// The signature does not verify or breaks the strict profile.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The certificate is not the endorser's.
    #[error(transparent)]
    Binding(#[from] BindingError),
}

/// As its message, which is what reports (`--json`) have always carried.
impl Serialize for SignatureRefusal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a certificate's public key is: its kind, size and fingerprint.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicKeySummary {
    /// `RSA`, `EC`, or OpenSSL's name of another kind.
    pub algorithm: String,
    /// Size in bits (RSA modulus, EC group order).
    pub bits: u32,
    /// SHA-256 of the DER SubjectPublicKeyInfo, lowercase hexadecimal (as
    /// `openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum`).
    pub sha256: String,
}

impl PublicKeySummary {
    /// The summary of `certificate`'s public key (empty when OpenSSL
    /// cannot read it, which a verified signature excludes).
    pub fn of(certificate: &X509) -> PublicKeySummary {
        let Ok(key) = certificate.public_key() else {
            return PublicKeySummary {
                algorithm: String::new(),
                bits: 0,
                sha256: String::new(),
            };
        };
        let algorithm = match key.id() {
            openssl::pkey::Id::RSA => "RSA".to_string(),
            openssl::pkey::Id::EC => "EC".to_string(),
            other => format!("{other:?}"),
        };
        let sha256 = key
            .public_key_to_der()
            .ok()
            .and_then(|der| openssl::hash::hash(openssl::hash::MessageDigest::sha256(), &der).ok())
            .map(|digest| digest.iter().map(|b| format!("{b:02x}")).collect())
            .unwrap_or_default();
        PublicKeySummary {
            algorithm,
            bits: key.bits(),
            sha256,
        }
    }
}

/// The chain part of a report (only with a CA directory).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ChainStatus {
    /// Not checked (no CA directory, or the signature failed).
    NotChecked,
    /// The chain verifies at the instant.
    Trusted {
        /// The end entity's subject.
        subject: String,
        /// Its issuer.
        issuer: String,
        /// Number of proxies between the signer and the end entity.
        proxy_depth: usize,
        /// VOMS attributes of the proxy, when it has any.
        voms: Vec<VomsInfo>,
    },
    /// The chain is refused.
    Untrusted {
        /// Why (serialised as its message).
        reason: TrustFailure,
    },
}

/// Why a signer is not trusted: its certificate chain, or the VOMS
/// attributes of its proxy.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TrustFailure {
    /// The certificate chain is refused.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The VOMS attributes are refused.
    #[error(transparent)]
    Voms(#[from] VomsError),
}

/// As its message, which is what reports (`--json`) have always carried.
impl Serialize for TrustFailure {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// VO and FQANs of one verified attribute certificate.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VomsInfo {
    /// The VO.
    pub vo: String,
    /// Its FQANs.
    pub fqans: Vec<String>,
}

impl From<&VomsAttributes> for VomsInfo {
    fn from(a: &VomsAttributes) -> Self {
        VomsInfo {
            vo: a.vo.clone(),
            fqans: a.fqans.clone(),
        }
    }
}

/// Everything known about one document.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentReport {
    /// The content, as read.
    pub metadata: Metadata,
    /// Format problems.
    pub problems: Vec<Problem>,
    /// The signature.
    pub signature: SignatureStatus,
    /// The certificate chain.
    pub chain: ChainStatus,
    /// Whether `dcterms:valid` is past at the instant.
    pub expired: bool,
    /// Remarks that do not make the document invalid.
    pub notes: Vec<String>,
}

impl DocumentReport {
    /// Valid: no format problem, signature not invalid, chain not untrusted.
    /// An unsigned document can be valid (the server requires a signature).
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
            && !matches!(self.signature, SignatureStatus::Invalid { .. })
            && !matches!(self.chain, ChainStatus::Untrusted { .. })
    }

    /// Valid and signed.
    pub fn is_signed_and_valid(&self) -> bool {
        self.is_valid() && matches!(self.signature, SignatureStatus::Valid { .. })
    }
}

/// Checks `bytes` completely. Never panics.
pub fn check_document(bytes: &[u8], options: &CheckOptions<'_>) -> DocumentReport {
    let at = options.at.unwrap_or_else(Utc::now);
    let ParsedDocument {
        metadata,
        problems,
        notes,
        ..
    } = marketplace_format::parse(bytes);
    let mut report = DocumentReport {
        metadata,
        problems,
        signature: SignatureStatus::Unsigned,
        chain: ChainStatus::NotChecked,
        expired: false,
        notes: notes.iter().map(ToString::to_string).collect(),
    };
    if let Some(valid) = &report.metadata.valid
        && let Ok(until) = datetime::parse_utc(valid)
        && until < at
    {
        report.expired = true;
        report.notes.push(format!("the entry expired at {valid}"));
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return report;
    };
    let verified = match dsig::verify_with(text, options.layout) {
        Ok(v) => v,
        Err(SignatureError::Unsigned) => {
            report.notes.push("the document is not signed".into());
            return report;
        }
        Err(e) => {
            report.signature = SignatureStatus::Invalid { reason: e.into() };
            return report;
        }
    };
    let identity = identity_of(&verified);
    let binding = match check_binding(&report.metadata, &identity) {
        Ok(b) => b,
        Err(e) => {
            report.signature = SignatureStatus::Invalid { reason: e.into() };
            return report;
        }
    };
    if binding == EmailBinding::Unverified {
        report.notes.push(format!(
            "the certificate carries no e-mail address: '{}' is not verified by it",
            report.metadata.endorser_email()
        ));
    }
    if verified.is_legacy_sha1() {
        report
            .notes
            .push("signed with the legacy SHA-1 algorithms of the original tools".into());
    }
    if !verified.readable_by_original_tools() {
        report
            .notes
            .push(original_tools_note(verified.algorithm_name()));
    }
    report.signature = SignatureStatus::Valid {
        signer: dn::rfc2253(verified.signer.subject_name()),
        identity: dn::rfc2253(identity.subject_name()),
        email: binding,
        legacy_sha1: verified.is_legacy_sha1(),
        identity_issuer: dn::rfc2253(identity.issuer_name()),
        identity_key: PublicKeySummary::of(&identity),
        signer_key: PublicKeySummary::of(&verified.signer),
    };
    if let Some(ca) = options.ca_dir {
        let instants = Instants {
            now: at,
            certificates: options.certificates_at.map_or(at, |t| t.min(at)),
        };
        report.chain = check_chain(&verified, ca, options.vomsdir, instants);
        if instants.certificates < at
            && matches!(report.chain, ChainStatus::Trusted { .. })
            && matches!(
                check_chain(&verified, ca, options.vomsdir, Instants::at(at)),
                ChainStatus::Untrusted { .. }
            )
        {
            report.notes.push(format!(
                "a certificate of the signer has expired since; it was valid at {}, when the \
                 transparency log proves the document existed",
                instants
                    .certificates
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
    }
    report
}

/// The note on a signature the original Java tools cannot check.
fn original_tools_note(algorithm: &str) -> String {
    format!(
        "signed with {algorithm}, which the original Java tools (stratus-validate-metadata, \
         stratus-download-image) cannot check: they answer \"cannot find validation key\"; \
         for sites that still run them, sign with `marketplace sign --legacy-sha1` (RSA-SHA1)"
    )
}

fn check_chain(
    verified: &VerifiedSignature,
    ca: &CaDirectory,
    vomsdir: Option<&VomsDir>,
    at: Instants,
) -> ChainStatus {
    let others: Vec<X509> = verified
        .certificates
        .iter()
        .filter(|c| c.to_der().ok() != verified.signer.to_der().ok())
        .cloned()
        .collect();
    let chain = match ca.verify_chain_at(&verified.signer, &others, at) {
        Ok(c) => c,
        Err(e) => {
            return ChainStatus::Untrusted { reason: e.into() };
        }
    };
    let voms = match vomsdir {
        Some(dir) => match dir.verify(&chain, ca, at) {
            Ok(list) => list.iter().map(VomsInfo::from).collect(),
            Err(e) => {
                return ChainStatus::Untrusted { reason: e.into() };
            }
        },
        None => Vec::new(),
    };
    ChainStatus::Trusted {
        subject: chain.subject().to_string(),
        issuer: chain.issuer().to_string(),
        proxy_depth: chain.proxy_depth(),
        voms,
    }
}

/// The identity behind the signer: following issuers through the KeyInfo
/// certificates while the current one is a proxy.
fn identity_of(verified: &VerifiedSignature) -> X509 {
    let mut current = verified.signer.clone();
    let mut steps = 0;
    while is_proxy(&current) && steps < verified.certificates.len() {
        let Some(issuer) = verified.certificates.iter().find(|c| {
            c.subject_name()
                .try_cmp(current.issuer_name())
                .is_ok_and(|o| o.is_eq())
                && c.public_key()
                    .ok()
                    .and_then(|k| current.verify(&k).ok())
                    .unwrap_or(false)
        }) else {
            break;
        };
        current = issuer.clone();
        steps += 1;
    }
    current
}
