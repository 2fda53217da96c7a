//! Why VOMS attributes are refused.

use crate::chain::{ChainError, DirectoryProblem};
use chrono::{DateTime, Utc};
use openssl::error::ErrorStack;
use std::path::PathBuf;

/// Why VOMS attributes were refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VomsError {
    /// The vomsdir cannot be used.
    #[error("vomsdir {path}: {reason}")]
    VomsDir {
        /// Directory that was given.
        path: PathBuf,
        /// What is wrong with it.
        reason: DirectoryProblem,
    },
    /// The proxy extension or an AC in it cannot be decoded.
    #[error("malformed VOMS attribute certificate: {0}")]
    Malformed(Malformation),
    /// No `.lsc` file for the AC's VO and AA host.
    #[error("no .lsc for VO {vo} host {host} (looked for {path})")]
    NoLsc {
        /// VO named by the AC.
        vo: String,
        /// AA host named by the AC.
        host: String,
        /// File that does not exist.
        path: PathBuf,
    },
    /// The embedded AA certificate does not match the `.lsc` file.
    #[error("AA certificate {subject} (issuer {issuer}) does not match {path}")]
    LscMismatch {
        /// AA certificate subject (oneline).
        subject: String,
        /// AA certificate issuer (oneline).
        issuer: String,
        /// The `.lsc` file.
        path: PathBuf,
    },
    /// The AC embeds no AA certificate.
    #[error("attribute certificate of VO {vo} embeds no AA certificate")]
    NoAaCertificate {
        /// VO named by the AC.
        vo: String,
    },
    /// The AA certificate's chain does not verify against the CA directory.
    #[error("AA certificate {subject} not trusted: {source}")]
    UntrustedAa {
        /// AA certificate subject (RFC 2253).
        subject: String,
        /// Why its chain failed.
        #[source]
        source: ChainError,
    },
    /// The AC signature does not verify with the AA certificate's key.
    #[error("forged attribute certificate: signature does not verify with the key of AA {aa}")]
    ForgedSignature {
        /// AA certificate subject (RFC 2253).
        aa: String,
    },
    /// The AC is signed with an algorithm we do not accept.
    #[error("unsupported AC signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The AC's issuer name is not the AA certificate's subject.
    #[error("AC issuer {ac_issuer} is not the AA certificate subject {aa}")]
    IssuerMismatch {
        /// Issuer named in the AC (RFC 2253).
        ac_issuer: String,
        /// AA certificate subject (RFC 2253).
        aa: String,
    },
    /// The AC's holder is not a certificate of the proxy chain.
    #[error("AC holder does not match: the AC names {holder}, the proxy chain offers {offered}")]
    HolderMismatch {
        /// Holder named in the AC.
        holder: String,
        /// Certificates that could have been the holder.
        offered: String,
    },
    /// The AC's notAfter is before the verification instant.
    #[error("AC expired: AC of VO {vo} valid until {not_after}, checked at {at}")]
    Expired {
        /// VO of the AC.
        vo: String,
        /// notAfter of the AC.
        not_after: DateTime<Utc>,
        /// Verification instant.
        at: DateTime<Utc>,
    },
    /// The AC's notBefore is after the verification instant.
    #[error("AC not yet valid: AC of VO {vo} valid from {not_before}, checked at {at}")]
    NotYetValid {
        /// VO of the AC.
        vo: String,
        /// notBefore of the AC.
        not_before: DateTime<Utc>,
        /// Verification instant.
        at: DateTime<Utc>,
    },
    /// The AC has a critical extension we do not understand (e.g. targeting).
    #[error("unsupported critical AC extension {0}")]
    UnsupportedCriticalExtension(String),
    /// OpenSSL failed.
    #[error("VOMS check failed: {0}")]
    OpenSsl(#[from] ErrorStack),
}

/// What is wrong with the VOMS extension of a proxy or an attribute
/// certificate in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformation {
    /// A DER structure does not decode.
    #[error("{what}: {error}")]
    Der {
        /// What was being decoded (`attribute certificate`, `AC info`, ...).
        what: &'static str,
        /// Why it does not decode.
        error: der::Error,
    },
    /// The AC is not a version 2 attribute certificate.
    #[error("AC version {version} (expected v2)")]
    Version {
        /// The version it has.
        version: u32,
    },
    /// The policyAuthority is not `<vo>://<host:port>`.
    #[error("policyAuthority {authority:?}")]
    PolicyAuthority {
        /// The policyAuthority it has.
        authority: String,
    },
    /// The AC carries no FQAN attribute.
    #[error("no VOMS FQAN attribute")]
    NoFqanAttribute,
    /// The FQAN attribute names no policyAuthority.
    #[error("FQAN attribute without policyAuthority")]
    NoPolicyAuthority,
    /// The holder's issuer is not a directory name.
    #[error("holder issuer is not a DN")]
    HolderIssuerNotDn,
    /// The holder names no certificate.
    #[error("holder names no certificate")]
    NoHolder,
    /// The AC's validity does not fit a date.
    #[error("AC validity out of range")]
    ValidityOutOfRange,
    /// The VO or the AA host cannot name a file of the vomsdir.
    #[error("unusable VO {vo:?} or AA host {host:?}")]
    UnusableVoOrHost {
        /// The VO.
        vo: String,
        /// The AA host.
        host: String,
    },
    /// The outer signature algorithm is not the one signed inside the AC.
    #[error("signature algorithm differs from the one inside the AC")]
    SignatureAlgorithmMismatch,
}
