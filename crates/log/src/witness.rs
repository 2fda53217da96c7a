//! The witness side of C2SP tlog-witness: reading an `add-checkpoint`
//! request and deciding it against the logs a witness follows and the
//! latest checkpoint it cosigned for each. The decision is pure; the server
//! keeps the state and answers over HTTP.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::checkpoint::{self, CheckpointError, VerifiedCheckpoint};
use crate::tree::{self, Hash};

/// The most consistency-proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// Why an `add-checkpoint` request is refused, with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddCheckpointError {
    /// 400: not a request of the protocol.
    #[error("{0}")]
    Malformed(String),
    /// 404: a log this witness does not follow.
    #[error("this witness does not follow the log {0}")]
    UnknownOrigin(String),
    /// 403: no signature of the log's key verifies.
    #[error("the checkpoint is not signed by the log's key: {0}")]
    NotSigned(String),
    /// 400: the old size is larger than the checkpoint's.
    #[error("the old size {old} is larger than the checkpoint's size {size}")]
    OldTooLarge {
        /// The request's old size.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// 409: the old size is not the size this witness last cosigned (the
    /// body is that size).
    #[error("{0}")]
    Conflict(u64),
    /// 409: the same size with another root: a fork.
    #[error("a checkpoint of size {0} with another root was cosigned: the log forked")]
    OtherRoot(u64),
    /// 422: the consistency proof does not verify.
    #[error("the consistency proof from {old} to {size} does not verify")]
    Inconsistent {
        /// The old size.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
}

impl AddCheckpointError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            AddCheckpointError::Malformed(_) | AddCheckpointError::OldTooLarge { .. } => 400,
            AddCheckpointError::NotSigned(_) => 403,
            AddCheckpointError::UnknownOrigin(_) => 404,
            AddCheckpointError::Conflict(_) | AddCheckpointError::OtherRoot(_) => 409,
            AddCheckpointError::Inconsistent { .. } => 422,
        }
    }
}

/// An `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness cosigned last.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint.
    pub proof: Vec<Hash>,
    /// The checkpoint, a signed note.
    pub checkpoint: String,
}

impl AddCheckpoint {
    /// The request's body.
    pub fn to_body(&self) -> String {
        let mut body = format!("old {}\n", self.old);
        for hash in &self.proof {
            body.push_str(&BASE64.encode(hash.0));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.checkpoint);
        body
    }

    /// Reads a request body.
    pub fn parse(body: &str) -> Result<Self, AddCheckpointError> {
        let bad = |what: &str| AddCheckpointError::Malformed(what.to_string());
        let (head, checkpoint) = body
            .split_once("\n\n")
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old_text = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .ok_or_else(|| bad("the first line is not 'old <size>'"))?;
        let old: u64 = old_text
            .parse()
            .ok()
            .filter(|_| old_text == "0" || !old_text.starts_with('0'))
            .ok_or_else(|| bad("the old size is not a decimal number"))?;
        let mut proof = Vec::new();
        for line in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad("more than 63 consistency proof lines"));
            }
            let bytes = BASE64
                .decode(line)
                .map_err(|_| bad("a proof line is not base64"))?;
            let hash: [u8; 32] = bytes
                .try_into()
                .map_err(|_| bad("a proof line is not a 32-byte hash"))?;
            proof.push(Hash(hash));
        }
        Ok(Self {
            old,
            proof,
            checkpoint: checkpoint.to_string(),
        })
    }
}

