//! Checkpoints (C2SP tlog-checkpoint) as signed notes (C2SP signed-note): the
//! origin, the tree size and the root hash, signed by the log's key, with
//! whatever cosignatures witnesses add.

use signed_note::{Note, NoteError, StandardVerifier, VerifierList};
use tlog_tiles::checkpoint::Checkpoint;

use crate::key::LogKey;
use crate::tree::Hash;

/// Why a checkpoint cannot be signed or is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Not a signed note holding a checkpoint.
    #[error("not a checkpoint: {0}")]
    Malformed(String),
    /// The verifier key cannot be read.
    #[error("the verifier key '{0}' is not a C2SP Ed25519 verifier key (<name>+<key id>+<key>)")]
    BadVerifierKey(String),
    /// The log's signature is missing or does not verify.
    #[error("the checkpoint is not signed by {key}: {why}")]
    NotSigned {
        /// The verifier key's name and ID.
        key: String,
        /// Why.
        why: String,
    },
    /// Signed by the right key, but for another origin.
    #[error("the checkpoint is for the origin '{found}', not '{expected}'")]
    OtherOrigin {
        /// The origin the key names.
        expected: String,
        /// The checkpoint's first line.
        found: String,
    },
}

/// A checkpoint whose log signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCheckpoint {
    /// The log's origin.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash of the tree of that size.
    pub root: Hash,
    /// The whole signed note, as received.
    pub note: String,
}

/// Signs the checkpoint of the tree of `size` leaves with root `root`: a
/// signed note whose text is the checkpoint body and whose one signature is
/// the log key's.
pub fn sign(key: &LogKey, size: u64, root: Hash) -> Result<String, CheckpointError> {
    let body = Checkpoint::new(key.name(), size, root, "")
        .map_err(|e| CheckpointError::Malformed(e.to_string()))?
        .to_bytes();
    let mut note = Note::new(&body, &[]).map_err(note_error)?;
    note.add_sigs(&[key.signer()]).map_err(note_error)?;
    String::from_utf8(note.to_bytes()).map_err(|e| CheckpointError::Malformed(e.to_string()))
}

/// Verifies `note` against the log's verifier key: the log's signature must
/// verify and the checkpoint's origin must be the key's name. Other
/// signatures (witnesses' cosignatures) are ignored here.
pub fn verify(note: &[u8], verifier_key: &str) -> Result<VerifiedCheckpoint, CheckpointError> {
    let verifier = StandardVerifier::new(verifier_key)
        .map_err(|_| CheckpointError::BadVerifierKey(verifier_key.to_string()))?;
    let name = signed_note::Verifier::name(&verifier).to_string();
    let id = signed_note::Verifier::key_id(&verifier);
    let parsed = Note::from_bytes(note).map_err(note_error)?;
    let known = VerifierList::new(vec![Box::new(verifier)]);
    parsed
        .verify(&known)
        .map_err(|e| CheckpointError::NotSigned {
            key: format!("{name}+{id:08x}"),
            why: e.to_string(),
        })?;
    let checkpoint = Checkpoint::from_bytes(parsed.text())
        .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    if checkpoint.origin() != name {
        return Err(CheckpointError::OtherOrigin {
            expected: name,
            found: checkpoint.origin().to_string(),
        });
    }
    Ok(VerifiedCheckpoint {
        origin: name,
        size: checkpoint.size(),
        root: *checkpoint.hash(),
        note: String::from_utf8_lossy(note).into_owned(),
    })
}

/// Checks that `vkey` is a log verifier key (`<name>+<key id>+<key>`,
/// Ed25519).
pub fn check_verifier_key(vkey: &str) -> Result<(), CheckpointError> {
    StandardVerifier::new(vkey)
        .map(|_| ())
        .map_err(|_| CheckpointError::BadVerifierKey(vkey.to_string()))
}

/// A note error as a checkpoint error.
fn note_error(e: NoteError) -> CheckpointError {
    CheckpointError::Malformed(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemoryTree;

    fn tree(n: usize) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for i in 0..n {
            tree.push(format!("leaf {i}").as_bytes()).unwrap();
        }
        tree
    }

    #[test]
    fn signed_checkpoints_verify_and_read_back() {
        let (key, _) = LogKey::generate("marketplace.example.org/log").unwrap();
        let t = tree(5);
        let note = sign(&key, 5, t.root().unwrap()).unwrap();
        let lines: Vec<&str> = note.lines().collect();
        assert_eq!(lines[0], "marketplace.example.org/log");
        assert_eq!(lines[1], "5");
        assert_eq!(lines[3], "");
        assert!(
            lines[4].starts_with("— marketplace.example.org/log "),
            "{note}"
        );
        let verified = verify(note.as_bytes(), key.verifier_key()).unwrap();
        assert_eq!((verified.size, verified.root), (5, t.root().unwrap()));
    }

    #[test]
    fn tampered_or_foreign_checkpoints_are_refused() {
        let (key, _) = LogKey::generate("marketplace.example.org/log").unwrap();
        let (other, _) = LogKey::generate("marketplace.example.org/log").unwrap();
        let note = sign(&key, 5, tree(5).root().unwrap()).unwrap();
        let bigger = note.replacen("\n5\n", "\n6\n", 1);
        assert!(matches!(
            verify(bigger.as_bytes(), key.verifier_key()),
            Err(CheckpointError::NotSigned { .. })
        ));
        assert!(matches!(
            verify(note.as_bytes(), other.verifier_key()),
            Err(CheckpointError::NotSigned { .. })
        ));
        assert!(matches!(
            verify(b"garbage", key.verifier_key()),
            Err(CheckpointError::Malformed(_))
        ));
        assert!(matches!(
            verify(note.as_bytes(), "nonsense"),
            Err(CheckpointError::BadVerifierKey(_))
        ));
    }
}
