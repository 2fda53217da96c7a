//! Administrative tasks: rebuilding the index from the stored documents,
//! importing a directory of signed documents through the upload pipeline,
//! exporting every readable stored document ([`export`]), checking the
//! store ([`check`](mod@check)) and recomputing the transparency log
//! ([`log`](mod@log)).

mod carry;
mod check;
mod export;
mod log;

pub use carry::LOG_DIR;
pub use check::{CheckReport, Unreadable, check, readable_entries};
pub use export::{ExportSummary, export_dir, export_path};
pub use log::{LogReport, verify_log};

use crate::log::signer::TransparencyLog;
use crate::runtime::state::TrustSettings;
use crate::upload::ingest::{self, Checked, IngestOutcome, Ingested, Ingestor, Verdict};
use marketplace_store::{EntryKey, NewEntry, PutOutcome, Store, StoreError};
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `marketplace admin backup FILE`: a consistent copy of the embedded
/// store taken while it is in use ([`marketplace_store::SqliteStore::backup`]);
/// the copy's size. A PostgreSQL store is backed up with PostgreSQL's own
/// tools.
pub async fn backup(
    config: &crate::runtime::config::ServerConfig,
    dest: &Path,
) -> Result<u64, String> {
    if config.database_url.is_some() {
        return Err(
            "the store is PostgreSQL: back it up with PostgreSQL's tools \
             (pg_dump --format=custom, or pg_basebackup for the whole server; see the README)"
                .into(),
        );
    }
    let path = config.sqlite_path();
    if !path.exists() {
        return Err(format!("no store at {}", path.display()));
    }
    let store = marketplace_store::SqliteStore::open(&path)
        .await
        .map_err(|e| format!("cannot open the store {}: {e}", path.display()))?;
    store.backup(dest).await.map_err(|e| e.to_string())
}

/// Re-derives every indexed field from the stored documents; signers are
/// re-derived by verifying each document again (see [`ingest::reindex`]).
pub async fn rebuild_index(store: &dyn Store, trust: &TrustSettings) -> Result<u64, StoreError> {
    let trust = trust.clone();
    store
        .rebuild_index(&move |bytes: &[u8]| ingest::reindex(bytes, &trust))
        .await
}

/// Every `*.xml` file under `dir`, recursively, sorted (symbolic links to
/// directories are not followed).
pub fn find_documents(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
                && (kind.is_file() || kind.is_symlink())
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// What happened to one imported file.
pub type FileResult = Result<Ingested, String>;

/// Counts of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Files found.
    pub files: u64,
    /// New entries stored.
    pub created: u64,
    /// Documents already stored.
    pub present: u64,
    /// Files refused (unreadable, invalid, older, conflicting, …).
    pub refused: u64,
    /// Every endorser e-mail (lower case) the import saw signed with more
    /// than one key, with those keys, sorted. Each e-mail is now bound to
    /// the signer of its newest entry ([`Store::put_many`]).
    pub several_keys: Vec<SeveralKeys>,
}

/// An endorser e-mail signed with more than one key in an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeveralKeys {
    /// The e-mail, in lower case.
    pub email: String,
    /// Each key once: (subject, issuer, public-key SHA-256), sorted.
    pub keys: Vec<(String, String, String)>,
}

/// The keys seen signing each e-mail in an import: e-mail (lower case) →
/// public-key SHA-256 → (subject, issuer).
type KeysSeen = BTreeMap<String, BTreeMap<String, (String, String)>>;

/// Notes the key that signed `entry`.
fn note_key(seen: &mut KeysSeen, entry: &NewEntry) {
    seen.entry(entry.key.email.to_ascii_lowercase())
        .or_default()
        .entry(entry.signer.key_sha256.clone())
        .or_insert_with(|| (entry.signer.subject.clone(), entry.signer.issuer.clone()));
}

