//! Queries: search over latest entries, history, endorsers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::EntrySummary;

/// The most rows one query returns.
pub const MAX_LIMIT: u32 = 1000;

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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Free text over title, description, os, tags, endorser (ranked).
    pub text: Option<String>,
    /// Exact identifier.
    pub identifier: Option<String>,
    /// Exact endorser e-mail.
    pub email: Option<String>,
    /// Exact endorsement created (lists history entries too).
    pub created: Option<String>,
    /// Exact OS (case-insensitive).
    pub os: Option<String>,
    /// Exact OS version.
    pub os_version: Option<String>,
    /// Exact architecture.
    pub os_arch: Option<String>,
    /// Exact `dcterms:type`.
    pub kind_type: Option<String>,
    /// Exact `dcterms:format`.
    pub format: Option<String>,
    /// Exact hypervisor.
    pub hypervisor: Option<String>,
    /// VO of the signer's VOMS proxy.
    pub vo: Option<String>,
    /// Exact tag (`dcterms:alternative`).
    pub tag: Option<String>,
    /// Endorsed at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Endorsed before.
    pub created_to: Option<DateTime<Utc>>,
    /// Valid until at or after.
    pub valid_from: Option<DateTime<Utc>>,
    /// Valid until before.
    pub valid_to: Option<DateTime<Utc>>,
    /// Status filter.
    pub status: StatusFilter,
    /// Location filter.
    pub location: LocationFilter,
    /// Sort key.
    pub sort: SortKey,
    /// Descending order.
    pub descending: bool,
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return (at most [`MAX_LIMIT`]).
    pub limit: u32,
}

/// One page of search results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    /// Latest entries with the status filter only.
    pub total: u64,
    /// Entries matching every filter (before paging).
    pub matching: u64,
    /// The page.
    pub entries: Vec<EntrySummary>,
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
    /// The instant statuses are computed at.
    pub now: Option<DateTime<Utc>>,
    /// At most this many (bounded by [`MAX_LIMIT`]).
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
