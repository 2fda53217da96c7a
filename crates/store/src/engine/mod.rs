//! The store operations, written once over [`Db`] for both back ends. The
//! back ends differ only in connection handling, placeholders, the lock
//! taken by a put, and how full text is indexed (SQLite FTS5 rows written
//! here; a PostgreSQL generated tsvector column).

mod search;

use chrono::{DateTime, Utc};
use marketplace_format::datetime::format_utc;

pub(crate) use search::search;

use crate::index::Indexed;
use crate::model::{EntryKey, EntrySummary, NewEntry, PendingEntry, Status, StoredEntry};
use crate::query::{EndorserSummary, HistoryQuery, MAX_UNPAGED_ROWS, effective_limit};
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx};
use crate::{PutOutcome, StoreError};

/// True when no entry of the same (identifier, email) is newer than `e`.
pub(crate) const LATEST: &str = "NOT EXISTS (SELECT 1 FROM entries n \
     WHERE n.identifier = e.identifier AND n.email = e.email AND n.created > e.created)";

/// The columns [`summary`] reads (then, optionally, a rank).
pub(crate) const SUMMARY_COLUMNS: &str = "SELECT e.identifier, e.email, e.created, e.metadata, \
     e.signer, e.accepted_at, ";

/// Advisory-lock key serialising PostgreSQL inserts, so that sequence
/// order is commit order (feeds reading by sequence never skip an entry).
const PG_SEQUENCE_LOCK: i64 = 0x6d6b_7470_6c61_6365;

/// Rows read per batch by [`rebuild_index`].
const REBUILD_BATCH: i64 = 256;

/// Reads a summary from [`SUMMARY_COLUMNS`] + latest (+ rank at 7).
pub(crate) fn summary<R: RowRead>(
    r: &R,
    now: DateTime<Utc>,
    with_rank: bool,
) -> Result<EntrySummary, StoreError> {
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
        rank: if with_rank { r.opt_float(7)? } else { None },
    })
}

/// Appends `e.identifier = ? AND e.email = ? AND e.created = ?`.
fn key_condition(s: &mut Sql, key: &EntryKey) {
    s.push("identifier = ")
        .text(&key.identifier)
        .push(" AND email = ")
        .text(&key.email)
        .push(" AND created = ")
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
     os_arch, kind_type, format, hypervisor, tag, vo, valid_at, deprecated, loc_web, loc_pdisk, \
     signer_subject, signer_issuer, endorser_text";

/// Writes the FTS5 row of entry `seq` (SQLite only; PostgreSQL derives its
/// tsvector column itself).
async fn index_text<T: Tx>(
    tx: &mut T,
    dialect: Dialect,
    seq: i64,
    ix: &Indexed,
) -> Result<(), StoreError> {
    if dialect != Dialect::Sqlite {
        return Ok(());
    }
    let mut s = Sql::new(dialect);
    s.push(
        "INSERT INTO entries_fts (rowid, title, description, os, os_version, tag, endorser) \
         VALUES (",
    )
    .int(seq)
    .push(", ");
    for (i, v) in [&ix.title, &ix.description, &ix.os, &ix.os_version, &ix.tag]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            s.push(", ");
        }
        s.bind(Arg::OptText(v.clone()));
    }
    s.push(", ").text(&ix.endorser_text).push(")");
    tx.execute(s).await?;
    Ok(())
}

