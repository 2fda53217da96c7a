//! The log's Ed25519 signing key, kept as a C2SP signed-note signer key
//! (`PRIVATE+KEY+<name>+<key id>+<base64>`, the form Go's `note` package and
//! the other C2SP tools read), and its verifier key (`<name>+<key id>+<key>`),
//! which verifiers and witnesses are configured with.
//!
//! The key's name is the log's origin: a checkpoint's signature must come from
//! a key named like the checkpoint's first line.

use signed_note::{Signer, StandardSigner, is_key_name_valid, key_id, new_ed25519_verifier_key};
use std::fs;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The algorithm byte of an Ed25519 key in signed notes.
const ALG_ED25519: u8 = 1;

/// Why the log key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file cannot be read or written.
    #[error("the log key file {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// The file does not hold a signer key.
    #[error(
        "the log key file {0} does not hold an Ed25519 signer key \
         (PRIVATE+KEY+<origin>+<key id>+<base64>)"
    )]
    Malformed(String),
    /// The key is named for another origin.
    #[error(
        "the log key in {path} is for the origin '{key}', not '{origin}': a log keeps its origin \
         and key for life; set `log_origin` to '{key}', or point `log_key_file` at a key for \
         '{origin}'"
    )]
    OtherOrigin {
        /// The file.
        path: String,
        /// The key's name.
        key: String,
        /// The configured origin.
        origin: String,
    },
    /// The origin cannot name a key.
    #[error("'{0}' cannot be a log origin: it must be non-empty, without spaces or '+'")]
    BadOrigin(String),
    /// No randomness for a new key.
    #[error("no randomness for a new log key: {0}")]
    Randomness(String),
}

/// Whether `origin` can name a log and its key (C2SP signed-note key names:
/// non-empty, no white space, no `+`).
pub fn is_origin_valid(origin: &str) -> bool {
    is_key_name_valid(origin)
}

/// The log's signing key.
#[derive(Clone)]
pub struct LogKey {
    signer: StandardSigner,
    verifier_key: String,
}

impl std::fmt::Debug for LogKey {
    /// Shows the public half only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKey")
            .field("verifier_key", &self.verifier_key)
            .finish_non_exhaustive()
    }
}

impl LogKey {
    /// A new random key named `origin`, with its signer-key text (the secret
    /// to keep).
    pub fn generate(origin: &str) -> Result<(Self, String), KeyError> {
        if !is_key_name_valid(origin) {
            return Err(KeyError::BadOrigin(origin.to_string()));
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Randomness(e.to_string()))?;
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public = [
            &[ALG_ED25519],
            signing.verifying_key().as_bytes().as_slice(),
        ]
        .concat();
        let secret = format!(
            "PRIVATE+KEY+{origin}+{:08x}+{}",
            key_id(origin, &public),
            BASE64.encode([&[ALG_ED25519], seed.as_slice()].concat())
        );
        let key =
            Self::from_secret(&secret).map_err(|_| KeyError::Malformed("(new key)".into()))?;
        Ok((key, secret))
    }

