//! The bytes the log records for each accepted entry.
//!
//! A leaf is canonical JSON (RFC 8785: object keys sorted, no insignificant
//! whitespace, no floating-point numbers), so that anyone holding an entry can
//! rebuild its leaf byte for byte and check it against the tree. Two kinds:
//!
//! - an **entry** leaf ([`EntryRecord`]) names the entry (identifier, endorser
//!   e-mail, created), the SHA-256 of the signed document as stored, who
//!   signed it (subject, issuer, VO, FQANs) and when the marketplace accepted
//!   it;
//! - a **restricted** leaf stands for an entry visible only to some VOs: it
//!   carries a commitment, `SHA-256(tag ‖ nonce ‖ entry leaf)` with a random
//!   32-byte nonce, which reveals neither the image nor the endorser. Whoever
//!   may see the entry gets its [`Opening`] (the nonce and the entry leaf) and
//!   checks it against the commitment.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `type` of an entry leaf.
pub const ENTRY_TYPE: &str = "marketplace-entry/v1";

/// The `type` of a restricted leaf, and the domain-separation tag of its
/// commitment.
pub const RESTRICTED_TYPE: &str = "marketplace-restricted-entry/v1";

/// The longest leaf: tile entry bundles prefix each leaf with a 16-bit length
/// (C2SP tlog-tiles).
pub const MAX_LEAF_BYTES: usize = 65_535;

/// Why bytes are not a leaf, or a leaf cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeafError {
    /// The leaf would be longer than [`MAX_LEAF_BYTES`].
    #[error("the log leaf would be {0} bytes, more than the {MAX_LEAF_BYTES} a leaf may have")]
    TooLong(usize),
    /// Not a leaf of a known type.
    #[error("not a log leaf: {0}")]
    Malformed(String),
    /// A leaf, but not in its one canonical form.
    #[error("the log leaf is not in canonical form")]
    NotCanonical,
    /// An opening whose base64 form is unreadable.
    #[error("malformed opening: {0}")]
    MalformedOpening(String),
    /// An opening that does not match its commitment.
    #[error("the opening does not match the commitment")]
    OpeningMismatch,
    /// No randomness for a commitment's nonce.
    #[error("no randomness for a commitment: {0}")]
    Randomness(String),
}

/// What an entry leaf records of an accepted entry. Field order is the
/// canonical (sorted) key order: serde writes fields in declaration order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRecord {
    /// When the marketplace accepted the entry (RFC 3339, UTC, microseconds).
    pub accepted: String,
    /// The endorsement's `dcterms:created`.
    pub created: String,
    /// Lowercase hexadecimal SHA-256 of the signed document as stored.
    pub document_sha256: String,
    /// The endorser's e-mail, as stored.
    pub email: String,
    /// The FQANs of the VOMS proxy that signed (empty without one).
    pub fqans: Vec<String>,
    /// The image identifier.
    pub identifier: String,
    /// The issuer DN of the signer's identity certificate.
    pub issuer: String,
    /// The subject DN of the signer's identity certificate.
    pub subject: String,
    /// Always [`ENTRY_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The VO of that proxy, if any.
    pub vo: Option<String>,
}

/// The canonical form of a restricted leaf (sorted keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestrictedRecord {
    /// Lowercase hexadecimal commitment.
    commitment: String,
    /// Always [`RESTRICTED_TYPE`].
    #[serde(rename = "type")]
    kind: String,
}

/// A leaf, read back from its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    /// An entry anyone may see.
    Entry(Box<EntryRecord>),
    /// An entry restricted to VOs: only its commitment.
    Restricted {
        /// `SHA-256(RESTRICTED_TYPE ‖ "\n" ‖ nonce ‖ entry leaf)`.
        commitment: [u8; 32],
    },
}

/// What opens a restricted leaf: its nonce and the entry leaf it hides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// The random nonce.
    pub nonce: [u8; 32],
    /// The canonical entry leaf.
    pub entry_leaf: Vec<u8>,
}

impl EntryRecord {
    /// The canonical leaf bytes of this record (its `kind` is set to
    /// [`ENTRY_TYPE`]).
    pub fn to_leaf(&self) -> Result<Vec<u8>, LeafError> {
        let record = EntryRecord {
            kind: ENTRY_TYPE.to_string(),
            ..self.clone()
        };
        bounded(canonical_json(&record)?)
    }
}

