//! Entries as the store keeps them.

use chrono::{DateTime, Utc};
use marketplace_format::{Created, Email, Identifier, Metadata};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The coordinates of an entry: (identifier, endorser e-mail, created), each
/// parsed, so a key always names an entry that could exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryKey {
    /// The image identifier.
    pub identifier: Identifier,
    /// The endorser's e-mail, in lower case.
    pub email: Email,
    /// The endorsement's `dcterms:created` (`YYYY-MM-DDTHH:MM:SSZ`).
    pub created: Created,
}

impl EntryKey {
    /// Parses the three coordinates as a URL path or a command line gives
    /// them; the first malformed one is the error.
    pub fn parse(
        identifier: &str,
        email: &str,
        created: &str,
    ) -> Result<Self, marketplace_format::CoordinateError> {
        Ok(Self {
            identifier: Identifier::parse(identifier)?,
            email: Email::parse(email)?,
            created: Created::parse(created)?,
        })
    }
}

impl fmt::Display for EntryKey {
    /// The entry path `identifier/email/created`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.identifier, self.email, self.created)
    }
}

/// Who signed an entry, as the trust core verified it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Signer {
    /// Subject DN of the identity behind the signature (RFC 2253).
    pub subject: String,
    /// Issuer DN of that identity.
    pub issuer: String,
    /// Whether a certificate authority vouches for the endorser e-mail: the
    /// certificate carries the address and chains to the configured CA
    /// directory ([`Signer::chained`]). Otherwise the e-mail is
    /// self-asserted, whatever a self-signed certificate says.
    pub email_certified: bool,
    /// Whether the certificate chained to the configured CA directory when
    /// the entry was accepted (false for entries stored before this was
    /// recorded, until `admin rebuild-index`).
    #[serde(default)]
    pub chained: bool,
    /// SHA-256 of the identity's public key (DER SubjectPublicKeyInfo,
    /// lowercase hexadecimal): what [`EndorserBinding`] compares (empty for
    /// entries stored before it was recorded, until `admin rebuild-index`).
    #[serde(default)]
    pub key_sha256: String,
    /// VO of the VOMS proxy that signed, if any.
    pub vo: Option<String>,
    /// FQANs of that proxy.
    pub fqans: Vec<String>,
}

/// An entry to store: the signed bytes and what was read from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// Coordinates.
    pub key: EntryKey,
    /// The signed document, byte for byte.
    pub document: Vec<u8>,
    /// Its content.
    pub metadata: Metadata,
    /// Its verified signer.
    pub signer: Signer,
}

/// A stored entry with its signed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// Position in acceptance order (increasing, unique).
    pub sequence: i64,
    /// When the marketplace accepted it.
    pub accepted_at: DateTime<Utc>,
    /// The entry.
    pub entry: NewEntry,
}

/// The status of an entry at an instant (defined with the document model,
/// since it follows from what the document says).
pub use marketplace_format::Status;

/// What lists and searches show of an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntrySummary {
    /// Coordinates.
    pub key: EntryKey,
    /// The content (as parsed from the signed document).
    pub metadata: Metadata,
    /// The signer.
    pub signer: Signer,
    /// Status at the query's instant.
    pub status: Status,
    /// Whether this is the latest entry of its (identifier, endorser).
    pub latest: bool,
    /// When the marketplace accepted it.
    pub accepted_at: DateTime<Utc>,
    /// Full-text relevance when the query had text (higher is better;
    /// comparable only within one result, scales differ between back ends).
    pub rank: Option<f64>,
}

/// An upload waiting for e-mail confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// Secret random token carried by the confirm / abort links.
    pub token: String,
    /// The entry to store when confirmed.
    pub entry: NewEntry,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// After this instant it is removed unconfirmed.
    pub expires_at: DateTime<Utc>,
}

/// The identity an endorser e-mail is bound to: the first certificate
/// accepted for it (trust on first use, as SSH does with host keys), moved
/// on by a renewal under a CA directory or by the operator
/// (`admin endorser rebind`). Keyed by the e-mail in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndorserBinding {
    /// The e-mail, in lower case.
    pub email: String,
    /// Subject DN of the bound identity (RFC 2253).
    pub subject: String,
    /// Its issuer DN.
    pub issuer: String,
    /// SHA-256 of its public key (see [`Signer::key_sha256`]).
    pub key_sha256: String,
    /// Whether the bound certificate chained to the CA directory.
    pub chained: bool,
    /// When the binding was made or last moved.
    pub since: DateTime<Utc>,
    /// The `created` of the entry that made it (`None` when the operator
    /// bound a certificate by hand): an import binds to the newest.
    pub created: Option<String>,
}

/// Whether a signer continues an endorser's bound identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuity {
    /// The same public key.
    SameKey,
    /// A renewed certificate: another key, but chained to the CA directory
    /// with the same subject DN. The binding moves to the new key.
    Renewed,
    /// Another identity: refused.
    Broken,
}

impl EndorserBinding {
    /// The binding a signer makes for `email` (lowercased) at `since`.
    pub fn of(email: &str, signer: &Signer, created: Option<&str>, since: DateTime<Utc>) -> Self {
        EndorserBinding {
            email: email.to_ascii_lowercase(),
            subject: signer.subject.clone(),
            issuer: signer.issuer.clone(),
            key_sha256: signer.key_sha256.clone(),
            chained: signer.chained,
            since,
            created: created.map(str::to_string),
        }
    }

    /// Whether `signer` continues this identity.
    pub fn continuity(&self, signer: &Signer) -> Continuity {
        if !signer.key_sha256.is_empty() && signer.key_sha256 == self.key_sha256 {
            Continuity::SameKey
        } else if signer.chained && signer.subject == self.subject {
            Continuity::Renewed
        } else {
            Continuity::Broken
        }
    }
}

impl fmt::Display for EndorserBinding {
    /// The bound identity, for refusals and the CLI: `the certificate of
    /// 'SUBJECT' issued by 'ISSUER' (public key SHA-256 …) since …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the certificate of '{}' issued by '{}' (public key SHA-256 {}{}) since {}",
            self.subject,
            self.issuer,
            self.key_sha256,
            if self.chained {
                ", chained to the CA directory"
            } else {
                ", self-asserted"
            },
            self.since.format("%Y-%m-%dT%H:%M:%SZ"),
        )
    }
}

/// Where an entry is in the transparency log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPosition {
    /// The leaf's index.
    pub index: u64,
    /// The public leaf.
    pub leaf: Vec<u8>,
    /// For a restricted entry, what opens its leaf (its commitment).
    pub opening: Option<marketplace_log::leaf::Opening>,
}

/// A signed checkpoint as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The tree size it commits to.
    pub size: u64,
    /// The signed note.
    pub note: String,
}
