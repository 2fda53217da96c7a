//! Queries: search over latest entries, history, endorsers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::EntrySummary;

/// The most rows one query returns.
pub const MAX_LIMIT: u32 = 1000;

/// The rows a query returns when it asks for 0.
pub const DEFAULT_LIMIT: u32 = 50;

/// The most rows the unpaged lists ([`crate::Store::endorsers`],
/// [`crate::Store::tags`]) return.
pub const MAX_UNPAGED_ROWS: u32 = 10_000;

/// The longest free text a search accepts, in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;

/// The most words a free-text search accepts.
pub const MAX_TEXT_TERMS: usize = 16;

/// The number of rows a query with `limit` returns at most: 0 means
/// [`DEFAULT_LIMIT`], anything over [`MAX_LIMIT`] is clamped to it.
pub fn effective_limit(limit: u32) -> u32 {
    match limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    }
}

/// Which statuses a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    /// Valid only (the default catalogue).
    #[default]
    Valid,
    /// Expired only.
    Expired,
    /// Deprecated only.
    Deprecated,
    /// Every status.
    All,
}

/// Filter on where images are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocationFilter {
    /// No filter.
    #[default]
    Any,
    /// No location, or an http(s)/ftp one.
    Web,
    /// A `pdisk:` location.
    Pdisk,
}

/// Sort order of search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SortKey {
    /// Relevance when there is text, else newest endorsement first.
    #[default]
    Relevance,
    /// Endorsement created.
    Created,
    /// Title.
    Title,
    /// Operating system.
    Os,
    /// OS version.
    OsVersion,
    /// Architecture.
    OsArch,
    /// Endorser e-mail.
    Endorser,
    /// Identifier.
    Identifier,
    /// Expiry.
    Valid,
}

/// A search over the latest entry of each (identifier, endorser) — or over
/// every entry when `created` is given (as the original did).
///
/// Every filter that is `Some` must hold (they are AND-ed); values are
/// compared literally (never interpreted as patterns or query syntax).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Free text over title, description, os, os version, tag and endorser
    /// (e-mail and certificate subject), ranked. Every word must occur
    /// (whole words, case-insensitive); punctuation and query
    /// syntax are taken as plain text. Empty or blank text is no filter; at
    /// most [`MAX_TEXT_BYTES`] bytes and [`MAX_TEXT_TERMS`] words, else
    /// [`crate::StoreError::InvalidQuery`].
    pub text: Option<String>,
    /// Exact identifier.
    pub identifier: Option<String>,
    /// Exact endorser e-mail.
    pub email: Option<String>,
    /// Exact endorsement created (lists history entries too).
    pub created: Option<String>,
    /// Exact OS (case-insensitive).
    pub os: Option<String>,
    /// Exact OS version (case-insensitive).
    pub os_version: Option<String>,
    /// Exact architecture (case-insensitive).
    pub os_arch: Option<String>,
    /// Exact `dcterms:type` (case-insensitive).
    pub kind_type: Option<String>,
    /// Exact `slterms:kind` (case-insensitive).
    pub kind: Option<String>,
    /// Exact `dcterms:format` (case-insensitive).
    pub format: Option<String>,
    /// Exact hypervisor (case-insensitive).
    pub hypervisor: Option<String>,
    /// VO of the signer's VOMS proxy.
    pub vo: Option<String>,
    /// Exact tag (`dcterms:alternative`).
    pub tag: Option<String>,
    /// Endorsed at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Endorsed before.
    pub created_to: Option<DateTime<Utc>>,
    /// Valid until at or after (an entry without `dcterms:valid` never
    /// expires, so it passes).
    pub valid_from: Option<DateTime<Utc>>,
    /// Valid until before (an entry without `dcterms:valid` fails).
    pub valid_to: Option<DateTime<Utc>>,
    /// Status filter.
    pub status: StatusFilter,
    /// Location filter.
    pub location: LocationFilter,
    /// Sort key. Missing values sort last in either direction; ties are
    /// broken by newest `created`, then newest acceptance.
    pub sort: SortKey,
    /// Descending order (ignored by [`SortKey::Relevance`], which is always
    /// best first).
    pub descending: bool,
    /// Rows to skip (at most `i64::MAX`).
    pub offset: u64,
    /// Rows to return: 0 means [`DEFAULT_LIMIT`], more than [`MAX_LIMIT`]
    /// is clamped (see [`effective_limit`]).
    pub limit: u32,
}

/// What [`crate::Store::search_with`] computes besides the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchOptions {
    /// Compute [`SearchPage::total`] (a count over every latest entry);
    /// when false, `total` is 0.
    pub total: bool,
    /// Return the signed document of each entry of the page in
    /// [`SearchPage::documents`].
    pub documents: bool,
}

impl Default for SearchOptions {
    /// What [`crate::Store::search`] computes: the total, no documents.
    fn default() -> Self {
        SearchOptions {
            total: true,
            documents: false,
        }
    }
}

/// One page of search results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    /// Latest entries with the status filter only (0 when the search was
    /// asked not to count them, see [`SearchOptions::total`]).
    pub total: u64,
    /// Entries matching every filter (before paging).
    pub matching: u64,
    /// The page.
    pub entries: Vec<EntrySummary>,
    /// With [`SearchOptions::documents`]: the signed document of each entry
    /// of `entries`, byte for byte, in the same order; otherwise empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Vec<u8>>,
}

/// The order of [`crate::Store::history`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryOrder {
    /// Newest endorsement first (`created` descending, then newest
    /// acceptance).
    #[default]
    Created,
    /// Newest acceptance first (acceptance = commit order): what a feed
    /// shows.
    Accepted,
}

/// History: every entry (not only latest) of an image and/or endorser.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// Only this image.
    pub identifier: Option<String>,
    /// Only this endorser.
    pub email: Option<String>,
    /// Only entries endorsed at or after.
    pub since: Option<DateTime<Utc>>,
    /// The instant statuses are computed at (`None`: the current time).
    pub now: Option<DateTime<Utc>>,
    /// The order (and so which entries a limit keeps).
    pub order: HistoryOrder,
    /// At most this many: 0 means [`DEFAULT_LIMIT`], more than
    /// [`MAX_LIMIT`] is clamped (see [`effective_limit`]).
    pub limit: u32,
}

/// An endorser and the certificate names it signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndorserSummary {
    /// E-mail.
    pub email: String,
    /// Certificate subject DN.
    pub subject: String,
    /// Certificate issuer DN.
    pub issuer: String,
    /// Number of entries.
    pub entries: u64,
    /// Latest endorsement created.
    pub latest: String,
}