impl Opening {
    /// Its nonce and entry leaf in base64, as the JSON of proofs, receipts
    /// and exports carries them.
    pub fn to_base64(&self) -> (String, String) {
        (BASE64.encode(self.nonce), BASE64.encode(&self.entry_leaf))
    }

    /// An opening from its base64 nonce (32 bytes) and entry leaf.
    pub fn from_base64(nonce: &str, entry_leaf: &str) -> Result<Self, LeafError> {
        let decode = |what: &str, text: &str| {
            BASE64
                .decode(text)
                .map_err(|e| LeafError::MalformedOpening(format!("its {what} is not base64: {e}")))
        };
        Ok(Self {
            nonce: decode("nonce", nonce)?
                .try_into()
                .map_err(|_| LeafError::MalformedOpening("its nonce is not 32 bytes".into()))?,
            entry_leaf: decode("entry leaf", entry_leaf)?,
        })
    }

    /// A fresh opening of `entry_leaf` with a random nonce.
    pub fn new(entry_leaf: Vec<u8>) -> Result<Self, LeafError> {
        let mut nonce = [0u8; 32];
        getrandom::fill(&mut nonce).map_err(|e| LeafError::Randomness(e.to_string()))?;
        Ok(Self { nonce, entry_leaf })
    }

    /// The commitment this opening opens.
    pub fn commitment(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(RESTRICTED_TYPE.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.nonce);
        hasher.update(&self.entry_leaf);
        hasher.finalize().into()
    }

    /// The restricted leaf that stands for the entry in the public log.
    pub fn restricted_leaf(&self) -> Result<Vec<u8>, LeafError> {
        let record = RestrictedRecord {
            commitment: hex(&self.commitment()),
            kind: RESTRICTED_TYPE.to_string(),
        };
        bounded(canonical_json(&record)?)
    }

    /// Checks that this opening opens `leaf` (a restricted leaf's bytes) and
    /// returns the entry it hides.
    pub fn open(&self, leaf: &[u8]) -> Result<EntryRecord, LeafError> {
        let Leaf::Restricted { commitment } = Leaf::parse(leaf)? else {
            return Err(LeafError::Malformed("not a restricted leaf".into()));
        };
        if commitment != self.commitment() {
            return Err(LeafError::OpeningMismatch);
        }
        match Leaf::parse(&self.entry_leaf)? {
            Leaf::Entry(record) => Ok(*record),
            Leaf::Restricted { .. } => {
                Err(LeafError::Malformed("an opening hides an entry".into()))
            }
        }
    }
}

/// How an entry record differs from the entry it should record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordMismatch {
    /// It names other coordinates (`identifier/email/created`).
    #[error("names another entry ({0})")]
    Entry(String),
    /// It records the SHA-256 of another document.
    #[error("records another document (SHA-256 {recorded}, not {expected})")]
    Document {
        /// The SHA-256 the record holds.
        recorded: String,
        /// The SHA-256 of the document at hand.
        expected: String,
    },
}

impl EntryRecord {
    /// Checks that this record names the entry at (`identifier`, `email`,
    /// `created`) and the document whose SHA-256 (hexadecimal) is
    /// `document_sha256`.
    pub fn check_records(
        &self,
        (identifier, email, created): (&str, &str, &str),
        document_sha256: &str,
    ) -> Result<(), RecordMismatch> {
        if (
            self.identifier.as_str(),
            self.email.as_str(),
            self.created.as_str(),
        ) != (identifier, email, created)
        {
            return Err(RecordMismatch::Entry(format!(
                "{}/{}/{}",
                self.identifier, self.email, self.created
            )));
        }
        if self.document_sha256 != document_sha256 {
            return Err(RecordMismatch::Document {
                recorded: self.document_sha256.clone(),
                expected: document_sha256.to_string(),
            });
        }
        Ok(())
    }
}

