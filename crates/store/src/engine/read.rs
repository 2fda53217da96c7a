//! The reads of entries by coordinates, by sequence, by pair (history),
//! and of an endorser's tags; the counts.

use chrono::Utc;
use marketplace_format::datetime::format_utc;

use super::columns::{LATEST, SUMMARY_COLUMNS, summary};
use super::visibility::{Alias, E, check_audience, visible_condition};
use crate::StoreError;
use crate::model::{EntryKey, EntrySummary, NewEntry, StoredEntry};
use crate::query::{Audience, HistoryOrder, HistoryQuery, MAX_UNPAGED_ROWS, effective_limit};
use crate::sql::{Db, RowRead, Sql};

/// The columns [`stored`] reads.
const STORED_COLUMNS: &str = "SELECT e.seq, e.accepted_at, e.identifier, e.email, e.created, \
     d.document, e.metadata, e.signer FROM entries e JOIN documents d ON d.seq = e.seq";

/// Reads a stored entry from [`STORED_COLUMNS`].
fn stored<R: RowRead>(r: &R) -> Result<StoredEntry, StoreError> {
    Ok(StoredEntry {
        sequence: r.int(0)?,
        accepted_at: r.time(1)?,
        entry: NewEntry {
            key: r.key(2)?,
            document: r.bytes(5)?,
            metadata: r.json(6)?,
            signer: r.json(7)?,
        },
    })
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
    db.fetch(s).await?.first().map(|r| r.key(0)).transpose()
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