/// The e-mails of `seen` (e-mail → each key's subject, issuer, SHA-256)
/// with more than one key.
fn several_keys(seen: KeysSeen) -> Vec<SeveralKeys> {
    seen.into_iter()
        .filter(|(_, keys)| keys.len() > 1)
        .map(|(email, keys)| SeveralKeys {
            email,
            keys: keys
                .into_iter()
                .map(|(sha, (subject, issuer))| (subject, issuer, sha))
                .collect(),
        })
        .collect()
}

/// The coordinates a file claims, if it can be read at all.
fn coordinates(path: &Path) -> Option<(String, String, String)> {
    let bytes = std::fs::read(path).ok()?;
    let m = marketplace_format::parse(&bytes).metadata;
    let e = m.endorsement?;
    Some((m.identifier, e.endorser.email, e.created))
}

/// What the writer of [`import_dir`] receives for one file, in the order
/// the verifiers produced them (per (identifier, endorser): oldest first).
enum Verified {
    /// Verified and accepted by the policy: to store (with the notes on it).
    Accept(PathBuf, Box<NewEntry>, Vec<String>),
    /// Refused (unreadable, invalid, needs confirmation, …).
    Refused(PathBuf, String),
}

/// How long the writer of [`import_dir`] waits to fill a batch.
const BATCH_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// The message of a refused import that would need e-mail confirmation.
const NEEDS_CONFIRMATION: &str = "invalid metadata: the endorser e-mail is not certified by the \
     certificate and import cannot confirm it by e-mail";

/// Reads and verifies one file exactly as an upload is verified
/// ([`ingest::verify`] at the ingestor's clock, with its trust settings
/// and policy).
fn verify_file(path: PathBuf, ingestor: &Ingestor) -> Verified {
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => return Verified::Refused(path, format!("cannot read: {e}")),
    };
    let at = ingestor.clock.now();
    match ingest::verify(bytes, &ingestor.trust, at, &ingestor.policy) {
        Ok(Checked {
            verdict: Verdict::Accept(entry),
            notes,
        }) => Verified::Accept(path, Box::new(entry), notes),
        Ok(Checked {
            verdict: Verdict::NeedsConfirmation(_),
            ..
        }) => Verified::Refused(path, NEEDS_CONFIRMATION.into()),
        Err(e) => Verified::Refused(path, e.to_string()),
    }
}

/// What a store outcome means for an imported file ([`ingest::stored`],
/// as for an upload), with the notes on its document.
fn file_result(
    key: EntryKey,
    outcome: Result<PutOutcome, StoreError>,
    notes: Vec<String>,
) -> FileResult {
    ingest::stored(key, outcome)
        .map(|outcome| Ingested { outcome, notes })
        .map_err(|e| e.to_string())
}

/// A file's path and its coordinates (identifier, e-mail, created), if its
/// document names them.
type Located = (PathBuf, Option<(String, String, String)>);

/// Import phase 1: the coordinates of every file, read by `workers`
/// threads.
async fn read_coordinates(files: &[PathBuf], workers: usize) -> std::io::Result<Vec<Located>> {
    map_in_order(files.to_vec(), workers, |p| {
        let c = coordinates(&p);
        (p, c)
    })
    .await
}

/// `f` over `items` on `workers` blocking threads (a contiguous share
/// each); the results in the order of `items`.
async fn map_in_order<T, U>(
    items: Vec<T>,
    workers: usize,
    f: impl Fn(T) -> U + Clone + Send + 'static,
) -> std::io::Result<Vec<U>>
where
    T: Send + 'static,
    U: Send + 'static,
{
    let total = items.len();
    let chunk = total.div_ceil(workers.max(1)).max(1);
    let mut tasks = Vec::new();
    let mut items = items.into_iter();
    loop {
        let part: Vec<T> = items.by_ref().take(chunk).collect();
        if part.is_empty() {
            break;
        }
        let f = f.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            part.into_iter().map(f).collect::<Vec<_>>()
        }));
    }
    let mut out = Vec::with_capacity(total);
    for task in tasks {
        out.extend(task.await.map_err(std::io::Error::other)?);
    }
    Ok(out)
}

