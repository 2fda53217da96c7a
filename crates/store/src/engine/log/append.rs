//! Appending leaves: inside the write transaction that stores their entries,
//! after the global insert lock (PostgreSQL) or the write lock (SQLite), so
//! that leaf indices follow sequence order with no gap and no repeat.

use chrono::{DateTime, SecondsFormat, Utc};
use marketplace_log::leaf::{EntryRecord, Opening, open_record};
use marketplace_log::tree::{self, Hash, StoredHashes};

use crate::StoreError;
use crate::model::{EntryKey, LogPosition, Signer};
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx};

use super::read::{fetch_hashes, next_index};

/// The most leaves one backfill transaction appends.
const BACKFILL_BATCH: i64 = 500;

/// Rows per multi-row insert.
const INSERT_ROWS: usize = 200;

/// A leaf to append for the entry with sequence `seq`.
#[derive(Debug, Clone)]
pub(crate) struct LeafRow {
    /// The entry's sequence.
    pub seq: i64,
    /// The public leaf.
    pub leaf: Vec<u8>,
    /// The opening of a restricted entry's leaf.
    pub opening: Option<Opening>,
    /// The index a leaf carried from another store's log must take.
    pub index: Option<u64>,
}

/// What the log records of an entry: its coordinates, the SHA-256 of its
/// stored document, its signer and when it was accepted.
pub fn entry_record(
    key: &EntryKey,
    document_sha256: &str,
    signer: &Signer,
    accepted_at: DateTime<Utc>,
) -> EntryRecord {
    EntryRecord {
        accepted: accepted_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        created: key.created.to_string(),
        document_sha256: document_sha256.to_string(),
        email: key.email.to_string(),
        fqans: signer.fqans.clone(),
        identifier: key.identifier.to_string(),
        issuer: signer.issuer.clone(),
        subject: signer.subject.clone(),
        kind: marketplace_log::leaf::ENTRY_TYPE.to_string(),
        vo: signer.vo.clone(),
    }
}

/// The leaf of an entry: its record in the clear, or, when the entry is
/// restricted to VOs, a commitment to it with a fresh opening.
pub(crate) fn leaf_row(
    seq: i64,
    key: &EntryKey,
    document_sha256: &str,
    signer: &Signer,
    accepted_at: DateTime<Utc>,
    restricted: bool,
) -> Result<LeafRow, StoreError> {
    let record = entry_record(key, document_sha256, signer, accepted_at);
    let log_error = |e: marketplace_log::leaf::LeafError| StoreError::Log(e.to_string());
    let entry_leaf = record.to_leaf().map_err(log_error)?;
    if !restricted {
        return Ok(LeafRow {
            seq,
            leaf: entry_leaf,
            opening: None,
            index: None,
        });
    }
    let opening = Opening::new(entry_leaf).map_err(log_error)?;
    Ok(LeafRow {
        seq,
        leaf: opening.restricted_leaf().map_err(log_error)?,
        opening: Some(opening),
        index: None,
    })
}

/// The leaf of an entry carried from another store's log (`carried`: its
/// leaf, opening and index there), with the acceptance time it records,
/// once checked to record exactly this entry: its coordinates, its
/// document's SHA-256, and a commitment exactly when it is restricted.
pub(crate) fn carried_row(
    seq: i64,
    key: &EntryKey,
    document_sha256: &str,
    restricted: bool,
    carried: &LogPosition,
) -> Result<(LeafRow, DateTime<Utc>), StoreError> {
    let index = carried.index;
    let refused = |why: String| StoreError::Log(format!("the carried leaf {index} {why}"));
    if carried.opening.is_some() != restricted {
        return Err(refused(format!(
            "does not match the visibility of {key} (restricted here: {restricted})"
        )));
    }
    let record = open_record(&carried.leaf, carried.opening.as_ref())
        .map_err(|e| refused(format!("does not record an entry: {e}")))?;
    record
        .check_records(
            (
                key.identifier.as_str(),
                key.email.as_str(),
                key.created.as_str(),
            ),
            document_sha256,
        )
        .map_err(|e| refused(format!("{e}, for {key}")))?;
    let accepted = DateTime::parse_from_rfc3339(&record.accepted)
        .map_err(|e| refused(format!("has an unreadable acceptance time: {e}")))?
        .with_timezone(&Utc);
    Ok((
        LeafRow {
            seq,
            leaf: carried.leaf.clone(),
            opening: carried.opening.clone(),
            index: Some(index),
        },
        accepted,
    ))
}