/// [`crate::Store::put`].
pub(crate) async fn put<D: Db>(db: &D, entry: NewEntry) -> Result<PutOutcome, StoreError> {
    let d = D::DIALECT;
    let ix = Indexed::of(&entry)?;
    let key = &entry.key;
    let mut tx = db.begin_write().await?;
    if d == Dialect::Postgres {
        let mut s = Sql::new(d);
        s.push("SELECT pg_advisory_xact_lock(hashtextextended(")
            .text(format!("{}/{}", key.identifier, key.email))
            .push(", 0))");
        tx.execute(s).await?;
    }

    let mut s = Sql::new(d);
    s.push("SELECT document_sha256 FROM entries WHERE ");
    key_condition(&mut s, key);
    if let Some(row) = tx.fetch(s).await?.first() {
        return if row.text(0)? == ix.document_sha256 {
            Ok(PutOutcome::AlreadyPresent)
        } else {
            Err(StoreError::Conflict(key.clone()))
        };
    }

    let mut s = Sql::new(d);
    s.push("SELECT MAX(created) FROM entries WHERE identifier = ")
        .text(&key.identifier)
        .push(" AND email = ")
        .text(&key.email);
    let latest = match tx.fetch(s).await?.first() {
        Some(row) => row.opt_text(0)?,
        None => None,
    };
    if let Some(latest) = latest
        && latest.as_str() > key.created.as_str()
    {
        return Err(StoreError::OlderThanLatest { latest });
    }

    if d == Dialect::Postgres {
        let mut s = Sql::new(d);
        s.push("SELECT pg_advisory_xact_lock(")
            .int(PG_SEQUENCE_LOCK)
            .push(")");
        tx.execute(s).await?;
    }
    let accepted_at = DateTime::from_timestamp_micros(Utc::now().timestamp_micros())
        .ok_or_else(|| StoreError::Backend("clock out of range".into()))?;
    let mut s = Sql::new(d);
    s.push(
        "INSERT INTO entries (identifier, email, created, document, document_sha256, accepted_at, ",
    )
    .push(INDEXED_COLUMNS)
    .push(") VALUES (")
    .text(&key.identifier)
    .push(", ")
    .text(&key.email)
    .push(", ")
    .text(&key.created)
    .push(", ")
    .bind(Arg::Bytes(entry.document.clone()))
    .push(", ")
    .text(&ix.document_sha256)
    .push(", ")
    .bind(Arg::Time(accepted_at))
    .push(", ");
    indexed_values(&mut s, &ix);
    s.push(") RETURNING seq");
    let rows = tx.fetch(s).await?;
    let seq = rows
        .first()
        .ok_or_else(|| StoreError::Backend("insert returned no sequence".into()))?
        .int(0)?;
    index_text(&mut tx, d, seq, &ix).await?;
    tx.commit().await?;
    Ok(PutOutcome::Created)
}

/// The columns [`stored`] reads.
const STORED_COLUMNS: &str =
    "SELECT seq, accepted_at, identifier, email, created, document, metadata, signer FROM entries";

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

/// [`crate::Store::entries_after`].
pub(crate) async fn entries_after<D: Db>(
    db: &D,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<StoredEntry>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(STORED_COLUMNS)
        .push(" WHERE seq > ")
        .int(after.unwrap_or(i64::MIN))
        .push(" ORDER BY seq LIMIT ")
        .int(effective_limit(limit).into());
    db.fetch(s).await?.iter().map(stored).collect()
}

/// [`crate::Store::history`].
pub(crate) async fn history<D: Db>(
    db: &D,
    q: &HistoryQuery,
) -> Result<Vec<EntrySummary>, StoreError> {
    let now = q.now.unwrap_or_else(Utc::now);
    let mut s = Sql::new(D::DIALECT);
    s.push(SUMMARY_COLUMNS)
        .push(LATEST)
        .push(" FROM entries e WHERE 1 = 1");
    if let Some(identifier) = &q.identifier {
        s.push(" AND e.identifier = ").text(identifier);
    }
    if let Some(email) = &q.email {
        s.push(" AND e.email = ").text(email);
    }
    if let Some(since) = q.since {
        s.push(" AND e.created >= ").text(format_utc(since));
    }
    s.push(" ORDER BY e.created DESC, e.seq DESC LIMIT ")
        .int(effective_limit(q.limit).into());
    db.fetch(s)
        .await?
        .iter()
        .map(|r| summary(r, now, false))
        .collect()
}

/// [`crate::Store::endorsers`].
pub(crate) async fn endorsers<D: Db>(db: &D) -> Result<Vec<EndorserSummary>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(
        "SELECT email, signer_subject, signer_issuer, COUNT(*), MAX(created) FROM entries \
         GROUP BY email, signer_subject, signer_issuer \
         ORDER BY email, signer_subject, signer_issuer LIMIT ",
    )
    .int(MAX_UNPAGED_ROWS.into());
    db.fetch(s)
        .await?
        .iter()
        .map(|r| {
            Ok(EndorserSummary {
                email: r.text(0)?,
                subject: r.text(1)?,
                issuer: r.text(2)?,
                entries: u64::try_from(r.int(3)?).unwrap_or(0),
                latest: r.text(4)?,
            })
        })
        .collect()
}

