//! The store operations, written once over [`Db`] for both back ends. The
//! back ends differ only in connection handling, placeholders, the lock
//! taken by a put, and how full text is indexed (SQLite FTS5 rows written
//! here; a PostgreSQL generated tsvector column).
//!
//! Tables: `entries` (coordinates, the indexed fields, and the `latest`
//! flag of the latest entry of each (identifier, email), kept by the put
//! transaction), `documents` (the signed bytes, by sequence),
//! `entry_visibility` (the VOs a restricted entry is visible to; the
//! entry's `restricted` column says whether it has any), `pending`.
//!
//! Every read that users reach appends [`visible_condition`] for its
//! [`Audience`]; see [`Audience`] for what an audience sees.

mod bindings;
mod endorsers;
mod kept;
mod search;
mod search_cache;
mod write_health;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use marketplace_format::datetime::format_utc;

pub(crate) use bindings::{bind_unbound, binding, rebind, unbound_endorsers};
pub(crate) use endorsers::{EndorserCache, endorsers};
pub(crate) use search::TotalCache;
pub(crate) use search_cache::{SearchCache, search};

use crate::index::Indexed;
use crate::model::{
    Continuity, EndorserBinding, EntryKey, EntrySummary, NewEntry, PendingEntry, Status,
    StoredEntry,
};
use crate::query::{
    Audience, HistoryOrder, HistoryQuery, MAX_AUDIENCE_VOS, MAX_UNPAGED_ROWS, effective_limit,
};
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx};
use crate::{PutOutcome, StoreError};

/// What one store process keeps between queries: each value is reused
/// only while the version of the shared database it was computed at still
/// holds, so several processes on one database never serve stale results.
#[derive(Debug, Default)]
pub(crate) struct Caches {
    /// The catalogue totals.
    pub(crate) totals: TotalCache,
    /// Full-text search pages.
    pub(crate) searches: SearchCache,
    /// The list of every endorser.
    pub(crate) endorsers: EndorserCache,
    /// Whether the last write succeeded.
    pub(crate) writes: write_health::WriteHealth,
}

/// A back end with the [`Caches`] of its store process: what the
/// operations that keep values between queries need beyond [`Db`], which
/// stays the driver's view (statements, rows, transactions).
pub(crate) trait Cached: Db {
    /// What this process keeps between queries.
    fn caches(&self) -> &Caches;
}

/// Records `outcome` as the last write's ([`write_health::WriteHealth`]).
pub(crate) fn observe_write<D: Cached, T>(
    db: &D,
    outcome: Result<T, StoreError>,
) -> Result<T, StoreError> {
    db.caches().writes.observe(&outcome);
    outcome
}

pub(crate) use write_health::probe_write;

/// True when `e` is the latest entry of its (identifier, email): no entry
/// of the pair is newer. A flag set by the put that stores the entry and
/// cleared by the put that stores a newer one, in the same transaction.
pub(crate) const LATEST: &str = "e.latest";

/// The columns [`summary`] reads; the sequence last ([`SUMMARY_SEQ`]).
pub(crate) const SUMMARY_COLUMNS: &str = "SELECT e.identifier, e.email, e.created, e.metadata, \
     e.signer, e.accepted_at, e.latest, e.seq";

/// The column of [`SUMMARY_COLUMNS`] holding the sequence.
pub(crate) const SUMMARY_SEQ: usize = 7;

/// Advisory-lock key serialising PostgreSQL inserts, so that sequence
/// order is commit order (feeds reading by sequence never skip an entry).
const PG_SEQUENCE_LOCK: i64 = 0x6d6b_7470_6c61_6365;

/// Rows read per batch by [`rebuild_index`].
const REBUILD_BATCH: u64 = 256;

/// Reads a summary from [`SUMMARY_COLUMNS`] (without a rank).
pub(crate) fn summary<R: RowRead>(r: &R, now: DateTime<Utc>) -> Result<EntrySummary, StoreError> {
    let metadata = r.json(3)?;
    Ok(EntrySummary {
        key: EntryKey {
            identifier: r.text(0)?,
            email: r.text(1)?,
            created: r.text(2)?,
        },
        status: Status::of(&metadata, now),
        metadata,
        signer: r.json(4)?,
        accepted_at: r.time(5)?,
        latest: r.boolean(6)?,
        rank: None,
    })
}

