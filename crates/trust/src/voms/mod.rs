//! VOMS attribute certificates (RFC 5755 ACs inside RFC 3820 proxies).
//!
//! A VOMS proxy carries, in extension `1.3.6.1.4.1.8005.100.100.5`, a
//! `SEQUENCE OF SEQUENCE OF AttributeCertificate`. Each AC names its holder (issuer and serial
//! of the certificate that asked for it), its VO and FQANs (attribute
//! `1.3.6.1.4.1.8005.100.100.4`, an `IetfAttrSyntax` whose policyAuthority is
//! `<vo>://<host>:<port>`), and embeds the attribute authority's (AA) certificate in AC extension
//! `1.3.6.1.4.1.8005.100.100.10`.
//!
//! Verification ([`VomsDir::verify`]) follows the grid `vomsdir` convention: the embedded AA
//! certificate must match `<vomsdir>/<vo>/<host>.lsc` (first line the AA subject, then its
//! issuer, in OpenSSL oneline form), its chain must verify against the CA directory, the AC
//! signature must verify with its key, the holder must be a certificate of the verified proxy
//! chain, and the AC must be valid at the injected instant.
//!
//! Not supported: AA certificates configured as `<vomsdir>/<vo>/*.pem` instead of `.lsc`,
//! targeted ACs (critical targetInformation extension; refused), and generic attributes
//! (`...100.100.11`, ignored). Unlike the VOMS C API there is no 5-minute clock-skew allowance:
//! the caller injects the instant.
//!
//! The modules: `ac` parses the attribute certificates of a proxy (with
//! `asn1`, the RFC 5755 structures VOMS uses), `vomsdir` reads the
//! `.lsc` files that name each VO's trusted AA, `check` verifies an AC
//! against them, and `fqan` is the one normalised form of a FQAN.

mod ac;
mod asn1;
mod check;
mod error;
mod fqan;
mod vomsdir;

use chrono::{DateTime, Utc};
use std::path::PathBuf;

pub use ac::{AttributeCertificate, parse_chain};
pub use error::{Malformation, VomsError};
pub use fqan::{Fqan, FqanError};
pub use vomsdir::VomsDir;

/// Environment variable that overrides the vomsdir (grid convention).
pub const VOMS_DIR_ENV: &str = "X509_VOMS_DIR";

/// vomsdir used when `X509_VOMS_DIR` is not set.
pub const DEFAULT_VOMS_DIR: &str = "/etc/grid-security/vomsdir";

/// The vomsdir to use by default: `$X509_VOMS_DIR` if set and not empty, otherwise
/// `/etc/grid-security/vomsdir`.
pub fn default_vomsdir() -> PathBuf {
    match std::env::var_os(VOMS_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_VOMS_DIR),
    }
}

/// What an attribute certificate says: VO, FQANs, issuing AA, validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VomsAttributes {
    /// VO name (from the policyAuthority `<vo>://<host>:<port>`).
    pub vo: String,
    /// AA endpoint `<host>:<port>` (from the policyAuthority).
    pub uri: String,
    /// FQANs in AC order, normalised by [`Fqan::normalise`]
    /// (`/testvo/Role=NULL/Capability=NULL` becomes `/testvo`).
    pub fqans: Vec<String>,
    /// Issuer of the AC (the AA), RFC 2253 as Java writes it.
    pub issuer: String,
    /// AC serial number, upper-case hex.
    pub serial: String,
    /// Start of the AC validity.
    pub not_before: DateTime<Utc>,
    /// End of the AC validity.
    pub not_after: DateTime<Utc>,
}

impl VomsAttributes {
    /// AA host name (the `uri` without its port).
    pub fn host(&self) -> &str {
        self.uri.split(':').next().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_dirs() {
        // Only checks the fallback shape; the environment may set X509_VOMS_DIR.
        if std::env::var_os(VOMS_DIR_ENV).is_none() {
            assert_eq!(default_vomsdir(), PathBuf::from(DEFAULT_VOMS_DIR));
        }
    }
}