/// Import phase 2: the files grouped by (identifier, e-mail), oldest first
/// within a group (files without coordinates alone).
fn group_by_pair(mut located: Vec<Located>) -> VecDeque<Vec<PathBuf>> {
    located.sort_by(|(pa, a), (pb, b)| a.cmp(b).then_with(|| pa.cmp(pb)));
    let mut groups: VecDeque<Vec<PathBuf>> = VecDeque::new();
    let mut last: Option<(String, String)> = None;
    for (path, coords) in located {
        let pair = coords.map(|(i, e, _)| (i, e));
        match (&pair, &last, groups.back_mut()) {
            (Some(p), Some(l), Some(g)) if p == l => g.push(path),
            _ => groups.push_back(vec![path]),
        }
        last = pair;
    }
    groups
}

/// Import phase 3: `workers` verifier threads take whole groups and send
/// their files' verdicts, in order, to the returned channel (of `capacity`).
fn spawn_verifiers(
    groups: VecDeque<Vec<PathBuf>>,
    workers: usize,
    ingestor: &Ingestor,
    capacity: usize,
) -> (
    tokio::sync::mpsc::Receiver<Verified>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let queue = Arc::new(Mutex::new(groups));
    let (tx, rx) = tokio::sync::mpsc::channel::<Verified>(capacity);
    let mut verifiers = Vec::with_capacity(workers);
    for _ in 0..workers {
        let queue = queue.clone();
        let tx = tx.clone();
        let ingestor = ingestor.clone();
        verifiers.push(tokio::task::spawn_blocking(move || {
            loop {
                let group = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some(group) = group else { break };
                for path in group {
                    if tx.blocking_send(verify_file(path, &ingestor)).is_err() {
                        return;
                    }
                }
            }
        }));
    }
    (rx, verifiers)
}

/// Gathers the next batch of accepted files into `accepted`: waits for one
/// verdict, then takes more until the batch is full, the verifiers are done
/// or [`BATCH_WAIT`] has passed (a commit costs a disk flush: few large
/// batches, not many small ones). Refused files go to `refused` at once.
/// Returns whether more verdicts may come.
async fn next_batch(
    rx: &mut tokio::sync::mpsc::Receiver<Verified>,
    batch: usize,
    accepted: &mut Vec<(PathBuf, NewEntry, Vec<String>)>,
    mut refused: impl FnMut(PathBuf, String),
) -> bool {
    let mut deadline = None;
    while accepted.len() < batch {
        let next = match deadline {
            None => rx.recv().await,
            Some(at) => match tokio::time::timeout_at(at, rx.recv()).await {
                Ok(next) => next,
                Err(_) => break,
            },
        };
        let Some(v) = next else {
            return false;
        };
        deadline.get_or_insert_with(|| tokio::time::Instant::now() + BATCH_WAIT);
        match v {
            Verified::Accept(path, entry, notes) => accepted.push((path, *entry, notes)),
            Verified::Refused(path, message) => refused(path, message),
        }
    }
    true
}

