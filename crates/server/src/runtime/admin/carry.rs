//! Carrying the transparency log through `admin export` and `admin import`,
//! so that moving a marketplace (to PostgreSQL, to another machine) keeps
//! its log leaf for leaf: the checkpoints it signed stay valid, and the
//! clients that remember them see an extension, not a fork.
//!
//! The export writes, beside the documents, `transparency-log/checkpoint`
//! (the newest signed checkpoint) and `transparency-log/leaves.jsonl` (one
//! line per leaf, in order: its index, the leaf, and a restricted entry's
//! opening, which is no more secret than the exported document). The
//! import checks the whole exported log first (contiguous indices, each
//! leaf readable, the tree's root equal to the checkpoint's, the checkpoint
//! signed with this server's log key), then stores the entries in log
//! order, each with its own leaf ([`Store::put_logged`]), then records the
//! checkpoint. A refusal stops it at that leaf (what came before stays,
//! and a second run resumes there): storing the rest as new leaves would
//! make another log under the same key.

use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use marketplace_log::leaf::{Opening, open_record};
use marketplace_log::tree::MemoryTree;
use marketplace_store::{EntryKey, LogPosition, MAX_LOG_READ, Store};
use serde::{Deserialize, Serialize};

use crate::log::signer::TransparencyLog;

/// The directory of an export that holds its log.
pub const LOG_DIR: &str = "transparency-log";

/// The leaves, one JSON line each.
const LEAVES_FILE: &str = "leaves.jsonl";

/// The newest signed checkpoint.
const CHECKPOINT_FILE: &str = "checkpoint";

/// One line of [`LEAVES_FILE`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeafLine {
    index: u64,
    /// The public leaf, base64.
    leaf: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opening: Option<marketplace_api::log::Opening>,
}

impl LeafLine {
    fn of(position: &LogPosition) -> Self {
        LeafLine {
            index: position.index,
            leaf: BASE64.encode(&position.leaf),
            opening: position.opening.as_ref().map(crate::api::log::api_opening),
        }
    }

    fn position(self) -> Result<LogPosition, String> {
        let opening = match self.opening {
            Some(o) => {
                Some(Opening::from_base64(&o.nonce, &o.entry_leaf).map_err(|e| e.to_string())?)
            }
            None => None,
        };
        Ok(LogPosition {
            index: self.index,
            leaf: BASE64
                .decode(&self.leaf)
                .map_err(|e| format!("its leaf is not base64: {e}"))?,
            opening,
        })
    }
}

/// Writes the store's log under `dir/transparency-log`: the newest signed
/// checkpoint first, then every leaf (at least as many as it covers: the
/// documents, exported after, are a superset). Returns the leaves written.
pub(super) async fn export_log(store: &dyn Store, dir: &Path) -> Result<u64, String> {
    let log_dir = dir.join(LOG_DIR);
    std::fs::create_dir_all(&log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
    let checkpoint = store.latest_checkpoint().await.map_err(|e| e.to_string())?;
    let size = store.log_size().await.map_err(|e| e.to_string())?;
    let path = log_dir.join(LEAVES_FILE);
    let failed = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut out = BufWriter::new(std::fs::File::create(&path).map_err(failed)?);
    let mut start = 0;
    while start < size {
        let end = size.min(start + MAX_LOG_READ as u64);
        for position in store
            .log_positions(start..end)
            .await
            .map_err(|e| e.to_string())?
        {
            let line =
                serde_json::to_string(&LeafLine::of(&position)).map_err(|e| e.to_string())?;
            writeln!(out, "{line}").map_err(failed)?;
        }
        start = end;
    }
    out.into_inner()
        .map_err(|e| failed(e.into_error()))?
        .sync_all()
        .map_err(failed)?;
    let path = log_dir.join(CHECKPOINT_FILE);
    match checkpoint {
        Some(c) => std::fs::write(&path, c.note).map_err(|e| format!("{}: {e}", path.display()))?,
        None => match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        },
    }
    Ok(size)
}

/// An exported log, read and checked: the entry of each leaf, in order,
/// and the checkpoint to record once they are stored.
#[derive(Debug)]
pub(super) struct ExportedLog {
    /// The leaves file (read again, in order, as the entries are stored).
    leaves: PathBuf,
    /// The entry each leaf records, by index.
    pub(super) entries: Vec<EntryKey>,
    /// The signed checkpoint, checked against the leaves and the log key.
    checkpoint: Option<String>,
}

