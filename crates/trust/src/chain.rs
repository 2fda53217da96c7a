//! Certificate-chain verification against a grid CA directory.
//!
//! The directory has the IGTF layout of `/etc/grid-security/certificates`: CA certificates as
//! `<subject-hash>.0`, their CRLs as `<subject-hash>.r0` (OpenSSL `hash_dir` lookup). Every
//! certificate of the chain must have a current CRL from its issuer
//! (`CRL_CHECK | CRL_CHECK_ALL`), and RFC 3820 proxy certificates are accepted
//! (`ALLOW_PROXY_CERTS`). Validity of certificates and CRLs is evaluated at an instant the
//! caller injects, never at the wall-clock time.
//!
//! Known limits: OpenSSL does not look up CRLs for proxy certificates themselves
//! (openssl/openssl#32364); proxies are short-lived and never listed, while the end-entity
//! certificate behind them is checked. Proxy policies (proxyCertInfo policy language) are not
//! interpreted, GT2/GT3 legacy proxies are refused, and IGTF `.namespaces`/`.signing_policy`
//! files are ignored.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use foreign_types::ForeignTypeRef;
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::error::ErrorStack;
use openssl::ssl::SslFiletype;
use openssl::stack::Stack;
use openssl::x509::store::{X509Lookup, X509Store, X509StoreBuilder};
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{X509, X509Ref, X509StoreContext, X509StoreContextRef};
use openssl_sys as ffi;

use crate::dn::rfc2253;

/// Environment variable that overrides the CA directory (grid convention).
pub const CA_DIR_ENV: &str = "X509_CERT_DIR";

/// CA directory used when `X509_CERT_DIR` is not set.
pub const DEFAULT_CA_DIR: &str = "/etc/grid-security/certificates";

/// The CA directory to use by default: `$X509_CERT_DIR` if set and not empty, otherwise
/// `/etc/grid-security/certificates`.
pub fn default_ca_dir() -> PathBuf {
    match std::env::var_os(CA_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_CA_DIR),
    }
}

/// Whether OpenSSL recognises `cert` as an RFC 3820 proxy certificate (`EXFLAG_PROXY`).
pub fn is_proxy(cert: &X509Ref) -> bool {
    // SAFETY: `cert` is a valid X509; X509_get_extension_flags only caches the parsed
    // extensions inside it (the non-const pointer is an OpenSSL API artefact).
    let flags = unsafe { ffi::X509_get_extension_flags(cert.as_ptr()) };
    flags & ffi::EXFLAG_PROXY != 0
}

