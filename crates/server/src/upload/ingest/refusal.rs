//! Why a document is not valid signed metadata, one typed reason per
//! problem: the upload pipeline carries these to every handler, which
//! renders them for its representation (the raw routes as the original's
//! message lines, the upload page next to the lines of the document).

use marketplace_format::{CoordinateError, Problem};
use marketplace_trust::document::{SignatureRefusal, TrustFailure};
use std::fmt;

/// The reason of an entry older than the endorser's latest for the image
/// (also the end of that refusal's `invalid metadata: ` line).
pub(super) const OLDER_THAN_LATEST: &str = "older than latest entry";

/// One reason a document is refused as metadata.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    /// A format rule is broken (the problem knows its element, rule and line).
    #[error("{0}")]
    Format(Problem),
    /// The document carries no signature; the marketplace takes signed
    /// documents only.
    #[error("no signature")]
    Unsigned,
    /// The signature does not verify, breaks the strict profile, or its
    /// certificate is not the endorser the document names.
    #[error("invalid signature: {0}")]
    Signature(SignatureRefusal),
    /// The signer's chain or VOMS attributes are refused.
    #[error("untrusted certificate: {0}")]
    Untrusted(TrustFailure),
    /// A key under the marketplace's smallest accepted size.
    #[error(
        "the {role} certificate has a {bits}-bit {algorithm} key; this marketplace accepts new \
         entries signed with {algorithm} keys of at least {floor} bits"
    )]
    WeakKey {
        /// Whose key.
        role: KeyRole,
        /// `RSA` or `EC`.
        algorithm: String,
        /// Its size.
        bits: u32,
        /// The smallest size accepted.
        floor: u32,
    },
    /// The document names no endorser.
    #[error("the document has no endorsement")]
    NoEndorsement,
    /// A coordinate of the entry (identifier, endorser e-mail, created) is
    /// malformed.
    #[error(transparent)]
    Malformed(#[from] CoordinateError),
    /// The certificate does not carry the endorser's address and this
    /// marketplace neither confirms addresses by mail nor accepts
    /// uncertified ones.
    #[error(
        "the signing certificate does not carry the endorser e-mail '{0}', and e-mail \
         confirmation is not enabled on this marketplace: sign with a certificate that carries \
         this address"
    )]
    UncertifiedEmail(String),
    /// Older than the endorser's latest entry for the image.
    #[error("{OLDER_THAN_LATEST}")]
    OlderThanLatest {
        /// The latest entry's created.
        latest: String,
    },
    /// The confirmation mail cannot be addressed to the endorser's e-mail.
    #[error("{0}")]
    Recipient(String),
}

impl Refusal {
    /// The format problem behind this refusal, when it is one: what the
    /// upload page places next to the document's line.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Refusal::Format(p) => Some(p),
            _ => None,
        }
    }
}

/// Whose key a [`Refusal::WeakKey`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// The key that made the signature (a proxy's, when a proxy signed).
    Signing,
    /// The endorser's own certificate's key.
    Endorser,
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyRole::Signing => "signing",
            KeyRole::Endorser => "endorser's",
        })
    }
}

/// The refusals as the original's message lines, one per line.
pub(super) fn lines(refusals: &[Refusal]) -> String {
    refusals
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
