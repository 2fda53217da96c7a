//! Entries as the store keeps them.

use chrono::{DateTime, Utc};
use marketplace_format::Metadata;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The coordinates of an entry: (identifier, endorser e-mail, created).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryKey {
    /// The image identifier.
    pub identifier: String,
    /// The endorser's e-mail.
    pub email: String,
    /// The endorsement's `dcterms:created`, as written (`YYYY-MM-DDTHH:MM:SSZ`).
    pub created: String,
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
    /// Whether the certificate vouches for the endorser e-mail.
    pub email_certified: bool,
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

/// The status of an entry at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Latest, not deprecated, not past `dcterms:valid`.
    Valid,
    /// Past `dcterms:valid` and not deprecated.
    Expired,
    /// Carries `slterms:deprecated`.
    Deprecated,
}

impl Status {
    /// The status of `metadata` at `now` (missing `valid` never expires).
    pub fn of(metadata: &Metadata, now: DateTime<Utc>) -> Status {
        if metadata.deprecated.is_some() {
            return Status::Deprecated;
        }
        let expired = metadata
            .valid
            .as_deref()
            .and_then(|v| marketplace_format::datetime::parse_utc(v).ok())
            .is_some_and(|until| until <= now);
        if expired {
            Status::Expired
        } else {
            Status::Valid
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Expired => "expired",
            Status::Deprecated => "deprecated",
        }
    }
}

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
