//! The store operations, written once over [`Db`] for both back ends. The
//! back ends differ only in connection handling, placeholders, the lock
//! taken by a put, and how full text is indexed (SQLite FTS5 rows written
//! here; a PostgreSQL generated tsvector column).
//!
//! Tables: `entries` (coordinates, the indexed fields, and the `latest`
//! flag of the latest entry of each (identifier, email), kept by the put
//! transaction), `documents` (the signed bytes, by sequence),
//! `entry_visibility` (the VOs a restricted entry is visible to; the
//! entry's `restricted` column says whether it has any), `pending`, and the
//! transparency log's (see [`log`]).
//!
//! Every read that users reach appends [`visibility::visible_condition`]
//! for its [`Audience`]; see [`Audience`] for what an audience sees.

mod bindings;
mod columns;
mod delegate;
mod documents;
mod endorsers;
mod indexing;
mod kept;
mod locks;
pub(crate) mod log;
mod pending;
mod put;
mod read;
mod rebuild;
mod search;
mod search_cache;
mod visibility;
mod write_health;

pub(crate) use bindings::{bind_unbound, binding, rebind, unbound_endorsers};
pub(crate) use delegate::impl_store;
pub(crate) use endorsers::{EndorserCache, endorsers};
pub(crate) use pending::{delete_pending, get_pending, purge_pending, put_pending};
pub(crate) use put::{put, put_logged, put_many};
pub(crate) use read::{
    count, entries_after, get, get_visible, history, last_sequence, resolve_tag, tags,
};
pub(crate) use rebuild::rebuild_index;
pub(crate) use search::TotalCache;
pub(crate) use search_cache::{SearchCache, search};
pub(crate) use write_health::probe_write;

use crate::StoreError;
#[cfg(doc)]
use crate::query::Audience;
use crate::sql::Db;

/// What one store process keeps between queries: each value is reused
/// only while the version of the shared database it was computed at still
/// holds, so several processes on one database never serve stale results.
#[derive(Debug, Default)]
pub(crate) struct Caches {
    /// The catalogue totals.
    pub(crate) totals: TotalCache,
    /// Full-text search pages.
    pub(crate) searches: SearchCache,
    /// The list of every endorser.
    pub(crate) endorsers: EndorserCache,
    /// Whether the last write succeeded.
    pub(crate) writes: write_health::WriteHealth,
}

/// A back end with the [`Caches`] of its store process: what the
/// operations that keep values between queries need beyond [`Db`], which
/// stays the driver's view (statements, rows, transactions).
pub(crate) trait Cached: Db {
    /// What this process keeps between queries.
    fn caches(&self) -> &Caches;
}

/// Records `outcome` as the last write's ([`write_health::WriteHealth`]).
pub(crate) fn observe_write<D: Cached, T>(
    db: &D,
    outcome: Result<T, StoreError>,
) -> Result<T, StoreError> {
    db.caches().writes.observe(&outcome);
    outcome
}
