//! Reading the log: its size, stored hashes, leaves, an entry's position,
//! and the checkpoints and key recorded for it.

use std::collections::HashMap;
use std::ops::Range;

use chrono::Utc;
use marketplace_log::leaf::Opening;
use marketplace_log::tree::Hash;

use crate::StoreError;
use crate::model::{EntryKey, LogPosition, StoredCheckpoint};
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx};

use super::append::as_i64;

/// The most stored hashes or leaves one read returns (a tile's worth and a
/// proof's, with room).
pub const MAX_LOG_READ: usize = 1024;

/// The number of leaves (the next leaf's index), inside a transaction.
pub(super) async fn next_index<T: Tx>(tx: &mut T, d: Dialect) -> Result<u64, StoreError> {
    let mut s = Sql::new(d);
    s.push("SELECT COALESCE(MAX(idx) + 1, 0) FROM log_leaves");
    let rows = tx.fetch(s).await?;
    let size = rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0);
    u64::try_from(size).map_err(|_| StoreError::Log(format!("log size {size}")))
}

/// The stored hashes at `indexes`, inside a transaction.
pub(super) async fn fetch_hashes<T: Tx>(
    tx: &mut T,
    d: Dialect,
    indexes: &[u64],
) -> Result<HashMap<u64, Hash>, StoreError> {
    let mut out = HashMap::with_capacity(indexes.len());
    for chunk in indexes.chunks(MAX_LOG_READ) {
        let s = hashes_query(d, chunk)?;
        for r in tx.fetch(s).await? {
            let (index, hash) = hash_row(&r)?;
            out.insert(index, hash);
        }
    }
    Ok(out)
}

/// `SELECT idx, hash FROM log_hashes WHERE idx IN (…)`.
fn hashes_query(d: Dialect, indexes: &[u64]) -> Result<Sql, StoreError> {
    let mut s = Sql::new(d);
    s.push("SELECT idx, hash FROM log_hashes WHERE idx IN (");
    for (n, index) in indexes.iter().enumerate() {
        if n > 0 {
            s.push(", ");
        }
        s.int(as_i64(*index)?);
    }
    s.push(")");
    Ok(s)
}

/// One stored hash row.
fn hash_row<R: RowRead>(r: &R) -> Result<(u64, Hash), StoreError> {
    let index = u64::try_from(r.int(0)?).map_err(|_| StoreError::Log("a negative index".into()))?;
    let bytes: [u8; 32] = r
        .bytes(1)?
        .try_into()
        .map_err(|_| StoreError::Log(format!("the stored hash {index} is not 32 bytes")))?;
    Ok((index, Hash(bytes)))
}

/// [`crate::Store::log_size`].
pub(crate) async fn log_size<D: Db>(db: &D) -> Result<u64, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("SELECT COALESCE(MAX(idx) + 1, 0) FROM log_leaves");
    let rows = db.fetch(s).await?;
    let size = rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0);
    u64::try_from(size).map_err(|_| StoreError::Log(format!("log size {size}")))
}

/// [`crate::Store::log_hashes`].
pub(crate) async fn log_hashes<D: Db>(
    db: &D,
    indexes: &[u64],
) -> Result<HashMap<u64, Hash>, StoreError> {
    if indexes.len() > MAX_LOG_READ {
        return Err(StoreError::InvalidQuery(format!(
            "more than {MAX_LOG_READ} stored hashes in one read"
        )));
    }
    let mut out = HashMap::with_capacity(indexes.len());
    if indexes.is_empty() {
        return Ok(out);
    }
    for r in db.fetch(hashes_query(D::DIALECT, indexes)?).await? {
        let (index, hash) = hash_row(&r)?;
        out.insert(index, hash);
    }
    Ok(out)
}

/// [`crate::Store::log_leaves`].
pub(crate) async fn log_leaves<D: Db>(
    db: &D,
    range: Range<u64>,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let count = range.end.saturating_sub(range.start);
    if count > MAX_LOG_READ as u64 {
        return Err(StoreError::InvalidQuery(format!(
            "more than {MAX_LOG_READ} leaves in one read"
        )));
    }
    let mut s = Sql::new(D::DIALECT);
    s.push("SELECT idx, leaf FROM log_leaves WHERE idx >= ")
        .int(as_i64(range.start)?)
        .push(" AND idx < ")
        .int(as_i64(range.end)?)
        .push(" ORDER BY idx");
    let mut leaves = Vec::with_capacity(count as usize);
    for (expected, mut r) in (range.start..).zip(db.fetch(s).await?) {
        if u64::try_from(r.int(0)?).ok() != Some(expected) {
            return Err(StoreError::Log(format!("the log has no leaf {expected}")));
        }
        leaves.push(r.take_bytes(1)?);
    }
    Ok(leaves)
}

