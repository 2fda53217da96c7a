//! Tree computations over the hashes the store keeps: the two passes of
//! [`marketplace_log::tree::reads`] (learn which stored hashes a computation
//! reads, fetch them, run it), the upper levels kept in memory for proofs,
//! and the log's errors.

use std::collections::HashMap;
use std::sync::RwLock;

use marketplace_log::tree::{
    self, AnyReader, Hash, StoredHashes, TreeError, node_hash, split_stored_hash_index,
    stored_hash_index,
};
use marketplace_store::{MAX_LOG_READ, Store, StoreError};

/// Why the log cannot answer or sign.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// A request out of the tree's range, or stored hashes missing.
    #[error("{0}")]
    Tree(TreeError),
    /// A checkpoint cannot be signed or read.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The stored tree does not extend the last checkpoint: nothing is
    /// signed (the operator must look at the database).
    #[error("the transparency log is inconsistent: {0}")]
    Inconsistent(String),
}

/// Runs `computation` on the stored hashes it reads.
pub(crate) async fn with_hashes<T>(
    store: &dyn Store,
    computation: impl Fn(&AnyReader<'_>) -> Result<T, TreeError>,
) -> Result<T, LogError> {
    with_kept_hashes(store, None, computation).await
}

/// [`with_hashes`], taking (and keeping) the upper levels in `upper`.
pub(crate) async fn with_kept_hashes<T>(
    store: &dyn Store,
    upper: Option<&UpperHashes>,
    computation: impl Fn(&AnyReader<'_>) -> Result<T, TreeError>,
) -> Result<T, LogError> {
    let needed = tree::reads(|r| computation(&AnyReader(r)));
    let mut hashes = HashMap::with_capacity(needed.len());
    let missing = match upper {
        Some(upper) => upper.lookup(&needed, &mut hashes),
        None => needed,
    };
    for chunk in missing.chunks(MAX_LOG_READ) {
        let read = store.log_hashes(chunk).await.map_err(LogError::Store)?;
        if let Some(upper) = upper {
            upper.keep(&read);
        }
        hashes.extend(read);
    }
    computation(&AnyReader(&StoredHashes(hashes))).map_err(LogError::Tree)
}

/// The lowest level of the stored hashes kept in memory. The levels below
/// are the leaves' and their pairs': an inclusion proof reads them from the
/// block of four leaves around its leaf, which it reads anyway.
const LOWEST_KEPT_LEVEL: u8 = 2;

/// The most stored hashes kept (about 64 bytes each: 64 MiB at most; a
/// tree of a million leaves has 500,000 at levels 2 and up).
const MAX_KEPT: usize = 1 << 20;

/// Stored hashes of levels [`LOWEST_KEPT_LEVEL`] and up, kept once read:
/// a stored hash never changes once written (it is the hash of a complete
/// subtree), so a copy is never stale, in this process or another's on the
/// same database. With them an inclusion proof costs one store read.
#[derive(Debug, Default)]
pub(crate) struct UpperHashes(RwLock<HashMap<u64, Hash>>);

impl UpperHashes {
    /// Fills `into` with the kept hashes among `needed`; returns the others.
    fn lookup(&self, needed: &[u64], into: &mut HashMap<u64, Hash>) -> Vec<u64> {
        let Ok(kept) = self.0.read() else {
            return needed.to_vec();
        };
        let mut missing = Vec::new();
        for index in needed {
            if into.contains_key(index) {
                continue;
            }
            match kept.get(index) {
                Some(hash) => {
                    into.insert(*index, *hash);
                }
                None => missing.push(*index),
            }
        }
        missing
    }

    /// Keeps the hashes of `read` at the kept levels, while there is room.
    fn keep(&self, read: &HashMap<u64, Hash>) {
        let Ok(mut kept) = self.0.write() else {
            return;
        };
        for (index, hash) in read {
            if kept.len() >= MAX_KEPT {
                return;
            }
            if split_stored_hash_index(*index).0 >= LOWEST_KEPT_LEVEL {
                kept.insert(*index, *hash);
            }
        }
    }
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves, with
/// the leaf: one store read of the leaves around it (which give the two
/// lowest levels of the proof), the upper levels from `upper`, and from the
/// store only what `upper` does not hold yet.
pub(crate) async fn inclusion_with_leaf(
    store: &dyn Store,
    upper: &UpperHashes,
    index: u64,
    size: u64,
) -> Result<(Vec<Hash>, Vec<u8>), LogError> {
    if index >= size {
        return Err(LogError::Tree(TreeError::OutOfRange(format!(
            "index {index} is not in a tree of {size} leaves"
        ))));
    }
    let start = index & !3;
    let end = size.min(start + 4);
    let leaves = store.log_leaves(start..end).await?;
    let leaf = usize::try_from(index - start)
        .ok()
        .and_then(|i| leaves.get(i).cloned())
        .ok_or_else(|| LogError::Tree(TreeError::OutOfRange(format!("no leaf {index}"))))?;
    let mut known = HashMap::with_capacity(32);
    let hashes: Vec<Hash> = leaves.iter().map(|l| tree::record_hash(l)).collect();
    for (n, hash) in (start..).zip(&hashes) {
        known.insert(stored_hash_index(0, n), *hash);
    }
    for (pair, two) in (start / 2..).zip(hashes.chunks_exact(2)) {
        known.insert(stored_hash_index(1, pair), node_hash(two[0], two[1]));
    }
    let computation = |r: &AnyReader<'_>| tree::inclusion_proof(index, size, r);
    let needed = tree::reads(|r| computation(&AnyReader(r)));
    let missing = upper.lookup(&needed, &mut known);
    for chunk in missing.chunks(MAX_LOG_READ) {
        let read = store.log_hashes(chunk).await?;
        upper.keep(&read);
        known.extend(read);
    }
    let proof = computation(&AnyReader(&StoredHashes(known))).map_err(LogError::Tree)?;
    Ok((proof, leaf))
}