/// Refuses an audience with more than [`MAX_AUDIENCE_VOS`] VOs.
pub(crate) fn check_audience(audience: &Audience) -> Result<(), StoreError> {
    match audience {
        Audience::Members(vos) if vos.len() > MAX_AUDIENCE_VOS => Err(StoreError::InvalidQuery(
            format!("a reader may be a member of at most {MAX_AUDIENCE_VOS} VOs"),
        )),
        _ => Ok(()),
    }
}

/// A table alias whose entries [`visible_condition`] filters: its
/// `restricted` and `seq` columns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Alias {
    /// `<alias>.restricted`.
    pub restricted: &'static str,
    /// `<alias>.seq`.
    pub seq: &'static str,
}

/// The alias `e`.
pub(crate) const E: Alias = Alias {
    restricted: "e.restricted",
    seq: "e.seq",
};

/// Appends ` AND <the entry of alias is visible to audience>` (nothing for
/// [`Audience::Everything`]): public entries, and for members the
/// restricted entries with one of their VOs (an indexed lookup in
/// `entry_visibility` by sequence and VO). Check the audience with
/// [`check_audience`] first.
pub(crate) fn visible_condition(s: &mut Sql, alias: Alias, audience: &Audience) {
    match audience {
        Audience::Everything => {}
        Audience::Members(vos) if !vos.is_empty() => {
            s.push(" AND (NOT ")
                .push(alias.restricted)
                .push(" OR EXISTS (SELECT 1 FROM entry_visibility ev WHERE ev.seq = ")
                .push(alias.seq)
                .push(" AND ev.vo IN (");
            for (i, vo) in vos.iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                s.text(vo);
            }
            s.push(")))");
        }
        Audience::Public | Audience::Members(_) => {
            s.push(" AND NOT ").push(alias.restricted);
        }
    }
}

/// Appends `e.identifier = ? AND e.email = ? AND e.created = ?`.
fn key_condition(s: &mut Sql, key: &EntryKey) {
    s.push("e.identifier = ")
        .text(&key.identifier)
        .push(" AND e.email = ")
        .text(&key.email)
        .push(" AND e.created = ")
        .text(&key.created);
}

/// Appends the values of the indexed columns, in [`INDEXED_COLUMNS`] order.
fn indexed_values(s: &mut Sql, ix: &Indexed) {
    let values = [
        Arg::Json(ix.metadata_json.clone()),
        Arg::Json(ix.signer_json.clone()),
        Arg::OptText(ix.title.clone()),
        Arg::OptText(ix.title_key.clone()),
        Arg::OptText(ix.description.clone()),
        Arg::OptText(ix.os.clone()),
        Arg::OptText(ix.os_version.clone()),
        Arg::OptText(ix.os_arch.clone()),
        Arg::OptText(ix.kind_type.clone()),
        Arg::OptText(ix.kind.clone()),
        Arg::OptText(ix.format.clone()),
        Arg::OptText(ix.hypervisor.clone()),
        Arg::OptText(ix.tag.clone()),
        Arg::OptText(ix.vo.clone()),
        Arg::OptText(ix.valid_at.clone()),
        Arg::Bool(ix.deprecated),
        Arg::Bool(ix.loc_web),
        Arg::Bool(ix.loc_pdisk),
        Arg::Text(ix.signer_subject.clone()),
        Arg::Text(ix.signer_issuer.clone()),
        Arg::Text(ix.endorser_text.clone()),
        Arg::Bool(ix.restricted),
    ];
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.bind(v);
    }
}

/// The indexed columns, re-derived by a rebuild.
const INDEXED_COLUMNS: &str = "metadata, signer, title, title_key, description, os, os_version, \
     os_arch, kind_type, kind, format, hypervisor, tag, vo, valid_at, deprecated, loc_web, loc_pdisk, \
     signer_subject, signer_issuer, endorser_text, restricted";