/// The entry record `leaf` stands for: an entry leaf's own (without an
/// opening), or what `opening` shows a restricted leaf hides. An opening
/// given for an entry leaf, or missing for a restricted one, is
/// [`LeafError::OpeningMismatch`].
pub fn open_record(leaf: &[u8], opening: Option<&Opening>) -> Result<EntryRecord, LeafError> {
    match (Leaf::parse(leaf)?, opening) {
        (Leaf::Entry(record), None) => Ok(*record),
        (Leaf::Restricted { .. }, Some(opening)) => opening.open(leaf),
        _ => Err(LeafError::OpeningMismatch),
    }
}

impl Leaf {
    /// Reads leaf bytes, refusing anything but the canonical form of a known
    /// type.
    pub fn parse(bytes: &[u8]) -> Result<Self, LeafError> {
        #[derive(Deserialize)]
        struct Kind {
            #[serde(rename = "type")]
            kind: String,
        }
        let malformed = |e: serde_json::Error| LeafError::Malformed(e.to_string());
        let kind: Kind = serde_json::from_slice(bytes).map_err(malformed)?;
        let (leaf, canonical) = match kind.kind.as_str() {
            ENTRY_TYPE => {
                let record: EntryRecord = serde_json::from_slice(bytes).map_err(malformed)?;
                let canonical = canonical_json(&record)?;
                (Leaf::Entry(Box::new(record)), canonical)
            }
            RESTRICTED_TYPE => {
                let record: RestrictedRecord = serde_json::from_slice(bytes).map_err(malformed)?;
                let commitment = unhex32(&record.commitment).ok_or_else(|| {
                    LeafError::Malformed("the commitment is not 64 hexadecimal digits".into())
                })?;
                (Leaf::Restricted { commitment }, canonical_json(&record)?)
            }
            other => return Err(LeafError::Malformed(format!("unknown leaf type '{other}'"))),
        };
        if canonical != bytes {
            return Err(LeafError::NotCanonical);
        }
        Ok(leaf)
    }
}

/// Canonical JSON of a record whose fields are declared in sorted order and
/// hold only strings, string lists and nulls: for such values serde_json's
/// compact output is exactly RFC 8785 (the tests check the key order).
fn canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>, LeafError> {
    serde_json::to_vec(value).map_err(|e| LeafError::Malformed(e.to_string()))
}

