//! Offline receipts in the C2SP tlog-proof format: an entry's leaf index, its
//! inclusion proof and the signed checkpoint the proof leads to, so that the
//! entry's inclusion can be checked later without asking the log.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64>            (optional, not authenticated)
//! index <leaf index>
//! <base64 hash>             (the audit path, leaf's sibling first)
//!
//! <checkpoint note>
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::checkpoint::{self, CheckpointError, VerifiedCheckpoint};
use crate::tree::{self, Hash, TreeError};

/// The first line of a receipt.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Why a receipt is refused.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// Not in the tlog-proof format (the line says where).
    #[error("not a tlog-proof receipt: {0}")]
    Malformed(String),
    /// The checkpoint is not the log's.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The proof does not lead from the leaf to the checkpoint's root.
    #[error("the inclusion proof of leaf {index} does not lead to the checkpoint's root: {why}")]
    Inclusion {
        /// The leaf index.
        index: u64,
        /// Why.
        why: TreeError,
    },
}

/// A parsed receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// Opaque extra data (unauthenticated).
    pub extra: Option<Vec<u8>>,
    /// The leaf's index.
    pub index: u64,
    /// The inclusion proof, leaf's sibling first.
    pub proof: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub checkpoint: String,
}

impl Receipt {
    /// The receipt's text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", BASE64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for hash in &self.proof {
            out.push_str(&BASE64.encode(hash.0));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Reads a receipt's text.
    pub fn parse(text: &str) -> Result<Self, ReceiptError> {
        let bad = |line: usize, what: &str| ReceiptError::Malformed(format!("line {line}: {what}"));
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad(1, "no empty line before the checkpoint"))?;
        let mut lines = head
            .split('\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .peekable();
        match lines.next() {
            Some((_, HEADER)) => {}
            _ => return Err(bad(1, &format!("the first line is not '{HEADER}'"))),
        }
        let mut extra = None;
        if let Some((n, line)) = lines.peek().copied()
            && let Some(data) = line.strip_prefix("extra ")
        {
            extra = Some(
                BASE64
                    .decode(data)
                    .map_err(|_| bad(n, "extra data is not base64"))?,
            );
            lines.next();
        }
        let (n, index_line) = lines.next().ok_or_else(|| bad(2, "no index line"))?;
        let index_text = index_line
            .strip_prefix("index ")
            .ok_or_else(|| bad(n, "expected 'index <n>'"))?;
        let index: u64 = index_text
            .parse()
            .ok()
            .filter(|_| index_text == "0" || !index_text.starts_with('0'))
            .ok_or_else(|| bad(n, "the index is not a decimal number"))?;
        let mut proof = Vec::new();
        for (n, line) in lines {
            let bytes = BASE64
                .decode(line)
                .map_err(|_| bad(n, "a proof hash is not base64"))?;
            let hash: [u8; 32] = bytes
                .try_into()
                .map_err(|_| bad(n, "a proof hash is not 32 bytes"))?;
            proof.push(Hash(hash));
            if proof.len() > 64 {
                return Err(bad(n, "more than 64 proof hashes"));
            }
        }
        Ok(Self {
            extra,
            index,
            proof,
            checkpoint: checkpoint.to_string(),
        })
    }

    /// Checks the receipt for `leaf` (the leaf's bytes) against the log's
    /// verifier key: the checkpoint is signed by the log, and the proof leads
    /// from the leaf at the receipt's index to the checkpoint's root.
    pub fn verify(
        &self,
        leaf: &[u8],
        verifier_key: &str,
    ) -> Result<VerifiedCheckpoint, ReceiptError> {
        let checkpoint = checkpoint::verify(self.checkpoint.as_bytes(), verifier_key)?;
        tree::check_inclusion(
            &self.proof,
            self.index,
            checkpoint.size,
            tree::record_hash(leaf),
            checkpoint.root,
        )
        .map_err(|why| ReceiptError::Inclusion {
            index: self.index,
            why,
        })?;
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::LogKey;
    use crate::tree::MemoryTree;

    fn receipt_for(index: u64) -> (Receipt, Vec<Vec<u8>>, LogKey) {
        let (key, _) = LogKey::generate("example.org/log").unwrap();
        let leaves: Vec<Vec<u8>> = (0..11).map(|i| format!("leaf {i}").into_bytes()).collect();
        let mut t = MemoryTree::new();
        for leaf in &leaves {
            t.push(leaf).unwrap();
        }
        let note = checkpoint::sign(&key, t.size(), t.root().unwrap()).unwrap();
        let proof = tree::inclusion_proof(index, t.size(), t.hashes()).unwrap();
        let receipt = Receipt {
            extra: Some(b"entry".to_vec()),
            index,
            proof,
            checkpoint: note,
        };
        (receipt, leaves, key)
    }

    #[test]
    fn receipts_round_trip_and_verify() {
        let (receipt, leaves, key) = receipt_for(6);
        let text = receipt.to_text();
        assert!(
            text.starts_with("c2sp.org/tlog-proof@v1\nextra ZW50cnk=\nindex 6\n"),
            "{text}"
        );
        let parsed = Receipt::parse(&text).unwrap();
        assert_eq!(parsed, receipt);
        let checkpoint = parsed.verify(&leaves[6], key.verifier_key()).unwrap();
        assert_eq!(checkpoint.size, 11);
    }

    #[test]
    fn tampered_receipts_are_refused() {
        let (receipt, leaves, key) = receipt_for(3);
        assert!(matches!(
            receipt.verify(&leaves[4], key.verifier_key()),
            Err(ReceiptError::Inclusion { .. })
        ));
        let moved = Receipt {
            index: 4,
            ..receipt.clone()
        };
        assert!(moved.verify(&leaves[3], key.verifier_key()).is_err());
        let mut bent = receipt.clone();
        bent.proof[0].0[0] ^= 1;
        assert!(bent.verify(&leaves[3], key.verifier_key()).is_err());
        let (other, _) = LogKey::generate("example.org/log").unwrap();
        assert!(matches!(
            receipt.verify(&leaves[3], other.verifier_key()),
            Err(ReceiptError::Checkpoint(_))
        ));
    }

    #[test]
    fn malformed_receipts_say_where() {
        for (text, line) in [
            ("hello\n\ncheckpoint", "line 1"),
            ("c2sp.org/tlog-proof@v1\nindex 01\n\nc", "line 2"),
            (
                "c2sp.org/tlog-proof@v1\nindex 1\nnot-base64!\n\nc",
                "line 3",
            ),
            ("c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\nc", "line 2"),
        ] {
            let e = Receipt::parse(text).unwrap_err();
            assert!(e.to_string().contains(line), "{text:?}: {e}");
        }
    }
}