    /// Reads a signer-key text.
    pub fn from_secret(text: &str) -> Result<Self, KeyError> {
        let signer =
            StandardSigner::new(text.trim()).map_err(|_| KeyError::Malformed("(text)".into()))?;
        // PRIVATE, KEY, name, key id, then the base64 key (which may hold
        // '+' itself).
        let seed = text
            .trim()
            .splitn(5, '+')
            .nth(4)
            .and_then(|b64| BASE64.decode(b64).ok())
            .filter(|raw| raw.len() == 33)
            .ok_or_else(|| KeyError::Malformed("(text)".into()))?;
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&seed[1..]);
        let public = ed25519_dalek::SigningKey::from_bytes(&bytes).verifying_key();
        let verifier_key = new_ed25519_verifier_key(signer.name(), &public);
        Ok(Self {
            signer,
            verifier_key,
        })
    }

    /// Reads the key in `path`; creates it (readable by this user only),
    /// named `origin`, when the file does not exist. A key keeps its name
    /// for life: when `origin_is_set` (the operator chose the origin rather
    /// than letting it follow the public URL), a key with another name is
    /// refused.
    pub fn load_or_create(
        path: &Path,
        origin: &str,
        origin_is_set: bool,
    ) -> Result<Self, KeyError> {
        let file_error = |e: std::io::Error| KeyError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let key = match fs::read_to_string(path) {
            Ok(text) => Self::from_secret(&text)
                .map_err(|_| KeyError::Malformed(path.display().to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (key, secret) = Self::generate(origin)?;
                write_private(path, &secret).map_err(file_error)?;
                key
            }
            Err(e) => return Err(file_error(e)),
        };
        if origin_is_set && key.name() != origin {
            return Err(KeyError::OtherOrigin {
                path: path.display().to_string(),
                key: key.name().to_string(),
                origin: origin.to_string(),
            });
        }
        Ok(key)
    }

    /// The key's name: the log's origin.
    pub fn name(&self) -> &str {
        self.signer.name()
    }

    /// The key ID (the first four bytes of the key's hash).
    pub fn key_id(&self) -> u32 {
        self.signer.key_id()
    }

    /// The verifier key, `<origin>+<key id>+<base64 key>`.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The signer, for signing notes.
    pub(crate) fn signer(&self) -> &StandardSigner {
        &self.signer
    }
}

/// Writes `secret` to a new file at `path` readable and writable by its owner
/// only, atomically (a partial key file never exists under `path`).
pub(crate) fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("new");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    // Never replace a key another process wrote meanwhile.
    fs::hard_link(&temporary, path)?;
    fs::remove_file(&temporary)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use signed_note::{StandardVerifier, Verifier};

    #[test]
    fn generated_keys_read_back_and_verify() {
        let (key, secret) = LogKey::generate("marketplace.example.org/log").unwrap();
        assert!(secret.starts_with("PRIVATE+KEY+marketplace.example.org/log+"));
        let again = LogKey::from_secret(&secret).unwrap();
        assert_eq!(again.verifier_key(), key.verifier_key());
        let verifier = StandardVerifier::new(key.verifier_key()).unwrap();
        assert_eq!(verifier.key_id(), key.key_id());
        let signature = key.signer().sign(b"text\n").unwrap();
        assert!(verifier.verify(b"text\n", &signature));
        assert!(!verifier.verify(b"other\n", &signature));
        assert!(
            !format!("{key:?}").contains(&secret[30..]),
            "no secret in Debug"
        );
    }

    #[test]
    fn the_key_file_is_created_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log").join("log.key");
        let first = LogKey::load_or_create(&path, "example.org/log", false).unwrap();
        let second = LogKey::load_or_create(&path, "example.org/log", true).unwrap();
        assert_eq!(first.verifier_key(), second.verifier_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The origin the public URL gives moved: the key keeps its name.
        let moved = LogKey::load_or_create(&path, "elsewhere.org/log", false).unwrap();
        assert_eq!(moved.name(), "example.org/log");
        // An origin set to another name is refused.
        let other = LogKey::load_or_create(&path, "elsewhere.org/log", true).unwrap_err();
        assert!(other.to_string().contains("'example.org/log'"), "{other}");
    }

    #[test]
    fn bad_keys_and_origins_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.key");
        fs::write(&path, "not a key").unwrap();
        let e = LogKey::load_or_create(&path, "example.org/log", false).unwrap_err();
        assert!(matches!(e, KeyError::Malformed(_)), "{e}");
        assert!(e.to_string().contains("log.key"), "{e}");
        assert!(matches!(
            LogKey::generate("a b"),
            Err(KeyError::BadOrigin(_))
        ));
        assert!(matches!(
            LogKey::generate("a+b"),
            Err(KeyError::BadOrigin(_))
        ));
    }
}
