//! Storage of accepted metadata entries.
//!
//! An *entry* is one signed document accepted by the marketplace, keyed by
//! its coordinates (identifier, endorser e-mail, endorsement created). The
//! signed bytes are kept exactly as received; the fields that lists and
//! searches need are indexed beside them in the same transaction. Nothing
//! accepted is ever deleted or overwritten.
//!
//! [`Store`] is the one interface; `SqliteStore` (embedded default) and
//! `PgStore` (several servers behind one PostgreSQL) implement it, and the
//! same test suite runs against both.
//!
//! Status (valid, expired, deprecated) is never stored: it is computed from
//! the latest entry of each (identifier, endorser) at the instant a query
//! gives.

pub mod model;
pub mod query;

pub use model::{EntryKey, EntrySummary, NewEntry, PendingEntry, Signer, Status, StoredEntry};
pub use query::{EndorserSummary, HistoryQuery, LocationFilter, SearchPage, SearchQuery, SortKey, StatusFilter};

use chrono::{DateTime, Utc};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The entry is older than the endorser's latest entry for this image.
    #[error("older than latest entry ({latest})")]
    OlderThanLatest {
        /// The `created` of the latest entry.
        latest: String,
    },
    /// A different document already has these coordinates.
    #[error("a different document is already stored as {0}")]
    Conflict(EntryKey),
    /// The query is invalid (e.g. a limit over the maximum).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The database failed.
    #[error("storage failure: {0}")]
    Backend(String),
}

/// What [`Store::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new entry was stored.
    Created,
    /// The very same document was already stored: nothing changed.
    AlreadyPresent,
}

/// The storage interface of the marketplace.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores an entry and indexes it in one transaction, durably (committed
    /// before returning). Refuses an entry older than the endorser's latest
    /// for the same image, and a different document with the same
    /// coordinates. Concurrent puts (from this or other processes) serialise
    /// per (identifier, email).
    async fn put(&self, entry: NewEntry) -> Result<PutOutcome, StoreError>;

    /// The entry with these coordinates, any status, with its signed bytes.
    async fn get(&self, key: &EntryKey) -> Result<Option<StoredEntry>, StoreError>;

    /// Latest entries matching `query`, status evaluated at `now`, paged.
    async fn search(&self, query: &SearchQuery, now: DateTime<Utc>) -> Result<SearchPage, StoreError>;

    /// All entries (history, any status) matching `query`, newest first.
    async fn history(&self, query: &HistoryQuery) -> Result<Vec<EntrySummary>, StoreError>;

    /// Every endorser with the certificate names used, any status.
    async fn endorsers(&self) -> Result<Vec<EndorserSummary>, StoreError>;

    /// Distinct tags (`dcterms:alternative`) an endorser used, sorted.
    async fn tags(&self, email: &str) -> Result<Vec<String>, StoreError>;

    /// The entry an endorser's tag resolves to: among identifiers whose
    /// entries carry the tag and none of which is deprecated, the most
    /// recently endorsed.
    async fn resolve_tag(&self, email: &str, tag: &str) -> Result<Option<EntryKey>, StoreError>;

    /// Entries in acceptance order after `after` (exclusive), at most
    /// `limit`, with their signed bytes: for export, rebuild and feeds.
    async fn entries_after(&self, after: Option<i64>, limit: u32) -> Result<Vec<StoredEntry>, StoreError>;

    /// Re-derives every indexed field from the stored signed documents
    /// with `reindex` (which parses a document into a [`NewEntry`]).
    async fn rebuild_index(
        &self,
        reindex: &(dyn Fn(&[u8]) -> Result<NewEntry, String> + Send + Sync),
    ) -> Result<u64, StoreError>;

    /// Keeps an upload that waits for e-mail confirmation.
    async fn put_pending(&self, pending: PendingEntry) -> Result<(), StoreError>;

    /// The pending upload with this token, if it has not expired at `now`.
    async fn get_pending(&self, token: &str, now: DateTime<Utc>) -> Result<Option<PendingEntry>, StoreError>;

    /// Removes a pending upload (after confirm or abort); true if it existed.
    async fn delete_pending(&self, token: &str) -> Result<bool, StoreError>;

    /// Removes pending uploads that expired at `now`; returns how many.
    async fn purge_pending(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Number of stored entries, for metrics and health.
    async fn count(&self) -> Result<u64, StoreError>;
}
