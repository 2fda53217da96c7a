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
//! gives. Which entry is the latest of its pair is derived data kept with
//! the entries: the put transaction that stores a newer entry moves the
//! flag, and a rebuild recomputes it.
//!
//! Visibility: an entry whose document carries `mp:visible-to` is
//! restricted to those VOs. The store records the restriction with the
//! index (at put and rebuild) and every read that users reach is scoped
//! to an [`Audience`]; see there for what an audience sees, in particular
//! of a pair whose latest entry is hidden from it.

mod engine;
mod index;
pub mod model;
mod postgres;
pub mod query;
mod sql;
mod sqlite;
mod sqlite_read;

pub use engine::log::{MAX_LOG_READ, entry_record};
pub use model::{
    Continuity, EndorserBinding, EntryKey, EntrySummary, LogPosition, NewEntry, PendingEntry,
    Signer, Status, StoredCheckpoint, StoredEntry,
};
pub use postgres::PgStore;
pub use query::{
    Audience, DEFAULT_LIMIT, EndorserSummary, HistoryOrder, HistoryQuery, LocationFilter,
    MAX_AUDIENCE_VOS, MAX_LIMIT, MAX_QUERY_TIME, MAX_TEXT_BYTES, MAX_TEXT_TERMS, MAX_UNPAGED_ROWS,
    SearchOptions, SearchPage, SearchQuery, SignedDocument, SortKey, StatusFilter, effective_limit,
    visibility,
};
pub use sqlite::SqliteStore;
/// Connection options of [`PgStore::connect_with`] (re-exported from sqlx).
pub use sqlx::postgres::PgConnectOptions;

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
    /// The request is invalid (e.g. search text over [`MAX_TEXT_BYTES`], an
    /// offset over `i64::MAX`, a pending token already in use).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// [`Store::rebuild_index`] could not re-derive a stored entry (nothing
    /// was changed).
    #[error("cannot reindex entry {sequence}: {message}")]
    Reindex {
        /// The entry's position in acceptance order.
        sequence: i64,
        /// Why (the `reindex` closure's message, or changed coordinates).
        message: String,
    },
    /// The endorser e-mail is bound to another identity
    /// ([`EndorserBinding`]): the entry was not stored.
    #[error(
        "the endorser e-mail {email} is bound to {binding}, and this document is signed with \
         another key: entries under this e-mail must be signed with that key (or, under a CA \
         directory, by a renewed certificate of that subject); the marketplace's operator \
         changes a binding with `marketplace admin endorser rebind`",
        email = .0.email,
        binding = .0
    )]
    EndorserBound(Box<EndorserBinding>),
    /// An upload under this e-mail already waits for confirmation
    /// ([`Store::put_pending`]): no second one is kept (nor mailed about).
    #[error(
        "an upload under {email} already waits for e-mail confirmation (until {expires_at}): \
         the endorser confirms or aborts it with the links mailed to that address first"
    )]
    PendingExists {
        /// The e-mail, in lower case.
        email: String,
        /// When the waiting upload expires.
        expires_at: DateTime<Utc>,
        /// Whether the waiting upload is this very one (same coordinates,
        /// same document): then it is simply still waiting.
        same: bool,
    },
    /// The database cannot be reached or cannot write now (its server
    /// restarting, the disk full): nothing was changed; the same request
    /// may succeed later.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error("storage failure: {0}")]
    Backend(String),
    /// The transparency log cannot be written or read as it must (a leaf
    /// too long, a stored hash missing, another server's log key).
    #[error("transparency log: {0}")]
    Log(String),
}

/// What [`Store::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new entry was stored.
    Created,
    /// The very same document was already stored: nothing changed.
    AlreadyPresent,
}

/// The most entries [`Store::put_many`] writes in one transaction (a
/// longer list is written as several consecutive transactions). On
/// PostgreSQL such a transaction holds one advisory lock per distinct
/// (identifier, e-mail): 500 stays well inside the default lock table
/// (64 per connection slot).
pub const PUT_MANY_BATCH: usize = 500;

