//! `marketplace admin log-verify`: the transparency log recomputed from the
//! stored entries and checked against what the store holds and the newest
//! signed checkpoint — each leaf records its entry (the SHA-256 of the
//! stored document, the signer, the acceptance time; a restricted entry's
//! commitment opens to it), the leaves follow acceptance order one for one,
//! and the tree they make has the checkpoint's root and the stored hashes'.

use marketplace_log::leaf::Leaf;
use marketplace_log::tree::{self, MemoryTree};
use marketplace_store::{StoredEntry, entry_record};
use sha2::{Digest, Sha256};

use crate::log::proofs::with_hashes;
use crate::runtime::state::AppState;

/// Entries read at once.
const BATCH: u32 = 500;

/// The most problems a report lists (the count covers all).
const MAX_LISTED: usize = 100;

/// What [`verify_log`] found.
#[derive(Debug, Clone, Default)]
pub struct LogReport {
    /// Stored entries.
    pub entries: u64,
    /// Leaves in the log.
    pub leaves: u64,
    /// The newest signed checkpoint's size, if any.
    pub checkpoint_size: Option<u64>,
    /// Problems found (at most [`MAX_LISTED`]), each with its place.
    pub problems: Vec<String>,
    /// How many problems, listed or not.
    pub problem_count: u64,
}

impl LogReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problem_count == 0
    }

    fn problem(&mut self, text: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(text);
        }
    }
}

/// Recomputes the log from the stored entries and checks it.
pub async fn verify_log(state: &AppState) -> Result<LogReport, String> {
    let store = state.store.as_ref();
    let checkpoint = state.log.current().await.map_err(|e| e.to_string())?;
    let size = store.log_size().await.map_err(|e| e.to_string())?;
    let mut report = LogReport {
        leaves: size,
        checkpoint_size: checkpoint.as_ref().map(|c| c.size),
        ..LogReport::default()
    };
    let mut tree = MemoryTree::new();
    let mut after = None;
    loop {
        let batch = store
            .entries_after(after, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = batch.last() else { break };
        after = Some(last.sequence);
        let first = report.entries;
        let end = (first + batch.len() as u64).min(size);
        let leaves = if first < end {
            store
                .log_leaves(first..end)
                .await
                .map_err(|e| e.to_string())?
        } else {
            Vec::new()
        };
        for (i, stored) in batch.iter().enumerate() {
            let index = first + i as u64;
            match leaves.get(i) {
                Some(leaf) => {
                    check_leaf(state, index, stored, leaf, &mut report).await;
                    tree.push(leaf).map_err(|e| e.to_string())?;
                    if let Some(c) = checkpoint.as_ref().filter(|c| c.size == tree.size()) {
                        let root = tree.root().map_err(|e| e.to_string())?;
                        if root != c.root {
                            report.problem(format!(
                                "the leaves give the tree of {} another root than the signed \
                                 checkpoint",
                                c.size
                            ));
                        }
                    }
                }
                None => report.problem(format!(
                    "entry {} (sequence {}) has no leaf",
                    stored.entry.key, stored.sequence
                )),
            }
        }
        report.entries += batch.len() as u64;
    }
    if report.entries < size {
        report.problem(format!(
            "the log has {size} leaves for {} stored entries",
            report.entries
        ));
    }
    if tree.size() > 0 {
        let stored_root = with_hashes(store, |r| tree::root(tree.size(), r))
            .await
            .map_err(|e| e.to_string())?;
        if stored_root != tree.root().map_err(|e| e.to_string())? {
            report.problem("the stored hashes give another root than the leaves".into());
        }
        compare_stored_hashes(state, &tree, &mut report).await?;
    }
    if let Some(c) = &checkpoint
        && c.size > tree.size()
    {
        report.problem(format!(
            "the signed checkpoint covers {} leaves, the store holds {}",
            c.size,
            tree.size()
        ));
    }
    Ok(report)
}

/// Compares every stored hash with the one the leaves give.
async fn compare_stored_hashes(
    state: &AppState,
    tree: &MemoryTree,
    report: &mut LogReport,
) -> Result<(), String> {
    let count = tree::stored_hash_count(tree.size());
    let mut start = 0;
    while start < count {
        let end = count.min(start + marketplace_store::MAX_LOG_READ as u64);
        let indexes: Vec<u64> = (start..end).collect();
        let stored = state
            .store
            .log_hashes(&indexes)
            .await
            .map_err(|e| e.to_string())?;
        for i in indexes {
            if stored.get(&i) != tree.hashes().0.get(&i) {
                report.problem(format!(
                    "the stored hash {i} is not the one the leaves give"
                ));
            }
        }
        start = end;
    }
    Ok(())
}

/// Checks that leaf `index` records `stored`.
async fn check_leaf(
    state: &AppState,
    index: u64,
    stored: &StoredEntry,
    leaf: &[u8],
    report: &mut LogReport,
) {
    let entry = &stored.entry;
    let sha256: String = Sha256::digest(&entry.document)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let expected = entry_record(&entry.key, &sha256, &entry.signer, stored.accepted_at);
    let restricted = !entry.metadata.visible_to.is_empty();
    let found = match Leaf::parse(leaf) {
        Ok(Leaf::Entry(record)) if !restricted => Ok(*record),
        Ok(Leaf::Restricted { .. }) if restricted => {
            match state.store.log_position(&entry.key).await {
                Ok(Some(position)) => match position.opening {
                    Some(opening) => opening.open(leaf).map_err(|e| e.to_string()),
                    None => Err("a commitment without its opening".to_string()),
                },
                Ok(None) => Err("no log position".to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
        Ok(_) => Err(format!(
            "a {} leaf for a {} entry",
            if restricted { "public" } else { "restricted" },
            if restricted { "restricted" } else { "public" }
        )),
        Err(e) => Err(e.to_string()),
    };
    match found {
        Ok(record) if record == expected => {}
        Ok(_) => report.problem(format!(
            "leaf {index} does not record entry {} as stored (document, signer or acceptance \
             differ)",
            entry.key
        )),
        Err(why) => report.problem(format!("leaf {index} (entry {}): {why}", entry.key)),
    }
}
