//! The RFC 6962 Merkle tree over the leaves, as `tlog_tiles` (a port of Go's
//! `sumdb/tlog`) computes it: every node hash of a complete subtree is stored
//! once, at a *stored-hash index*, when the leaf that completes it is
//! appended; roots, proofs and tiles are read from those stored hashes.
//!
//! `tlog_tiles` reads stored hashes through a synchronous [`HashReader`], but
//! the marketplace keeps them in a database it reads asynchronously. The
//! hashes a computation reads depend only on sizes and indexes, never on
//! hash values, so each computation runs in two passes: [`reads`] runs it
//! against a [`Recorder`] to learn which stored hashes it needs, the caller
//! fetches those into [`StoredHashes`], and the computation runs again on
//! them.

use std::cell::RefCell;
use std::collections::HashMap;

use tlog_tiles::tlog::{self, Error};
pub use tlog_tiles::tlog::{
    EMPTY_HASH, Hash, HashReader, node_hash, record_hash, split_stored_hash_index,
    stored_hash_count, stored_hash_index,
};

/// Why a tree computation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A stored hash the computation needs is missing.
    #[error("the stored hash {0} is missing")]
    Missing(u64),
    /// Sizes or indexes out of range (an index at or past the tree size, a
    /// consistency proof to a smaller tree).
    #[error("{0}")]
    OutOfRange(String),
    /// A proof that does not prove what it claims.
    #[error("the proof does not verify")]
    Invalid,
}

/// A [`HashReader`] that answers zeros and remembers what it was asked: the
/// first pass of [`reads`].
#[derive(Debug, Default)]
pub struct Recorder {
    asked: RefCell<Vec<u64>>,
}

impl HashReader for Recorder {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        self.asked.borrow_mut().extend_from_slice(indexes);
        Ok(vec![Hash([0; 32]); indexes.len()])
    }
}

/// Stored hashes fetched for a computation, by stored-hash index.
#[derive(Debug, Default, Clone)]
pub struct StoredHashes(pub HashMap<u64, Hash>);

impl HashReader for StoredHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        indexes
            .iter()
            .map(|i| {
                self.0
                    .get(i)
                    .copied()
                    .ok_or_else(|| Error::InvalidInput(format!("stored hash {i} is missing")))
            })
            .collect()
    }
}

/// Any [`HashReader`] behind a reference, for code that picks the reader at
/// run time (the two passes of [`reads`]).
pub struct AnyReader<'a>(pub &'a dyn HashReader);

impl HashReader for AnyReader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        self.0.read_hashes(indexes)
    }
}

/// The stored-hash indexes `computation` reads (sorted, without repeats).
pub fn reads<T>(computation: impl FnOnce(&Recorder) -> T) -> Vec<u64> {
    let recorder = Recorder::default();
    computation(&recorder);
    let mut asked = recorder.asked.into_inner();
    asked.sort_unstable();
    asked.dedup();
    asked
}

/// Maps `tlog_tiles`' error onto ours.
fn tree_error(e: Error) -> TreeError {
    match e {
        Error::InvalidInput(message) => match message
            .strip_prefix("stored hash ")
            .and_then(|rest| rest.strip_suffix(" is missing"))
            .and_then(|n| n.parse().ok())
        {
            Some(index) => TreeError::Missing(index),
            None => TreeError::OutOfRange(message),
        },
        Error::InvalidProof => TreeError::Invalid,
        other => TreeError::OutOfRange(other.to_string()),
    }
}

/// The hashes to store when leaf `n` (zero-based) with hash `leaf_hash` is
/// appended, from stored-hash index [`first_stored_index`]`(n)` on.
pub fn append<R: HashReader>(n: u64, leaf_hash: Hash, r: &R) -> Result<Vec<Hash>, TreeError> {
    tlog::stored_hashes_for_record_hash(n, leaf_hash, r).map_err(tree_error)
}

/// Where the hashes [`append`] returns for leaf `n` start.
pub fn first_stored_index(n: u64) -> u64 {
    stored_hash_index(0, n)
}

/// The root hash of the tree of the first `size` leaves.
pub fn root<R: HashReader>(size: u64, r: &R) -> Result<Hash, TreeError> {
    tlog::tree_hash(size, r).map_err(tree_error)
}

