//! What the client checks against a marketplace's transparency log before it
//! relies on an entry: that the entry is in the log (its receipt: the leaf,
//! the inclusion proof, a checkpoint signed by the log's key), that the leaf
//! names exactly the signed document received, and that the log never went
//! back or forked since this client last saw it.
//!
//! The client remembers, per log origin, the log's verifier key (trusted on
//! first use, or the one given with `--log-key`) and the largest checkpoint
//! it verified, in `$XDG_STATE_HOME/marketplace/logs/` (or
//! `~/.local/state/marketplace/logs/`). A checkpoint smaller than that one is
//! a rollback; one whose tree does not extend it is a fork: both are errors
//! that name the two checkpoints.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use marketplace_log::checkpoint::{self, VerifiedCheckpoint};
use marketplace_log::leaf::{Opening, open_record};
use marketplace_log::receipt::Receipt;
use marketplace_log::tree::{self, Hash};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::client::Marketplace;
use crate::failure::Failure;

/// What a client keeps of a log between runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Remembered {
    /// The log's verifier key.
    verifier_key: String,
    /// The largest checkpoint verified, verbatim.
    checkpoint: String,
}

/// JSON files the client keeps between runs in one folder of its state
/// directory (`$XDG_STATE_HOME/marketplace/<folder>`, or
/// `~/.local/state/marketplace/<folder>`; nothing is kept when neither is
/// set), one per key, named by a hash of the key.
#[derive(Debug, Clone)]
pub(crate) struct StateFiles {
    dir: Option<PathBuf>,
    /// What a file holds, for messages.
    what: &'static str,
}

