//! The transparency log's JSON shapes (`/api/v1/log…`). Hashes and leaves
//! are standard base64, as in C2SP checkpoints and tlog-proof receipts.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/log`: the log's identity and its newest checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogInfo {
    /// The origin (the checkpoints' first line).
    pub origin: String,
    /// The verifier key, `<origin>+<key id>+<base64 key>` (C2SP signed-note).
    pub verifier_key: String,
    /// The newest checkpoint's tree size (0 before the first entry).
    pub size: u64,
    /// Its root hash (base64; absent before the first entry).
    pub root_hash: Option<String>,
    /// The signed checkpoint, verbatim (absent before the first entry).
    pub checkpoint: Option<String>,
    /// The C2SP tiles' base URL (`…/log`: `checkpoint`, `tile/…`).
    pub tiles: String,
}

/// `GET /api/v1/log/proof/inclusion`: the audit path of a leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The leaf's index.
    pub index: u64,
    /// The tree size the proof is for.
    pub size: u64,
    /// The leaf (base64), whose RFC 6962 hash the proof starts from.
    pub leaf: String,
    /// The hashes, the leaf's sibling first (base64).
    pub hashes: Vec<String>,
    /// The root hash of the tree of `size` leaves (base64).
    pub root_hash: String,
    /// The signed checkpoint of that size, when `size` is a checkpoint's.
    pub checkpoint: Option<String>,
}

/// `GET /api/v1/log/proof/consistency`: that one tree extends another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// The smaller tree's size.
    pub first: u64,
    /// The larger tree's size.
    pub second: u64,
    /// The smaller tree's root hash (base64).
    pub first_root_hash: String,
    /// The larger tree's root hash (base64).
    pub second_root_hash: String,
    /// The RFC 6962 consistency proof (base64).
    pub hashes: Vec<String>,
}

/// `GET /api/v1/log/leaves`: consecutive public leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLeaves {
    /// The first leaf's index.
    pub start: u64,
    /// The leaves (base64), in order.
    pub leaves: Vec<String>,
}

/// Where an entry is in the log, with what checks it offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryLog {
    /// The leaf's index.
    pub index: u64,
    /// The public leaf (base64): the entry's record, or for an entry
    /// restricted to VOs a commitment to it.
    pub leaf: String,
    /// For a restricted entry, what opens the commitment (shown only to
    /// those who may see the entry).
    pub opening: Option<Opening>,
    /// The entry's C2SP tlog-proof receipt.
    pub receipt: String,
}

/// What opens a restricted entry's commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    /// The nonce (base64, 32 bytes).
    pub nonce: String,
    /// The entry leaf the commitment hides (base64).
    pub entry_leaf: String,
}