/// Writes the FTS5 rows of `rows` (sequence, entry, indexed fields),
/// [`INSERT_ROWS`] at most (SQLite only; PostgreSQL derives its tsvector
/// column itself).
async fn index_text<T: Tx>(
    tx: &mut T,
    dialect: Dialect,
    rows: &[(i64, &NewEntry, &Indexed)],
) -> Result<(), StoreError> {
    if dialect != Dialect::Sqlite || rows.is_empty() {
        return Ok(());
    }
    let mut s = Sql::new(dialect);
    s.push(
        "INSERT INTO entries_fts (rowid, title, description, os, os_version, tag, endorser) \
         VALUES ",
    );
    for (n, (seq, _, ix)) in rows.iter().enumerate() {
        if n > 0 {
            s.push(", ");
        }
        s.push("(").int(*seq);
        for v in [&ix.title, &ix.description, &ix.os, &ix.os_version, &ix.tag] {
            s.push(", ").bind(Arg::OptText(v.clone()));
        }
        s.push(", ").text(&ix.endorser_text).push(")");
    }
    tx.execute(s).await?;
    Ok(())
}

/// Writes the `entry_visibility` rows of `rows` (sequence, indexed
/// fields): one per VO of a restricted entry.
async fn index_visibility<T: Tx>(
    tx: &mut T,
    dialect: Dialect,
    rows: &[(i64, &Indexed)],
) -> Result<(), StoreError> {
    let pairs: Vec<(i64, &String)> = rows
        .iter()
        .flat_map(|(seq, ix)| ix.visible_to.iter().map(move |vo| (*seq, vo)))
        .collect();
    for chunk in pairs.chunks(INSERT_ROWS) {
        let mut s = Sql::new(dialect);
        s.push("INSERT INTO entry_visibility (seq, vo) VALUES ");
        for (n, (seq, vo)) in chunk.iter().enumerate() {
            if n > 0 {
                s.push(", ");
            }
            s.push("(").int(*seq).push(", ").text(*vo).push(")");
        }
        tx.execute(s).await?;
    }
    Ok(())
}

/// Takes the PostgreSQL advisory locks of the (identifier, email) pairs of
/// `keys` (the same keys [`put`] takes) and of their e-mails in lower case
/// (the endorser bindings), in ascending hash order so that two batches
/// never wait for each other in a cycle. No-op on SQLite, whose write
/// transaction already excludes every other writer.
async fn lock_pairs<T: Tx>(tx: &mut T, d: Dialect, keys: &[&EntryKey]) -> Result<(), StoreError> {
    let mut names: Vec<String> = Vec::with_capacity(keys.len() * 2);
    for key in keys {
        names.push(format!("{}/{}", key.identifier, key.email));
        names.push(email_lock_name(&key.email));
    }
    advisory_locks(tx, d, names).await
}

/// Takes the advisory locks of the bindings of `emails` (see [`lock_pairs`]).
async fn lock_emails<T: Tx>(tx: &mut T, d: Dialect, emails: &[String]) -> Result<(), StoreError> {
    advisory_locks(tx, d, emails.iter().map(|e| email_lock_name(e)).collect()).await
}

/// The advisory-lock name of an e-mail's binding (distinct from every pair
/// name, which contains a `/` before the e-mail).
fn email_lock_name(email: &str) -> String {
    format!("binding:{}", email.to_ascii_lowercase())
}