/// Decides `request` for a witness that follows the logs with verifier keys
/// `logs` and last cosigned `latest` (size and root) of the request's log:
/// the verified checkpoint to cosign, or why not.
pub fn decide(
    request: &AddCheckpoint,
    logs: &[String],
    latest: impl Fn(&str) -> Option<(u64, Hash)>,
) -> Result<VerifiedCheckpoint, AddCheckpointError> {
    let origin = request
        .checkpoint
        .split('\n')
        .next()
        .unwrap_or_default()
        .to_string();
    let key = logs
        .iter()
        .find(|k| k.split('+').next() == Some(origin.as_str()))
        .ok_or_else(|| AddCheckpointError::UnknownOrigin(origin.clone()))?;
    let checkpoint =
        checkpoint::verify(request.checkpoint.as_bytes(), key).map_err(|e| match e {
            CheckpointError::Malformed(m) => AddCheckpointError::Malformed(m),
            other => AddCheckpointError::NotSigned(other.to_string()),
        })?;
    if request.old > checkpoint.size {
        return Err(AddCheckpointError::OldTooLarge {
            old: request.old,
            size: checkpoint.size,
        });
    }
    let (last_size, last_root) = latest(&origin).unwrap_or((0, tree::EMPTY_HASH));
    if request.old != last_size {
        return Err(AddCheckpointError::Conflict(last_size));
    }
    if request.old == 0 {
        if !request.proof.is_empty() {
            return Err(AddCheckpointError::Malformed(
                "the proof must be empty from size 0".into(),
            ));
        }
        return Ok(checkpoint);
    }
    if request.old == checkpoint.size {
        return if checkpoint.root == last_root {
            Ok(checkpoint)
        } else {
            Err(AddCheckpointError::OtherRoot(checkpoint.size))
        };
    }
    tree::check_consistency(
        &request.proof,
        request.old,
        last_root,
        checkpoint.size,
        checkpoint.root,
    )
    .map_err(|_| AddCheckpointError::Inconsistent {
        old: request.old,
        size: checkpoint.size,
    })?;
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::LogKey;
    use crate::tree::MemoryTree;

    fn tree(n: usize, tag: &str) -> MemoryTree {
        let mut t = MemoryTree::new();
        for i in 0..n {
            t.push(format!("{tag} {i}").as_bytes()).unwrap();
        }
        t
    }

    #[test]
    fn requests_round_trip() {
        let request = AddCheckpoint {
            old: 3,
            proof: vec![Hash([7; 32]), Hash([9; 32])],
            checkpoint: "o\n5\nhash\n\n— o sig\n".into(),
        };
        assert_eq!(AddCheckpoint::parse(&request.to_body()).unwrap(), request);
        for bad in ["old 01\n\nx", "new 1\n\nx", "old 1\n!!\n\nx", "old 1\nx"] {
            assert!(
                matches!(
                    AddCheckpoint::parse(bad),
                    Err(AddCheckpointError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_witness_cosigns_extensions_only() {
        let (key, _) = LogKey::generate("example.org/log").unwrap();
        let logs = vec![key.verifier_key().to_string()];
        let t7 = tree(7, "a");
        let t4 = tree(4, "a");
        let signed = |t: &MemoryTree| checkpoint::sign(&key, t.size(), t.root().unwrap()).unwrap();
        let first = AddCheckpoint {
            old: 0,
            proof: vec![],
            checkpoint: signed(&t4),
        };
        assert_eq!(decide(&first, &logs, |_| None).unwrap().size, 4);
        let proof = tree::consistency_proof(4, 7, t7.hashes()).unwrap();
        let next = AddCheckpoint {
            old: 4,
            proof,
            checkpoint: signed(&t7),
        };
        let state = |_: &str| Some((4, t4.root().unwrap()));
        assert_eq!(decide(&next, &logs, state).unwrap().size, 7);
        // A stale old size: 409 with the size cosigned.
        assert_eq!(
            decide(&first, &logs, |_| Some((7, t7.root().unwrap()))),
            Err(AddCheckpointError::Conflict(7))
        );
        // Another tree of 7 that does not extend the 4 cosigned: 422.
        let forked = tree(7, "b");
        let proof = tree::consistency_proof(4, 7, forked.hashes()).unwrap();
        let fork = AddCheckpoint {
            old: 4,
            proof,
            checkpoint: signed(&forked),
        };
        assert_eq!(decide(&fork, &logs, state).unwrap_err().status(), 422);
        // The same size with another root: 409.
        let same = AddCheckpoint {
            old: 7,
            proof: vec![],
            checkpoint: signed(&forked),
        };
        assert_eq!(
            decide(&same, &logs, |_| Some((7, t7.root().unwrap())))
                .unwrap_err()
                .status(),
            409
        );
        // Unknown log, wrong key, old above size.
        let (other, _) = LogKey::generate("other.org/log").unwrap();
        let unknown = AddCheckpoint {
            old: 0,
            proof: vec![],
            checkpoint: checkpoint::sign(&other, 1, Hash([1; 32])).unwrap(),
        };
        assert_eq!(decide(&unknown, &logs, |_| None).unwrap_err().status(), 404);
        let (impostor, _) = LogKey::generate("example.org/log").unwrap();
        let forged = AddCheckpoint {
            old: 0,
            proof: vec![],
            checkpoint: checkpoint::sign(&impostor, 1, Hash([1; 32])).unwrap(),
        };
        assert_eq!(decide(&forged, &logs, |_| None).unwrap_err().status(), 403);
        let above = AddCheckpoint {
            old: 9,
            proof: vec![],
            checkpoint: signed(&t7),
        };
        assert_eq!(decide(&above, &logs, state).unwrap_err().status(), 400);
    }
}
