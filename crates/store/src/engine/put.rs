//! The put path: [`put`] (one entry, the endorser binding enforced) and
//! [`put_many`] (the operator's import, in batches, bindings adopted),
//! both through [`put_in`] inside a write transaction: read what is
//! stored, decide the outcomes ([`fn@decide`], no database), write (the
//! entries, their documents, index rows and log leaves).

mod decide;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use self::decide::{Bindings, Created, Decision, Stored, StoredRow, decide};
use super::bindings;
use super::indexing::{INDEXED_COLUMNS, INSERT_ROWS, index_text, index_visibility, indexed_values};
use super::locks::lock_pairs;
use super::log;
use crate::index::Indexed;
use crate::model::{EntryKey, LogPosition, NewEntry};
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx};
use crate::{PutOutcome, StoreError};

/// Advisory-lock key serialising PostgreSQL inserts, so that sequence
/// order is commit order (feeds reading by sequence never skip an entry)
/// and the log's leaves are appended in that order.
pub(crate) const PG_SEQUENCE_LOCK: i64 = 0x6d6b_7470_6c61_6365;

/// Puts a batch inside a write transaction that holds the pair locks of
/// its entries, in three steps: [`read_stored`] reads what is stored of
/// the batch's pairs, [`fn@decide`] runs the checks of
/// [`crate::Store::put`] for each entry in order (each seeing the outcome
/// of those before it), and [`write_decision`] makes the writes (a few
/// multi-row statements, whatever the batch size). `batch` pairs each entry with its indexed fields (or why
/// they could not be derived: that entry's outcome). `bindings` says how
/// the endorser bindings are kept. The outer error is a database failure
/// (the transaction must be abandoned).
async fn put_in<T: Tx>(
    tx: &mut T,
    d: Dialect,
    batch: Vec<(&NewEntry, Result<Indexed, StoreError>)>,
    bindings: Bindings,
    leaves: LeafSource<'_>,
) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
    let keys: Vec<&EntryKey> = batch
        .iter()
        .filter(|(_, ix)| ix.is_ok())
        .map(|(e, _)| &e.key)
        .collect();
    let stored = read_stored(tx, d, &keys).await?;
    let since = bindings::now()?;
    let decision = decide(stored, batch, bindings, since);
    write_decision(tx, d, &decision, leaves).await?;
    Ok(decision.outcomes)
}

/// What is stored of the pairs of `keys`: the latest entry of each, any
/// entry with the coordinates of one of `keys`, and the bindings of their
/// e-mails.
async fn read_stored<T: Tx>(
    tx: &mut T,
    d: Dialect,
    keys: &[&EntryKey],
) -> Result<Stored, StoreError> {
    let mut rows = HashMap::new();
    for chunk in keys.chunks(INSERT_ROWS) {
        let mut s = Sql::new(d);
        s.push(
            "SELECT e.seq, e.identifier, e.email, e.created, e.document_sha256, e.latest \
             FROM entries e JOIN (VALUES ",
        );
        for (i, key) in chunk.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.push("(")
                .text(&key.identifier)
                .push(", ")
                .text(&key.email)
                .push(", ")
                .text(&key.created)
                .push(")");
        }
        s.push(
            ") AS k ON e.identifier = k.column1 AND e.email = k.column2 \
             WHERE e.latest OR e.created = k.column3",
        );
        for row in tx.fetch(s).await? {
            let coordinates = (row.text(1)?, row.text(2)?, row.text(3)?);
            let stored = StoredRow {
                seq: row.int(0)?,
                sha256: row.text(4)?,
                latest: row.boolean(5)?,
            };
            rows.insert(coordinates, stored);
        }
    }
    let mut emails: Vec<String> = keys.iter().map(|k| k.email.to_ascii_lowercase()).collect();
    emails.sort();
    emails.dedup();
    let bound = bindings::read_in(tx, d, &emails).await?;
    Ok(Stored { rows, bound })
}

/// Where the log leaves of a batch's new entries come from.
#[derive(Debug, Clone, Copy)]
enum LeafSource<'a> {
    /// Made now: accepted now, a fresh commitment for a restricted entry.
    Fresh,
    /// Carried from another store's log (an export's), by coordinates:
    /// each entry takes its leaf, at its index, and its acceptance time.
    Carried(&'a HashMap<EntryKey, LogPosition>),
}

