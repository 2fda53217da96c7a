//! [`crate::Store::search`]: three statements (total, matching, page) in
//! one read transaction, built from fixed fragments and bound values.

use chrono::{DateTime, Utc};
use marketplace_format::datetime::format_utc;

use super::{LATEST, SUMMARY_COLUMNS, summary};
use crate::StoreError;
use crate::index::{filter_key, fts5_match, text_terms};
use crate::query::{
    LocationFilter, SearchPage, SearchQuery, SortKey, StatusFilter, effective_limit,
};
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx};

/// BM25 weights of the FTS5 columns: title, description, os, os version,
/// tag, endorser.
const SQLITE_RANK: &str = "t.score";
const SQLITE_TEXT_JOIN: &str = " JOIN (SELECT rowid AS fts_seq, \
     -bm25(entries_fts, 10.0, 2.0, 4.0, 4.0, 8.0, 1.0) AS score \
     FROM entries_fts WHERE entries_fts MATCH ";
/// `ts_rank` over a vector weighted title/tag A, os B, description C,
/// endorser D.
const PG_RANK: &str = "CAST(ts_rank(e.search, tsq) AS DOUBLE PRECISION)";

fn rank_expression(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => SQLITE_RANK,
        Dialect::Postgres => PG_RANK,
    }
}

/// Appends the status condition at `now`.
fn status_condition(s: &mut Sql, status: StatusFilter, now: &str) {
    match status {
        StatusFilter::Valid => {
            s.push(" AND NOT e.deprecated AND (e.valid_at IS NULL OR e.valid_at > ")
                .text(now)
                .push(")");
        }
        StatusFilter::Expired => {
            s.push(" AND NOT e.deprecated AND e.valid_at <= ").text(now);
        }
        StatusFilter::Deprecated => {
            s.push(" AND e.deprecated");
        }
        StatusFilter::All => {}
    }
}

/// Appends an equality condition when `value` is given.
fn equal(s: &mut Sql, column: &'static str, value: Option<String>) {
    if let Some(v) = value {
        s.push(" AND ").push(column).push(" = ").text(v);
    }
}

/// A case-insensitive equality (columns hold [`filter_key`] forms). A
/// blank value matches nothing, as the column holds no blank value.
fn equal_ci(s: &mut Sql, column: &'static str, value: Option<&String>) {
    if let Some(v) = value {
        s.push(" AND ").push(column).push(" = ");
        s.bind(Arg::OptText(filter_key(v)));
    }
}

/// Appends `FROM ... WHERE ...` for every filter of `q`.
fn from_where(s: &mut Sql, q: &SearchQuery, terms: Option<&[String]>, now: &str) {
    s.push(" FROM entries e");
    if let Some(terms) = terms {
        match s.dialect {
            Dialect::Sqlite => {
                s.push(SQLITE_TEXT_JOIN)
                    .text(fts5_match(terms))
                    .push(") AS t ON t.fts_seq = e.seq");
            }
            Dialect::Postgres => {
                s.push(" CROSS JOIN plainto_tsquery('simple', ")
                    .text(terms.join(" "))
                    .push(") AS tsq");
            }
        }
    }
    s.push(" WHERE 1 = 1");
    if terms.is_some() && s.dialect == Dialect::Postgres {
        s.push(" AND e.search @@ tsq");
    }
    if q.created.is_none() {
        s.push(" AND ").push(LATEST);
    }
    equal(s, "e.identifier", q.identifier.clone());
    equal(s, "e.email", q.email.clone());
    equal(s, "e.created", q.created.clone());
    equal_ci(s, "e.os", q.os.as_ref());
    equal_ci(s, "e.os_version", q.os_version.as_ref());
    equal_ci(s, "e.os_arch", q.os_arch.as_ref());
    equal_ci(s, "e.kind_type", q.kind_type.as_ref());
    equal_ci(s, "e.format", q.format.as_ref());
    equal_ci(s, "e.hypervisor", q.hypervisor.as_ref());
    equal(s, "e.vo", q.vo.clone());
    equal(s, "e.tag", q.tag.clone());
    if let Some(t) = q.created_from {
        s.push(" AND e.created >= ").text(format_utc(t));
    }
    if let Some(t) = q.created_to {
        s.push(" AND e.created < ").text(format_utc(t));
    }
    if let Some(t) = q.valid_from {
        s.push(" AND (e.valid_at IS NULL OR e.valid_at >= ")
            .text(format_utc(t))
            .push(")");
    }
    if let Some(t) = q.valid_to {
        s.push(" AND e.valid_at < ").text(format_utc(t));
    }
    status_condition(s, q.status, now);
    match q.location {
        LocationFilter::Any => {}
        LocationFilter::Web => {
            s.push(" AND e.loc_web");
        }
        LocationFilter::Pdisk => {
            s.push(" AND e.loc_pdisk");
        }
    }
}