/// Takes the PostgreSQL transaction advisory locks named `names`, in
/// ascending hash order. No-op on SQLite.
async fn advisory_locks<T: Tx>(
    tx: &mut T,
    d: Dialect,
    names: Vec<String>,
) -> Result<(), StoreError> {
    if d != Dialect::Postgres || names.is_empty() {
        return Ok(());
    }
    let mut s = Sql::new(d);
    s.push("SELECT DISTINCT hashtextextended(t.name, 0) AS k FROM (VALUES ");
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.push("(").text(name).push(")");
    }
    s.push(") AS t (name) ORDER BY k");
    let mut hashes = Vec::new();
    for row in tx.fetch(s).await? {
        hashes.push(row.int(0)?);
    }
    // A VALUES list is scanned in order: the locks are taken in key order.
    let mut s = Sql::new(d);
    s.push("SELECT pg_advisory_xact_lock(t.k) FROM (VALUES ");
    for (i, hash) in hashes.into_iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.push("(").int(hash).push(")");
    }
    s.push(") AS t (k)");
    tx.execute(s).await?;
    Ok(())
}

/// Rows per multi-row INSERT (a fixed size, so that the prepared
/// statements are few and reused).
const INSERT_ROWS: usize = 100;

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

/// The columns [`stored`] reads.
const STORED_COLUMNS: &str = "SELECT e.seq, e.accepted_at, e.identifier, e.email, e.created, \
     d.document, e.metadata, e.signer FROM entries e JOIN documents d ON d.seq = e.seq";

fn stored<R: RowRead>(r: &R) -> Result<StoredEntry, StoreError> {
    Ok(StoredEntry {
        sequence: r.int(0)?,
        accepted_at: r.time(1)?,
        entry: NewEntry {
            key: EntryKey {
                identifier: r.text(2)?,
                email: r.text(3)?,
                created: r.text(4)?,
            },
            document: r.bytes(5)?,
            metadata: r.json(6)?,
            signer: r.json(7)?,
        },
    })
}

/// [`crate::Store::get`].
pub(crate) async fn get<D: Db>(db: &D, key: &EntryKey) -> Result<Option<StoredEntry>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(STORED_COLUMNS).push(" WHERE ");
    key_condition(&mut s, key);
    db.fetch(s).await?.first().map(stored).transpose()
}

/// [`crate::Store::get_visible`].
pub(crate) async fn get_visible<D: Db>(
    db: &D,
    key: &EntryKey,
    audience: &Audience,
) -> Result<Option<StoredEntry>, StoreError> {
    check_audience(audience)?;
    let mut s = Sql::new(D::DIALECT);
    s.push(STORED_COLUMNS).push(" WHERE ");
    key_condition(&mut s, key);
    visible_condition(&mut s, E, audience);
    db.fetch(s).await?.first().map(stored).transpose()
}

/// [`crate::Store::entries_after`].
pub(crate) async fn entries_after<D: Db>(
    db: &D,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<StoredEntry>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(STORED_COLUMNS)
        .push(" WHERE e.seq > ")
        .int(after.unwrap_or(i64::MIN))
        .push(" ORDER BY e.seq LIMIT ")
        .count_literal(effective_limit(limit).into());
    db.fetch(s).await?.iter().map(stored).collect()
}

/// [`crate::Store::history`].
pub(crate) async fn history<D: Db>(
    db: &D,
    q: &HistoryQuery,
) -> Result<Vec<EntrySummary>, StoreError> {
    check_audience(&q.audience)?;
    let now = q.now.unwrap_or_else(Utc::now);
    let mut s = Sql::new(D::DIALECT);
    s.push(SUMMARY_COLUMNS).push(" FROM entries e WHERE 1 = 1");
    visible_condition(&mut s, E, &q.audience);
    if let Some(identifier) = &q.identifier {
        s.push(" AND e.identifier = ").text(identifier);
    }
    if let Some(email) = &q.email {
        s.push(" AND e.email = ").text(email);
    }
    if let Some(since) = q.since {
        s.push(" AND e.created >= ").text(format_utc(since));
    }
    s.push(match q.order {
        HistoryOrder::Created => " ORDER BY e.created DESC, e.seq DESC LIMIT ",
        HistoryOrder::Accepted => " ORDER BY e.seq DESC LIMIT ",
    })
    .count_literal(effective_limit(q.limit).into());
    db.fetch(s).await?.iter().map(|r| summary(r, now)).collect()
}

