//! The policy's `[log]` section: the transparency logs a site trusts and the
//! witnesses whose cosignatures it requires, so that a decision rests on
//! what a log proves and independent witnesses saw, not on what one
//! marketplace says.
//!
//! ```toml
//! [log]
//! keys = ["marketplace.example.org/log+3ff8a1c2+AZ7g…"]  # trusted logs' verifier keys
//! witnesses = ["witness.site-a.example/w1+1c2d3e4f+BP5c…"]  # cosignature/v1 keys
//! quorum = 1   # cosignatures needed on the checkpoint that proves each entry
//! ```

use marketplace_log::checkpoint::{self, VerifiedCheckpoint};
use marketplace_log::cosignature::CosignatureVerifier;
use serde::{Deserialize, Serialize};

/// What the policy requires of the log that proves each entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogRequirement {
    /// The verifier keys of the trusted logs: the checkpoint proving an
    /// entry must be signed by one of them.
    pub keys: Vec<String>,
    /// The witnesses' cosignature/v1 verifier keys.
    #[serde(default)]
    pub witnesses: Vec<String>,
    /// How many of those witnesses must have cosigned that checkpoint
    /// (default: 0 without witnesses, else 1).
    pub quorum: Option<usize>,
}

impl LogRequirement {
    /// Checks the keys; the quorum is at most the witnesses listed.
    pub fn validate(&self) -> Result<(), String> {
        if self.keys.is_empty() {
            return Err(
                "[log] keys names no log: list the verifier keys of the logs trusted".into(),
            );
        }
        for key in &self.keys {
            checkpoint::check_verifier_key(key).map_err(|e| format!("[log] keys: {e}"))?;
        }
        for key in &self.witnesses {
            CosignatureVerifier::new(key).map_err(|e| format!("[log] witnesses: {e}"))?;
        }
        if self.quorum() > self.witnesses.len() {
            return Err(format!(
                "[log] quorum {} is more than the {} witnesses listed",
                self.quorum(),
                self.witnesses.len()
            ));
        }
        Ok(())
    }

    /// The cosignatures required.
    pub fn quorum(&self) -> usize {
        self.quorum
            .unwrap_or(usize::from(!self.witnesses.is_empty()))
    }

    /// The trusted key of the log `origin`, if any.
    pub fn key_of(&self, origin: &str) -> Option<&str> {
        self.keys
            .iter()
            .map(String::as_str)
            .find(|k| k.split('+').next() == Some(origin))
    }

    /// Checks a checkpoint with its signature lines: signed by a trusted log
    /// and cosigned by at least the quorum of listed witnesses; returns it
    /// with the witnesses that cosigned it and when.
    pub fn check(&self, note: &str) -> Result<(VerifiedCheckpoint, Vec<(String, u64)>), String> {
        let origin = note.split('\n').next().unwrap_or_default();
        let key = self
            .key_of(origin)
            .ok_or_else(|| format!("the log {origin} is not one the policy trusts ([log] keys)"))?;
        let verified = checkpoint::verify(note.as_bytes(), key).map_err(|e| e.to_string())?;
        let mut cosigned = Vec::new();
        for key in &self.witnesses {
            if let Ok(verifier) = CosignatureVerifier::new(key)
                && let Ok(time) = verifier.timestamp_in(note.as_bytes())
            {
                cosigned.push((verifier.name().to_string(), time));
            }
        }
        if cosigned.len() < self.quorum() {
            return Err(format!(
                "the checkpoint of {} entries of {origin} has {} of the {} witness cosignatures \
                 the policy requires",
                verified.size,
                cosigned.len(),
                self.quorum()
            ));
        }
        Ok((verified, cosigned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marketplace_log::cosignature::WitnessKey;
    use marketplace_log::key::LogKey;
    use marketplace_log::tree::record_hash;

    #[test]
    fn checkpoints_need_a_trusted_log_and_the_quorum() {
        let (log, _) = LogKey::generate("mp.example/log").unwrap();
        let (w1, _) = WitnessKey::generate("w1.example").unwrap();
        let (w2, _) = WitnessKey::generate("w2.example").unwrap();
        let note = checkpoint::sign(&log, 3, record_hash(b"x")).unwrap();
        let body = note.split("\n\n").next().unwrap().to_string() + "\n";
        let cosigned = format!("{note}{}", w1.cosign(body.as_bytes(), 1_800_000_000));
        let requirement = |quorum: Option<usize>| LogRequirement {
            keys: vec![log.verifier_key().to_string()],
            witnesses: vec![w1.verifier_key(), w2.verifier_key()],
            quorum,
        };
        let (checkpoint, witnesses) = requirement(None).check(&cosigned).unwrap();
        assert_eq!(checkpoint.size, 3);
        assert_eq!(witnesses, [("w1.example".to_string(), 1_800_000_000)]);
        assert!(
            requirement(None)
                .check(&note)
                .unwrap_err()
                .contains("0 of the 1")
        );
        assert!(
            requirement(Some(2))
                .check(&cosigned)
                .unwrap_err()
                .contains("1 of the 2")
        );
        assert!(
            requirement(Some(3))
                .validate()
                .unwrap_err()
                .contains("quorum 3")
        );
        let (other, _) = LogKey::generate("other.example/log").unwrap();
        let foreign = checkpoint::sign(&other, 3, record_hash(b"x")).unwrap();
        assert!(
            requirement(None)
                .check(&foreign)
                .unwrap_err()
                .contains("not one the policy trusts")
        );
    }
}