/// Why a certificate chain was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChainError {
    /// The CA directory cannot be used.
    #[error("CA directory {path}: {reason}")]
    CaDirectory {
        /// Directory that was given.
        path: PathBuf,
        /// What is wrong with it.
        reason: DirectoryProblem,
    },
    /// A certificate is listed in its issuer's CRL.
    #[error("certificate revoked: {subject} (CRL of {issuer})")]
    Revoked {
        /// Revoked certificate (RFC 2253).
        subject: String,
        /// Issuer whose CRL lists it.
        issuer: String,
    },
    /// A certificate's notAfter is before the verification instant.
    #[error("certificate expired: {subject} (not valid after {not_after})")]
    Expired {
        /// Expired certificate.
        subject: String,
        /// Its notAfter.
        not_after: String,
    },
    /// A certificate's notBefore is after the verification instant.
    #[error("certificate not yet valid: {subject} (not valid before {not_before})")]
    NotYetValid {
        /// Certificate concerned.
        subject: String,
        /// Its notBefore.
        not_before: String,
    },
    /// The issuer of a certificate is neither in the chain nor in the CA directory.
    #[error("untrusted issuer: {issuer} (issuer of {subject}) is not in the CA directory")]
    UntrustedIssuer {
        /// Certificate whose issuer was not found.
        subject: String,
        /// The missing issuer.
        issuer: String,
    },
    /// The chain ends in a self-signed certificate that is not in the CA directory.
    #[error("untrusted issuer: self-signed certificate {subject} is not in the CA directory")]
    UntrustedRoot {
        /// The self-signed certificate.
        subject: String,
    },
    /// No CRL of the issuer was found in the CA directory.
    #[error("no CRL for issuer {issuer} (needed to check {subject})")]
    NoCrl {
        /// Certificate that could not be checked.
        subject: String,
        /// Issuer whose CRL is missing.
        issuer: String,
    },
    /// The issuer's CRL is past its nextUpdate at the verification instant.
    #[error("CRL expired: the CRL of {issuer} is past its nextUpdate (needed to check {subject})")]
    CrlExpired {
        /// Certificate that could not be checked.
        subject: String,
        /// Issuer of the stale CRL.
        issuer: String,
    },
    /// The issuer's CRL has a lastUpdate after the verification instant.
    #[error("CRL not yet valid: the CRL of {issuer} (needed to check {subject})")]
    CrlNotYetValid {
        /// Certificate that could not be checked.
        subject: String,
        /// Issuer of the CRL.
        issuer: String,
    },
    /// A certificate's signature does not verify with its issuer's key.
    #[error("bad certificate signature: {subject} (issuer {issuer})")]
    BadSignature {
        /// Certificate concerned.
        subject: String,
        /// Its claimed issuer.
        issuer: String,
    },
    /// A CRL's signature does not verify with its issuer's key.
    #[error("bad CRL signature: the CRL of {issuer} (needed to check {subject})")]
    BadCrlSignature {
        /// Certificate that could not be checked.
        subject: String,
        /// Issuer of the CRL.
        issuer: String,
    },
    /// A proxy certificate breaks RFC 3820 rules.
    #[error("invalid proxy certificate {subject}: {reason}")]
    InvalidProxy {
        /// Proxy certificate concerned.
        subject: String,
        /// OpenSSL's reason.
        reason: String,
    },
    /// Any other verification failure reported by OpenSSL.
    #[error("certificate rejected: {subject}: {reason} (OpenSSL verify error {code})")]
    Rejected {
        /// Certificate at which verification failed.
        subject: String,
        /// OpenSSL's reason.
        reason: String,
        /// OpenSSL `X509_V_ERR_*` code.
        code: i32,
    },
    /// OpenSSL failed outside the verification itself.
    #[error("certificate chain could not be checked: {0}")]
    OpenSsl(#[from] ErrorStack),
}

/// What makes a directory unusable as a CA directory or a vomsdir.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryProblem {
    /// Its path is not valid UTF-8 (OpenSSL is given the path as a string).
    #[error("path is not valid UTF-8")]
    NotUtf8,
    /// It cannot be read (shared, so that errors stay `Clone`).
    #[error("{0}")]
    Unreadable(Arc<std::io::Error>),
    /// It is not a directory.
    #[error("not a directory")]
    NotADirectory,
    /// It holds no CA certificate.
    #[error("no CA certificates (<hash>.0 files) in it")]
    NoCaCertificates,
}

/// The instants a chain is judged at ([`CaDirectory::verify_chain_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instants {
    /// Revocation and everything but the validity periods.
    pub now: DateTime<Utc>,
    /// The validity periods of the certificates: `now`, or the earlier
    /// instant a transparency log proves the signed document existed.
    pub certificates: DateTime<Utc>,
}

impl From<DateTime<Utc>> for Instants {
    fn from(at: DateTime<Utc>) -> Self {
        Self::at(at)
    }
}

impl Instants {
    /// Everything judged at `at`.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self {
            now: at,
            certificates: at,
        }
    }
}

/// A grid CA directory (`<hash>.0` certificates, `<hash>.r0` CRLs).
#[derive(Debug, Clone)]
pub struct CaDirectory {
    path: PathBuf,
    path_str: String,
}

