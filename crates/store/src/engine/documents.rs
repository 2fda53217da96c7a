//! The signed documents of a search page, read by sequence after the
//! page within a byte budget, and the reads by sequence they share with
//! the summaries of a narrow search.

use std::collections::HashMap;

use crate::StoreError;
use crate::query::SignedDocument;
use crate::sql::{Db, Dialect, RowRead, Sql};

/// `columns FROM table WHERE e.seq IN (seqs)` (`table` names `entries e`,
/// alone or joined with its documents); `None` for no sequences.
pub(super) fn by_sequence(
    d: Dialect,
    columns: &'static str,
    table: &'static str,
    seqs: &[i64],
) -> Option<Sql> {
    if seqs.is_empty() {
        return None;
    }
    let mut s = Sql::new(d);
    s.push(columns)
        .push(" FROM ")
        .push(table)
        .push(" WHERE e.seq IN (");
    for (i, seq) in seqs.iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.int(*seq);
    }
    s.push(")");
    Some(s)
}

/// The columns and tables [`documents_in_order`] reads, for [`by_sequence`].
const DOCUMENT_COLUMNS: &str = "SELECT e.seq, e.document_sha256, d.document";
const DOCUMENT_TABLES: &str = "entries e JOIN documents d ON d.seq = e.seq";

/// The sizes of the documents, for [`page_documents`].
const DOCUMENT_SIZES: &str = "SELECT e.seq, CAST(length(d.document) AS BIGINT)";

/// The documents of the entries `seqs` (rows of [`DOCUMENT_COLUMNS`]), in
/// that order. Documents never change once stored: any snapshot reads the
/// same bytes.
fn documents_in_order<R: RowRead>(
    rows: Vec<R>,
    seqs: &[i64],
) -> Result<Vec<SignedDocument>, StoreError> {
    in_order(rows, seqs, |r| r.int(0))?
        .into_iter()
        .map(|mut r| signed_document(&mut r, 1))
        .collect()
}

/// The documents of the entries `seqs`, in that order, within `budget`
/// bytes (see [`crate::SearchOptions::document_budget`]), and how many
/// were left out. With a budget, the sizes are read first (`length()` of a BLOB or
/// BYTEA reads no content), so that what does not fit is never loaded.
/// Outside any transaction: a stored document never changes.
pub(super) async fn page_documents<D: Db>(
    db: &D,
    seqs: &[i64],
    budget: Option<usize>,
) -> Result<(Vec<SignedDocument>, u64), StoreError> {
    let d = D::DIALECT;
    let fitting = match budget {
        None => seqs.len(),
        Some(budget) => match by_sequence(d, DOCUMENT_SIZES, DOCUMENT_TABLES, seqs) {
            None => 0,
            Some(s) => {
                let sizes = in_order(db.fetch(s).await?, seqs, |r| r.int(0))?
                    .iter()
                    .map(|r| r.int(1))
                    .collect::<Result<Vec<_>, _>>()?;
                documents_within(&sizes, budget)
            }
        },
    };
    let documents = match by_sequence(d, DOCUMENT_COLUMNS, DOCUMENT_TABLES, &seqs[..fitting]) {
        Some(s) => documents_in_order(db.fetch(s).await?, &seqs[..fitting])?,
        None => Vec::new(),
    };
    Ok((documents, (seqs.len() - fitting) as u64))
}

/// How many of the documents of `sizes` (bytes, in page order) fit in
/// `budget`: the longest prefix within it, and at least one.
fn documents_within(sizes: &[i64], budget: usize) -> usize {
    let mut spent = 0usize;
    for (i, size) in sizes.iter().enumerate() {
        spent = spent.saturating_add(usize::try_from(*size).unwrap_or(usize::MAX));
        if spent > budget && i > 0 {
            return i;
        }
    }
    sizes.len()
}

/// The digest at column `at` and the document at `at + 1` (moved out of
/// the row).
pub(super) fn signed_document<R: RowRead>(
    r: &mut R,
    at: usize,
) -> Result<SignedDocument, StoreError> {
    Ok(SignedDocument {
        sha256: r.text(at)?,
        bytes: r.take_bytes(at + 1)?,
    })
}

/// `rows` (`seq_of` reads a row's sequence) in the order of `seqs`.
pub(super) fn in_order<R>(
    rows: Vec<R>,
    seqs: &[i64],
    seq_of: impl Fn(&R) -> Result<i64, StoreError>,
) -> Result<Vec<R>, StoreError> {
    let mut by_seq = HashMap::with_capacity(rows.len());
    for r in rows {
        by_seq.insert(seq_of(&r)?, r);
    }
    seqs.iter()
        .map(|seq| {
            by_seq
                .remove(seq)
                .ok_or_else(|| StoreError::Backend(format!("entry {seq} vanished from a read")))
        })
        .collect()
}

/// `documents` cut to the longest prefix within `budget` (see
/// [`documents_within`]), and how many were left out.
pub(super) fn within_budget(
    mut documents: Vec<SignedDocument>,
    budget: Option<usize>,
) -> (Vec<SignedDocument>, u64) {
    let Some(budget) = budget else {
        return (documents, 0);
    };
    let sizes: Vec<i64> = documents.iter().map(|d| d.bytes.len() as i64).collect();
    let fitting = documents_within(&sizes, budget);
    let left_out = (documents.len() - fitting) as u64;
    documents.truncate(fitting);
    (documents, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_keeps_the_longest_prefix_and_at_least_one() {
        assert_eq!(documents_within(&[], 10), 0);
        assert_eq!(documents_within(&[20, 1], 10), 1);
        assert_eq!(documents_within(&[4, 6], 10), 2);
        assert_eq!(documents_within(&[4, 6, 1], 10), 2);
        assert_eq!(documents_within(&[4, 7, 1], 10), 1);
    }

    #[test]
    fn within_budget_counts_what_it_leaves_out() {
        let documents = |sizes: &[usize]| -> Vec<SignedDocument> {
            sizes
                .iter()
                .map(|n| SignedDocument {
                    sha256: n.to_string(),
                    bytes: vec![0; *n],
                })
                .collect()
        };
        let (kept, left_out) = within_budget(documents(&[4, 7, 1]), Some(10));
        assert_eq!((kept.len(), left_out), (1, 2));
        let (kept, left_out) = within_budget(documents(&[4, 7, 1]), None);
        assert_eq!((kept.len(), left_out), (3, 0));
    }
}
