//! The transparency log's rows (tables `log_leaves`, `log_hashes`,
//! `log_checkpoints`, `log_key`): [`append()`] adds the leaves of the entries a
//! put transaction creates, in sequence order, with the tree's new stored
//! hashes; [`backfill()`] appends the entries stored before the log existed;
//! the reads serve proofs, tiles and checkpoints. The tree arithmetic is
//! `marketplace_log`'s.

mod append;
mod read;
mod witness;

pub use append::entry_record;
pub(crate) use append::{LeafRow, append, backfill, carried_row, leaf_row};
pub use read::MAX_LOG_READ;
pub(crate) use read::{
    claim_log_key, latest_checkpoint, log_hashes, log_leaves, log_position, log_positions,
    log_size, record_checkpoint,
};
pub(crate) use witness::{
    advance_witnessed, cosignatures, first_cosigned_checkpoint, record_cosignature, witnessed,
};

/// Logs what [`backfill`] appended, when anything.
pub(crate) fn report_backfill(appended: u64) {
    if appended > 0 {
        tracing::info!(
            appended,
            "entries stored before the transparency log existed were appended to it"
        );
    }
}