impl CaDirectory {
    /// Opens `path`, which must be a readable directory holding at least one `<hash>.N`
    /// CA certificate. Files are read at each verification, so CRL updates are seen at once.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ChainError> {
        let path = path.as_ref().to_path_buf();
        let fail = |reason: DirectoryProblem| ChainError::CaDirectory {
            path: path.clone(),
            reason,
        };
        let path_str = path
            .to_str()
            .ok_or_else(|| fail(DirectoryProblem::NotUtf8))?
            .to_owned();
        let entries = std::fs::read_dir(&path)
            .map_err(|e| fail(DirectoryProblem::Unreadable(Arc::new(e))))?;
        let has_ca = entries
            .filter_map(Result::ok)
            .any(|e| is_hashed_cert_name(&e.file_name().to_string_lossy()));
        if !has_ca {
            return Err(fail(DirectoryProblem::NoCaCertificates));
        }
        Ok(Self { path, path_str })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Verifies `leaf` (an end-entity or proxy certificate) with the untrusted
    /// `intermediates` (e.g. the rest of a proxy file) up to a CA of this directory, checking
    /// the CRL of every issuer and all validity periods at `at`.
    pub fn verify_chain(
        &self,
        leaf: &X509Ref,
        intermediates: &[X509],
        at: DateTime<Utc>,
    ) -> Result<VerifiedChain, ChainError> {
        self.verify_in(&self.store(Some(at))?, leaf, intermediates)
    }

    /// [`CaDirectory::verify_chain`] at two instants: revocation (CRLs and
    /// their currency) and everything else at `instants.now`, the validity
    /// periods of the certificates at `instants.certificates` — the earlier
    /// instant a transparency log proves the signed document existed, so
    /// that a certificate that has expired since still counts. A chain valid
    /// now is valid either way; one that fails now for anything but an
    /// expired certificate fails.
    pub fn verify_chain_at(
        &self,
        leaf: &X509Ref,
        intermediates: &[X509],
        instants: Instants,
    ) -> Result<VerifiedChain, ChainError> {
        match self.verify_chain(leaf, intermediates, instants.now) {
            Err(ChainError::Expired { .. }) if instants.certificates < instants.now => {
                // OpenSSL checks revocation before validity periods: the
                // chain failed now only for its dates. Checked again with
                // the dates left out, then the dates at the earlier instant.
                let chain = self.verify_undated(leaf, intermediates)?;
                chain.check_dates(instants.certificates)?;
                Ok(chain)
            }
            other => other,
        }
    }

    /// The chain verified as [`CaDirectory::verify_chain`] does, without
    /// any validity period (of certificates or CRLs).
    fn verify_undated(
        &self,
        leaf: &X509Ref,
        intermediates: &[X509],
    ) -> Result<VerifiedChain, ChainError> {
        self.verify_in(&self.store(None)?, leaf, intermediates)
    }

    /// Verifies `leaf` with `intermediates` in `store`.
    fn verify_in(
        &self,
        store: &X509Store,
        leaf: &X509Ref,
        intermediates: &[X509],
    ) -> Result<VerifiedChain, ChainError> {
        let mut untrusted = Stack::new()?;
        for cert in intermediates {
            untrusted.push(cert.clone())?;
        }
        let mut ctx = X509StoreContext::new()?;
        let outcome = ctx.init(store, leaf, &untrusted, |ctx| {
            if ctx.verify_cert()? {
                Ok(Ok(ctx
                    .chain()
                    .map(|s| s.iter().map(X509Ref::to_owned).collect())))
            } else {
                Ok(Err(failure(ctx)))
            }
        })?;
        let certs: Vec<X509> = outcome?.unwrap_or_default();
        VerifiedChain::new(certs)
    }

    /// A fresh store reading this directory, with CRL and proxy checks,
    /// evaluated at `at` (`None`: no validity period checked).
    fn store(&self, at: Option<DateTime<Utc>>) -> Result<X509Store, ChainError> {
        let mut builder = X509StoreBuilder::new()?;
        builder
            .add_lookup(X509Lookup::hash_dir())?
            .add_dir(&self.path_str, SslFiletype::PEM)?;
        let mut param = X509VerifyParam::new()?;
        let flags = X509VerifyFlags::CRL_CHECK
            | X509VerifyFlags::CRL_CHECK_ALL
            | X509VerifyFlags::ALLOW_PROXY_CERTS;
        match at {
            Some(at) => {
                param.set_flags(flags)?;
                param.set_time(at.timestamp() as _);
            }
            None => param.set_flags(flags | X509VerifyFlags::NO_CHECK_TIME)?,
        }
        builder.set_param(&param)?;
        Ok(builder.build())
    }
}