/// [`crate::Store::tags`].
pub(crate) async fn tags<D: Db>(
    db: &D,
    email: &str,
    audience: &Audience,
) -> Result<Vec<String>, StoreError> {
    check_audience(audience)?;
    let mut s = Sql::new(D::DIALECT);
    s.push("SELECT DISTINCT e.tag FROM entries e WHERE e.email = ")
        .text(email)
        .push(" AND e.tag IS NOT NULL AND e.tag <> ''");
    visible_condition(&mut s, E, audience);
    s.push(" ORDER BY e.tag LIMIT ")
        .count_literal(MAX_UNPAGED_ROWS.into());
    db.fetch(s).await?.iter().map(|r| r.text(0)).collect()
}

/// The alias `t` of [`resolve_tag`].
const T: Alias = Alias {
    restricted: "t.restricted",
    seq: "t.seq",
};

/// The alias `l` of [`resolve_tag`].
const L: Alias = Alias {
    restricted: "l.restricted",
    seq: "l.seq",
};

/// [`crate::Store::resolve_tag`].
pub(crate) async fn resolve_tag<D: Db>(
    db: &D,
    email: &str,
    tag: &str,
    audience: &Audience,
) -> Result<Option<EntryKey>, StoreError> {
    check_audience(audience)?;
    let mut s = Sql::new(D::DIALECT);
    s.push(
        "SELECT t.identifier, t.email, MAX(t.created) AS newest FROM entries t WHERE t.email = ",
    )
    .text(email)
    .push(" AND t.tag = ")
    .text(tag);
    visible_condition(&mut s, T, audience);
    if *audience != Audience::Everything {
        // The pair's latest entry must be visible: otherwise the audience
        // sees no current state of it.
        s.push(
            " AND EXISTS (SELECT 1 FROM entries l WHERE l.identifier = t.identifier \
             AND l.email = t.email AND l.latest",
        );
        visible_condition(&mut s, L, audience);
        s.push(")");
    }
    s.push(
        " GROUP BY t.identifier, t.email \
             HAVING SUM(CASE WHEN t.deprecated THEN 1 ELSE 0 END) = 0 \
             AND NOT EXISTS (SELECT 1 FROM entries e \
                 WHERE e.identifier = t.identifier AND e.email = t.email AND e.deprecated AND ",
    )
    .push(LATEST)
    .push(") ORDER BY newest DESC, t.identifier LIMIT 1");
    db.fetch(s)
        .await?
        .first()
        .map(|r| {
            Ok(EntryKey {
                identifier: r.text(0)?,
                email: r.text(1)?,
                created: r.text(2)?,
            })
        })
        .transpose()
}

