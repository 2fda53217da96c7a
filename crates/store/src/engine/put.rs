//! The put path: [`put`] (one entry, the endorser binding enforced) and
//! [`put_many`] (the operator's import, in batches, bindings adopted),
//! both through [`put_in`] inside a write transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::bindings;
use super::indexing::{INDEXED_COLUMNS, INSERT_ROWS, index_text, index_visibility, indexed_values};
use super::locks::lock_pairs;
use crate::index::Indexed;
use crate::model::{Continuity, EndorserBinding, EntryKey, NewEntry};
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx};
use crate::{PutOutcome, StoreError};

/// Advisory-lock key serialising PostgreSQL inserts, so that sequence
/// order is commit order (feeds reading by sequence never skip an entry).
const PG_SEQUENCE_LOCK: i64 = 0x6d6b_7470_6c61_6365;

/// Where the latest entry of a pair is, while a batch is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Latest {
    /// Stored before, with this sequence.
    Stored(i64),
    /// The batch's entry at this index.
    Batch(usize),
}

/// Puts a batch inside a write transaction that holds the pair locks of
/// its entries: the checks of [`crate::Store::put`] for each entry in
/// order, each seeing the outcome of those before it, then the writes of
/// the created ones (a few multi-row statements, whatever the batch size).
/// `batch` pairs each entry with its indexed fields (or why they could not
/// be derived: that entry's outcome). `bindings` says how the endorser
/// bindings are kept. The outer error is a database failure (the
/// transaction must be abandoned).
async fn put_in<T: Tx>(
    tx: &mut T,
    d: Dialect,
    batch: Vec<(&NewEntry, Result<Indexed, StoreError>)>,
    bindings: Bindings,
) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
    // What is stored of the batch's pairs: the latest entry of each, and
    // any entry with the coordinates of one of the batch's.
    let mut stored: HashMap<(String, String, String), (i64, String, bool)> = HashMap::new();
    let keys: Vec<&EntryKey> = batch
        .iter()
        .filter(|(_, ix)| ix.is_ok())
        .map(|(e, _)| &e.key)
        .collect();
    for chunk in keys.chunks(INSERT_ROWS) {
        let mut s = Sql::new(d);
        s.push(
            "SELECT e.seq, e.identifier, e.email, e.created, e.document_sha256, e.latest \
             FROM entries e JOIN (VALUES ",
        );
        for (i, key) in chunk.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.push("(")
                .text(&key.identifier)
                .push(", ")
                .text(&key.email)
                .push(", ")
                .text(&key.created)
                .push(")");
        }
        s.push(
            ") AS k ON e.identifier = k.column1 AND e.email = k.column2 \
             WHERE e.latest OR e.created = k.column3",
        );
        for row in tx.fetch(s).await? {
            let coordinates = (row.text(1)?, row.text(2)?, row.text(3)?);
            stored.insert(coordinates, (row.int(0)?, row.text(4)?, row.boolean(5)?));
        }
    }
    let mut emails: Vec<String> = keys.iter().map(|k| k.email.to_ascii_lowercase()).collect();
    emails.sort();
    emails.dedup();
    let mut bound = bindings::read_in(tx, d, &emails).await?;
    let mut rebound: HashMap<String, EndorserBinding> = HashMap::new();
    let since = bindings::now()?;
    let mut latest: HashMap<(String, String), (String, Latest)> = HashMap::new();
    let mut exact: HashMap<(String, String, String), String> = HashMap::new();
    for ((identifier, email, created), (seq, sha, is_latest)) in stored {
        if is_latest {
            latest.insert(
                (identifier.clone(), email.clone()),
                (created.clone(), Latest::Stored(seq)),
            );
        }
        exact.insert((identifier, email, created), sha);
    }

    // The checks, in order.
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut created: Vec<(usize, &NewEntry, Indexed)> = Vec::new();
    let mut displaced = Vec::new();
    for (i, (entry, ix)) in batch.into_iter().enumerate() {
        let ix = match ix {
            Ok(ix) => ix,
            Err(e) => {
                outcomes.push(Err(e));
                continue;
            }
        };
        let key = &entry.key;
        let coordinates = (
            key.identifier.clone(),
            key.email.clone(),
            key.created.clone(),
        );
        if let Some(sha) = exact.get(&coordinates) {
            outcomes.push(if *sha == ix.document_sha256 {
                if bindings == Bindings::Adopt {
                    adopt(&mut bound, &mut rebound, entry, since);
                }
                Ok(PutOutcome::AlreadyPresent)
            } else {
                Err(StoreError::Conflict(key.clone()))
            });
            continue;
        }
        let pair = (key.identifier.clone(), key.email.clone());
        if let Some((newest, _)) = latest.get(&pair)
            && newest.as_str() > key.created.as_str()
        {
            outcomes.push(Err(StoreError::OlderThanLatest {
                latest: newest.clone(),
            }));
            continue;
        }
        match bindings {
            Bindings::Enforce => {
                if let Err(binding) = enforce(&mut bound, &mut rebound, entry, since) {
                    outcomes.push(Err(StoreError::EndorserBound(binding)));
                    continue;
                }
            }
            Bindings::Adopt => adopt(&mut bound, &mut rebound, entry, since),
        }
        // Newer than the pair's latest: it takes the flag.
        if let Some((_, Latest::Stored(seq))) =
            latest.insert(pair, (key.created.clone(), Latest::Batch(i)))
        {
            displaced.push(seq);
        }
        exact.insert(coordinates, ix.document_sha256.clone());
        outcomes.push(Ok(PutOutcome::Created));
        created.push((i, entry, ix));
    }
    let mut rebound: Vec<EndorserBinding> = rebound.into_values().collect();
    rebound.sort_by(|a, b| a.email.cmp(&b.email));
    for binding in &rebound {
        bindings::write_in(tx, d, binding).await?;
    }
    if created.is_empty() {
        return Ok(outcomes);
    }

    // The writes.
    if d == Dialect::Postgres {
        // Sequence order is commit order: one inserting transaction at a
        // time, from here to the commit.
        let mut s = Sql::new(d);
        s.push("SELECT pg_advisory_xact_lock(")
            .int(PG_SEQUENCE_LOCK)
            .push(")");
        tx.execute(s).await?;
    }
    for chunk in displaced.chunks(INSERT_ROWS) {
        let mut s = Sql::new(d);
        s.push("UPDATE entries SET latest = ")
            .bind(Arg::Bool(false))
            .push(" WHERE seq IN (");
        for (i, seq) in chunk.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.int(*seq);
        }
        s.push(")");
        tx.execute(s).await?;
    }
    let accepted_at = DateTime::from_timestamp_micros(Utc::now().timestamp_micros())
        .ok_or_else(|| StoreError::Backend("clock out of range".into()))?;
    for chunk in created.chunks(INSERT_ROWS) {
        let mut s = Sql::new(d);
        s.push(
            "INSERT INTO entries (identifier, email, created, document_sha256, accepted_at, \
             latest, ",
        )
        .push(INDEXED_COLUMNS)
        .push(") VALUES ");
        for (n, (i, entry, ix)) in chunk.iter().enumerate() {
            let key = &entry.key;
            let is_latest = latest
                .get(&(key.identifier.clone(), key.email.clone()))
                .is_some_and(|(_, at)| *at == Latest::Batch(*i));
            if n > 0 {
                s.push(", ");
            }
            s.push("(")
                .text(&key.identifier)
                .push(", ")
                .text(&key.email)
                .push(", ")
                .text(&key.created)
                .push(", ")
                .text(&ix.document_sha256)
                .push(", ")
                .bind(Arg::Time(accepted_at))
                .push(", ")
                .bind(Arg::Bool(is_latest))
                .push(", ");
            indexed_values(&mut s, ix);
            s.push(")");
        }
        s.push(" RETURNING seq, identifier, email, created");
        let mut seqs = HashMap::with_capacity(chunk.len());
        for row in tx.fetch(s).await? {
            seqs.insert((row.text(1)?, row.text(2)?, row.text(3)?), row.int(0)?);
        }
        let mut rows = Vec::with_capacity(chunk.len());
        for (_, entry, ix) in chunk {
            let key = &entry.key;
            let seq = seqs
                .get(&(
                    key.identifier.clone(),
                    key.email.clone(),
                    key.created.clone(),
                ))
                .copied()
                .ok_or_else(|| StoreError::Backend(format!("no sequence for {key}")))?;
            rows.push((seq, *entry, ix));
        }
        let mut s = Sql::new(d);
        s.push("INSERT INTO documents (seq, document) VALUES ");
        for (n, (seq, entry, _)) in rows.iter().enumerate() {
            if n > 0 {
                s.push(", ");
            }
            s.push("(")
                .int(*seq)
                .push(", ")
                .bind(Arg::Bytes(entry.document.clone()))
                .push(")");
        }
        tx.execute(s).await?;
        index_text(tx, d, &rows).await?;
        let visibility: Vec<(i64, &Indexed)> =
            rows.iter().map(|(seq, _, ix)| (*seq, *ix)).collect();
        index_visibility(tx, d, &visibility).await?;
    }
    Ok(outcomes)
}