impl StateFiles {
    /// The files of `folder`, each holding `what`.
    pub(crate) fn new(folder: &str, what: &'static str) -> Self {
        let xdg = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute());
        let base = xdg.or_else(|| crate::config_file::home().map(|h| h.join(".local/state")));
        Self {
            dir: base.map(|b| b.join("marketplace").join(folder)),
            what,
        }
    }

    /// The file of `key`.
    fn file(&self, key: &str) -> Option<PathBuf> {
        let name: String = Sha256::digest(key.as_bytes())
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.as_ref().map(|d| d.join(format!("{name}.json")))
    }

    /// What is kept for `key`, if anything.
    pub(crate) fn read<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, Failure> {
        let Some(path) = self.file(key) else {
            return Ok(None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                Failure::usage(format!("{} is not {}: {e}", path.display(), self.what))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Failure::usage(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    /// Keeps `value` for `key`, replacing the file at once (written beside
    /// it, then renamed).
    pub(crate) fn write<T: Serialize>(&self, key: &str, value: &T) -> Result<(), Failure> {
        let Some(path) = self.file(key) else {
            return Ok(());
        };
        let failed =
            |e: std::io::Error| Failure::usage(format!("cannot write {}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let text =
            serde_json::to_string_pretty(value).map_err(|e| Failure::usage(e.to_string()))?;
        let temporary = path.with_extension("new");
        std::fs::write(&temporary, text).map_err(failed)?;
        std::fs::rename(&temporary, &path).map_err(failed)
    }
}

/// Where the client keeps what it saw of each log, by origin.
#[derive(Debug, Clone)]
pub(crate) struct LogMemory {
    files: StateFiles,
}

impl LogMemory {
    /// `$XDG_STATE_HOME/marketplace/logs`, or `~/.local/state/marketplace/logs`.
    pub(crate) fn default_location() -> Self {
        Self {
            files: StateFiles::new("logs", "a remembered log checkpoint"),
        }
    }

    fn read(&self, origin: &str) -> Result<Option<Remembered>, Failure> {
        self.files.read(origin)
    }

    fn write(&self, origin: &str, remembered: &Remembered) -> Result<(), Failure> {
        self.files.write(origin, remembered)
    }
}

/// An entry the log proved to hold.
#[derive(Debug, Clone)]
pub(crate) struct LoggedEntry {
    /// Its leaf index.
    pub index: u64,
    /// The checkpoint that covers it.
    pub checkpoint: VerifiedCheckpoint,
}

/// Checks that the log of `marketplace` holds the entry at (`identifier`,
/// `email`, `created`) whose signed document is `document`, and that the
/// log is consistent with what this client saw before. `trusted_key` pins
/// the log's verifier key (else the first one seen is trusted).
pub(crate) fn check_entry(
    marketplace: &Marketplace,
    memory: &LogMemory,
    trusted_key: Option<&str>,
    coordinates: (&str, &str, &str),
    document: &[u8],
) -> Result<LoggedEntry, Failure> {
    check_receipt(
        marketplace,
        memory,
        trusted_key,
        coordinates,
        document,
        false,
    )
}

/// [`check_entry`] against the first checkpoint covering the entry that a
/// witness cosigned (whose cosignatures date the entry's integration), or
/// `None` when none is cosigned yet.
pub(crate) fn check_first_cosigned(
    marketplace: &Marketplace,
    memory: &LogMemory,
    trusted_key: Option<&str>,
    coordinates: (&str, &str, &str),
    document: &[u8],
) -> Result<Option<LoggedEntry>, Failure> {
    match check_receipt(
        marketplace,
        memory,
        trusted_key,
        coordinates,
        document,
        true,
    ) {
        Ok(logged) => Ok(Some(logged)),
        Err(f) if f.code == crate::failure::Code::NotFound => Ok(None),
        Err(f) => Err(f),
    }
}

/// Checks the entry's receipt against the newest checkpoint, or the first
/// cosigned one, and the log's consistency with what this client saw.
fn check_receipt(
    marketplace: &Marketplace,
    memory: &LogMemory,
    trusted_key: Option<&str>,
    coordinates: (&str, &str, &str),
    document: &[u8],
    first_cosigned: bool,
) -> Result<LoggedEntry, Failure> {
    let (identifier, email, created) = coordinates;
    let (_, remembered, key) = the_log(marketplace, memory, trusted_key)?;
    let text = marketplace.receipt(identifier, email, created, first_cosigned)?;
    let who = format!("{identifier}/{email}/{created}");
    let receipt = Receipt::parse(&text)
        .map_err(|e| Failure::refused(format!("the log receipt of {who}: {e}")))?;
    let leaf = receipt_leaf(&receipt, &who)?;
    let checkpoint = receipt
        .verify(&leaf.public, &key)
        .map_err(|e| Failure::refused(format!("the log does not prove {who}: {e}")))?;
    check_record(&leaf, coordinates, document, &who)?;
    extend_memory(marketplace, memory, &key, remembered, &checkpoint)?;
    Ok(LoggedEntry {
        index: receipt.index,
        checkpoint,
    })
}

/// The marketplace's log: what it says of itself, what this client
/// remembers of it, and the verifier key to check it with.
fn the_log(
    marketplace: &Marketplace,
    memory: &LogMemory,
    trusted_key: Option<&str>,
) -> Result<(marketplace_api::log::LogInfo, Option<Remembered>, String), Failure> {
    let info = marketplace.log_info()?;
    let remembered = memory.read(&info.origin)?;
    let key = verifier_key(
        &info.origin,
        &info.verifier_key,
        trusted_key,
        remembered.as_ref(),
    )?;
    Ok((info, remembered, key))
}

/// Checks the log's newest checkpoint (signed with its key, consistent
/// with what this client saw) and remembers it; returns it.
pub(crate) fn check_newest(
    marketplace: &Marketplace,
    memory: &LogMemory,
    trusted_key: Option<&str>,
) -> Result<VerifiedCheckpoint, Failure> {
    let (info, remembered, key) = the_log(marketplace, memory, trusted_key)?;
    let note = info.checkpoint.ok_or_else(|| {
        Failure::not_found(format!("the log {} has no checkpoint yet", info.origin))
    })?;
    let checkpoint = checkpoint::verify(note.as_bytes(), &key)
        .map_err(|e| Failure::refused(format!("the newest checkpoint of {}: {e}", info.origin)))?;
    extend_memory(marketplace, memory, &key, remembered, &checkpoint)?;
    Ok(checkpoint)
}

/// The verifier key to check with: the pinned one, else the remembered one
/// (which the server must still present), else the server's (first use).
fn verifier_key(
    origin: &str,
    served: &str,
    trusted: Option<&str>,
    remembered: Option<&Remembered>,
) -> Result<String, Failure> {
    let expected = trusted.or(remembered.map(|r| r.verifier_key.as_str()));
    match expected {
        Some(key) if key != served => Err(Failure::refused(format!(
            "the marketplace's log {origin} is now signed with {served}, not with {key} as \
             before: a new key for an old log is what an attacker would present"
        ))),
        Some(key) => Ok(key.to_string()),
        None => Ok(served.to_string()),
    }
}

/// The leaf of a receipt (its `extra` line) and any opening.
struct ReceiptLeaf {
    public: Vec<u8>,
    opening: Option<Opening>,
}

fn receipt_leaf(receipt: &Receipt, who: &str) -> Result<ReceiptLeaf, Failure> {
    #[derive(Deserialize)]
    struct Extra {
        leaf: String,
        opening: Option<marketplace_api::log::Opening>,
    }
    let bad = |what: &str| Failure::refused(format!("the log receipt of {who}: {what}"));
    let extra: Extra = receipt
        .extra
        .as_deref()
        .and_then(|e| serde_json::from_slice(e).ok())
        .ok_or_else(|| bad("its extra line does not hold the leaf"))?;
    let decode = |s: &str| BASE64.decode(s).map_err(|_| bad("a leaf is not base64"));
    let opening = match extra.opening {
        Some(o) => {
            Some(Opening::from_base64(&o.nonce, &o.entry_leaf).map_err(|e| bad(&e.to_string()))?)
        }
        None => None,
    };
    Ok(ReceiptLeaf {
        public: decode(&extra.leaf)?,
        opening,
    })
}

/// Checks that the leaf records exactly this entry and document.
fn check_record(
    leaf: &ReceiptLeaf,
    (identifier, email, created): (&str, &str, &str),
    document: &[u8],
    who: &str,
) -> Result<(), Failure> {
    let refused = |what: String| Failure::refused(format!("the log's leaf of {who} {what}"));
    let record = open_record(&leaf.public, leaf.opening.as_ref())
        .map_err(|e| refused(format!("does not record an entry: {e}")))?;
    let sha256: String = Sha256::digest(document)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    record
        .check_records((identifier, email, created), &sha256)
        .map_err(|e| refused(e.to_string()))?;
    Ok(())
}

/// Checks `checkpoint` against the remembered one (no rollback, no fork)
/// and remembers the larger.
fn extend_memory(
    marketplace: &Marketplace,
    memory: &LogMemory,
    key: &str,
    remembered: Option<Remembered>,
    checkpoint: &VerifiedCheckpoint,
) -> Result<(), Failure> {
    let origin = &checkpoint.origin;
    let Some(old) = remembered else {
        return memory.write(origin, &remember(key, checkpoint));
    };
    let seen = checkpoint::verify(old.checkpoint.as_bytes(), key).map_err(|e| {
        Failure::usage(format!(
            "the remembered checkpoint of {origin} does not verify: {e}"
        ))
    })?;
    let evidence = || format!("\nseen before:\n{}\nnow:\n{}", seen.note, checkpoint.note);
    if checkpoint.size < seen.size {
        // The receipt's checkpoint may lag; the log itself must not.
        let newest = marketplace.log_info()?;
        if newest.size < seen.size {
            return Err(Failure::refused(format!(
                "the log {origin} went back from {} to {} entries: a rollback{}",
                seen.size,
                newest.size,
                evidence()
            )));
        }
        return check_consistency(marketplace, origin, checkpoint, &seen, &evidence);
    }
    check_consistency(marketplace, origin, &seen, checkpoint, &evidence)?;
    if checkpoint.size > seen.size {
        memory.write(origin, &remember(key, checkpoint))?;
    }
    Ok(())
}

/// Checks that `new` extends `old` with the log's consistency proof.
fn check_consistency(
    marketplace: &Marketplace,
    origin: &str,
    old: &VerifiedCheckpoint,
    new: &VerifiedCheckpoint,
    evidence: &dyn Fn() -> String,
) -> Result<(), Failure> {
    let fork = |why: String| {
        Failure::refused(format!(
            "the log {origin} forked: its tree of {} entries does not extend the one of {} \
             ({why}){}",
            new.size,
            old.size,
            evidence()
        ))
    };
    if old.size == new.size {
        return if old.root == new.root {
            Ok(())
        } else {
            Err(fork("two roots for one size".into()))
        };
    }
    let proof = marketplace.consistency(old.size, new.size)?;
    let hashes = proof
        .hashes
        .iter()
        .map(|h| {
            BASE64
                .decode(h)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .map(Hash)
        })
        .collect::<Option<Vec<Hash>>>()
        .ok_or_else(|| fork("the proof is not base64 hashes".into()))?;
    tree::check_consistency(&hashes, old.size, old.root, new.size, new.root)
        .map_err(|e| fork(e.to_string()))
}

fn remember(key: &str, checkpoint: &VerifiedCheckpoint) -> Remembered {
    Remembered {
        verifier_key: key.to_string(),
        checkpoint: checkpoint.note.clone(),
    }
}

/// The options of the commands that check entries against the log.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Transparency log")]
pub(crate) struct LogOptions {
    /// The marketplace log's verifier key (`<origin>+<key id>+<key>`, as `marketplace admin
    /// log-key` prints it) [default: $MARKETPLACE_LOG_KEY, else the key seen the first time,
    /// remembered]
    #[arg(long, value_name = "KEY", env = "MARKETPLACE_LOG_KEY")]
    pub log_key: Option<String>,
}

impl LogOptions {
    /// Checks one entry (see [`check_entry`]) with these options and the
    /// default memory.
    pub(crate) fn check(
        &self,
        marketplace: &Marketplace,
        coordinates: (&str, &str, &str),
        document: &[u8],
    ) -> Result<LoggedEntry, Failure> {
        check_entry(
            marketplace,
            &LogMemory::default_location(),
            self.log_key.as_deref(),
            coordinates,
            document,
        )
    }
}