/// [`crate::Store::rebuild_index`].
pub(crate) async fn rebuild_index<D: Db>(
    db: &D,
    reindex: &crate::Reindex<'_>,
) -> Result<u64, StoreError> {
    let d = D::DIALECT;
    let mut tx = db.begin_write().await?;
    if d == Dialect::Sqlite {
        let mut s = Sql::new(d);
        s.push("INSERT INTO entries_fts (entries_fts) VALUES ('delete-all')");
        tx.execute(s).await?;
    }
    let mut s = Sql::new(d);
    s.push("DELETE FROM entry_visibility");
    tx.execute(s).await?;
    let mut after = i64::MIN;
    let mut done = 0u64;
    loop {
        let mut s = Sql::new(d);
        s.push(
            "SELECT e.seq, e.identifier, e.email, e.created, d.document FROM entries e \
             JOIN documents d ON d.seq = e.seq WHERE e.seq > ",
        )
        .int(after)
        .push(" ORDER BY e.seq LIMIT ")
        .count_literal(REBUILD_BATCH);
        let rows = tx.fetch(s).await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let sequence = r.int(0)?;
            let key = EntryKey {
                identifier: r.text(1)?,
                email: r.text(2)?,
                created: r.text(3)?,
            };
            let document = r.bytes(4)?;
            let fresh =
                reindex(&document).map_err(|message| StoreError::Reindex { sequence, message })?;
            // E-mails are read in lower case; an entry the migration to lower
            // case left as written (its lower-case coordinates were taken)
            // keeps its stored e-mail.
            let same_email = fresh.key.email.eq_ignore_ascii_case(&key.email);
            if fresh.key.identifier != key.identifier
                || fresh.key.created != key.created
                || !same_email
            {
                return Err(StoreError::Reindex {
                    sequence,
                    message: format!(
                        "the document now reads as {}, it is stored as {key}",
                        fresh.key
                    ),
                });
            }
            let fresh_entry = NewEntry {
                document,
                key: key.clone(),
                ..fresh
            };
            let ix = Indexed::of(&fresh_entry)?;
            let mut s = Sql::new(d);
            s.push("UPDATE entries SET (")
                .push(INDEXED_COLUMNS)
                .push(") = (");
            indexed_values(&mut s, &ix);
            s.push(") WHERE seq = ").int(sequence);
            tx.execute(s).await?;
            index_text(&mut tx, d, &[(sequence, &fresh_entry, &ix)]).await?;
            index_visibility(&mut tx, d, &[(sequence, &ix)]).await?;
            after = sequence;
            done += 1;
        }
    }
    // Cached totals of every process are stale from here.
    let mut s = Sql::new(d);
    s.push("UPDATE store_meta SET value = value + 1 WHERE name = 'generation'");
    tx.execute(s).await?;
    // The latest flags, recomputed from the coordinates (cleared first: at
    // no point may a pair have two).
    let mut s = Sql::new(d);
    s.push("UPDATE entries SET latest = ")
        .bind(Arg::Bool(false))
        .push(" WHERE latest");
    tx.execute(s).await?;
    let mut s = Sql::new(d);
    s.push("UPDATE entries SET latest = ")
        .bind(Arg::Bool(true))
        .push(
            " WHERE NOT EXISTS (SELECT 1 FROM entries n WHERE n.identifier = entries.identifier \
             AND n.email = entries.email AND n.created > entries.created)",
        );
    tx.execute(s).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`crate::Store::count`].
pub(crate) async fn count<D: Db>(db: &D) -> Result<u64, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("SELECT COUNT(*) FROM entries");
    let n = db.fetch(s).await?.first().map(|r| r.int(0)).transpose()?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// [`crate::Store::last_sequence`].
pub(crate) async fn last_sequence<D: Db>(db: &D) -> Result<Option<i64>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("SELECT MAX(seq) FROM entries");
    match db.fetch(s).await?.first() {
        Some(row) => row.opt_int(0),
        None => Ok(None),
    }
}

/// [`crate::Store::put_pending`].
pub(crate) async fn put_pending<D: Db>(db: &D, p: PendingEntry) -> Result<(), StoreError> {
    let d = D::DIALECT;
    let e = &p.entry;
    let json = |r: serde_json::Result<String>| {
        r.map_err(|e| StoreError::Backend(format!("cannot serialise pending entry: {e}")))
    };
    let email = e.key.email.to_ascii_lowercase();
    let mut tx = db.begin_write().await?;
    // One waiting upload per address: no second mail while one is pending
    // (the e-mail's lock makes two concurrent requests see each other).
    lock_emails(&mut tx, d, std::slice::from_ref(&email)).await?;
    let mut s = Sql::new(d);
    s.push("SELECT expires_at, identifier, created, document FROM pending WHERE email = ")
        .text(&email)
        .push(" AND expires_at > ")
        .bind(Arg::Time(p.received_at))
        .push(" ORDER BY expires_at DESC LIMIT 1");
    if let Some(row) = tx.fetch(s).await?.first() {
        let same = row.text(1)? == e.key.identifier
            && row.text(2)? == e.key.created
            && row.bytes(3)? == e.document;
        return Err(StoreError::PendingExists {
            email,
            expires_at: row.time(0)?,
            same,
        });
    }
    let mut s = Sql::new(d);
    s.push(
        "INSERT INTO pending (token, identifier, email, created, document, metadata, signer, \
         received_at, expires_at) VALUES (",
    )
    .text(&p.token)
    .push(", ")
    .text(&e.key.identifier)
    .push(", ")
    .text(&e.key.email)
    .push(", ")
    .text(&e.key.created)
    .push(", ")
    .bind(Arg::Bytes(e.document.clone()))
    .push(", ")
    .bind(Arg::Json(json(serde_json::to_string(&e.metadata))?))
    .push(", ")
    .bind(Arg::Json(json(serde_json::to_string(&e.signer))?))
    .push(", ")
    .bind(Arg::Time(p.received_at))
    .push(", ")
    .bind(Arg::Time(p.expires_at))
    .push(") ON CONFLICT (token) DO NOTHING");
    if tx.execute(s).await? == 0 {
        return Err(StoreError::InvalidQuery(
            "pending token already in use".into(),
        ));
    }
    tx.commit().await?;
    Ok(())
}

