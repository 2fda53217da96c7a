//! The marketplace's transparency log: an append-only Merkle tree (RFC 6962)
//! of every accepted entry, so that nobody has to trust the operator that the
//! entries a site sees are the entries everyone sees.
//!
//! - [`leaf`]: the canonical bytes recorded for an entry, and the opaque leaf
//!   (a commitment) that stands for an entry restricted to VOs;
//! - [`tree`]: root hashes, inclusion and consistency proofs over stored
//!   hashes (`tlog_tiles`, a port of Go's `sumdb/tlog`);
//! - [`key`] and [`checkpoint`]: the log's Ed25519 key and the C2SP
//!   checkpoints it signs (`signed_note`);
//! - [`tiles`]: C2SP tlog-tiles paths, hash tiles and entry bundles;
//! - [`receipt`]: C2SP tlog-proof offline receipts;
//! - [`cosignature`]: witnesses' timestamped cosignatures (C2SP
//!   tlog-cosignature, `cosignature/v1`) and [`witness`]: deciding a
//!   C2SP tlog-witness `add-checkpoint` request.
//!
//! The crate holds no storage: the store appends leaves and stored hashes in
//! the transaction that stores an entry, and the server signs and serves.

pub mod checkpoint;
pub mod cosignature;
pub mod key;
pub mod leaf;
pub mod receipt;
pub mod tiles;
pub mod tree;
pub mod witness;