/// `bytes`, unless longer than a leaf may be.
fn bounded(bytes: Vec<u8>) -> Result<Vec<u8>, LeafError> {
    if bytes.len() > MAX_LEAF_BYTES {
        return Err(LeafError::TooLong(bytes.len()));
    }
    Ok(bytes)
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 bytes from 64 lowercase hexadecimal digits.
pub(crate) fn unhex32(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64
        || !digits
            .iter()
            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> EntryRecord {
        EntryRecord {
            accepted: "2026-12-06T01:02:03.456789Z".into(),
            created: "2026-12-06T01:00:00Z".into(),
            document_sha256: "ab".repeat(32),
            email: "jane@example.org".into(),
            fqans: vec!["/atlas/Role=NULL/Capability=NULL".into()],
            identifier: "HZ6rsTmtcc0dJgoGrgRhvwN3o0q".into(),
            issuer: "CN=Test CA,O=Grid".into(),
            subject: "CN=Jane \"Q\" Doe,O=Grid".into(),
            kind: String::new(),
            vo: Some("atlas".into()),
        }
    }

    /// The keys of a JSON object, in the order the bytes hold them.
    fn keys(bytes: &[u8]) -> Vec<String> {
        let text = std::str::from_utf8(bytes).unwrap();
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut keys: Vec<(usize, String)> = value
            .as_object()
            .unwrap()
            .keys()
            .map(|k| (text.find(&format!("\"{k}\":")).unwrap(), k.clone()))
            .collect();
        keys.sort();
        keys.into_iter().map(|(_, k)| k).collect()
    }

    #[test]
    fn records_are_checked_against_their_entry_and_leaves_opened() {
        let r = record();
        let at = (
            "HZ6rsTmtcc0dJgoGrgRhvwN3o0q",
            "jane@example.org",
            "2026-12-06T01:00:00Z",
        );
        let sha = "ab".repeat(32);
        r.check_records(at, &sha).unwrap();
        let other = (
            "HZ6rsTmtcc0dJgoGrgRhvwN3o0q",
            "john@example.org",
            "2026-12-06T01:00:00Z",
        );
        assert!(matches!(
            r.check_records(other, &sha),
            Err(RecordMismatch::Entry(_))
        ));
        assert!(matches!(
            r.check_records(at, &"cd".repeat(32)),
            Err(RecordMismatch::Document { .. })
        ));
        // An entry leaf opens without an opening; a restricted one only with its own.
        let leaf = r.to_leaf().unwrap();
        let opened = open_record(&leaf, None).unwrap();
        assert_eq!(opened.email, "jane@example.org");
        let opening = Opening::new(leaf.clone()).unwrap();
        let hidden = opening.restricted_leaf().unwrap();
        assert_eq!(
            open_record(&hidden, Some(&opening)).unwrap().email,
            "jane@example.org"
        );
        assert_eq!(open_record(&hidden, None), Err(LeafError::OpeningMismatch));
        assert_eq!(
            open_record(&leaf, Some(&opening)),
            Err(LeafError::OpeningMismatch)
        );
    }

    #[test]
    fn entry_leaves_are_canonical_and_read_back() {
        let leaf = record().to_leaf().unwrap();
        let order = keys(&leaf);
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
        // Re-encoded from a parsed value (sorted keys, compact): the same bytes.
        let value: serde_json::Value = serde_json::from_slice(&leaf).unwrap();
        assert_eq!(serde_json::to_vec(&value).unwrap(), leaf);
        let Leaf::Entry(read) = Leaf::parse(&leaf).unwrap() else {
            panic!("an entry leaf")
        };
        assert_eq!(read.kind, ENTRY_TYPE);
        assert_eq!(read.subject, record().subject);
    }

    #[test]
    fn other_forms_of_the_same_leaf_are_refused() {
        let leaf = String::from_utf8(record().to_leaf().unwrap()).unwrap();
        let spaced = leaf.replace(",\"", ", \"");
        assert_eq!(Leaf::parse(spaced.as_bytes()), Err(LeafError::NotCanonical));
        let extra = leaf.replacen('{', "{\"z\":1,", 1);
        assert!(matches!(
            Leaf::parse(extra.as_bytes()),
            Err(LeafError::Malformed(_))
        ));
        let unknown = leaf.replace(ENTRY_TYPE, "other/v1");
        assert!(matches!(
            Leaf::parse(unknown.as_bytes()),
            Err(LeafError::Malformed(_))
        ));
    }

    #[test]
    fn restricted_leaves_hide_the_entry_and_open_for_the_holder() {
        let entry = record().to_leaf().unwrap();
        let opening = Opening::new(entry.clone()).unwrap();
        let leaf = opening.restricted_leaf().unwrap();
        let text = String::from_utf8(leaf.clone()).unwrap();
        assert!(!text.contains("jane") && !text.contains("HZ6rs"), "{text}");
        assert_eq!(keys(&leaf), ["commitment", "type"]);
        assert_eq!(opening.open(&leaf).unwrap().email, "jane@example.org");
        // Another nonce, another commitment: equal entries do not link.
        let other = Opening::new(entry.clone()).unwrap();
        assert_ne!(other.restricted_leaf().unwrap(), leaf);
        assert_eq!(other.open(&leaf), Err(LeafError::OpeningMismatch));
        // A changed entry does not open the commitment.
        let mut changed = record();
        changed.email = "mallory@example.org".into();
        let forged = Opening {
            nonce: opening.nonce,
            entry_leaf: changed.to_leaf().unwrap(),
        };
        assert_eq!(forged.open(&leaf), Err(LeafError::OpeningMismatch));
    }

    #[test]
    fn long_leaves_are_refused() {
        let mut long = record();
        long.fqans = vec!["/vo/group".repeat(8000)];
        assert!(matches!(long.to_leaf(), Err(LeafError::TooLong(_))));
    }

    #[test]
    fn hex_round_trips() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 7) as u8);
        assert_eq!(unhex32(&hex(&bytes)), Some(bytes));
        assert_eq!(unhex32("AB"), None);
        assert_eq!(unhex32(&"G".repeat(64)), None);
    }
}
