//! The columns and conditions that the reads share: the latest flag and
//! the summary of an entry as lists and searches show it.

use chrono::{DateTime, Utc};

use crate::StoreError;
use crate::model::{EntrySummary, Status};
use crate::sql::RowRead;

/// True when `e` is the latest entry of its (identifier, email): no entry
/// of the pair is newer. A flag set by the put that stores the entry and
/// cleared by the put that stores a newer one, in the same transaction.
pub(super) const LATEST: &str = "e.latest";

/// The columns [`summary`] reads; the sequence last ([`SUMMARY_SEQ`]).
pub(super) const SUMMARY_COLUMNS: &str = "SELECT e.identifier, e.email, e.created, e.metadata, \
     e.signer, e.accepted_at, e.latest, e.seq";

/// The column of [`SUMMARY_COLUMNS`] holding the sequence.
pub(super) const SUMMARY_SEQ: usize = 7;

/// Reads a summary from [`SUMMARY_COLUMNS`] (without a rank).
pub(super) fn summary<R: RowRead>(r: &R, now: DateTime<Utc>) -> Result<EntrySummary, StoreError> {
    let metadata = r.json(3)?;
    Ok(EntrySummary {
        key: r.key(0)?,
        status: Status::of(&metadata, now),
        metadata,
        signer: r.json(4)?,
        accepted_at: r.time(5)?,
        latest: r.boolean(6)?,
        rank: None,
    })
}
