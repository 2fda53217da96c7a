//! Values computed in one snapshot of the catalogue, kept by a store
//! process and reused while they still hold: the version of the snapshot
//! they were computed in (the newest sequence and the rebuild generation)
//! and the window between the expiries around the instant they were
//! computed at. The search pages ([`super::search_cache`]), the totals of
//! [`mod@super::search`] and the endorsers of [`mod@super::endorsers`] are kept
//! this way.

use std::borrow::Borrow;
use std::collections::VecDeque;
use std::sync::Mutex;

use super::columns::LATEST;
use crate::StoreError;
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx};

/// (newest sequence, rebuild generation): the same pair, the same entries.
pub(crate) type Version = (i64, i64);

/// The instants between two expiries: `[from, until)`, `None` for open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Window {
    from: Option<String>,
    until: Option<String>,
}

impl Window {
    /// Whether `now` lies in the window.
    pub(crate) fn holds(&self, now: &str) -> bool {
        self.from.as_deref().is_none_or(|f| f <= now)
            && self.until.as_deref().is_none_or(|u| now < u)
    }
}

/// One kept value and where it holds.
#[derive(Debug)]
struct Entry<K, V> {
    key: K,
    version: Version,
    window: Window,
    value: V,
}

/// Values computed in one snapshot, reused while that snapshot's version
/// and the window around the instant both still hold. At most `capacity`
/// are kept, the least recently used going first.
#[derive(Debug)]
pub(crate) struct Kept<K, V> {
    capacity: usize,
    entries: Mutex<VecDeque<Entry<K, V>>>,
}

impl<K: PartialEq, V: Clone> Kept<K, V> {
    /// An empty store of at most `capacity` values.
    pub(crate) fn new(capacity: usize) -> Self {
        Kept {
            capacity,
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// The value kept for `key` if it holds for `version` at `now` (one
    /// that no longer holds is dropped).
    pub(crate) fn get<Q>(&self, key: &Q, version: Version, now: &str) -> Option<V>
    where
        K: Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let i = entries.iter().position(|e| e.key.borrow() == key)?;
        let entry = entries.remove(i)?;
        if entry.version != version || !entry.window.holds(now) {
            return None;
        }
        let value = entry.value.clone();
        entries.push_front(entry);
        Some(value)
    }

    /// Keeps `value` for `key`, computed in a snapshot of `version`,
    /// holding over `window`.
    pub(crate) fn put(&self, key: K, version: Version, window: Window, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.key != key);
        entries.push_front(Entry {
            key,
            version,
            window,
            value,
        });
        entries.truncate(self.capacity);
    }
}

/// The version of the snapshot `tx` reads.
pub(crate) async fn version<T: Tx>(tx: &mut T, d: Dialect) -> Result<Version, StoreError> {
    let rows = tx.fetch(version_sql(d)).await?;
    version_of(rows.first())
}

/// The version of the database now (outside a transaction).
pub(crate) async fn current_version<D: Db>(db: &D) -> Result<Version, StoreError> {
    version_of(db.fetch(version_sql(D::DIALECT)).await?.first())
}

/// The query of the version (one row: newest sequence, generation).
fn version_sql(d: Dialect) -> Sql {
    let mut s = Sql::new(d);
    s.push(
        "SELECT (SELECT MAX(seq) FROM entries), \
         (SELECT value FROM store_meta WHERE name = 'generation')",
    );
    s
}

/// The version in the row of [`version_sql`] (0 for what is missing).
fn version_of<R: RowRead>(row: Option<&R>) -> Result<Version, StoreError> {
    match row {
        Some(r) => Ok((r.opt_int(0)?.unwrap_or(0), r.opt_int(1)?.unwrap_or(0))),
        None => Ok((0, 0)),
    }
}

/// The expiries (`valid_at` of latest, non-deprecated entries) around
/// `now`, in the snapshot `tx` reads: no status changes between them.
pub(crate) async fn window<T: Tx>(tx: &mut T, d: Dialect, now: &str) -> Result<Window, StoreError> {
    let bound = |aggregate: &'static str, op: &'static str| {
        let mut s = Sql::new(d);
        s.push("SELECT ")
            .push(aggregate)
            .push("(e.valid_at) FROM entries e WHERE ")
            .push(LATEST)
            .push(" AND e.deprecated = ")
            .bind(Arg::Bool(false))
            .push(" AND e.valid_at ")
            .push(op)
            .text(now);
        s
    };
    let from = tx.fetch(bound("MAX", " <= ")).await?;
    let until = tx.fetch(bound("MIN", " > ")).await?;
    Ok(Window {
        from: from.first().map(|r| r.opt_text(0)).transpose()?.flatten(),
        until: until.first().map(|r| r.opt_text(0)).transpose()?.flatten(),
    })
}