/// The RFC 6962 inclusion proof (audit path) of leaf `index` in the tree of
/// `size` leaves: from the leaf's sibling up to the root's child.
pub fn inclusion_proof<R: HashReader>(
    index: u64,
    size: u64,
    r: &R,
) -> Result<Vec<Hash>, TreeError> {
    if index >= size {
        return Err(TreeError::OutOfRange(format!(
            "leaf {index} is not in a tree of {size} leaves"
        )));
    }
    tlog::prove_record(size, index, r).map_err(tree_error)
}

/// The RFC 6962 consistency proof from the tree of `old` leaves to the tree
/// of `new` leaves.
pub fn consistency_proof<R: HashReader>(old: u64, new: u64, r: &R) -> Result<Vec<Hash>, TreeError> {
    if old > new {
        return Err(TreeError::OutOfRange(format!(
            "a tree of {old} leaves cannot be a prefix of one of {new}"
        )));
    }
    tlog::prove_tree(new, old, r).map_err(tree_error)
}

/// Checks that `proof` proves leaf `index` with hash `leaf_hash` is in the
/// tree of `size` leaves whose root is `root`.
pub fn check_inclusion(
    proof: &[Hash],
    index: u64,
    size: u64,
    leaf_hash: Hash,
    root: Hash,
) -> Result<(), TreeError> {
    if index >= size {
        return Err(TreeError::OutOfRange(format!(
            "leaf {index} is not in a tree of {size} leaves"
        )));
    }
    tlog::check_record(&proof.to_vec(), size, root, index, leaf_hash)
        .map_err(|_| TreeError::Invalid)
}

/// Checks that `proof` proves the tree of `old` leaves with root `old_root`
/// is a prefix of the tree of `new` leaves with root `new_root`.
pub fn check_consistency(
    proof: &[Hash],
    old: u64,
    old_root: Hash,
    new: u64,
    new_root: Hash,
) -> Result<(), TreeError> {
    if old > new {
        return Err(TreeError::OutOfRange(format!(
            "a tree of {old} leaves cannot be a prefix of one of {new}"
        )));
    }
    tlog::check_tree(&proof.to_vec(), new, new_root, old, old_root).map_err(|_| TreeError::Invalid)
}

/// A tree held in memory: the stored hashes of every leaf appended. For
/// tests, benchmarks and recomputing a tree from its leaves
/// (`admin log verify`).
#[derive(Debug, Default, Clone)]
pub struct MemoryTree {
    size: u64,
    hashes: StoredHashes,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many leaves it holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf; returns its index.
    pub fn push(&mut self, leaf: &[u8]) -> Result<u64, TreeError> {
        let n = self.size;
        let stored = append(n, record_hash(leaf), &self.hashes)?;
        let first = first_stored_index(n);
        for (i, hash) in (first..).zip(stored) {
            self.hashes.0.insert(i, hash);
        }
        self.size += 1;
        Ok(n)
    }

    /// Its stored hashes.
    pub fn hashes(&self) -> &StoredHashes {
        &self.hashes
    }

    /// The roots of its complete subtrees (at most one per level), by
    /// stored-hash index: all a tree needs to grow and give its roots
    /// ([`MemoryTree::from_frontier`]). What a monitor keeps between runs.
    pub fn frontier(&self) -> Result<Vec<(u64, Hash)>, TreeError> {
        reads(|r| root(self.size, r))
            .into_iter()
            .map(|i| {
                self.hashes
                    .0
                    .get(&i)
                    .map(|h| (i, *h))
                    .ok_or(TreeError::Missing(i))
            })
            .collect()
    }

    /// The tree of `size` leaves known only by its [`frontier`](Self::frontier):
    /// it grows, and gives the roots of its sizes from `size` on, as the whole
    /// tree would.
    pub fn from_frontier(size: u64, frontier: &[(u64, Hash)]) -> Self {
        Self {
            size,
            hashes: StoredHashes(frontier.iter().copied().collect()),
        }
    }