/// Whether a file name looks like `0123abcd.0` (a hashed CA certificate).
fn is_hashed_cert_name(name: &str) -> bool {
    match name.split_once('.') {
        Some((hash, n)) => {
            hash.len() == 8
                && hash.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Turns OpenSSL's verification error into a [`ChainError`] naming the certificate.
fn failure(ctx: &X509StoreContextRef) -> ChainError {
    let code = ctx.error();
    let depth = ctx.error_depth() as usize;
    let cert = ctx.current_cert().map(X509Ref::to_owned).or_else(|| {
        ctx.chain()
            .and_then(|c| c.get(depth).map(X509Ref::to_owned))
    });
    let (subject, issuer) = cert
        .as_deref()
        .map(|c| (rfc2253(c.subject_name()), rfc2253(c.issuer_name())))
        .unwrap_or_else(|| ("<unknown certificate>".into(), "<unknown issuer>".into()));
    let reason = code.error_string().to_owned();
    let time = |t: Option<&Asn1TimeRef>| t.map(format_time).unwrap_or_default();
    match code.as_raw() {
        ffi::X509_V_ERR_CERT_REVOKED => ChainError::Revoked { subject, issuer },
        ffi::X509_V_ERR_CERT_HAS_EXPIRED => ChainError::Expired {
            subject,
            not_after: time(cert.as_deref().map(X509Ref::not_after)),
        },
        ffi::X509_V_ERR_CERT_NOT_YET_VALID => ChainError::NotYetValid {
            subject,
            not_before: time(cert.as_deref().map(X509Ref::not_before)),
        },
        ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
        | ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        | ffi::X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE => {
            ChainError::UntrustedIssuer { subject, issuer }
        }
        ffi::X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT | ffi::X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN => {
            ChainError::UntrustedRoot { subject }
        }
        ffi::X509_V_ERR_UNABLE_TO_GET_CRL => ChainError::NoCrl { subject, issuer },
        ffi::X509_V_ERR_CRL_HAS_EXPIRED => ChainError::CrlExpired { subject, issuer },
        ffi::X509_V_ERR_CRL_NOT_YET_VALID => ChainError::CrlNotYetValid { subject, issuer },
        ffi::X509_V_ERR_CERT_SIGNATURE_FAILURE => ChainError::BadSignature { subject, issuer },
        ffi::X509_V_ERR_CRL_SIGNATURE_FAILURE => ChainError::BadCrlSignature { subject, issuer },
        ffi::X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED
        | ffi::X509_V_ERR_PROXY_CERTIFICATES_NOT_ALLOWED
        | X509_V_ERR_PROXY_SUBJECT_NAME_VIOLATION => ChainError::InvalidProxy { subject, reason },
        raw => ChainError::Rejected {
            subject,
            reason,
            code: raw,
        },
    }
}

/// `X509_V_ERR_PROXY_SUBJECT_NAME_VIOLATION` (not exported by openssl-sys).
const X509_V_ERR_PROXY_SUBJECT_NAME_VIOLATION: i32 = 67;

/// Formats an ASN.1 time as RFC 3339 (UTC), falling back to OpenSSL's own form.
fn format_time(t: &Asn1TimeRef) -> String {
    asn1_time_to_utc(t)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// Converts an OpenSSL ASN.1 time to a chrono instant.
fn asn1_time_to_utc(t: &Asn1TimeRef) -> Option<DateTime<Utc>> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(t).ok()?;
    DateTime::from_timestamp(i64::from(diff.days) * 86_400 + i64::from(diff.secs), 0)
}

/// A chain that verified: leaf first, trust anchor (a CA of the directory) last.
#[derive(Debug, Clone)]
pub struct VerifiedChain {
    certs: Vec<X509>,
    end_entity: usize,
    subject: String,
    issuer: String,
}

impl VerifiedChain {
    /// Wraps the chain OpenSSL built, locating the end-entity certificate.
    fn new(certs: Vec<X509>) -> Result<Self, ChainError> {
        let end_entity =
            certs
                .iter()
                .position(|c| !is_proxy(c))
                .ok_or_else(|| ChainError::InvalidProxy {
                    subject: certs
                        .first()
                        .map(|c| rfc2253(c.subject_name()))
                        .unwrap_or_default(),
                    reason: "no end-entity certificate behind the proxies".into(),
                })?;
        let eec = &certs[end_entity];
        let subject = rfc2253(eec.subject_name());
        let issuer = rfc2253(eec.issuer_name());
        Ok(Self {
            certs,
            end_entity,
            subject,
            issuer,
        })
    }

    /// Checks that every certificate of the chain was valid at `at`.
    fn check_dates(&self, at: DateTime<Utc>) -> Result<(), ChainError> {
        for cert in &self.certs {
            let subject = || rfc2253(cert.subject_name());
            let (not_before, not_after) = (
                asn1_time_to_utc(cert.not_before()),
                asn1_time_to_utc(cert.not_after()),
            );
            if not_before.is_none_or(|t| at < t) {
                return Err(ChainError::NotYetValid {
                    subject: subject(),
                    not_before: format_time(cert.not_before()),
                });
            }
            if not_after.is_none_or(|t| at > t) {
                return Err(ChainError::Expired {
                    subject: subject(),
                    not_after: format_time(cert.not_after()),
                });
            }
        }
        Ok(())
    }

    /// The certificate that was verified (a proxy or the end-entity certificate).
    pub fn leaf(&self) -> &X509 {
        &self.certs[0]
    }

    /// The end-entity certificate: the identity behind any proxies (first non-proxy).
    pub fn end_entity(&self) -> &X509 {
        &self.certs[self.end_entity]
    }

    /// Position of the end-entity certificate in [`certificates`](Self::certificates).
    pub fn end_entity_index(&self) -> usize {
        self.end_entity
    }

    /// Subject of the end-entity certificate, RFC 2253 as Java writes it.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Issuer of the end-entity certificate, RFC 2253 as Java writes it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Number of proxy certificates in front of the end-entity certificate (0 without proxy).
    pub fn proxy_depth(&self) -> usize {
        self.end_entity
    }

    /// The proxy certificates, leaf first.
    pub fn proxies(&self) -> &[X509] {
        &self.certs[..self.end_entity]
    }

    /// The whole verified chain: leaf first, trust anchor last.
    pub fn certificates(&self) -> &[X509] {
        &self.certs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        assert!(is_hashed_cert_name("9b678c82.0"));
        assert!(is_hashed_cert_name("9B678C82.12"));
        assert!(!is_hashed_cert_name("9b678c82.r0"));
        assert!(!is_hashed_cert_name("9b678c82.signing_policy"));
        assert!(!is_hashed_cert_name("ca.pem"));
        assert!(!is_hashed_cert_name("9b678c8.0"));
    }

    #[test]
    fn open_rejects_missing_and_empty_directories() {
        let dir = tempfile::tempdir().unwrap();
        let err = CaDirectory::open(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                ChainError::CaDirectory {
                    reason: DirectoryProblem::NoCaCertificates,
                    ..
                }
            ),
            "{err}"
        );
        let err = CaDirectory::open(dir.path().join("nope")).unwrap_err();
        assert!(
            matches!(
                &err,
                ChainError::CaDirectory {
                    reason: DirectoryProblem::Unreadable(e),
                    ..
                } if e.kind() == std::io::ErrorKind::NotFound
            ),
            "{err}"
        );
        assert!(err.to_string().starts_with("CA directory"), "{err}");
    }

    #[test]
    fn asn1_time_conversion() {
        let t = Asn1Time::from_str("20200101000000Z").unwrap();
        assert_eq!(
            asn1_time_to_utc(&t).unwrap().to_rfc3339(),
            "2020-01-01T00:00:00+00:00"
        );
        assert_eq!(format_time(&t), "2020-01-01T00:00:00Z");
    }
}