/// [`crate::Store::tags`].
pub(crate) async fn tags<D: Db>(db: &D, email: &str) -> Result<Vec<String>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("SELECT DISTINCT tag FROM entries WHERE email = ")
        .text(email)
        .push(" AND tag IS NOT NULL AND tag <> '' ORDER BY tag LIMIT ")
        .int(MAX_UNPAGED_ROWS.into());
    db.fetch(s).await?.iter().map(|r| r.text(0)).collect()
}

/// [`crate::Store::resolve_tag`].
pub(crate) async fn resolve_tag<D: Db>(
    db: &D,
    email: &str,
    tag: &str,
) -> Result<Option<EntryKey>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(
        "SELECT t.identifier, t.email, MAX(t.created) AS newest FROM entries t WHERE t.email = ",
    )
    .text(email)
    .push(" AND t.tag = ")
    .text(tag)
    .push(
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
    let mut after = i64::MIN;
    let mut done = 0u64;
    loop {
        let mut s = Sql::new(d);
        s.push("SELECT seq, identifier, email, created, document FROM entries WHERE seq > ")
            .int(after)
            .push(" ORDER BY seq LIMIT ")
            .int(REBUILD_BATCH);
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
            if fresh.key != key {
                return Err(StoreError::Reindex {
                    sequence,
                    message: format!(
                        "the document now reads as {}, it is stored as {key}",
                        fresh.key
                    ),
                });
            }
            let ix = Indexed::of(&NewEntry { document, ..fresh })?;
            let mut s = Sql::new(d);
            s.push("UPDATE entries SET (")
                .push(INDEXED_COLUMNS)
                .push(") = (");
            indexed_values(&mut s, &ix);
            s.push(") WHERE seq = ").int(sequence);
            tx.execute(s).await?;
            index_text(&mut tx, d, sequence, &ix).await?;
            after = sequence;
            done += 1;
        }
    }
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

/// [`crate::Store::put_pending`].
pub(crate) async fn put_pending<D: Db>(db: &D, p: PendingEntry) -> Result<(), StoreError> {
    let e = &p.entry;
    let json = |r: serde_json::Result<String>| {
        r.map_err(|e| StoreError::Backend(format!("cannot serialise pending entry: {e}")))
    };
    let mut s = Sql::new(D::DIALECT);
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
    if db.execute(s).await? == 0 {
        return Err(StoreError::InvalidQuery(
            "pending token already in use".into(),
        ));
    }
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
                $crate::engine::put(self, entry).await
            }

            async fn get(
                &self,
                key: &$crate::EntryKey,
            ) -> Result<Option<$crate::StoredEntry>, $crate::StoreError> {
                $crate::engine::get(self, key).await
            }

            async fn search(
                &self,
                query: &$crate::SearchQuery,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::SearchPage, $crate::StoreError> {
                $crate::engine::search(self, query, now).await
            }

            async fn history(
                &self,
                query: &$crate::HistoryQuery,
            ) -> Result<Vec<$crate::EntrySummary>, $crate::StoreError> {
                $crate::engine::history(self, query).await
            }

            async fn endorsers(&self) -> Result<Vec<$crate::EndorserSummary>, $crate::StoreError> {
                $crate::engine::endorsers(self).await
            }

            async fn tags(&self, email: &str) -> Result<Vec<String>, $crate::StoreError> {
                $crate::engine::tags(self, email).await
            }

            async fn resolve_tag(
                &self,
                email: &str,
                tag: &str,
            ) -> Result<Option<$crate::EntryKey>, $crate::StoreError> {
                $crate::engine::resolve_tag(self, email, tag).await
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
                $crate::engine::rebuild_index(self, reindex).await
            }

            async fn put_pending(
                &self,
                pending: $crate::PendingEntry,
            ) -> Result<(), $crate::StoreError> {
                $crate::engine::put_pending(self, pending).await
            }

            async fn get_pending(
                &self,
                token: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<$crate::PendingEntry>, $crate::StoreError> {
                $crate::engine::get_pending(self, token, now).await
            }

            async fn delete_pending(&self, token: &str) -> Result<bool, $crate::StoreError> {
                $crate::engine::delete_pending(self, token).await
            }

            async fn purge_pending(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, $crate::StoreError> {
                $crate::engine::purge_pending(self, now).await
            }

            async fn count(&self) -> Result<u64, $crate::StoreError> {
                $crate::engine::count(self).await
            }
        }
    };
}
pub(crate) use impl_store;