/// How a put keeps the endorser bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bindings {
    /// [`crate::Store::put`]: an entry must continue its e-mail's binding
    /// (and binds an unbound e-mail).
    Enforce,
    /// [`crate::Store::put_many`] (the operator's import): every entry is
    /// kept, and each e-mail is bound to the signer of its newest entry
    /// (a binding made by hand stays).
    Adopt,
}

/// [`Bindings::Enforce`] for one entry to be created: `Err` with the
/// binding it breaks; a first or renewed binding goes to `rebound`.
fn enforce(
    bound: &mut HashMap<String, EndorserBinding>,
    rebound: &mut HashMap<String, EndorserBinding>,
    entry: &NewEntry,
    since: DateTime<Utc>,
) -> Result<(), Box<EndorserBinding>> {
    let email = entry.key.email.to_ascii_lowercase();
    let continuity = bound
        .get(&email)
        .map(|binding| (binding.continuity(&entry.signer), binding));
    match continuity {
        Some((Continuity::SameKey, _)) => Ok(()),
        Some((Continuity::Broken, binding)) => Err(Box::new(binding.clone())),
        Some((Continuity::Renewed, _)) | None => {
            let binding =
                EndorserBinding::of(&email, &entry.signer, Some(&entry.key.created), since);
            bound.insert(email.clone(), binding.clone());
            rebound.insert(email, binding);
            Ok(())
        }
    }
}

