//! The witness rows: cosignatures this log received (`log_cosignatures`),
//! and, as a witness of other logs, the latest checkpoint cosigned per
//! origin (`witness_checkpoints`).

use crate::StoreError;
use crate::model::StoredCheckpoint;
use crate::sql::{Db, RowRead, Sql, Tx};

use super::append::as_i64;
use super::read::checkpoint_row;

/// [`crate::Store::record_cosignature`].
pub(crate) async fn record_cosignature<D: Db>(
    db: &D,
    size: u64,
    witness: &str,
    line: &str,
) -> Result<(), StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("INSERT INTO log_cosignatures (size, witness, line) VALUES (")
        .int(as_i64(size)?)
        .push(", ")
        .text(witness)
        .push(", ")
        .text(line)
        .push(") ON CONFLICT (size, witness) DO NOTHING");
    db.execute(s).await.map(|_| ())
}

/// [`crate::Store::cosignatures`].
pub(crate) async fn cosignatures<D: Db>(db: &D, size: u64) -> Result<Vec<String>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("SELECT line FROM log_cosignatures WHERE size = ")
        .int(as_i64(size)?)
        .push(" ORDER BY witness");
    db.fetch(s).await?.iter().map(|r| r.text(0)).collect()
}

/// [`crate::Store::first_cosigned_checkpoint`].
pub(crate) async fn first_cosigned_checkpoint<D: Db>(
    db: &D,
    index: u64,
) -> Result<Option<StoredCheckpoint>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(
        "SELECT c.size, c.note FROM log_checkpoints c WHERE c.size = \
         (SELECT MIN(w.size) FROM log_cosignatures w WHERE w.size > ",
    )
    .int(as_i64(index)?)
    .push(")");
    db.fetch(s).await?.first().map(checkpoint_row).transpose()
}

/// [`crate::Store::witnessed`].
pub(crate) async fn witnessed<D: Db>(
    db: &D,
    origin: &str,
) -> Result<Option<StoredCheckpoint>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("SELECT size, note FROM witness_checkpoints WHERE origin = ")
        .text(origin);
    db.fetch(s).await?.first().map(checkpoint_row).transpose()
}

/// [`crate::Store::advance_witnessed`]: one compare-and-set, so that two
/// requests can never roll the witnessed size back.
pub(crate) async fn advance_witnessed<D: Db>(
    db: &D,
    origin: &str,
    old: u64,
    size: u64,
    note: &str,
) -> Result<Option<u64>, StoreError> {
    let d = D::DIALECT;
    let mut tx = db.begin_write().await?;
    let mut s = Sql::new(d);
    if old == 0 {
        s.push("INSERT INTO witness_checkpoints (origin, size, note) VALUES (")
            .text(origin)
            .push(", ")
            .int(as_i64(size)?)
            .push(", ")
            .text(note)
            .push(") ON CONFLICT (origin) DO NOTHING");
    } else {
        s.push("UPDATE witness_checkpoints SET size = ")
            .int(as_i64(size)?)
            .push(", note = ")
            .text(note)
            .push(" WHERE origin = ")
            .text(origin)
            .push(" AND size = ")
            .int(as_i64(old)?);
    }
    let changed = tx.execute(s).await?;
    if changed == 1 {
        tx.commit().await?;
        return Ok(None);
    }
    let mut s = Sql::new(d);
    s.push("SELECT size FROM witness_checkpoints WHERE origin = ")
        .text(origin);
    let current = tx
        .fetch(s)
        .await?
        .first()
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0);
    tx.commit().await?;
    Ok(Some(u64::try_from(current).unwrap_or(0)))
}