/// [`crate::Store::get_pending`].
pub(crate) async fn get_pending<D: Db>(
    db: &D,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<PendingEntry>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(
        "SELECT token, identifier, email, created, document, metadata, signer, received_at, \
         expires_at FROM pending WHERE token = ",
    )
    .text(token)
    .push(" AND expires_at >= ")
    .bind(Arg::Time(now));
    db.fetch(s)
        .await?
        .first()
        .map(|r| {
            Ok(PendingEntry {
                token: r.text(0)?,
                entry: NewEntry {
                    key: EntryKey {
                        identifier: r.text(1)?,
                        email: r.text(2)?,
                        created: r.text(3)?,
                    },
                    document: r.bytes(4)?,
                    metadata: r.json(5)?,
                    signer: r.json(6)?,
                },
                received_at: r.time(7)?,
                expires_at: r.time(8)?,
            })
        })
        .transpose()
}

/// [`crate::Store::delete_pending`].
pub(crate) async fn delete_pending<D: Db>(db: &D, token: &str) -> Result<bool, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("DELETE FROM pending WHERE token = ").text(token);
    Ok(db.execute(s).await? > 0)
}

/// [`crate::Store::purge_pending`].
pub(crate) async fn purge_pending<D: Db>(db: &D, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("DELETE FROM pending WHERE expires_at < ")
        .bind(Arg::Time(now));
    db.execute(s).await
}