/// [`Bindings::Adopt`] for one entry kept: binds its e-mail to its signer
/// when it is the newest entry seen for the e-mail.
fn adopt(
    bound: &mut HashMap<String, EndorserBinding>,
    rebound: &mut HashMap<String, EndorserBinding>,
    entry: &NewEntry,
    since: DateTime<Utc>,
) {
    let email = entry.key.email.to_ascii_lowercase();
    let newer = match bound.get(&email) {
        None => true,
        Some(binding) => binding
            .created
            .as_deref()
            .is_some_and(|created| created < entry.key.created.as_str()),
    };
    if newer {
        let binding = EndorserBinding::of(&email, &entry.signer, Some(&entry.key.created), since);
        bound.insert(email.clone(), binding.clone());
        rebound.insert(email, binding);
    }
}

/// [`crate::Store::put`]: a batch of one.
pub(crate) async fn put<D: Db>(db: &D, entry: NewEntry) -> Result<PutOutcome, StoreError> {
    let d = D::DIALECT;
    let ix = Indexed::of(&entry)?;
    let mut tx = db.begin_write().await?;
    lock_pairs(&mut tx, d, &[&entry.key]).await?;
    let outcome = put_in(&mut tx, d, vec![(&entry, Ok(ix))], Bindings::Enforce)
        .await?
        .pop()
        .ok_or_else(|| StoreError::Backend("a put gave no outcome".into()))??;
    if outcome == PutOutcome::Created {
        tx.commit().await?;
    }
    Ok(outcome)
}

/// One transaction of [`put_many`].
async fn put_batch<D: Db>(
    db: &D,
    batch: &[NewEntry],
) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
    let d = D::DIALECT;
    // Derived before the write lock is taken.
    let indexed: Vec<(&NewEntry, Result<Indexed, StoreError>)> =
        batch.iter().map(|e| (e, Indexed::of(e))).collect();
    let mut tx = db.begin_write().await?;
    let keys: Vec<&EntryKey> = batch.iter().map(|e| &e.key).collect();
    lock_pairs(&mut tx, d, &keys).await?;
    let outcomes = put_in(&mut tx, d, indexed, Bindings::Adopt).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// [`crate::Store::put_many`].
pub(crate) async fn put_many<D: Db>(
    db: &D,
    entries: Vec<NewEntry>,
) -> Vec<Result<PutOutcome, StoreError>> {
    let mut outcomes = Vec::with_capacity(entries.len());
    let mut failed: Option<String> = None;
    for batch in entries.chunks(crate::PUT_MANY_BATCH) {
        if failed.is_none() {
            match put_batch(db, batch).await {
                Ok(done) => {
                    outcomes.extend(done);
                    continue;
                }
                Err(StoreError::Backend(message)) => failed = Some(message),
                Err(other) => failed = Some(other.to_string()),
            }
        }
        if let Some(message) = &failed {
            outcomes.extend(
                batch
                    .iter()
                    .map(|_| Err(StoreError::Backend(message.clone()))),
            );
        }
    }
    outcomes
}
