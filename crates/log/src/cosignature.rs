//! Witness cosignatures (C2SP tlog-cosignature, the Ed25519 `cosignature/v1`
//! type): a witness's timestamped statement that a checkpoint is the largest
//! consistent tree head it has seen of that log. Written here because
//! `signed_note` knows only the log's own signature type.
//!
//! The signed message is `cosignature/v1\ntime <t>\n` followed by the
//! checkpoint body; the signature line's bytes are the key ID, the 8-byte
//! big-endian timestamp and the Ed25519 signature; the key ID is
//! `SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4]`, and the verifier key is
//! `<name>+<key id>+base64(0x04 ‖ public key)`.

use std::fs;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use signed_note::{Note, VerifierList, is_key_name_valid, key_id};

use crate::key::{KeyError, write_private};

/// The signature type byte of an Ed25519 cosignature.
pub const COSIGNATURE_V1: u8 = 0x04;

/// Why a cosignature cannot be made or is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CosignatureError {
    /// A verifier key that is not a `cosignature/v1` key.
    #[error("'{0}' is not a cosignature/v1 verifier key (<name>+<key id>+base64(0x04 ‖ key))")]
    BadVerifierKey(String),
    /// The note holds no valid cosignature of that witness.
    #[error("no valid cosignature of {0}")]
    Missing(String),
    /// Not a signed note.
    #[error("not a signed note: {0}")]
    Malformed(String),
}

/// The message a cosignature signs.
fn signed_message(body: &[u8], timestamp: u64) -> Vec<u8> {
    let mut message = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    message.extend_from_slice(body);
    message
}

/// A witness's signing key.
pub struct WitnessKey {
    name: String,
    signing: SigningKey,
    id: u32,
}

impl std::fmt::Debug for WitnessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitnessKey")
            .field("verifier_key", &self.verifier_key())
            .finish_non_exhaustive()
    }
}

impl WitnessKey {
    fn from_seed(name: &str, seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let public = [
            &[COSIGNATURE_V1],
            signing.verifying_key().as_bytes().as_slice(),
        ]
        .concat();
        Self {
            id: key_id(name, &public),
            name: name.to_string(),
            signing,
        }
    }

    /// A new random key named `name`, with its secret text.
    pub fn generate(name: &str) -> Result<(Self, String), KeyError> {
        if !is_key_name_valid(name) {
            return Err(KeyError::BadOrigin(name.to_string()));
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Randomness(e.to_string()))?;
        let key = Self::from_seed(name, seed);
        let secret = format!(
            "PRIVATE+KEY+{name}+{:08x}+{}",
            key.id,
            BASE64.encode([&[COSIGNATURE_V1], seed.as_slice()].concat())
        );
        Ok((key, secret))
    }

    /// Reads a secret text (`PRIVATE+KEY+<name>+<id>+base64(0x04 ‖ seed)`).
    pub fn from_secret(text: &str) -> Result<Self, KeyError> {
        let malformed = || KeyError::Malformed("(witness key)".into());
        let parts: Vec<&str> = text.trim().splitn(5, '+').collect();
        let [private, key, name, id, b64] = parts.as_slice() else {
            return Err(malformed());
        };
        let raw = BASE64.decode(b64).map_err(|_| malformed())?;
        if *private != "PRIVATE" || *key != "KEY" || raw.len() != 33 || raw[0] != COSIGNATURE_V1 {
            return Err(malformed());
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&raw[1..]);
        let witness = Self::from_seed(name, seed);
        if format!("{:08x}", witness.id) != *id {
            return Err(malformed());
        }
        Ok(witness)
    }

