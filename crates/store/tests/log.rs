//! The transparency log as the store keeps it, on both back ends: every put
//! that creates entries appends their leaves in the same transaction, in
//! acceptance order, with dense indices across stores on one database; the
//! stored hashes give the tree an independent recomputation gives; refused
//! puts append nothing; checkpoints and the log key are recorded once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

#[macro_use]
mod common;

use std::sync::Arc;

use common::{Harness, entry, id, meta};
use marketplace_log::leaf::{ENTRY_TYPE, Leaf};
use marketplace_log::tree::{self, MemoryTree, StoredHashes};
use marketplace_store::{HistoryOrder, HistoryQuery, PutOutcome, Store, StoreError};

const JANE: &str = "jane@example.org";
const JOHN: &str = "john@example.org";

/// Every leaf of the log, in order.
async fn all_leaves(s: &dyn Store) -> Vec<Vec<u8>> {
    let size = s.log_size().await.unwrap();
    let mut leaves = Vec::new();
    let mut start = 0;
    while start < size {
        let end = size.min(start + 256);
        leaves.extend(s.log_leaves(start..end).await.unwrap());
        start = end;
    }
    assert_eq!(leaves.len() as u64, size);
    leaves
}

/// The root of the store's tree of `size` leaves, read from its stored
/// hashes in the two passes the server uses.
async fn stored_root(s: &dyn Store, size: u64) -> tree::Hash {
    let needed = tree::reads(|r| tree::root(size, r));
    let hashes = StoredHashes(s.log_hashes(&needed).await.unwrap());
    tree::root(size, &hashes).unwrap()
}

/// The stored entries in acceptance order.
async fn accepted_in_order(s: &dyn Store) -> Vec<marketplace_store::EntrySummary> {
    s.history(&HistoryQuery {
        audience: marketplace_store::Audience::Everything,
        order: HistoryOrder::Accepted,
        limit: marketplace_store::MAX_LIMIT,
        ..HistoryQuery::default()
    })
    .await
    .unwrap()
}

/// The log's leaves name the stored entries one by one, in acceptance
/// order, and its stored hashes give the tree the leaves give.
async fn check_log_matches_entries(s: &dyn Store) {
    let leaves = all_leaves(s).await;
    let mut entries = accepted_in_order(s).await;
    entries.reverse(); // history lists the newest first
    assert_eq!(leaves.len(), entries.len());
    let mut recomputed = MemoryTree::new();
    for (index, (leaf, e)) in leaves.iter().zip(&entries).enumerate() {
        recomputed.push(leaf).unwrap();
        let position = s.log_position(&e.key).await.unwrap().expect("logged");
        assert_eq!(position.index, index as u64, "{}", e.key);
        assert_eq!(&position.leaf, leaf);
        let record = match (Leaf::parse(leaf).unwrap(), &position.opening) {
            (Leaf::Entry(record), None) => *record,
            (Leaf::Restricted { .. }, Some(opening)) => opening.open(leaf).unwrap(),
            other => panic!("leaf and opening disagree: {other:?}"),
        };
        assert_eq!(record.kind, ENTRY_TYPE);
        assert_eq!(record.identifier, e.key.identifier.as_str());
        assert_eq!(record.email, e.key.email.as_str());
        assert_eq!(record.created, e.key.created.as_str());
        assert_eq!(record.subject, e.signer.subject);
        let stored = s.get(&e.key).await.unwrap().unwrap();
        use sha2::Digest;
        let sha256: String = sha2::Sha256::digest(&stored.entry.document)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(record.document_sha256, sha256);
    }
    let size = leaves.len() as u64;
    assert_eq!(stored_root(s, size).await, recomputed.root().unwrap());
    // Every prefix's root too, and proofs from the stored hashes verify.
    for n in 1..=size {
        let root_n = stored_root(s, n).await;
        let needed = tree::reads(|r| tree::consistency_proof(n, size, r));
        let hashes = StoredHashes(s.log_hashes(&needed).await.unwrap());
        let proof = tree::consistency_proof(n, size, &hashes).unwrap();
        tree::check_consistency(&proof, n, root_n, size, recomputed.root().unwrap()).unwrap();
    }
}

