//! [`crate::Store::rebuild_index`]: every stored entry re-derived from its
//! document, in one write transaction.

use super::indexing::{INDEXED_COLUMNS, index_text, index_visibility, indexed_values};
use crate::StoreError;
use crate::index::Indexed;
use crate::model::NewEntry;
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx};

/// Rows read per batch by [`rebuild_index`].
const REBUILD_BATCH: u64 = 256;

/// [`crate::Store::rebuild_index`]: the derived rows cleared, each entry
/// re-derived in sequence order, the generation bumped and the latest
/// flags recomputed, in one write transaction; the number of entries.
pub(crate) async fn rebuild_index<D: Db>(
    db: &D,
    reindex: &crate::Reindex<'_>,
) -> Result<u64, StoreError> {
    let d = D::DIALECT;
    let mut tx = db.begin_write().await?;
    clear_derived(&mut tx, d).await?;
    let mut after = i64::MIN;
    let mut done = 0u64;
    loop {
        let mut s = Sql::new(d);
        s.push(
            "SELECT e.seq, e.identifier, e.email, e.created, d.document FROM entries e \
             JOIN documents d ON d.seq = e.seq WHERE e.seq > ",
        )
        .int(after)
        .push(" ORDER BY e.seq LIMIT ")
        .count_literal(REBUILD_BATCH);
        let rows = tx.fetch(s).await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            after = rederive(&mut tx, d, r, reindex).await?;
            done += 1;
        }
    }
    // Cached totals of every process are stale from here.
    let mut s = Sql::new(d);
    s.push("UPDATE store_meta SET value = value + 1 WHERE name = 'generation'");
    tx.execute(s).await?;
    recompute_latest(&mut tx, d).await?;
    tx.commit().await?;
    Ok(done)
}

/// Deletes the rows a rebuild writes again: the full-text rows (SQLite)
/// and the visibility rows.
async fn clear_derived<T: Tx>(tx: &mut T, d: Dialect) -> Result<(), StoreError> {
    if d == Dialect::Sqlite {
        let mut s = Sql::new(d);
        s.push("INSERT INTO entries_fts (entries_fts) VALUES ('delete-all')");
        tx.execute(s).await?;
    }
    let mut s = Sql::new(d);
    s.push("DELETE FROM entry_visibility");
    tx.execute(s).await?;
    Ok(())
}

/// Re-derives the entry of row `r` (sequence, coordinates, document) with
/// `reindex`, and rewrites its indexed columns, full-text and visibility
/// rows; its sequence. A document that now reads as other coordinates
/// stops the rebuild.
async fn rederive<T: Tx>(
    tx: &mut T,
    d: Dialect,
    r: &T::Row,
    reindex: &crate::Reindex<'_>,
) -> Result<i64, StoreError> {
    let sequence = r.int(0)?;
    let key = r.key(1)?;
    let document = r.bytes(4)?;
    let fresh = reindex(&document).map_err(|message| StoreError::Reindex { sequence, message })?;
    // E-mails are read in lower case; an entry the migration to lower
    // case left as written (its lower-case coordinates were taken)
    // keeps its stored e-mail.
    let same_email = fresh.key.email.eq_ignore_ascii_case(&key.email);
    if fresh.key.identifier != key.identifier || fresh.key.created != key.created || !same_email {
        return Err(StoreError::Reindex {
            sequence,
            message: format!(
                "the document now reads as {}, it is stored as {key}",
                fresh.key
            ),
        });
    }
    let fresh_entry = NewEntry {
        document,
        key: key.clone(),
        ..fresh
    };
    let ix = Indexed::of(&fresh_entry)?;
    let mut s = Sql::new(d);
    s.push("UPDATE entries SET (")
        .push(INDEXED_COLUMNS)
        .push(") = (");
    indexed_values(&mut s, &ix);
    s.push(") WHERE seq = ").int(sequence);
    tx.execute(s).await?;
    index_text(tx, d, &[(sequence, &fresh_entry, &ix)]).await?;
    index_visibility(tx, d, &[(sequence, &ix)]).await?;
    Ok(sequence)
}

/// The latest flags, recomputed from the coordinates.
async fn recompute_latest<T: Tx>(tx: &mut T, d: Dialect) -> Result<(), StoreError> {
    // Cleared first: at no point may a pair have two.
    let mut s = Sql::new(d);
    s.push("UPDATE entries SET latest = ")
        .bind(Arg::Bool(false))
        .push(" WHERE latest");
    tx.execute(s).await?;
    let mut s = Sql::new(d);
    s.push("UPDATE entries SET latest = ")
        .bind(Arg::Bool(true))
        .push(
            " WHERE NOT EXISTS (SELECT 1 FROM entries n WHERE n.identifier = entries.identifier \
             AND n.email = entries.email AND n.created > entries.created)",
        );
    tx.execute(s).await?;
    Ok(())
}
