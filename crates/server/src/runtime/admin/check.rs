//! `marketplace admin check`, and reading every stored entry that can be
//! read from a store that may be damaged ([`readable_entries`], which
//! `admin export` uses too).

use crate::runtime::state::TrustSettings;
use crate::upload::ingest;
use marketplace_store::{MAX_LIMIT, Store, StoredEntry};

/// An entry the store could not give back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Its sequence (acceptance order).
    pub sequence: i64,
    /// The store's error.
    pub error: String,
}

/// Calls `each` with every stored entry that can be read, in acceptance
/// order, and returns the ones that cannot. Entries are read in pages; a
/// page that fails is read again one entry at a time, and an entry that
/// still fails is skipped (by sequence, up to the newest), so that a
/// damaged page costs only the entries on it.
pub async fn readable_entries(
    store: &dyn Store,
    mut each: impl FnMut(StoredEntry) -> Result<(), String>,
) -> Result<Vec<Unreadable>, String> {
    let last = store.last_sequence().await.map_err(|e| {
        format!("cannot read the newest entry's sequence ({e}): the entries table is unreadable")
    })?;
    let Some(last) = last else {
        return Ok(Vec::new());
    };
    let mut unreadable = Vec::new();
    let mut after: Option<i64> = None;
    while after.is_none_or(|a| a < last) {
        match store.entries_after(after, MAX_LIMIT).await {
            Ok(batch) => {
                let Some(newest) = batch.last().map(|e| e.sequence) else {
                    break;
                };
                after = Some(newest);
                for entry in batch {
                    each(entry)?;
                }
            }
            // One at a time past the failing page.
            Err(_) => match store.entries_after(after, 1).await {
                Ok(mut one) => match one.pop() {
                    Some(entry) => {
                        after = Some(entry.sequence);
                        each(entry)?;
                    }
                    None => break,
                },
                Err(e) => {
                    let sequence = after.map_or(1, |a| a + 1);
                    unreadable.push(Unreadable {
                        sequence,
                        error: e.to_string(),
                    });
                    after = Some(sequence);
                }
            },
        }
    }
    Ok(unreadable)
}

/// What `admin check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// The database's own findings (SQLite `integrity_check`).
    pub integrity: Vec<String>,
    /// Entries read back.
    pub entries: u64,
    /// Entries that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// Entries whose stored document no longer verifies or no longer
    /// matches its coordinates: (entry, why).
    pub invalid: Vec<(String, String)>,
}

impl CheckReport {
    /// Whether nothing was found wrong.
    pub fn is_clean(&self) -> bool {
        self.integrity.is_empty() && self.unreadable.is_empty() && self.invalid.is_empty()
    }
}

/// Checks the store: the database's integrity check, every entry read
/// back, and every stored document verified again as a rebuild does
/// ([`ingest::reindex`]: format and signature; the chain at the
/// endorsement's instant, so a certificate expired since does not make an
/// entry invalid), giving the same coordinates.
pub async fn check(store: &dyn Store, trust: &TrustSettings) -> Result<CheckReport, String> {
    let integrity = match store.check_integrity(true).await {
        Ok(problems) => problems,
        // A check that cannot even run has found the worst; go on reading.
        Err(e) => vec![format!("the integrity check could not run: {e}")],
    };
    let mut report = CheckReport {
        integrity,
        ..CheckReport::default()
    };
    let mut entries = 0;
    let mut invalid = Vec::new();
    report.unreadable = readable_entries(store, |stored| {
        entries += 1;
        let key = &stored.entry.key;
        match ingest::reindex(&stored.entry.document, trust) {
            Ok(again)
                if again.key.identifier == key.identifier && again.key.created == key.created => {}
            Ok(again) => invalid.push((
                key.to_string(),
                format!("its document now reads as entry {}", again.key),
            )),
            Err(reason) => invalid.push((key.to_string(), reason)),
        }
        Ok(())
    })
    .await?;
    report.entries = entries;
    report.invalid = invalid;
    Ok(report)
}
