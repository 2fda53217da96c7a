//! Queries: search over latest entries, history, endorsers, and the
//! [`Audience`] every read that users reach is scoped to.

use chrono::{DateTime, Utc};
use marketplace_format::Metadata;
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

/// The longest a statement may run: a read on SQLite is interrupted, any
/// statement on PostgreSQL is cancelled (`statement_timeout`), and the
/// caller gets [`crate::StoreError::InvalidQuery`] saying so.
pub const MAX_QUERY_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// The message of a statement stopped at [`MAX_QUERY_TIME`].
pub(crate) fn too_long() -> crate::StoreError {
    crate::StoreError::InvalidQuery(format!(
        "the query ran longer than {} s and was stopped; narrow it with more filters",
        MAX_QUERY_TIME.as_secs()
    ))
}

/// The number of rows a query with `limit` returns at most: 0 means
/// [`DEFAULT_LIMIT`], anything over [`MAX_LIMIT`] is clamped to it.
pub fn effective_limit(limit: u32) -> u32 {
    match limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    }
}

/// The most VOs an [`Audience::Members`] may name (more is
/// [`crate::StoreError::InvalidQuery`]): each is a bound value of the
/// visibility condition.
pub const MAX_AUDIENCE_VOS: usize = 64;

/// Who is reading: which restricted entries a read may return.
///
/// An entry whose signed document carries `mp:visible-to` (see
/// [`visibility`]) is *restricted* to those VOs; every other entry is
/// public. Every read that users reach takes an audience —
/// [`SearchQuery::audience`], [`HistoryQuery::audience`], and the
/// `audience` parameter of [`crate::Store::get_visible`],
/// [`crate::Store::endorsers`], [`crate::Store::endorser`],
/// [`crate::Store::tags`] and [`crate::Store::resolve_tag`] — and sees a
/// restricted entry exactly as if it did not exist unless the audience
/// is [`Audience::Everything`] or a member of one of its VOs: it is not
/// listed, not found, not counted (totals, matching counts, endorser entry
/// counts), does not give an endorser its latest date, a tag, or a tag
/// resolution.
///
/// **The latest entry of a pair.** Status, search and tag resolution are
/// about the latest entry of each (identifier, endorser). When that
/// entry is hidden from the audience, the audience sees *no current state*
/// of the pair: the pair is left out of searches over latest entries
/// (whatever the status filter), of totals, and of tag resolution. Older
/// entries of the pair that the audience may see stay visible as history
/// (history, feeds, direct reads, searches by `created`), with
/// [`EntrySummary::latest`] false — they are not the pair's latest entry,
/// and presenting one as current would undo what the newer, restricted
/// entry says (it may deprecate the image, or restrict it from now on).
/// An audience can thus tell that such a pair has a newer entry it may not
/// see, but nothing about it (no coordinates, date, content or status).
///
/// Internal operations are not scoped: [`crate::Store::put`]'s checks
/// (older than the latest, conflicts), [`crate::Store::get`],
/// [`crate::Store::entries_after`] (export, rebuild),
/// [`crate::Store::count`] and pending entries see every entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Anyone: public entries only (the default, so that a query that
    /// forgets to say who is reading never shows a restricted entry).
    #[default]
    Public,
    /// An authenticated member of these VOs: public entries and those
    /// restricted to one of them. Build it with [`Audience::members`].
    Members(Vec<String>),
    /// Every entry (administration, internal checks; never a user).
    Everything,
}