/// Imports every `*.xml` under `dir` through the upload pipeline, with
/// `workers` threads verifying documents in parallel; `report` sees each
/// file's outcome.
///
/// Each document is verified exactly as an upload ([`ingest::verify`]:
/// size, strict parse, every format rule, signature, chain and CRLs when a
/// CA directory is configured, the e-mail policy). Accepted entries are
/// stored in batches ([`Store::put_many`]: up to
/// [`marketplace_store::PUT_MANY_BATCH`] per transaction, with the outcome
/// each would have had on its own); a file is reported once its batch is
/// committed.
///
/// Entries of one (identifier, endorser) are verified and stored oldest
/// first, one after the other (a newer entry stored first would make the
/// older ones "older than latest"), so the history survives whatever the
/// layout; different pairs go in parallel.
///
/// An export that carries its transparency log (a [`LOG_DIR`] directory,
/// written by [`export_dir`]) is imported in log order first, each entry
/// with its own leaf, and the exported checkpoint is recorded: `log` (this
/// server's, which must hold the exported log's key) continues that log
/// (see [`carry`](mod@carry)). The other files follow as usual.
pub async fn import_dir(
    dir: &Path,
    ingestor: Ingestor,
    log: &TransparencyLog,
    workers: usize,
    mut report: impl FnMut(&Path, &FileResult),
) -> std::io::Result<ImportSummary> {
    let started = std::time::Instant::now();
    // The operator's own act: entries accepted elsewhere keep their keys,
    // whatever their size today (the original corpus has 1024-bit ones).
    let mut ingestor = ingestor;
    ingestor.policy.min_key_bits = crate::runtime::config::MinKeyBits { rsa: 0, ec: 0 };
    let mut keys_seen = KeysSeen::new();
    let files = find_documents(dir)?;
    let workers = workers.max(1);
    let mut summary = ImportSummary {
        files: files.len() as u64,
        ..ImportSummary::default()
    };

    // The exported log is checked whole before anything is stored.
    let exported = carry::read_exported(dir, log).map_err(std::io::Error::other)?;
    let mut located = read_coordinates(&files, workers).await?;
    tracing::info!(
        files = files.len(),
        seconds = started.elapsed().as_secs_f64(),
        "import: coordinates read"
    );
    let mut count = |summary: &mut ImportSummary, path: &Path, result: FileResult| {
        match result.as_ref().map(|i| &i.outcome) {
            Ok(IngestOutcome::Created(_)) => summary.created += 1,
            Ok(IngestOutcome::AlreadyPresent(_)) => summary.present += 1,
            _ => summary.refused += 1,
        }
        report(path, &result);
    };
    if let Some(exported) = &exported {
        let handled = carry::import_carried(
            exported,
            &located,
            &ingestor,
            log,
            workers,
            &mut keys_seen,
            &mut |path: &Path, result: FileResult| count(&mut summary, path, result),
        )
        .await
        .map_err(std::io::Error::other)?;
        located.retain(|(path, _)| !handled.contains(path));
        tracing::info!(
            leaves = exported.entries.len(),
            seconds = started.elapsed().as_secs_f64(),
            "import: the exported log carried"
        );
    }
    let groups = group_by_pair(located);
    let batch = marketplace_store::PUT_MANY_BATCH;
    let (mut rx, verifiers) = spawn_verifiers(groups, workers, &ingestor, 2 * batch);
    let mut open = true;
    while open {
        let mut accepted = Vec::new();
        open = next_batch(&mut rx, batch, &mut accepted, |path, message| {
            count(&mut summary, &path, Err(message));
        })
        .await;
        if accepted.is_empty() {
            continue;
        }
        let mut entries = Vec::with_capacity(accepted.len());
        let mut files = Vec::with_capacity(accepted.len());
        for (path, entry, notes) in accepted {
            note_key(&mut keys_seen, &entry);
            files.push((path, entry.key.clone(), notes));
            entries.push(entry);
        }
        let mut outcomes = ingestor.store.put_many(entries).await.into_iter();
        for (path, key, notes) in files {
            let outcome = outcomes
                .next()
                .unwrap_or_else(|| Err(StoreError::Backend("the store gave no outcome".into())));
            count(&mut summary, &path, file_result(key, outcome, notes));
        }
    }
    for v in verifiers {
        v.await.map_err(std::io::Error::other)?;
    }
    tracing::info!(
        created = summary.created,
        present = summary.present,
        refused = summary.refused,
        seconds = started.elapsed().as_secs_f64(),
        "import: done"
    );
    summary.several_keys = several_keys(keys_seen);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_xml_recursively() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("metadata/ID/a@b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("2014-01-01T00:00:00Z.xml"), "x").unwrap();
        std::fs::write(deep.join("notes.txt"), "x").unwrap();
        std::fs::write(dir.path().join("top.XML"), "x").unwrap();
        let found = find_documents(dir.path()).unwrap();
        assert_eq!(found.len(), 2);
    }
}