async fn every_accepted_entry_is_a_leaf(h: &Harness) {
    let s = h.store();
    assert_eq!(s.log_size().await.unwrap(), 0);
    for (name, created) in [("A", "2020-01-01T00:00:00Z"), ("B", "2020-01-02T00:00:00Z")] {
        assert_eq!(
            s.put(entry(meta(&id(name), JANE, created))).await.unwrap(),
            PutOutcome::Created
        );
    }
    // A deprecation is an entry like any other.
    let mut deprecation = meta(&id("A"), JANE, "2020-02-01T00:00:00Z");
    deprecation.deprecated = Some("superseded".into());
    s.put(entry(deprecation)).await.unwrap();
    // A restricted entry is a commitment in the public log.
    let mut hidden = meta(&id("H"), JOHN, "2020-03-01T00:00:00Z");
    hidden.visible_to = vec!["biomed".into()];
    let hidden = entry(hidden);
    s.put(hidden.clone()).await.unwrap();
    // An import, in one transaction.
    let imported: Vec<_> = (0..7)
        .map(|i| entry(meta(&id(&format!("IMP{i}")), JOHN, "2019-05-01T00:00:00Z")))
        .collect();
    for outcome in s.put_many(imported).await {
        assert_eq!(outcome.unwrap(), PutOutcome::Created);
    }
    assert_eq!(s.log_size().await.unwrap(), 11);
    let position = s.log_position(&hidden.key).await.unwrap().unwrap();
    let public = String::from_utf8(position.leaf.clone()).unwrap();
    assert!(!public.contains("john") && !public.contains(hidden.key.identifier.as_str()));
    check_log_matches_entries(s).await;
}