/// The column a sort key orders by (a fixed whitelist).
fn sort_column(key: SortKey) -> &'static str {
    match key {
        SortKey::Relevance | SortKey::Created => "e.created",
        SortKey::Title => "e.title_key",
        SortKey::Os => "e.os",
        SortKey::OsVersion => "e.os_version",
        SortKey::OsArch => "e.os_arch",
        SortKey::Endorser => "e.email",
        SortKey::Identifier => "e.identifier",
        SortKey::Valid => "e.valid_at",
    }
}

fn order_by(s: &mut Sql, q: &SearchQuery, ranked: bool) {
    match q.sort {
        SortKey::Relevance if ranked => {
            let rank = rank_expression(s.dialect);
            s.push(" ORDER BY ").push(rank).push(" DESC");
        }
        SortKey::Relevance => {
            s.push(" ORDER BY e.created DESC");
        }
        key => {
            let column = sort_column(key);
            s.push(" ORDER BY CASE WHEN ")
                .push(column)
                .push(" IS NULL THEN 1 ELSE 0 END, ")
                .push(column)
                .push(if q.descending { " DESC" } else { " ASC" });
        }
    }
    s.push(", e.created DESC, e.seq DESC");
}

async fn count<T: Tx>(tx: &mut T, s: Sql) -> Result<u64, StoreError> {
    let n = tx.fetch(s).await?.first().map(|r| r.int(0)).transpose()?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// [`crate::Store::search`].
pub(crate) async fn search<D: Db>(
    db: &D,
    q: &SearchQuery,
    now: DateTime<Utc>,
) -> Result<SearchPage, StoreError> {
    let d = D::DIALECT;
    let terms = text_terms(q.text.as_deref())?;
    let terms = terms.as_deref();
    let offset = i64::try_from(q.offset)
        .map_err(|_| StoreError::InvalidQuery(format!("offset {} is too large", q.offset)))?;
    let limit = effective_limit(q.limit);
    let now_text = format_utc(now);

    let mut total = Sql::new(d);
    total
        .push("SELECT COUNT(*) FROM entries e WHERE ")
        .push(LATEST);
    status_condition(&mut total, q.status, &now_text);

    let mut matching = Sql::new(d);
    matching.push("SELECT COUNT(*)");
    from_where(&mut matching, q, terms, &now_text);

    let mut page = Sql::new(d);
    page.push(SUMMARY_COLUMNS).push(LATEST);
    if terms.is_some() {
        page.push(", ").push(rank_expression(d));
    }
    from_where(&mut page, q, terms, &now_text);
    order_by(&mut page, q, terms.is_some());
    page.push(" LIMIT ")
        .int(limit.into())
        .push(" OFFSET ")
        .int(offset);

    let mut tx = db.begin_read().await?;
    let total = count(&mut tx, total).await?;
    let matching = count(&mut tx, matching).await?;
    let rows = if matching > q.offset {
        tx.fetch(page).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    let entries = rows
        .iter()
        .map(|r| summary(r, now, terms.is_some()))
        .collect::<Result<_, _>>()?;
    Ok(SearchPage {
        total,
        matching,
        entries,
    })
}
