//! Tree computations over the hashes the store keeps: the two passes of
//! [`marketplace_log::tree::reads`] (learn which stored hashes a computation
//! reads, fetch them, run it), and the log's errors.

use std::collections::HashMap;

use marketplace_log::tree::{self, AnyReader, StoredHashes, TreeError};
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
    let needed = tree::reads(|r| computation(&AnyReader(r)));
    let mut hashes = HashMap::with_capacity(needed.len());
    for chunk in needed.chunks(MAX_LOG_READ) {
        hashes.extend(store.log_hashes(chunk).await.map_err(LogError::Store)?);
    }
    computation(&AnyReader(&StoredHashes(hashes))).map_err(LogError::Tree)
}