    /// Reads the key in `path`, or creates it (readable by this user only)
    /// named `name`.
    pub fn load_or_create(path: &Path, name: &str) -> Result<Self, KeyError> {
        let file_error = |e: std::io::Error| KeyError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        match fs::read_to_string(path) {
            Ok(text) => Self::from_secret(&text)
                .map_err(|_| KeyError::Malformed(path.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (key, secret) = Self::generate(name)?;
                write_private(path, &secret).map_err(file_error)?;
                Ok(key)
            }
            Err(e) => Err(file_error(e)),
        }
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key, `<name>+<key id>+base64(0x04 ‖ key)`.
    pub fn verifier_key(&self) -> String {
        let public = [
            &[COSIGNATURE_V1],
            self.signing.verifying_key().as_bytes().as_slice(),
        ]
        .concat();
        format!("{}+{:08x}+{}", self.name, self.id, BASE64.encode(public))
    }

    /// The cosignature line (`— <name> <base64>\n`) of the checkpoint whose
    /// note body (the checkpoint text, without signatures) is `body`, at
    /// `timestamp` (POSIX seconds).
    pub fn cosign(&self, body: &[u8], timestamp: u64) -> String {
        let signature = self.signing.sign(&signed_message(body, timestamp));
        let mut bytes = self.id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&timestamp.to_be_bytes());
        bytes.extend_from_slice(&signature.to_bytes());
        format!("— {} {}\n", self.name, BASE64.encode(bytes))
    }
}

/// Checks a witness's cosignatures.
#[derive(Debug, Clone)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Reads a `cosignature/v1` verifier key.
    pub fn new(vkey: &str) -> Result<Self, CosignatureError> {
        let bad = || CosignatureError::BadVerifierKey(vkey.to_string());
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let raw = BASE64.decode(b64).map_err(|_| bad())?;
        if !is_key_name_valid(name) || raw.len() != 33 || raw[0] != COSIGNATURE_V1 {
            return Err(bad());
        }
        let id_value = u32::from_str_radix(id, 16).map_err(|_| bad())?;
        if id.len() != 8 || id_value != key_id(name, &raw) {
            return Err(bad());
        }
        let bytes: [u8; 32] = raw[1..].try_into().map_err(|_| bad())?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?;
        Ok(Self {
            name: name.to_string(),
            id: id_value,
            key,
        })
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The timestamp of this witness's valid cosignature in `note` (a
    /// checkpoint with its signature lines).
    pub fn timestamp_in(&self, note: &[u8]) -> Result<u64, CosignatureError> {
        let parsed =
            Note::from_bytes(note).map_err(|e| CosignatureError::Malformed(e.to_string()))?;
        let known = VerifierList::new(vec![Box::new(self.clone())]);
        let missing = || CosignatureError::Missing(self.name.clone());
        let (verified, _) = parsed.verify(&known).map_err(|_| missing())?;
        let signature = verified.first().ok_or_else(missing)?.signature();
        let timestamp: [u8; 8] = signature
            .get(..8)
            .and_then(|t| t.try_into().ok())
            .ok_or_else(missing)?;
        Ok(u64::from_be_bytes(timestamp))
    }
}

impl signed_note::Verifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let (Some(timestamp), Some(signature)) = (sig.get(..8), sig.get(8..)) else {
            return false;
        };
        let Ok(timestamp) = <[u8; 8]>::try_from(timestamp) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        let timestamp = u64::from_be_bytes(timestamp);
        self.key
            .verify(&signed_message(msg, timestamp), &signature)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint;
    use crate::key::LogKey;
    use crate::tree::MemoryTree;

    fn cosigned() -> (String, String, LogKey, WitnessKey) {
        let (log, _) = LogKey::generate("example.org/log").unwrap();
        let mut tree = MemoryTree::new();
        tree.push(b"leaf").unwrap();
        let note = checkpoint::sign(&log, 1, tree.root().unwrap()).unwrap();
        let (witness, _) = WitnessKey::generate("witness.example.net/w1").unwrap();
        let body = note.split("\n\n").next().unwrap().to_string() + "\n";
        let line = witness.cosign(body.as_bytes(), 1_700_000_000);
        (note, line, log, witness)
    }

    #[test]
    fn cosignatures_verify_with_their_time_beside_the_log_signature() {
        let (note, line, log, witness) = cosigned();
        assert!(line.starts_with("— witness.example.net/w1 "), "{line}");
        let with = format!("{note}{line}");
        let verifier = CosignatureVerifier::new(&witness.verifier_key()).unwrap();
        assert_eq!(
            verifier.timestamp_in(with.as_bytes()).unwrap(),
            1_700_000_000
        );
        // The log's own signature still verifies; unknown lines are ignored.
        checkpoint::verify(with.as_bytes(), log.verifier_key()).unwrap();
        assert!(verifier.timestamp_in(note.as_bytes()).is_err());
    }

    #[test]
    fn a_cosignature_of_another_checkpoint_or_time_is_refused() {
        let (note, line, _, witness) = cosigned();
        let verifier = CosignatureVerifier::new(&witness.verifier_key()).unwrap();
        let other = note.replacen("\n1\n", "\n2\n", 1);
        assert!(
            verifier
                .timestamp_in(format!("{other}{line}").as_bytes())
                .is_err()
        );
        // A changed timestamp breaks the signature.
        let raw = BASE64
            .decode(line.trim().rsplit(' ').next().unwrap())
            .unwrap();
        let mut bent = raw.clone();
        bent[11] ^= 1;
        let bent_line = format!("— witness.example.net/w1 {}\n", BASE64.encode(bent));
        assert!(
            verifier
                .timestamp_in(format!("{note}{bent_line}").as_bytes())
                .is_err()
        );
    }

    #[test]
    fn witness_keys_round_trip_and_bad_ones_are_refused() {
        let (key, secret) = WitnessKey::generate("w.example/1").unwrap();
        let again = WitnessKey::from_secret(&secret).unwrap();
        assert_eq!(again.verifier_key(), key.verifier_key());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("witness.key");
        let first = WitnessKey::load_or_create(&path, "w.example/1").unwrap();
        assert_eq!(
            WitnessKey::load_or_create(&path, "w.example/1")
                .unwrap()
                .verifier_key(),
            first.verifier_key()
        );
        let (log, _) = LogKey::generate("w.example/1").unwrap();
        assert!(
            CosignatureVerifier::new(log.verifier_key()).is_err(),
            "a log key is not a witness key"
        );
        assert!(CosignatureVerifier::new("nonsense").is_err());
        assert!(WitnessKey::from_secret("PRIVATE+KEY+x+00000000+AAAA").is_err());
    }
}