/// What [`Store::rebuild_index`] calls to re-read a stored signed document
/// into a [`NewEntry`] (an error is a sentence saying why it cannot). The
/// closure may borrow (`'a`).
pub type Reindex<'a> = dyn Fn(&[u8]) -> Result<NewEntry, String> + Send + Sync + 'a;

/// The storage interface of the marketplace.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores an entry and indexes it in one transaction, durably (committed
    /// before returning). Refuses an entry older than the endorser's latest
    /// for the same image, and a different document with the same
    /// coordinates. Concurrent puts (from this or other processes) serialise
    /// per (identifier, email).
    ///
    /// Outcomes, checked in this order: the same coordinates with the same
    /// bytes are [`PutOutcome::AlreadyPresent`] (also for a historical
    /// entry); the same coordinates with other bytes are
    /// [`StoreError::Conflict`] (nothing is ever overwritten); a `created`
    /// older than the pair's latest is [`StoreError::OlderThanLatest`]; an
    /// entry whose signer does not continue its e-mail's binding
    /// ([`EndorserBinding::continuity`]) is [`StoreError::EndorserBound`]
    /// (an unbound e-mail is bound to the entry's signer, a renewal moves
    /// the binding to the new key, in the same transaction).
    /// The key is taken as given (the caller derives it from the document).
    async fn put(&self, entry: NewEntry) -> Result<PutOutcome, StoreError>;

    /// Stores several entries, in the order given, with the outcome of
    /// each exactly as [`Store::put`] would give it had they been put one
    /// after the other (an entry sees those before it: a newer entry of a
    /// pair after an older one is stored, the other way round the older is
    /// [`StoreError::OlderThanLatest`]). Refusals do not stop the others.
    ///
    /// Unlike [`Store::put`], no entry is refused for its endorser binding:
    /// this is the operator's import of entries accepted elsewhere (an
    /// original data directory often signs one e-mail with several keys
    /// over the years). Each e-mail is bound to the signer of its newest
    /// entry (by `created`) among those stored and given, unless the
    /// operator bound it by hand ([`Store::rebind`]).
    ///
    /// Entries are written in transactions of up to [`PUT_MANY_BATCH`],
    /// each durable when committed and the outcomes are returned once all
    /// are committed. If the database fails, the failing transaction is
    /// rolled back and it and every later entry get that
    /// [`StoreError::Backend`] (never stored), so that no newer entry of a
    /// pair is stored after an older one was lost.
    ///
    /// The default implementation calls [`Store::put`] for each (and so
    /// enforces bindings: back ends override it).
    async fn put_many(&self, entries: Vec<NewEntry>) -> Vec<Result<PutOutcome, StoreError>> {
        let mut outcomes = Vec::with_capacity(entries.len());
        let mut failed: Option<String> = None;
        for entry in entries {
            if let Some(message) = &failed {
                outcomes.push(Err(StoreError::Backend(message.clone())));
                continue;
            }
            let outcome = self.put(entry).await;
            if let Err(StoreError::Backend(message)) = &outcome {
                failed = Some(message.clone());
            }
            outcomes.push(outcome);
        }
        outcomes
    }

    /// The entry with these coordinates, any status, with its signed
    /// bytes, whoever may see it (internal reads: uploads, confirmation;
    /// users read through [`Store::get_visible`]).
    async fn get(&self, key: &EntryKey) -> Result<Option<StoredEntry>, StoreError>;

    /// [`Store::get`] for `audience`: `None` when the entry does not exist
    /// or is hidden from the audience (the two cannot be told apart).
    ///
    /// The default implementation calls [`Store::get`] and checks the
    /// entry's metadata with [`Audience::sees_metadata`].
    async fn get_visible(
        &self,
        key: &EntryKey,
        audience: &Audience,
    ) -> Result<Option<StoredEntry>, StoreError> {
        Ok(self
            .get(key)
            .await?
            .filter(|e| audience.sees_metadata(&e.entry.metadata)))
    }

    /// Latest entries matching `query`, status evaluated at `now`, paged,
    /// among those `query.audience` may see.
    ///
    /// With `query.created` set, non-latest entries with that `created` are
    /// included. `total` counts the latest entries with the status filter
    /// only; `matching` counts the rows matching every filter (both for the
    /// audience). A pair whose latest entry is hidden from the audience
    /// has no latest entry for it (see [`Audience`]).
    async fn search(
        &self,
        query: &SearchQuery,
        now: DateTime<Utc>,
    ) -> Result<SearchPage, StoreError>;

    /// [`Store::search`], computing what `options` asks for: without the
    /// total (one count less over the whole catalogue) and/or with the
    /// signed documents of the page (one query instead of a
    /// [`Store::get`] per entry).
    ///
    /// The default implementation calls [`Store::search`] and
    /// [`Store::get`].
    async fn search_with(
        &self,
        query: &SearchQuery,
        now: DateTime<Utc>,
        options: SearchOptions,
    ) -> Result<SearchPage, StoreError> {
        let mut page = self.search(query, now).await?;
        if !options.total {
            page.total = 0;
        }
        if options.documents {
            let mut documents = Vec::with_capacity(page.entries.len());
            let mut spent = 0usize;
            for (i, e) in page.entries.iter().enumerate() {
                let stored = self.get(&e.key).await?.ok_or_else(|| {
                    StoreError::Backend(format!("entry {} vanished during a search", e.key))
                })?;
                spent = spent.saturating_add(stored.entry.document.len());
                if i > 0 && options.document_budget.is_some_and(|budget| spent > budget) {
                    page.documents_left_out = (page.entries.len() - i) as u64;
                    break;
                }
                documents.push(SignedDocument {
                    sha256: index::sha256_hex(&stored.entry.document),
                    bytes: stored.entry.document,
                });
            }
            page.documents = documents;
        }
        if !options.summaries {
            page.entries.clear();
        }
        Ok(page)
    }

    /// All entries (history, any status) matching `query` that
    /// `query.audience` may see, in `query.order` (by default newest
    /// endorsement first: `created` descending), at most
    /// [`effective_limit`]`(query.limit)`. [`EntrySummary::latest`] is the
    /// pair's own flag, so an entry whose pair has a newer entry hidden
    /// from the audience is not latest.
    async fn history(&self, query: &HistoryQuery) -> Result<Vec<EntrySummary>, StoreError>;

    /// Every endorser with the certificate names used (the verified
    /// [`Signer`]'s subject and issuer), any status, history included,
    /// sorted by e-mail, subject, issuer; at most [`MAX_UNPAGED_ROWS`].
    /// Only the entries `audience` may see count (an endorser whose every
    /// entry is hidden is not listed).
    async fn endorsers(&self, audience: &Audience) -> Result<Vec<EndorserSummary>, StoreError>;

    /// The rows of [`Store::endorsers`] with this e-mail (one per
    /// certificate subject and issuer it signed with; empty for an unknown
    /// endorser), without reading the others.
    ///
    /// The default implementation filters [`Store::endorsers`].
    async fn endorser(
        &self,
        email: &str,
        audience: &Audience,
    ) -> Result<Vec<EndorserSummary>, StoreError> {
        let mut all = self.endorsers(audience).await?;
        all.retain(|e| e.email == email);
        Ok(all)
    }

    /// Distinct non-empty tags (`dcterms:alternative`) an endorser used,
    /// history and deprecated entries included, sorted (by code point); at
    /// most [`MAX_UNPAGED_ROWS`]. Only the entries `audience` may see.
    async fn tags(&self, email: &str, audience: &Audience) -> Result<Vec<String>, StoreError>;

    /// The entry an endorser's tag resolves to: among identifiers whose
    /// entries carry the tag and none of which is deprecated, the most
    /// recently endorsed. The key's `created` is the newest tagged entry of
    /// that identifier. Unlike the original, an identifier whose latest
    /// entry is deprecated is dropped too, even when that entry does not
    /// repeat the tag. Validity/expiry is ignored (as in the original).
    ///
    /// For `audience`: only the entries it may see carry tags, and an
    /// identifier whose latest entry (of this endorser) is hidden from it
    /// is dropped (it has no current state for the audience, see
    /// [`Audience`]).
    async fn resolve_tag(
        &self,
        email: &str,
        tag: &str,
        audience: &Audience,
    ) -> Result<Option<EntryKey>, StoreError>;

    /// Entries in acceptance order after `after` (exclusive; `None` = from
    /// the start), at most `limit` (see [`effective_limit`]), with their
    /// signed bytes, whoever may see them: for export and rebuild (feeds
    /// read [`Store::history`] with an audience). Acceptance order is
    /// commit order, so a reader that remembers the last sequence it saw
    /// never misses an entry committed later.
    async fn entries_after(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredEntry>, StoreError>;

    /// Re-derives every indexed field from the stored signed documents
    /// with `reindex` (which parses a document into a [`NewEntry`]), in
    /// one transaction; returns the number of entries reindexed. The
    /// coordinates of an entry cannot change: a document that no longer
    /// reads as its key, or that `reindex` refuses, fails the whole
    /// rebuild with [`StoreError::Reindex`] and nothing changes.
    async fn rebuild_index(&self, reindex: &Reindex<'_>) -> Result<u64, StoreError>;

    /// Keeps an upload that waits for e-mail confirmation (instants are
    /// kept to the microsecond). A token already in use is
    /// [`StoreError::InvalidQuery`]; an e-mail (any case) that already has
    /// an upload waiting, unexpired at `received_at`, is
    /// [`StoreError::PendingExists`].
    async fn put_pending(&self, pending: PendingEntry) -> Result<(), StoreError>;

    /// The pending upload with this token, if it has not expired at `now`
    /// (it is still there at exactly `expires_at`).
    async fn get_pending(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingEntry>, StoreError>;

    /// Removes a pending upload (after confirm or abort); true if it existed.
    async fn delete_pending(&self, token: &str) -> Result<bool, StoreError>;

    /// Removes pending uploads that expired at `now` (`expires_at < now`);
    /// returns how many.
    async fn purge_pending(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Number of stored entries (every visibility), for metrics and health.
    async fn count(&self) -> Result<u64, StoreError>;

    /// The identity `email` (any case) is bound to, if any
    /// ([`EndorserBinding`]). [`Store::put`] enforces it; [`Store::put_many`]
    /// (the operator's import) moves it to the newest entry's signer.
    async fn binding(&self, email: &str) -> Result<Option<EndorserBinding>, StoreError>;

    /// Replaces the binding of `email` with `binding`, or releases it with
    /// `None` (the next accepted entry binds it; [`Store::unbound_endorsers`]
    /// no longer lists it); returns the previous one. The operator's act (`admin endorser rebind`).
    async fn rebind(
        &self,
        email: &str,
        binding: Option<EndorserBinding>,
    ) -> Result<Option<EndorserBinding>, StoreError>;

    /// Binds `binding.email` (lower case) only when it has no binding yet;
    /// true when it did. For binding the e-mails of entries stored before
    /// bindings existed ([`Store::unbound_endorsers`]).
    async fn bind_unbound(&self, binding: EndorserBinding) -> Result<bool, StoreError>;

    /// For each stored e-mail without a binding, its newest entry (by
    /// `created`, then acceptance), at most `limit`, in acceptance order:
    /// whoever binds them re-reads each signer from the signed document.
    async fn unbound_endorsers(&self, limit: u32) -> Result<Vec<StoredEntry>, StoreError>;

    /// Why this process's last write failed ([`StoreError::Unavailable`]
    /// or [`StoreError::Backend`]), or `None` when it succeeded (a refusal
    /// by the store's rules counts as a success of the write path).
    fn write_fault(&self) -> Option<String>;

    /// Writes one row nobody reads, to learn whether the store can write
    /// (again); its outcome becomes [`Store::write_fault`]'s.
    async fn probe_write(&self) -> Result<(), StoreError>;

    /// The database's own check of its files: SQLite's `quick_check`, or
    /// with `thorough` its `integrity_check`; on PostgreSQL (which checks
    /// its own pages) that every table answers. What was found wrong;
    /// empty when nothing. A SQLite store that fails the quick check when
    /// opened refuses every write ([`StoreError::Unavailable`]).
    async fn check_integrity(&self, thorough: bool) -> Result<Vec<String>, StoreError>;

    /// The sequence of the newest entry, if any (entries are numbered in
    /// acceptance order; numbers may have gaps).
    async fn last_sequence(&self) -> Result<Option<i64>, StoreError>;

    // The transparency log. Every put that creates entries appends their
    // leaves in the same transaction; these read it and keep its checkpoints.

    /// The number of leaves in the log.
    async fn log_size(&self) -> Result<u64, StoreError>;

    /// The tree's stored hashes at `indexes` (at most
    /// [`MAX_LOG_READ`]); an index the log does not hold is absent.
    async fn log_hashes(
        &self,
        indexes: &[u64],
    ) -> Result<std::collections::HashMap<u64, marketplace_log::tree::Hash>, StoreError>;

    /// The public leaves `range.start..range.end` (at most [`MAX_LOG_READ`]),
    /// in order; fewer when the log ends sooner.
    async fn log_leaves(&self, range: std::ops::Range<u64>) -> Result<Vec<Vec<u8>>, StoreError>;

    /// The leaves `range.start..range.end` (at most [`MAX_LOG_READ`]) with
    /// the openings of restricted ones, in order: what `admin export`
    /// writes to carry the log (openings are for those who may see the
    /// entry, like its document).
    async fn log_positions(
        &self,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<LogPosition>, StoreError>;

    /// Stores entries carried with their leaves from another store's log
    /// (`admin import` of an export with its log), in the order given:
    /// each entry is checked and stored as by [`Store::put_many`], and its
    /// leaf is the one given — recording exactly that entry and its
    /// document — appended at the index given, with the acceptance time it
    /// records. So the store's log is the exported one, leaf for leaf, and
    /// the checkpoints signed of it stay valid. Transactions of up to
    /// [`PUT_MANY_BATCH`]; an entry that is not created (refused, present
    /// already) or a leaf that is not the next one is a
    /// [`StoreError::Log`] naming it, and its whole transaction is rolled
    /// back (those committed before stay).
    async fn put_logged(&self, entries: Vec<(NewEntry, LogPosition)>) -> Result<(), StoreError>;

    /// Where the entry at `key` is in the log, with the opening of its leaf
    /// when the entry is restricted (callers show it only to those who may
    /// see the entry).
    async fn log_position(&self, key: &EntryKey) -> Result<Option<LogPosition>, StoreError>;

    /// The checkpoint of the largest size recorded, if any.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// Records the signed checkpoint `note` of the tree of `size` leaves,
    /// unless one of that size is recorded already; returns the recorded one.
    async fn record_checkpoint(
        &self,
        size: u64,
        note: &str,
    ) -> Result<StoredCheckpoint, StoreError>;

    /// Records `verifier_key` as the log's key, or checks that it is the one
    /// recorded ([`StoreError::Log`] when another server signs with another).
    async fn claim_log_key(&self, verifier_key: &str) -> Result<(), StoreError>;

    /// Keeps a witness's cosignature `line` of the checkpoint of `size`
    /// (the first one of that witness for that size).
    async fn record_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
    ) -> Result<(), StoreError>;

    /// The cosignature lines kept for the checkpoint of `size`.
    async fn cosignatures(&self, size: u64) -> Result<Vec<String>, StoreError>;

    /// The first checkpoint covering leaf `index` (of a size above it) that
    /// a witness cosigned, if any: its cosignatures' times bound when the
    /// leaf was integrated.
    async fn first_cosigned_checkpoint(
        &self,
        index: u64,
    ) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// As a witness: the latest checkpoint cosigned for `origin`.
    async fn witnessed(&self, origin: &str) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// As a witness: moves `origin`'s latest cosigned checkpoint from size
    /// `old` (0: none yet) to `note` of `size`, atomically; `Some(current)`
    /// when the latest is not of size `old` (nothing changed).
    async fn advance_witnessed(
        &self,
        origin: &str,
        old: u64,
        size: u64,
        note: &str,
    ) -> Result<Option<u64>, StoreError>;
}