/// [`crate::Store::log_position`].
pub(crate) async fn log_position<D: Db>(
    db: &D,
    key: &EntryKey,
) -> Result<Option<LogPosition>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(
        "SELECT l.idx, l.leaf, l.nonce, l.entry_leaf FROM log_leaves l \
         JOIN entries e ON e.seq = l.seq WHERE e.identifier = ",
    )
    .text(key.identifier.as_str())
    .push(" AND e.email = ")
    .text(key.email.as_str())
    .push(" AND e.created = ")
    .text(key.created.as_str());
    let Some(r) = db.fetch(s).await?.into_iter().next() else {
        return Ok(None);
    };
    position_row(&r).map(Some)
}

/// [`crate::Store::log_positions`].
pub(crate) async fn log_positions<D: Db>(
    db: &D,
    range: Range<u64>,
) -> Result<Vec<LogPosition>, StoreError> {
    let count = range.end.saturating_sub(range.start);
    if count > MAX_LOG_READ as u64 {
        return Err(StoreError::InvalidQuery(format!(
            "more than {MAX_LOG_READ} leaves in one read"
        )));
    }
    let mut s = Sql::new(D::DIALECT);
    s.push("SELECT idx, leaf, nonce, entry_leaf FROM log_leaves WHERE idx >= ")
        .int(as_i64(range.start)?)
        .push(" AND idx < ")
        .int(as_i64(range.end)?)
        .push(" ORDER BY idx");
    let mut positions = Vec::with_capacity(count as usize);
    for (expected, r) in (range.start..).zip(db.fetch(s).await?) {
        let position = position_row(&r)?;
        if position.index != expected {
            return Err(StoreError::Log(format!("the log has no leaf {expected}")));
        }
        positions.push(position);
    }
    Ok(positions)
}

/// A leaf row `(idx, leaf, nonce, entry_leaf)` as a position.
fn position_row<R: RowRead>(r: &R) -> Result<LogPosition, StoreError> {
    let index = u64::try_from(r.int(0)?).map_err(|_| StoreError::Log("a negative index".into()))?;
    let opening = match (r.opt_bytes(2)?, r.opt_bytes(3)?) {
        (Some(nonce), Some(entry_leaf)) => Some(Opening {
            nonce: nonce.try_into().map_err(|_| {
                StoreError::Log(format!("the nonce of leaf {index} is not 32 bytes"))
            })?,
            entry_leaf,
        }),
        _ => None,
    };
    Ok(LogPosition {
        index,
        leaf: r.bytes(1)?,
        opening,
    })
}

/// [`crate::Store::latest_checkpoint`].
pub(crate) async fn latest_checkpoint<D: Db>(
    db: &D,
) -> Result<Option<StoredCheckpoint>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1");
    db.fetch(s).await?.first().map(checkpoint_row).transpose()
}

/// One checkpoint row `(size, note)`.
pub(super) fn checkpoint_row<R: RowRead>(r: &R) -> Result<StoredCheckpoint, StoreError> {
    Ok(StoredCheckpoint {
        size: u64::try_from(r.int(0)?).map_err(|_| StoreError::Log("a negative size".into()))?,
        note: r.text(1)?,
    })
}

/// [`crate::Store::record_checkpoint`].
pub(crate) async fn record_checkpoint<D: Db>(
    db: &D,
    size: u64,
    note: &str,
) -> Result<StoredCheckpoint, StoreError> {
    let d = D::DIALECT;
    let mut tx = db.begin_write().await?;
    let mut s = Sql::new(d);
    s.push("INSERT INTO log_checkpoints (size, note, recorded_at) VALUES (")
        .int(as_i64(size)?)
        .push(", ")
        .text(note)
        .push(", ")
        .bind(Arg::Time(Utc::now()))
        .push(") ON CONFLICT (size) DO NOTHING");
    tx.execute(s).await?;
    let mut s = Sql::new(d);
    s.push("SELECT size, note FROM log_checkpoints WHERE size = ")
        .int(as_i64(size)?);
    let stored = tx
        .fetch(s)
        .await?
        .first()
        .map(checkpoint_row)
        .transpose()?
        .ok_or_else(|| {
            StoreError::Log(format!("the checkpoint of size {size} was not recorded"))
        })?;
    tx.commit().await?;
    Ok(stored)
}

/// [`crate::Store::claim_log_key`].
pub(crate) async fn claim_log_key<D: Db>(db: &D, verifier_key: &str) -> Result<(), StoreError> {
    let d = D::DIALECT;
    let mut tx = db.begin_write().await?;
    let mut s = Sql::new(d);
    s.push("INSERT INTO log_key (id, verifier_key) VALUES (1, ")
        .text(verifier_key)
        .push(") ON CONFLICT (id) DO NOTHING");
    tx.execute(s).await?;
    let mut s = Sql::new(d);
    s.push("SELECT verifier_key FROM log_key WHERE id = 1");
    let recorded = tx
        .fetch(s)
        .await?
        .first()
        .map(|r| r.text(0))
        .transpose()?
        .unwrap_or_default();
    tx.commit().await?;
    if recorded != verifier_key {
        return Err(StoreError::Log(format!(
            "this database's log is signed with the key {recorded}, and this server's log key \
             is {verifier_key}: every server of one database must use the same log key \
             (copy the first server's key file, or set log_key_file)"
        )));
    }
    Ok(())
}