/// The leaves of `path`, in order, each checked to be the next index.
fn read_leaves(path: &Path) -> Result<impl Iterator<Item = Result<LogPosition, String>>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let shown = path.display().to_string();
    Ok(std::io::BufReader::new(file)
        .lines()
        .enumerate()
        .map(move |(n, line)| {
            let at = |why: String| format!("{shown} line {}: {why}", n + 1);
            let line = line.map_err(|e| at(e.to_string()))?;
            let parsed: LeafLine = serde_json::from_str(&line).map_err(|e| at(e.to_string()))?;
            if parsed.index != n as u64 {
                return Err(at(format!(
                    "leaf {} where leaf {n} was expected",
                    parsed.index
                )));
            }
            parsed.position().map_err(|e| at(format!("leaf {n}: {e}")))
        }))
}

/// The entry a leaf records (opening a restricted leaf).
fn recorded_entry(position: &LogPosition) -> Result<EntryKey, String> {
    let record = open_record(&position.leaf, position.opening.as_ref())
        .map_err(|e| format!("it records no entry: {e}"))?;
    EntryKey::parse(&record.identifier, &record.email, &record.created)
        .map_err(|e| format!("it names no entry: {e}"))
}

/// Reads and checks the log an export carries, if it has one: every leaf
/// readable and recording an entry, and the tree of the leaves having the
/// root of the checkpoint, which `log` must have signed (the carried log
/// continues under its key, nowhere else).
pub(super) fn read_exported(
    dir: &Path,
    log: &TransparencyLog,
) -> Result<Option<ExportedLog>, String> {
    let log_dir = dir.join(LOG_DIR);
    let leaves = log_dir.join(LEAVES_FILE);
    if !leaves.exists() {
        return Ok(None);
    }
    let path = log_dir.join(CHECKPOINT_FILE);
    let checkpoint = match std::fs::read_to_string(&path) {
        Ok(note) => Some(log.verify(&note).map_err(|e| {
            format!(
                "the exported checkpoint {} is not signed with this server's log key ({}): {e}. \
                 A log continues only under its own key: give this server the log key file of \
                 the exported one (the data directory's log key, or log_key_file), or remove {} \
                 to import the documents into a new log",
                path.display(),
                log.verifier_key(),
                log_dir.display()
            )
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut tree = MemoryTree::new();
    let mut entries = Vec::new();
    for position in read_leaves(&leaves)? {
        let position = position?;
        let key = recorded_entry(&position)
            .map_err(|e| format!("{} leaf {}: {e}", leaves.display(), position.index))?;
        tree.push(&position.leaf).map_err(|e| e.to_string())?;
        entries.push(key);
        if let Some(c) = &checkpoint
            && tree.size() == c.size
            && tree.root().map_err(|e| e.to_string())? != c.root
        {
            return Err(format!(
                "the exported leaves do not make the tree of the exported checkpoint (size {}): \
                 they were altered",
                c.size
            ));
        }
    }
    if let Some(c) = &checkpoint
        && tree.size() < c.size
    {
        return Err(format!(
            "the exported checkpoint covers {} leaves; {} holds {}",
            c.size,
            leaves.display(),
            tree.size()
        ));
    }
    Ok(Some(ExportedLog {
        leaves,
        entries,
        checkpoint: checkpoint.map(|c| c.note),
    }))
}

impl ExportedLog {
    /// The leaves from `start` on, in order.
    pub(super) fn leaves_from(
        &self,
        start: u64,
    ) -> Result<impl Iterator<Item = Result<LogPosition, String>>, String> {
        Ok(read_leaves(&self.leaves)?.skip(usize::try_from(start).unwrap_or(usize::MAX)))
    }

    /// Checks that the store's first `stored` leaves are the exported
    /// ones (a second import, or one into a store that already holds the
    /// beginning of this log).
    pub(super) async fn check_stored(&self, store: &dyn Store, stored: u64) -> Result<(), String> {
        let common = stored.min(self.entries.len() as u64);
        let mut exported = read_leaves(&self.leaves)?;
        let mut start = 0;
        while start < common {
            let end = common.min(start + MAX_LOG_READ as u64);
            let here = store
                .log_leaves(start..end)
                .await
                .map_err(|e| e.to_string())?;
            for (index, leaf) in (start..).zip(here) {
                let theirs = exported
                    .next()
                    .ok_or_else(|| format!("the exported log ends before leaf {index}"))??;
                if theirs.leaf != leaf {
                    return Err(format!(
                        "this store's log already holds {stored} leaves, and its leaf {index} is \
                         not the exported one: the export is of another log (import it into a \
                         store without a log, or remove its {LOG_DIR} directory)"
                    ));
                }
            }
            start = end;
        }
        Ok(())
    }

    /// Records the exported checkpoint, once the store holds what it covers.
    pub(super) async fn record_checkpoint(&self, log: &TransparencyLog) -> Result<(), String> {
        match &self.checkpoint {
            Some(note) => log.adopt(note).await.map(|_| ()).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    /// The file of each leaf, by index: the first of `located` naming the
    /// leaf's entry, if any.
    pub(super) fn files_of<'a>(&self, located: &'a [super::Located]) -> Vec<Option<&'a PathBuf>> {
        let indices: HashMap<&EntryKey, usize> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, k)| (k, i))
            .collect();
        let mut files = vec![None; self.entries.len()];
        for (path, coordinates) in located {
            let Some(key) = coordinates
                .as_ref()
                .and_then(|(i, e, c)| EntryKey::parse(i, e, c).ok())
            else {
                continue;
            };
            if let Some(&index) = indices.get(&key) {
                files[index].get_or_insert(path);
            }
        }
        files
    }
}

/// Import phase 0, for an export that carries its log: stores the entries
/// of the leaves this store's log lacks, in log order (verified as uploads
/// are, `workers` at a time; stored a batch per transaction, each with its
/// leaf), then records the exported checkpoint. Returns the files it
/// handled (every other one goes through the usual phases). A leaf whose
/// entry is missing under the directory or refused stops the import there.
pub(super) async fn import_carried(
    exported: &ExportedLog,
    located: &[super::Located],
    ingestor: &super::Ingestor,
    log: &TransparencyLog,
    workers: usize,
    keys_seen: &mut super::KeysSeen,
    report: &mut dyn FnMut(&Path, super::FileResult),
) -> Result<std::collections::HashSet<PathBuf>, String> {
    use super::Verified;
    use crate::upload::ingest::{IngestOutcome, Ingested};

    let store = ingestor.store.as_ref();
    let stored = store.log_size().await.map_err(|e| e.to_string())?;
    exported.check_stored(store, stored).await?;
    let files = exported.files_of(located);
    let mut handled = std::collections::HashSet::new();
    for (index, path) in (0..stored).zip(&files) {
        if let Some(path) = path {
            handled.insert((*path).clone());
            let key = exported.entries[index as usize].clone();
            report(
                path,
                Ok(Ingested {
                    outcome: IngestOutcome::AlreadyPresent(key),
                    notes: Vec::new(),
                }),
            );
        }
    }
    let mut leaves = exported.leaves_from(stored)?;
    let mut next = stored;
    let total = exported.entries.len() as u64;
    while next < total {
        let end = total.min(next + marketplace_store::PUT_MANY_BATCH as u64);
        // What precedes a missing or refused leaf is stored; the import
        // stops at that leaf.
        let mut stop = None;
        let mut paths = Vec::new();
        for index in next..end {
            match files[index as usize] {
                Some(path) => paths.push(path.clone()),
                None => {
                    stop = Some(format!(
                        "leaf {index} of the exported log records {}, whose document is not \
                         under the directory: the log is carried up to leaf {index} only",
                        exported.entries[index as usize]
                    ));
                    break;
                }
            }
        }
        let checker = ingestor.clone();
        let verdicts =
            super::map_in_order(paths, workers, move |p| super::verify_file(p, &checker))
                .await
                .map_err(|e| e.to_string())?;
        let mut batch = Vec::with_capacity(verdicts.len());
        let mut batch_files = Vec::with_capacity(verdicts.len());
        for (index, verdict) in (next..).zip(verdicts) {
            match verdict {
                Verified::Accept(path, entry, notes) => {
                    let position = leaves
                        .next()
                        .ok_or_else(|| format!("the exported log ends before leaf {index}"))??;
                    super::note_key(keys_seen, &entry);
                    batch_files.push((path, entry.key.clone(), notes));
                    batch.push((*entry, position));
                }
                Verified::Refused(path, why) => {
                    stop = Some(format!(
                        "leaf {index} of the exported log records {}, and {} is refused: {why}; \
                         the log is carried up to leaf {index} only",
                        exported.entries[index as usize],
                        path.display()
                    ));
                    break;
                }
            }
        }
        let stored_now = batch.len() as u64;
        if !batch.is_empty() {
            store.put_logged(batch).await.map_err(|e| e.to_string())?;
        }
        for (path, key, notes) in batch_files {
            report(
                &path,
                Ok(Ingested {
                    outcome: IngestOutcome::Created(key),
                    notes,
                }),
            );
            handled.insert(path);
        }
        if let Some(why) = stop {
            return Err(why);
        }
        next += stored_now;
    }
    exported.record_checkpoint(log).await?;
    Ok(handled)
}