async fn refused_puts_append_nothing(h: &Harness) {
    let s = h.store();
    let first = entry(meta(&id("PR"), JANE, "2020-01-02T00:00:00Z"));
    s.put(first.clone()).await.unwrap();
    // The same document again, an older one, other bytes at the same
    // coordinates: nothing is appended.
    assert_eq!(
        s.put(first.clone()).await.unwrap(),
        PutOutcome::AlreadyPresent
    );
    assert!(matches!(
        s.put(entry(meta(&id("PR"), JANE, "2020-01-01T00:00:00Z")))
            .await,
        Err(StoreError::OlderThanLatest { .. })
    ));
    let mut other = meta(&id("PR"), JANE, "2020-01-02T00:00:00Z");
    other.title = Some("other bytes".into());
    assert!(matches!(
        s.put(entry(other)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.log_size().await.unwrap(), 1);
    check_log_matches_entries(s).await;
}

async fn concurrent_stores_keep_indices_dense(h: &Harness) {
    const TASKS: usize = 6;
    const PUTS: usize = 10;
    // Two stores with their own connections: two server processes.
    let first: Arc<dyn Store> = Arc::from(h.second().await);
    let second: Arc<dyn Store> = Arc::from(h.second().await);
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = if task % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        handles.push(tokio::spawn(async move {
            for j in 0..PUTS {
                let name = format!("C{task}x{j}");
                let e = entry(meta(&id(&name), JANE, "2020-01-01T00:00:00Z"));
                assert_eq!(store.put(e).await.unwrap(), PutOutcome::Created);
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(h.store().log_size().await.unwrap(), (TASKS * PUTS) as u64);
    check_log_matches_entries(h.store()).await;
}

async fn checkpoints_and_the_key_are_recorded_once(h: &Harness) {
    let s = h.store();
    assert_eq!(s.latest_checkpoint().await.unwrap(), None);
    let first = s.record_checkpoint(3, "note of 3\n").await.unwrap();
    assert_eq!((first.size, first.note.as_str()), (3, "note of 3\n"));
    // A second note for the same size does not replace the first.
    let again = s.record_checkpoint(3, "another note\n").await.unwrap();
    assert_eq!(again.note, "note of 3\n");
    s.record_checkpoint(5, "note of 5\n").await.unwrap();
    s.record_checkpoint(4, "note of 4\n").await.unwrap();
    assert_eq!(s.latest_checkpoint().await.unwrap().unwrap().size, 5);
    // Another store on the database sees them.
    let other = h.second().await;
    assert_eq!(other.latest_checkpoint().await.unwrap().unwrap().size, 5);

    s.claim_log_key("example.org/log+01234567+AAAA")
        .await
        .unwrap();
    other
        .claim_log_key("example.org/log+01234567+AAAA")
        .await
        .unwrap();
    let e = other
        .claim_log_key("example.org/log+89abcdef+BBBB")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Log(_)), "{e}");
    assert!(e.to_string().contains("same log key"), "{e}");
}

async fn witness_rows_advance_by_compare_and_set(h: &Harness) {
    let s = h.store();
    s.record_cosignature(4, "w1", "— w1 AAAA\n").await.unwrap();
    s.record_cosignature(4, "w1", "— w1 BBBB\n").await.unwrap();
    s.record_cosignature(4, "w0", "— w0 CCCC\n").await.unwrap();
    assert_eq!(
        s.cosignatures(4).await.unwrap(),
        ["— w0 CCCC\n", "— w1 AAAA\n"]
    );
    assert!(s.cosignatures(5).await.unwrap().is_empty());

    assert_eq!(s.witnessed("log.example/a").await.unwrap(), None);
    assert_eq!(
        s.advance_witnessed("log.example/a", 0, 3, "n3")
            .await
            .unwrap(),
        None
    );
    // A second first request finds 3.
    assert_eq!(
        s.advance_witnessed("log.example/a", 0, 2, "n2")
            .await
            .unwrap(),
        Some(3)
    );
    assert_eq!(
        s.advance_witnessed("log.example/a", 3, 7, "n7")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.advance_witnessed("log.example/a", 3, 5, "n5")
            .await
            .unwrap(),
        Some(7)
    );
    let w = s.witnessed("log.example/a").await.unwrap().unwrap();
    assert_eq!((w.size, w.note.as_str()), (7, "n7"));
    // Two servers racing from the same size: exactly one advances.
    let other = h.second().await;
    let (a, b) = tokio::join!(
        s.advance_witnessed("log.example/a", 7, 9, "n9"),
        other.advance_witnessed("log.example/a", 7, 8, "n8")
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| o.is_none()).count(),
        1,
        "{outcomes:?}"
    );
}

async fn reads_are_bounded(h: &Harness) {
    let s = h.store();
    let many: Vec<u64> = (0..5000).collect();
    assert!(matches!(
        s.log_hashes(&many).await,
        Err(StoreError::InvalidQuery(_))
    ));
    assert!(matches!(
        s.log_leaves(0..5000).await,
        Err(StoreError::InvalidQuery(_))
    ));
    assert!(s.log_leaves(0..10).await.unwrap().is_empty());
    assert!(s.log_hashes(&[1, 2, 3]).await.unwrap().is_empty());
}

/// Every leaf of `s` with its opening.
async fn all_positions(s: &dyn Store) -> Vec<marketplace_store::LogPosition> {
    let size = s.log_size().await.unwrap();
    s.log_positions(0..size).await.unwrap()
}

/// A log carried from another store (an export's leaves) is stored leaf
/// for leaf, with the acceptance times it records; a leaf that is not the
/// next one, that names another entry or another document, or whose entry
/// is refused, stores nothing of its batch.
async fn a_carried_log_is_stored_leaf_for_leaf(h: &Harness) {
    let source = common::sqlite().await.unwrap();
    let from = source.store();
    let mut hidden = meta(&id("CH"), JOHN, "2020-03-01T00:00:00Z");
    hidden.visible_to = vec!["biomed".into()];
    let given = vec![
        entry(meta(&id("CA"), JANE, "2020-01-01T00:00:00Z")),
        entry(hidden),
        entry(meta(&id("CA"), JANE, "2020-02-01T00:00:00Z")),
        entry(meta(&id("CB"), JOHN, "2020-01-05T00:00:00Z")),
    ];
    for e in &given {
        from.put(e.clone()).await.unwrap();
    }
    let positions = all_positions(from).await;
    assert_eq!(positions.len(), 4);
    let carried: Vec<_> = given.iter().cloned().zip(positions.clone()).collect();

    let to = h.store();
    // Out of order, or naming another entry: refused, nothing stored.
    let error = to.put_logged(carried[1..2].to_vec()).await.unwrap_err();
    assert!(error.to_string().contains("would be leaf 0"), "{error}");
    let swapped = vec![(given[0].clone(), positions[3].clone())];
    let error = to.put_logged(swapped).await.unwrap_err();
    assert!(error.to_string().contains("names another entry"), "{error}");
    let mut other_bytes = given[0].clone();
    other_bytes.document.push(b'\n');
    let error = to
        .put_logged(vec![(other_bytes, positions[0].clone())])
        .await
        .unwrap_err();
    assert!(error.to_string().contains("another document"), "{error}");
    assert_eq!(to.log_size().await.unwrap(), 0);
    assert!(to.get(&given[0].key).await.unwrap().is_none());

    // In order: the same leaves, openings and tree; the acceptance times
    // are the source's.
    to.put_logged(carried[..2].to_vec()).await.unwrap();
    to.put_logged(carried[2..].to_vec()).await.unwrap();
    assert_eq!(all_positions(to).await, positions);
    assert_eq!(stored_root(to, 4).await, stored_root(from, 4).await);
    for e in &given {
        let (a, b) = (
            from.get(&e.key).await.unwrap().unwrap(),
            to.get(&e.key).await.unwrap().unwrap(),
        );
        assert_eq!(a.accepted_at, b.accepted_at);
        assert_eq!(a.entry.document, b.entry.document);
    }
    check_log_matches_entries(to).await;
    // Carried again: present already, refused; new puts extend the log.
    let error = to.put_logged(carried[..1].to_vec()).await.unwrap_err();
    assert!(error.to_string().contains("stored already"), "{error}");
    to.put(entry(meta(&id("CC"), JANE, "2020-04-01T00:00:00Z")))
        .await
        .unwrap();
    assert_eq!(to.log_size().await.unwrap(), 5);
    check_log_matches_entries(to).await;
}

suite!(
    a_carried_log_is_stored_leaf_for_leaf,
    every_accepted_entry_is_a_leaf,
    refused_puts_append_nothing,
    concurrent_stores_keep_indices_dense,
    checkpoints_and_the_key_are_recorded_once,
    reads_are_bounded,
    witness_rows_advance_by_compare_and_set,
);