/// Appends `rows` (in sequence order) at the end of the log, with the stored
/// hashes they complete. The caller holds the lock that orders inserts.
pub(crate) async fn append<T: Tx>(
    tx: &mut T,
    d: Dialect,
    rows: &[LeafRow],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let size = next_index(tx, d).await?;
    // Appending reads only the roots of the tree's complete subtrees (its
    // right edge) and hashes this batch writes: fetch the edge once.
    let edge = tree::reads(|r| tree::root(size, r));
    let mut known = StoredHashes(fetch_hashes(tx, d, &edge).await?);
    let mut written: Vec<(u64, Hash)> = Vec::new();
    for (n, row) in (size..).zip(rows) {
        if let Some(index) = row.index
            && index != n
        {
            return Err(StoreError::Log(format!(
                "the carried leaf {index} would be leaf {n} here: a log is carried only in \
                 order, from its first leaf, into a store whose log holds its beginning"
            )));
        }
        let leaf_hash = tree::record_hash(&row.leaf);
        let needed = tree::reads(|r| tree::append(n, leaf_hash, r));
        let missing: Vec<u64> = needed
            .into_iter()
            .filter(|i| !known.0.contains_key(i))
            .collect();
        if !missing.is_empty() {
            known.0.extend(fetch_hashes(tx, d, &missing).await?);
        }
        let stored =
            tree::append(n, leaf_hash, &known).map_err(|e| StoreError::Log(e.to_string()))?;
        for (index, hash) in (tree::first_stored_index(n)..).zip(stored) {
            known.0.insert(index, hash);
            written.push((index, hash));
        }
    }
    insert_leaves(tx, d, size, rows).await?;
    insert_hashes(tx, d, &written).await
}

/// Inserts `rows` at indices `size…`.
async fn insert_leaves<T: Tx>(
    tx: &mut T,
    d: Dialect,
    size: u64,
    rows: &[LeafRow],
) -> Result<(), StoreError> {
    let mut index = size;
    for chunk in rows.chunks(INSERT_ROWS) {
        let mut s = Sql::new(d);
        s.push("INSERT INTO log_leaves (idx, seq, leaf, nonce, entry_leaf) VALUES ");
        for (n, row) in chunk.iter().enumerate() {
            if n > 0 {
                s.push(", ");
            }
            let (nonce, entry_leaf) = match &row.opening {
                Some(o) => (Some(o.nonce.to_vec()), Some(o.entry_leaf.clone())),
                None => (None, None),
            };
            s.push("(")
                .int(as_i64(index)?)
                .push(", ")
                .int(row.seq)
                .push(", ")
                .bind(Arg::Bytes(row.leaf.clone()))
                .push(", ")
                .bind(Arg::OptBytes(nonce))
                .push(", ")
                .bind(Arg::OptBytes(entry_leaf))
                .push(")");
            index += 1;
        }
        tx.execute(s).await?;
    }
    Ok(())
}

/// Inserts stored hashes.
async fn insert_hashes<T: Tx>(
    tx: &mut T,
    d: Dialect,
    hashes: &[(u64, Hash)],
) -> Result<(), StoreError> {
    for chunk in hashes.chunks(INSERT_ROWS) {
        let mut s = Sql::new(d);
        s.push("INSERT INTO log_hashes (idx, hash) VALUES ");
        for (n, (index, hash)) in chunk.iter().enumerate() {
            if n > 0 {
                s.push(", ");
            }
            s.push("(")
                .int(as_i64(*index)?)
                .push(", ")
                .bind(Arg::Bytes(hash.0.to_vec()))
                .push(")");
        }
        tx.execute(s).await?;
    }
    Ok(())
}

/// An index as the databases store it.
pub(super) fn as_i64(index: u64) -> Result<i64, StoreError> {
    i64::try_from(index).map_err(|_| StoreError::Log(format!("log index {index} out of range")))
}

/// Appends, in sequence order, every entry stored without a leaf (those
/// stored before the log existed), a batch per transaction; returns how many.
/// Run when the store opens: a second run, or another server's, finds
/// nothing to do.
pub(crate) async fn backfill<D: Db>(db: &D) -> Result<u64, StoreError> {
    let d = D::DIALECT;
    let mut appended = 0;
    loop {
        let mut tx = db.begin_write().await?;
        if d == Dialect::Postgres {
            let mut s = Sql::new(d);
            s.push("SELECT pg_advisory_xact_lock(")
                .int(crate::engine::put::PG_SEQUENCE_LOCK)
                .push(")");
            tx.execute(s).await?;
        }
        let rows = unlogged(&mut tx, d).await?;
        if rows.is_empty() {
            return Ok(appended);
        }
        append(&mut tx, d, &rows).await?;
        tx.commit().await?;
        appended += rows.len() as u64;
    }
}

/// The next [`BACKFILL_BATCH`] entries without a leaf, as leaf rows.
async fn unlogged<T: Tx>(tx: &mut T, d: Dialect) -> Result<Vec<LeafRow>, StoreError> {
    let mut s = Sql::new(d);
    s.push(
        "SELECT e.seq, e.identifier, e.email, e.created, e.document_sha256, e.signer, \
         e.accepted_at, e.restricted FROM entries e \
         WHERE e.seq > COALESCE((SELECT MAX(l.seq) FROM log_leaves l), 0) \
         ORDER BY e.seq LIMIT ",
    )
    .count_literal(BACKFILL_BATCH.unsigned_abs());
    let mut rows = Vec::new();
    for r in tx.fetch(s).await? {
        let signer: Signer = r.json(5)?;
        rows.push(leaf_row(
            r.int(0)?,
            &r.key(1)?,
            &r.text(4)?,
            &signer,
            r.time(6)?,
            r.boolean(7)?,
        )?);
    }
    Ok(rows)
}
