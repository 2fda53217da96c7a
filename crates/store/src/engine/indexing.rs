//! The writes of what is derived from an entry beside its row: the
//! indexed columns, the full-text rows (SQLite) and the visibility rows;
//! shared by the put and the rebuild.

use crate::StoreError;
use crate::index::Indexed;
use crate::model::NewEntry;
use crate::sql::{Arg, Dialect, Sql, Tx};

/// Rows per multi-row INSERT (a fixed size, so that the prepared
/// statements are few and reused).
pub(super) const INSERT_ROWS: usize = 100;

/// The indexed columns, re-derived by a rebuild.
pub(super) const INDEXED_COLUMNS: &str = "metadata, signer, title, title_key, description, os, os_version, \
     os_arch, kind_type, kind, format, hypervisor, tag, vo, valid_at, deprecated, loc_web, loc_pdisk, \
     signer_subject, signer_issuer, endorser_text, restricted";

/// Appends the values of the indexed columns, in [`INDEXED_COLUMNS`] order.
pub(super) fn indexed_values(s: &mut Sql, ix: &Indexed) {
    let values = [
        Arg::Json(ix.metadata_json.clone()),
        Arg::Json(ix.signer_json.clone()),
        Arg::OptText(ix.title.clone()),
        Arg::OptText(ix.title_key.clone()),
        Arg::OptText(ix.description.clone()),
        Arg::OptText(ix.os.clone()),
        Arg::OptText(ix.os_version.clone()),
        Arg::OptText(ix.os_arch.clone()),
        Arg::OptText(ix.kind_type.clone()),
        Arg::OptText(ix.kind.clone()),
        Arg::OptText(ix.format.clone()),
        Arg::OptText(ix.hypervisor.clone()),
        Arg::OptText(ix.tag.clone()),
        Arg::OptText(ix.vo.clone()),
        Arg::OptText(ix.valid_at.clone()),
        Arg::Bool(ix.deprecated),
        Arg::Bool(ix.loc_web),
        Arg::Bool(ix.loc_pdisk),
        Arg::Text(ix.signer_subject.clone()),
        Arg::Text(ix.signer_issuer.clone()),
        Arg::Text(ix.endorser_text.clone()),
        Arg::Bool(ix.restricted),
    ];
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.bind(v);
    }
}

/// Writes the FTS5 rows of `rows` (sequence, entry, indexed fields),
/// [`INSERT_ROWS`] at most (SQLite only; PostgreSQL derives its tsvector
/// column itself).
pub(super) async fn index_text<T: Tx>(
    tx: &mut T,
    dialect: Dialect,
    rows: &[(i64, &NewEntry, &Indexed)],
) -> Result<(), StoreError> {
    if dialect != Dialect::Sqlite || rows.is_empty() {
        return Ok(());
    }
    let mut s = Sql::new(dialect);
    s.push(
        "INSERT INTO entries_fts (rowid, title, description, os, os_version, tag, endorser) \
         VALUES ",
    );
    for (n, (seq, _, ix)) in rows.iter().enumerate() {
        if n > 0 {
            s.push(", ");
        }
        s.push("(").int(*seq);
        for v in [&ix.title, &ix.description, &ix.os, &ix.os_version, &ix.tag] {
            s.push(", ").bind(Arg::OptText(v.clone()));
        }
        s.push(", ").text(&ix.endorser_text).push(")");
    }
    tx.execute(s).await?;
    Ok(())
}

/// Writes the `entry_visibility` rows of `rows` (sequence, indexed
/// fields): one per VO of a restricted entry.
pub(super) async fn index_visibility<T: Tx>(
    tx: &mut T,
    dialect: Dialect,
    rows: &[(i64, &Indexed)],
) -> Result<(), StoreError> {
    let pairs: Vec<(i64, &String)> = rows
        .iter()
        .flat_map(|(seq, ix)| ix.visible_to.iter().map(move |vo| (*seq, vo)))
        .collect();
    for chunk in pairs.chunks(INSERT_ROWS) {
        let mut s = Sql::new(dialect);
        s.push("INSERT INTO entry_visibility (seq, vo) VALUES ");
        for (n, (seq, vo)) in chunk.iter().enumerate() {
            if n > 0 {
                s.push(", ");
            }
            s.push("(").int(*seq).push(", ").text(*vo).push(")");
        }
        tx.execute(s).await?;
    }
    Ok(())
}
