//! Administrative tasks: rebuilding the index from the stored documents,
//! importing a directory of signed documents through the upload pipeline,
//! and exporting every stored document.

use crate::ingest::{self, IngestOutcome, Ingestor};
use crate::state::TrustSettings;
use marketplace_store::{EntryKey, Store, StoreError};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
pub type FileResult = Result<IngestOutcome, String>;

/// Counts of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Files found.
    pub files: u64,
    /// New entries stored.
    pub created: u64,
    /// Documents already stored.
    pub present: u64,
    /// Files refused (unreadable, invalid, older, conflicting, …).
    pub refused: u64,
}

/// The coordinates a file claims, if it can be read at all.
fn coordinates(path: &Path) -> Option<(String, String, String)> {
    let bytes = std::fs::read(path).ok()?;
    let m = marketplace_format::parse(&bytes).metadata;
    let e = m.endorsement?;
    Some((m.identifier, e.endorser.email, e.created))
}

/// Imports every `*.xml` under `dir` through the upload pipeline, with
/// `workers` concurrent workers; `report` sees each file's outcome.
///
/// Entries of one (identifier, endorser) are ingested oldest first, one
/// after the other (a newer entry stored first would make the older ones
/// "older than latest"), so the history survives whatever the layout;
/// different pairs go in parallel.
pub async fn import_dir(
    dir: &Path,
    ingestor: Ingestor,
    workers: usize,
    mut report: impl FnMut(&Path, &FileResult),
) -> std::io::Result<ImportSummary> {
    let files = find_documents(dir)?;
    let workers = workers.max(1);
    let mut summary = ImportSummary {
        files: files.len() as u64,
        ..ImportSummary::default()
    };

    // Phase 1: read the coordinates of every file, in parallel.
    let chunk = files.len().div_ceil(workers).max(1);
    let mut tasks = Vec::new();
    for part in files.chunks(chunk) {
        let part = part.to_vec();
        tasks.push(tokio::task::spawn_blocking(move || {
            part.into_iter()
                .map(|p| {
                    let c = coordinates(&p);
                    (p, c)
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut located = Vec::with_capacity(files.len());
    for t in tasks {
        located.extend(t.await.map_err(std::io::Error::other)?);
    }

    // Phase 2: group by (identifier, email), oldest first within a group.
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

    // Phase 3: workers take whole groups.
    let queue = Arc::new(Mutex::new(groups));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(PathBuf, FileResult)>(256);
    for _ in 0..workers {
        let queue = queue.clone();
        let tx = tx.clone();
        let ingestor = ingestor.clone();
        tokio::spawn(async move {
            loop {
                let group = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some(group) = group else { break };
                for path in group {
                    let result = match tokio::fs::read(&path).await {
                        Ok(bytes) => match ingestor.ingest(bytes).await {
                            Ok(IngestOutcome::NeedsConfirmation(_)) => Err(
                                "invalid metadata: the endorser e-mail is not certified by the \
                                 certificate and import cannot confirm it by e-mail"
                                    .to_string(),
                            ),
                            Ok(outcome) => Ok(outcome),
                            Err(e) => Err(e.to_string()),
                        },
                        Err(e) => Err(format!("cannot read: {e}")),
                    };
                    if tx.send((path, result)).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
    drop(tx);
    while let Some((path, result)) = rx.recv().await {
        match &result {
            Ok(IngestOutcome::Created(_)) => summary.created += 1,
            Ok(IngestOutcome::AlreadyPresent(_)) => summary.present += 1,
            _ => summary.refused += 1,
        }
        report(&path, &result);
    }
    Ok(summary)
}

/// Whether `segment` can be a file or directory name as it is.
fn safe_segment(segment: &str) -> bool {
    !segment.is_empty() && segment != "." && segment != ".." && !segment.contains(['/', '\\', '\0'])
}

/// The file an entry is exported to: `dir/<id>/<email>/<created>.xml`.
pub fn export_path(dir: &Path, key: &EntryKey) -> Option<PathBuf> {
    [&key.identifier, &key.email, &key.created]
        .iter()
        .all(|s| safe_segment(s))
        .then(|| {
            dir.join(&key.identifier)
                .join(&key.email)
                .join(format!("{}.xml", key.created))
        })
}

/// Writes every stored document byte for byte to
/// `dir/<id>/<email>/<created>.xml`; returns how many were written.
pub async fn export_dir(store: &dyn Store, dir: &Path) -> Result<u64, String> {
    let mut after = None;
    let mut written = 0;
    loop {
        let batch = store
            .entries_after(after, marketplace_store::MAX_LIMIT)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = batch.last() else { break };
        after = Some(last.sequence);
        for stored in batch {
            let key = &stored.entry.key;
            let path = export_path(dir, key)
                .ok_or_else(|| format!("entry {key} cannot be written as a file path"))?;
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            tokio::fs::write(&path, &stored.entry.document)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_paths_are_safe() {
        let key = |i: &str, e: &str| EntryKey {
            identifier: i.into(),
            email: e.into(),
            created: "2014-03-08T14:10:40Z".into(),
        };
        assert_eq!(
            export_path(Path::new("/x"), &key("BEE8", "a@b")).unwrap(),
            PathBuf::from("/x/BEE8/a@b/2014-03-08T14:10:40Z.xml")
        );
        assert!(export_path(Path::new("/x"), &key("..", "a@b")).is_none());
        assert!(export_path(Path::new("/x"), &key("a", "../b")).is_none());
    }

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