/// The writes of `decision`: its bindings, then, when it creates entries,
/// the latest flags they take over and their rows, documents, full-text
/// and visibility rows.
async fn write_decision<T: Tx>(
    tx: &mut T,
    d: Dialect,
    decision: &Decision<'_, Indexed>,
    source: LeafSource<'_>,
) -> Result<(), StoreError> {
    for binding in &decision.rebound {
        bindings::write_in(tx, d, binding).await?;
    }
    if decision.created.is_empty() {
        return Ok(());
    }
    if d == Dialect::Postgres {
        // Sequence order is commit order: one inserting transaction at a
        // time, from here to the commit.
        let mut s = Sql::new(d);
        s.push("SELECT pg_advisory_xact_lock(")
            .int(PG_SEQUENCE_LOCK)
            .push(")");
        tx.execute(s).await?;
    }
    for chunk in decision.displaced.chunks(INSERT_ROWS) {
        let mut s = Sql::new(d);
        s.push("UPDATE entries SET latest = ")
            .bind(Arg::Bool(false))
            .push(" WHERE seq IN (");
        for (i, seq) in chunk.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.int(*seq);
        }
        s.push(")");
        tx.execute(s).await?;
    }
    let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros())
        .ok_or_else(|| StoreError::Backend("clock out of range".into()))?;
    for chunk in decision.created.chunks(INSERT_ROWS) {
        let carried = carried_rows(chunk, source)?;
        let accepted: Vec<DateTime<Utc>> = match &carried {
            None => vec![now; chunk.len()],
            Some(rows) => rows.iter().map(|(_, at)| *at).collect(),
        };
        let rows = insert_entries(tx, d, chunk, &accepted).await?;
        let mut s = Sql::new(d);
        s.push("INSERT INTO documents (seq, document) VALUES ");
        for (n, (seq, entry, _)) in rows.iter().enumerate() {
            if n > 0 {
                s.push(", ");
            }
            s.push("(")
                .int(*seq)
                .push(", ")
                .bind(Arg::Bytes(entry.document.clone()))
                .push(")");
        }
        tx.execute(s).await?;
        index_text(tx, d, &rows).await?;
        let visibility: Vec<(i64, &Indexed)> =
            rows.iter().map(|(seq, _, ix)| (*seq, *ix)).collect();
        index_visibility(tx, d, &visibility).await?;
        let mut leaves = match carried {
            None => rows
                .iter()
                .map(|(seq, entry, ix)| {
                    log::leaf_row(
                        *seq,
                        &entry.key,
                        &ix.document_sha256,
                        &entry.signer,
                        now,
                        ix.restricted,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(carried) => rows
                .iter()
                .zip(carried)
                .map(|((seq, _, _), (mut row, _))| {
                    row.seq = *seq;
                    row
                })
                .collect(),
        };
        leaves.sort_by_key(|leaf| leaf.seq);
        log::append(tx, d, &leaves).await?;
    }
    Ok(())
}

/// A carried leaf's row and the acceptance time it records.
type CarriedRow = (log::LeafRow, DateTime<Utc>);

/// The leaves carried for the entries of `chunk`, each checked against its
/// entry before anything is written, with the acceptance time it records
/// (`None` for fresh leaves).
fn carried_rows(
    chunk: &[Created<'_, Indexed>],
    source: LeafSource<'_>,
) -> Result<Option<Vec<CarriedRow>>, StoreError> {
    let LeafSource::Carried(leaves) = source else {
        return Ok(None);
    };
    chunk
        .iter()
        .map(|c| {
            let key = &c.entry.key;
            let position = leaves
                .get(key)
                .ok_or_else(|| StoreError::Log(format!("no carried leaf for {key}")))?;
            log::carried_row(
                0,
                key,
                &c.derived.document_sha256,
                c.derived.restricted,
                position,
            )
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Inserts the rows of `chunk` (at most [`INSERT_ROWS`]), each accepted at
/// its time in `accepted`, and returns each entry with its sequence, in
/// the order of `chunk`.
async fn insert_entries<'c, T: Tx>(
    tx: &mut T,
    d: Dialect,
    chunk: &'c [Created<'c, Indexed>],
    accepted: &[DateTime<Utc>],
) -> Result<Vec<(i64, &'c NewEntry, &'c Indexed)>, StoreError> {
    let mut s = Sql::new(d);
    s.push(
        "INSERT INTO entries (identifier, email, created, document_sha256, accepted_at, \
         latest, ",
    )
    .push(INDEXED_COLUMNS)
    .push(") VALUES ");
    for (n, (created, accepted_at)) in chunk.iter().zip(accepted).enumerate() {
        let key = &created.entry.key;
        let ix = &created.derived;
        if n > 0 {
            s.push(", ");
        }
        s.push("(")
            .text(&key.identifier)
            .push(", ")
            .text(&key.email)
            .push(", ")
            .text(&key.created)
            .push(", ")
            .text(&ix.document_sha256)
            .push(", ")
            .bind(Arg::Time(*accepted_at))
            .push(", ")
            .bind(Arg::Bool(created.latest))
            .push(", ");
        indexed_values(&mut s, ix);
        s.push(")");
    }
    s.push(" RETURNING seq, identifier, email, created");
    let mut seqs = HashMap::with_capacity(chunk.len());
    for row in tx.fetch(s).await? {
        seqs.insert((row.text(1)?, row.text(2)?, row.text(3)?), row.int(0)?);
    }
    let mut rows = Vec::with_capacity(chunk.len());
    for created in chunk {
        let key = &created.entry.key;
        let seq = seqs
            .get(&(
                key.identifier.to_string(),
                key.email.to_string(),
                key.created.to_string(),
            ))
            .copied()
            .ok_or_else(|| StoreError::Backend(format!("no sequence for {key}")))?;
        rows.push((seq, created.entry, &created.derived));
    }
    Ok(rows)
}

/// [`crate::Store::put`]: a batch of one.
pub(crate) async fn put<D: Db>(db: &D, entry: NewEntry) -> Result<PutOutcome, StoreError> {
    let d = D::DIALECT;
    let ix = Indexed::of(&entry)?;
    let mut tx = db.begin_write().await?;
    lock_pairs(&mut tx, d, &[&entry.key]).await?;
    let outcome = put_in(
        &mut tx,
        d,
        vec![(&entry, Ok(ix))],
        Bindings::Enforce,
        LeafSource::Fresh,
    )
    .await?
    .pop()
    .ok_or_else(|| StoreError::Backend("a put gave no outcome".into()))??;
    if outcome == PutOutcome::Created {
        tx.commit().await?;
    }
    Ok(outcome)
}

/// One transaction of [`put_many`].
async fn put_batch<D: Db>(
    db: &D,
    batch: &[NewEntry],
) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
    let d = D::DIALECT;
    // Derived before the write lock is taken.
    let indexed: Vec<(&NewEntry, Result<Indexed, StoreError>)> =
        batch.iter().map(|e| (e, Indexed::of(e))).collect();
    let mut tx = db.begin_write().await?;
    let keys: Vec<&EntryKey> = batch.iter().map(|e| &e.key).collect();
    lock_pairs(&mut tx, d, &keys).await?;
    let outcomes = put_in(&mut tx, d, indexed, Bindings::Adopt, LeafSource::Fresh).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// [`crate::Store::put_logged`]: one transaction per [`crate::PUT_MANY_BATCH`].
pub(crate) async fn put_logged<D: Db>(
    db: &D,
    entries: Vec<(NewEntry, LogPosition)>,
) -> Result<(), StoreError> {
    let d = D::DIALECT;
    for batch in entries.chunks(crate::PUT_MANY_BATCH) {
        let leaves: HashMap<EntryKey, LogPosition> = batch
            .iter()
            .map(|(e, p)| (e.key.clone(), p.clone()))
            .collect();
        let indexed: Vec<(&NewEntry, Result<Indexed, StoreError>)> =
            batch.iter().map(|(e, _)| (e, Indexed::of(e))).collect();
        let mut tx = db.begin_write().await?;
        let keys: Vec<&EntryKey> = batch.iter().map(|(e, _)| &e.key).collect();
        lock_pairs(&mut tx, d, &keys).await?;
        let outcomes = put_in(
            &mut tx,
            d,
            indexed,
            Bindings::Adopt,
            LeafSource::Carried(&leaves),
        )
        .await?;
        // Each carried entry must be created: the log holds it, so the
        // store must (nothing of the batch is kept otherwise).
        for ((entry, position), outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Ok(PutOutcome::Created) => {}
                Ok(PutOutcome::AlreadyPresent) => {
                    return Err(StoreError::Log(format!(
                        "the entry {} of leaf {} is stored already, outside the carried log",
                        entry.key, position.index
                    )));
                }
                Err(e) => {
                    return Err(StoreError::Log(format!(
                        "the entry {} of leaf {} cannot be stored: {e}",
                        entry.key, position.index
                    )));
                }
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

/// [`crate::Store::put_many`].
pub(crate) async fn put_many<D: Db>(
    db: &D,
    entries: Vec<NewEntry>,
) -> Vec<Result<PutOutcome, StoreError>> {
    let mut outcomes = Vec::with_capacity(entries.len());
    let mut failed: Option<String> = None;
    for batch in entries.chunks(crate::PUT_MANY_BATCH) {
        if failed.is_none() {
            match put_batch(db, batch).await {
                Ok(done) => {
                    outcomes.extend(done);
                    continue;
                }
                Err(StoreError::Backend(message)) => failed = Some(message),
                Err(other) => failed = Some(other.to_string()),
            }
        }
        if let Some(message) = &failed {
            outcomes.extend(
                batch
                    .iter()
                    .map(|_| Err(StoreError::Backend(message.clone()))),
            );
        }
    }
    outcomes
}