impl Audience {
    /// The audience of a member of `vos` ([`Audience::Public`] when there
    /// is none). Names are compared exactly, after the same trimming as
    /// [`visibility`]; blank names are dropped, duplicates removed.
    pub fn members<I, S>(vos: I) -> Audience
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut vos: Vec<String> = vos
            .into_iter()
            .map(|v| trim_vo(v.as_ref()).to_string())
            .filter(|v| !v.is_empty())
            .collect();
        vos.sort();
        vos.dedup();
        if vos.is_empty() {
            Audience::Public
        } else {
            Audience::Members(vos)
        }
    }

    /// Whether this audience may see an entry whose restriction is
    /// `visible_to` (as given by [`visibility`]; empty = public).
    pub fn sees(&self, visible_to: &[String]) -> bool {
        match self {
            Audience::Everything => true,
            _ if visible_to.is_empty() => true,
            Audience::Public => false,
            Audience::Members(vos) => visible_to.iter().any(|v| vos.contains(v)),
        }
    }

    /// Whether this audience may see an entry with this metadata.
    pub fn sees_metadata(&self, metadata: &Metadata) -> bool {
        self.sees(&visibility(metadata))
    }
}

/// XML white space around a VO name (what an RDF literal may carry).
fn trim_vo(vo: &str) -> &str {
    vo.trim_matches([' ', '\t', '\n', '\r'])
}

/// The VOs an entry is restricted to: the values of `mp:visible-to`
/// ([`Metadata::visible_to`]) without surrounding XML white space, sorted,
/// without duplicates; empty for a public entry. A document that carries
/// the term only with blank values is restricted to the VO named `""`,
/// which no member has: it is visible to [`Audience::Everything`] only.
pub fn visibility(metadata: &Metadata) -> Vec<String> {
    let mut vos: Vec<String> = metadata
        .visible_to
        .iter()
        .map(|v| trim_vo(v).to_string())
        .collect();
    vos.sort();
    vos.dedup();
    vos
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
    /// Who is reading (default [`Audience::Public`]): entries hidden from
    /// it are neither returned nor counted, and a pair whose latest entry
    /// is hidden from it has no latest entry for it (see [`Audience`]).
    #[serde(default)]
    pub audience: Audience,
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
    /// Return the entries of the page in [`SearchPage::entries`]; when
    /// false (with `documents`, for a list of the signed documents alone)
    /// `entries` is empty and no entry's metadata is decoded.
    pub summaries: bool,
    /// With `documents`: the most bytes of documents one page holds
    /// (`None`: no bound). The documents of the page are read in page
    /// order until the next one would pass the budget (the first is always
    /// read); [`SearchPage::documents_left_out`] says how many did not fit.
    /// Documents may be near the upload limit, so a page of 1000 could
    /// otherwise hold a gigabyte.
    pub document_budget: Option<usize>,
}

impl Default for SearchOptions {
    /// What [`crate::Store::search`] computes: the total and the entries,
    /// no documents.
    fn default() -> Self {
        SearchOptions {
            total: true,
            documents: false,
            summaries: true,
            document_budget: None,
        }
    }
}

/// A signed document of a [`SearchPage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedDocument {
    /// The SHA-256 of `bytes`, lowercase hex, recorded when the entry was
    /// stored: what identifies the document (a stored document never
    /// changes), e.g. for an entity tag.
    pub sha256: String,
    /// The document, byte for byte as it was uploaded.
    pub bytes: Vec<u8>,
}

/// One page of search results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    /// Latest entries with the status filter only (0 when the search was
    /// asked not to count them, see [`SearchOptions::total`]).
    pub total: u64,
    /// Entries matching every filter (before paging).
    pub matching: u64,
    /// The page (empty when the search was asked for documents alone, see
    /// [`SearchOptions::summaries`]).
    pub entries: Vec<EntrySummary>,
    /// With [`SearchOptions::documents`]: the signed document of each entry
    /// of the page, in the page's order (so, with summaries, the same
    /// order as `entries`); otherwise empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<SignedDocument>,
    /// How many entries at the end of the page have no document in
    /// `documents` because [`SearchOptions::document_budget`] was spent (0
    /// when every document fits): the next page starts that many entries
    /// earlier.
    #[serde(default)]
    pub documents_left_out: u64,
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
    /// Who is reading (default [`Audience::Public`]): entries hidden from
    /// it are left out (see [`Audience`]).
    #[serde(default)]
    pub audience: Audience,
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

/// An endorser and the certificate names it signed with (counted over the
/// entries the reading [`Audience`] may see).
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