/// Implements [`crate::Store`] for a type that implements [`Db`], by
/// delegating to the functions of this module.
macro_rules! impl_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::Store for $t {
            async fn put(
                &self,
                entry: $crate::NewEntry,
            ) -> Result<$crate::PutOutcome, $crate::StoreError> {
                $crate::engine::observe_write(self, $crate::engine::put(self, entry).await)
            }

            async fn put_many(
                &self,
                entries: Vec<$crate::NewEntry>,
            ) -> Vec<Result<$crate::PutOutcome, $crate::StoreError>> {
                let outcomes = $crate::engine::put_many(self, entries).await;
                if let Some(last) = outcomes.last() {
                    $crate::engine::Cached::caches(self).writes.observe(last);
                }
                outcomes
            }

            async fn get(
                &self,
                key: &$crate::EntryKey,
            ) -> Result<Option<$crate::StoredEntry>, $crate::StoreError> {
                $crate::engine::get(self, key).await
            }

            async fn get_visible(
                &self,
                key: &$crate::EntryKey,
                audience: &$crate::Audience,
            ) -> Result<Option<$crate::StoredEntry>, $crate::StoreError> {
                $crate::engine::get_visible(self, key, audience).await
            }

            async fn search(
                &self,
                query: &$crate::SearchQuery,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::SearchPage, $crate::StoreError> {
                $crate::engine::search(self, query, now, $crate::SearchOptions::default()).await
            }

            async fn search_with(
                &self,
                query: &$crate::SearchQuery,
                now: chrono::DateTime<chrono::Utc>,
                options: $crate::SearchOptions,
            ) -> Result<$crate::SearchPage, $crate::StoreError> {
                $crate::engine::search(self, query, now, options).await
            }

            async fn history(
                &self,
                query: &$crate::HistoryQuery,
            ) -> Result<Vec<$crate::EntrySummary>, $crate::StoreError> {
                $crate::engine::history(self, query).await
            }

            async fn endorsers(
                &self,
                audience: &$crate::Audience,
            ) -> Result<Vec<$crate::EndorserSummary>, $crate::StoreError> {
                $crate::engine::endorsers(self, None, audience).await
            }

            async fn endorser(
                &self,
                email: &str,
                audience: &$crate::Audience,
            ) -> Result<Vec<$crate::EndorserSummary>, $crate::StoreError> {
                $crate::engine::endorsers(self, Some(email), audience).await
            }

            async fn tags(
                &self,
                email: &str,
                audience: &$crate::Audience,
            ) -> Result<Vec<String>, $crate::StoreError> {
                $crate::engine::tags(self, email, audience).await
            }

            async fn resolve_tag(
                &self,
                email: &str,
                tag: &str,
                audience: &$crate::Audience,
            ) -> Result<Option<$crate::EntryKey>, $crate::StoreError> {
                $crate::engine::resolve_tag(self, email, tag, audience).await
            }

            async fn entries_after(
                &self,
                after: Option<i64>,
                limit: u32,
            ) -> Result<Vec<$crate::StoredEntry>, $crate::StoreError> {
                $crate::engine::entries_after(self, after, limit).await
            }

            async fn rebuild_index(
                &self,
                reindex: &$crate::Reindex<'_>,
            ) -> Result<u64, $crate::StoreError> {
                $crate::engine::observe_write(
                    self,
                    $crate::engine::rebuild_index(self, reindex).await,
                )
            }

            async fn put_pending(
                &self,
                pending: $crate::PendingEntry,
            ) -> Result<(), $crate::StoreError> {
                $crate::engine::observe_write(
                    self,
                    $crate::engine::put_pending(self, pending).await,
                )
            }

            async fn get_pending(
                &self,
                token: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<$crate::PendingEntry>, $crate::StoreError> {
                $crate::engine::get_pending(self, token, now).await
            }

            async fn delete_pending(&self, token: &str) -> Result<bool, $crate::StoreError> {
                $crate::engine::observe_write(
                    self,
                    $crate::engine::delete_pending(self, token).await,
                )
            }

            async fn purge_pending(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, $crate::StoreError> {
                $crate::engine::observe_write(self, $crate::engine::purge_pending(self, now).await)
            }

            async fn count(&self) -> Result<u64, $crate::StoreError> {
                $crate::engine::count(self).await
            }

            async fn binding(
                &self,
                email: &str,
            ) -> Result<Option<$crate::EndorserBinding>, $crate::StoreError> {
                $crate::engine::binding(self, email).await
            }

            async fn rebind(
                &self,
                email: &str,
                binding: Option<$crate::EndorserBinding>,
            ) -> Result<Option<$crate::EndorserBinding>, $crate::StoreError> {
                $crate::engine::observe_write(
                    self,
                    $crate::engine::rebind(self, email, binding).await,
                )
            }

            async fn bind_unbound(
                &self,
                binding: $crate::EndorserBinding,
            ) -> Result<bool, $crate::StoreError> {
                $crate::engine::observe_write(
                    self,
                    $crate::engine::bind_unbound(self, binding).await,
                )
            }

            async fn check_integrity(
                &self,
                thorough: bool,
            ) -> Result<Vec<String>, $crate::StoreError> {
                $crate::sql::Db::integrity(self, thorough).await
            }

            async fn last_sequence(&self) -> Result<Option<i64>, $crate::StoreError> {
                $crate::engine::last_sequence(self).await
            }

            fn write_fault(&self) -> Option<String> {
                $crate::engine::Cached::caches(self).writes.fault()
            }

            async fn probe_write(&self) -> Result<(), $crate::StoreError> {
                $crate::engine::observe_write(self, $crate::engine::probe_write(self).await)
            }

            async fn unbound_endorsers(
                &self,
                limit: u32,
            ) -> Result<Vec<$crate::StoredEntry>, $crate::StoreError> {
                $crate::engine::unbound_endorsers(self, limit).await
            }
        }
    };
}
pub(crate) use impl_store;
