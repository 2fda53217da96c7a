//! The JSON shapes of the marketplace's `/api/v1` API, shared by the server
//! that writes them and the clients that read them (the `marketplace`
//! command, a site's tools), so that a client does not compile the server
//! to speak its API. The server's OpenAPI document describes the same
//! shapes. Every link is absolute, built from the marketplace's public base
//! URL.

pub mod log;

use chrono::{DateTime, Utc};
pub use marketplace_format::Status;
use serde::{Deserialize, Serialize};

/// An error: `{"error": {"status": 404, "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The status and message of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for people.
    pub message: String,
}

/// Who signed an entry, as the marketplace verified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndorserRef {
    /// The endorser's e-mail (its key in the registry).
    pub email: String,
    /// Subject DN of the signing identity.
    pub subject: String,
    /// Issuer DN of that identity.
    pub issuer: String,
    /// Whether a certificate authority vouches for the e-mail: the
    /// certificate carries it and chains to this marketplace's CA directory.
    pub email_certified: bool,
    /// Whether a certificate authority vouches for the signer at all.
    #[serde(default)]
    pub identity: Assurance,
    /// VO of the VOMS proxy that signed, if any.
    pub vo: Option<String>,
    /// FQANs of that proxy's attribute certificate (e.g.
    /// `/biomed/Role=VO-Admin`); empty without one.
    pub fqans: Vec<String>,
}

/// Who vouches for an endorser's identity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assurance {
    /// The certificate chained to this marketplace's CA directory.
    Certified,
    /// No CA vouched for it (no CA directory, or an entry stored before
    /// this was recorded): the identity is the one the certificate
    /// asserts, held to its first key by the endorser binding.
    #[default]
    SelfAsserted,
}

impl Assurance {
    /// `certified` or `self-asserted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Assurance::Certified => "certified",
            Assurance::SelfAsserted => "self-asserted",
        }
    }
}

/// One `slreq:checksum`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecksumItem {
    /// `MD5`, `SHA-1`, `SHA-256` or `SHA-512`.
    pub algorithm: String,
    /// Lowercase hexadecimal value.
    pub value: String,
}

/// The links of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryLinks {
    /// This entry in the JSON API.
    #[serde(rename = "self")]
    pub this: String,
    /// Its image in the JSON API.
    pub image: String,
    /// The signed document, byte for byte (`application/rdf+xml`).
    pub document: String,
    /// The entry's HTML page.
    pub page: String,
    /// Its place in the transparency log (`/api/v1/entries/…/log`).
    pub log: String,
    /// Its offline receipt (C2SP tlog-proof).
    pub receipt: String,
}

/// An entry (one endorser's signed metadata about an image) with its
/// status at the request's instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryItem {
    /// The image identifier.
    pub identifier: String,
    /// The endorser and the certificate that signed.
    pub endorser: EndorserRef,
    /// The endorsement's `dcterms:created` (part of the coordinates).
    pub created: String,
    /// When the marketplace accepted the entry (RFC 3339).
    pub accepted_at: DateTime<Utc>,
    /// `valid`, `expired` or `deprecated`, at the request's instant.
    pub status: Status,
    /// Whether this is the endorser's latest entry for the image.
    pub latest: bool,
    /// Full-text relevance (searches with `q` only; higher is better).
    pub rank: Option<f64>,
    /// `dcterms:title`.
    pub title: Option<String>,
    /// `dcterms:description`.
    pub description: Option<String>,
    /// `slterms:os`.
    pub os: Option<String>,
    /// `slterms:os-version`.
    pub os_version: Option<String>,
    /// `slterms:os-arch`.
    pub os_arch: Option<String>,
    /// `dcterms:type`.
    #[serde(rename = "type")]
    pub kind_type: Option<String>,
    /// `slterms:kind`.
    pub kind: Option<String>,
    /// `dcterms:format`.
    pub format: Option<String>,
    /// `slterms:hypervisor`.
    pub hypervisor: Option<String>,
    /// `dcterms:alternative` (the endorser's tag).
    pub tag: Option<String>,
    /// `slterms:version`.
    pub version: Option<String>,
    /// `dcterms:valid`: when the entry expires.
    pub valid: Option<String>,
    /// `slterms:deprecated`: why the image is deprecated.
    pub deprecated: Option<String>,
    /// `dcterms:publisher`.
    pub publisher: Option<String>,
    /// `dcterms:creator`.
    pub creator: Option<String>,
    /// `dcterms:compression`.
    pub compression: Option<String>,
    /// `slreq:bytes`.
    pub bytes: Option<u64>,
    /// `slreq:checksum`s.
    pub checksums: Vec<ChecksumItem>,
    /// `slterms:location`s.
    pub locations: Vec<String>,
    /// `mp:visible-to`: the VOs whose members alone may see the entry
    /// (empty: public). Only their members are ever shown such an entry.
    #[serde(default)]
    pub visible_to: Vec<String>,
    /// Links.
    pub links: EntryLinks,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Latest entries with the status filter only.
    pub total: u64,
    /// Entries matching every filter (before paging).
    pub matching: u64,
    /// Rows skipped.
    pub offset: u64,
    /// The page size asked for (at most 1000).
    pub limit: u32,
    /// The page: latest entry of each (image, endorser) that matches.
    pub items: Vec<EntryItem>,
}

/// The links of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageLinks {
    /// This image.
    #[serde(rename = "self")]
    pub this: String,
    /// Every entry of the image.
    pub history: String,
    /// The Atom feed of the image's entries.
    pub feed: String,
}

/// An image: every endorser's current endorsement, and the latest entries
/// that are expired or deprecated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageView {
    /// The image identifier.
    pub identifier: String,
    /// `valid` when at least one endorsement is current; otherwise
    /// `deprecated` when every latest entry is deprecated, else `expired`.
    pub status: Status,
    /// The current endorsements: each endorser's latest entry that is
    /// neither expired nor deprecated.
    pub current: Vec<EntryItem>,
    /// The endorsers' latest entries that are expired or deprecated.
    pub inactive: Vec<EntryItem>,
    /// Links.
    pub links: ImageLinks,
}

/// Every entry of an image, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryView {
    /// The image identifier.
    pub identifier: String,
    /// Number of items (at most the `limit` asked, at most 1000).
    pub count: usize,
    /// The entries, newest `created` first, every endorser.
    pub items: Vec<EntryItem>,
}

/// A certificate an endorser signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateItem {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Entries signed with it.
    pub entries: u64,
    /// Its latest endorsement `created`.
    pub latest: String,
}

/// The links of an endorser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndorserLinks {
    /// This endorser.
    #[serde(rename = "self")]
    pub this: String,
    /// The Atom feed of its entries.
    pub feed: String,
}

/// An endorser with the certificates it used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndorserItem {
    /// E-mail.
    pub email: String,
    /// Number of entries (history included).
    pub entry_count: u64,
    /// Its latest endorsement `created`.
    pub latest: String,
    /// The certificates it signed with.
    pub certificates: Vec<CertificateItem>,
    /// Links.
    pub links: EndorserLinks,
}

/// Every endorser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndorserList {
    /// Number of endorsers.
    pub total: usize,
    /// The endorsers, by e-mail.
    pub items: Vec<EndorserItem>,
}

/// One endorser and its entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndorserView {
    /// The endorser.
    #[serde(flatten)]
    pub endorser: EndorserItem,
    /// Its entries (history included), newest `created` first, at most
    /// the `limit` asked (at most 1000).
    pub entries: Vec<EntryItem>,
}