    /// Its root.
    pub fn root(&self) -> Result<Hash, TreeError> {
        root(self.size, &self.hashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// RFC 6962's MTH, written from the RFC's definition: the reference the
    /// stored-hash computations are checked against.
    fn mth(leaves: &[Vec<u8>]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest(b"").into(),
            1 => Sha256::new()
                .chain_update([0u8])
                .chain_update(&leaves[0])
                .finalize()
                .into(),
            n => {
                // The largest power of two smaller than n.
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                Sha256::new()
                    .chain_update([1u8])
                    .chain_update(mth(&leaves[..k]))
                    .chain_update(mth(&leaves[k..]))
                    .finalize()
                    .into()
            }
        }
    }

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
    }

    #[test]
    fn roots_match_the_rfc_definition() {
        let all = leaves(70);
        let mut tree = MemoryTree::new();
        assert_eq!(tree.root().unwrap(), EMPTY_HASH);
        for (n, leaf) in all.iter().enumerate() {
            tree.push(leaf).unwrap();
            assert_eq!(tree.root().unwrap().0, mth(&all[..=n]), "size {}", n + 1);
        }
    }

    #[test]
    fn proofs_verify_and_tampering_is_refused() {
        let all = leaves(37);
        let mut tree = MemoryTree::new();
        for leaf in &all {
            tree.push(leaf).unwrap();
        }
        let size = tree.size();
        let root = tree.root().unwrap();
        for index in 0..size {
            let proof = inclusion_proof(index, size, tree.hashes()).unwrap();
            let hash = record_hash(&all[index as usize]);
            check_inclusion(&proof, index, size, hash, root).unwrap();
            let other = record_hash(b"another leaf");
            assert_eq!(
                check_inclusion(&proof, index, size, other, root),
                Err(TreeError::Invalid)
            );
            if let Some(first) = proof.first() {
                let mut bad = proof.clone();
                bad[0] = Hash(first.0.map(|b| b ^ 1));
                assert_eq!(
                    check_inclusion(&bad, index, size, hash, root),
                    Err(TreeError::Invalid)
                );
            }
        }
        for old in 1..=size {
            let mut prefix = MemoryTree::new();
            for leaf in &all[..old as usize] {
                prefix.push(leaf).unwrap();
            }
            let old_root = prefix.root().unwrap();
            let proof = consistency_proof(old, size, tree.hashes()).unwrap();
            check_consistency(&proof, old, old_root, size, root).unwrap();
            let wrong = record_hash(b"forked");
            assert_eq!(
                check_consistency(&proof, old, wrong, size, root),
                Err(TreeError::Invalid)
            );
        }
        assert!(matches!(
            inclusion_proof(size, size, tree.hashes()),
            Err(TreeError::OutOfRange(_))
        ));
        assert!(matches!(
            consistency_proof(size + 1, size, tree.hashes()),
            Err(TreeError::OutOfRange(_))
        ));
    }

    #[test]
    fn a_tree_grows_from_its_frontier_alone() {
        let all = leaves(300);
        let mut whole = MemoryTree::new();
        for leaf in &all {
            whole.push(leaf).unwrap();
        }
        for start in [0usize, 1, 37, 255, 256, 257, 299] {
            let mut prefix = MemoryTree::new();
            for leaf in &all[..start] {
                prefix.push(leaf).unwrap();
            }
            let frontier = prefix.frontier().unwrap();
            assert!(frontier.len() <= 10, "{start}: {}", frontier.len());
            let mut grown = MemoryTree::from_frontier(start as u64, &frontier);
            for leaf in &all[start..] {
                grown.push(leaf).unwrap();
            }
            assert_eq!(grown.root().unwrap(), whole.root().unwrap(), "from {start}");
        }
    }

    #[test]
    fn the_recorder_names_exactly_the_hashes_a_computation_reads() {
        let mut tree = MemoryTree::new();
        for leaf in leaves(300) {
            tree.push(&leaf).unwrap();
        }
        let needed = reads(|r| inclusion_proof(123, 300, r));
        let subset = StoredHashes(
            needed
                .iter()
                .map(|i| (*i, tree.hashes().0[i]))
                .collect::<HashMap<_, _>>(),
        );
        assert_eq!(
            inclusion_proof(123, 300, &subset).unwrap(),
            inclusion_proof(123, 300, tree.hashes()).unwrap()
        );
        let missing = StoredHashes(HashMap::new());
        assert!(matches!(root(300, &missing), Err(TreeError::Missing(_))));
    }
}
