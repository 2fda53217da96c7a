//! [`crate::Store::search_with`]: in one read transaction, the page, then
//! (only when the page does not tell) the number of matching entries, the
//! total when asked, and the documents of the page when asked; built from
//! fixed fragments and bound values.

use chrono::{DateTime, Utc};
use marketplace_format::datetime::format_utc;

use super::Cached;
use super::columns::{LATEST, SUMMARY_COLUMNS, SUMMARY_SEQ, summary};
use super::documents::{by_sequence, in_order, page_documents, signed_document, within_budget};
use super::kept::{Kept, Version, Window, version, window};
use super::visibility::{E, check_audience, visible_condition};
use crate::StoreError;
use crate::index::{filter_key, fts5_match, text_terms};
use crate::model::EntrySummary;
use crate::query::{
    Audience, LocationFilter, SearchOptions, SearchPage, SearchQuery, SortKey, StatusFilter,
    effective_limit,
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
    // The audience's entries only; with the latest flag above, a pair
    // whose latest entry is hidden is left out altogether.
    visible_condition(s, E, &q.audience);
    equal(s, "e.identifier", q.identifier.clone());
    equal(s, "e.email", q.email.clone());
    equal(s, "e.created", q.created.clone());
    equal_ci(s, "e.os", q.os.as_ref());
    equal_ci(s, "e.os_version", q.os_version.as_ref());
    equal_ci(s, "e.os_arch", q.os_arch.as_ref());
    equal_ci(s, "e.kind_type", q.kind_type.as_ref());
    equal_ci(s, "e.kind", q.kind.as_ref());
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

/// Whether a listing sorted by `sort` (without text) sorts every match:
/// the keys that may be NULL, ordered NULLs last, which no index gives
/// ([`order_by`]'s last arm). Such pages are kept like text searches
/// ([`super::search_cache`]).
pub(crate) fn sorts_every_match(sort: SortKey) -> bool {
    matches!(
        sort,
        SortKey::Title | SortKey::Os | SortKey::OsVersion | SortKey::OsArch | SortKey::Valid
    )
}

/// Appends the ORDER BY of `q`. Ties are broken by newest `created`, then
/// newest acceptance; the columns that are never NULL (created,
/// identifier, e-mail) need no NULLs-last term, so that an index can give
/// their order.
fn order_by(s: &mut Sql, q: &SearchQuery, ranked: bool) {
    let direction = if q.descending { " DESC" } else { " ASC" };
    match q.sort {
        SortKey::Relevance if ranked => {
            let rank = rank_expression(s.dialect);
            s.push(" ORDER BY ").push(rank).push(" DESC, ");
        }
        SortKey::Relevance => {
            s.push(" ORDER BY ");
        }
        SortKey::Created if q.descending => {
            s.push(" ORDER BY ");
        }
        SortKey::Created => {
            s.push(" ORDER BY e.created ASC, ");
        }
        SortKey::Identifier | SortKey::Endorser => {
            s.push(" ORDER BY ")
                .push(sort_column(q.sort))
                .push(direction)
                .push(", ");
        }
        key => {
            let column = sort_column(key);
            s.push(" ORDER BY CASE WHEN ")
                .push(column)
                .push(" IS NULL THEN 1 ELSE 0 END, ")
                .push(column)
                .push(direction)
                .push(", ");
        }
    }
    s.push("e.created DESC, e.seq DESC");
}

/// The catalogue totals ([`SearchPage::total`]) a store process counted,
/// one per (status filter, audience). A total changes only when an entry
/// is accepted (the newest sequence grows), when a rebuild re-derives the
/// fields, visibility included (the generation grows), or when the instant
/// passes an expiry; a total is reused while none of these happened, so a
/// search costs one cheap version query instead of a count over the whole
/// catalogue. At most [`TOTAL_CACHE_ENTRIES`] totals are kept (the least
/// recently used goes first).
#[derive(Debug)]
pub(crate) struct TotalCache(Kept<(usize, Audience), u64>);

impl Default for TotalCache {
    fn default() -> Self {
        TotalCache(Kept::new(TOTAL_CACHE_ENTRIES))
    }
}

/// The most totals a [`TotalCache`] keeps.
const TOTAL_CACHE_ENTRIES: usize = 256;

fn status_slot(status: StatusFilter) -> usize {
    match status {
        StatusFilter::Valid => 0,
        StatusFilter::Expired => 1,
        StatusFilter::Deprecated => 2,
        StatusFilter::All => 3,
    }
}

/// The total of latest entries with `status` at `now` that `audience` may
/// see, from the cache when it holds, else counted (and cached) in the
/// caller's snapshot.
async fn total<T: Tx>(
    tx: &mut T,
    d: Dialect,
    cache: &TotalCache,
    status: StatusFilter,
    audience: &Audience,
    now: &str,
) -> Result<u64, StoreError> {
    let version = version(tx, d).await?;
    let slot = (status_slot(status), audience.clone());
    if let Some(total) = cache.0.get(&slot, version, now) {
        return Ok(total);
    }
    let mut s = Sql::new(d);
    s.push("SELECT COUNT(*) FROM entries e WHERE ").push(LATEST);
    visible_condition(&mut s, E, audience);
    status_condition(&mut s, status, now);
    let total = count(tx, s).await?;
    // The expiries around `now` of every latest entry whoever sees it: a
    // window at least as narrow as the audience's own.
    let window = match status {
        StatusFilter::Valid | StatusFilter::Expired => window(tx, d, now).await?,
        StatusFilter::Deprecated | StatusFilter::All => Window::default(),
    };
    cache.0.put(slot, version, window, total);
    Ok(total)
}

async fn count<T: Tx>(tx: &mut T, s: Sql) -> Result<u64, StoreError> {
    let n = tx.fetch(s).await?.first().map(|r| r.int(0)).transpose()?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// Whether `q` filters on the status only (and the audience, which the
/// total shares), so that the entries matching it are those
/// [`SearchPage::total`] counts.
fn is_catalogue(q: &SearchQuery) -> bool {
    let SearchQuery {
        audience: _,
        text,
        identifier,
        email,
        created,
        os,
        os_version,
        os_arch,
        kind_type,
        kind,
        format,
        hypervisor,
        vo,
        tag,
        created_from,
        created_to,
        valid_from,
        valid_to,
        status: _,
        location,
        sort: _,
        descending: _,
        offset: _,
        limit: _,
    } = q;
    [
        text, identifier, email, created, os, os_version, os_arch, kind_type, kind, format,
        hypervisor, vo, tag,
    ]
    .iter()
    .all(|v| v.is_none())
        && [created_from, created_to, valid_from, valid_to]
            .iter()
            .all(|v| v.is_none())
        && *location == LocationFilter::Any
}

/// How many entries match, when a page with `shown` rows at `offset` (of
/// at most `limit`) tells: a page that is neither empty nor full ends the
/// result, and so does an empty first page.
fn matching_from_page(shown: usize, limit: u32, offset: u64) -> Option<u64> {
    let shown = shown as u64;
    ((shown > 0 && shown < u64::from(limit)) || (shown == 0 && offset == 0))
        .then_some(offset + shown)
}

/// [`crate::Store::search_with`] ([`crate::Store::search`] with the
/// default options).
///
/// Without text and without the total (a lookup), one statement usually
/// does ([`one_statement`]): the page, with the documents when the query
/// names an image (a few rows), and the count when the page tells it;
/// only otherwise is the search redone in a read transaction
/// ([`in_snapshot`]). Without text, one statement gives the page (an index
/// can give the order and stop early). With text, every match has to be
/// ranked anyway: a narrow statement ranks them and counts them in the
/// same pass (`COUNT(*) OVER ()`), and a second one reads the page's
/// entries.
///
/// With `seen`, a search that runs in a read transaction also records the
/// version and expiry window of its snapshot there
/// ([`super::search_cache`]).
pub(crate) async fn search<D: Cached>(
    db: &D,
    q: &SearchQuery,
    now: DateTime<Utc>,
    options: SearchOptions,
    seen: Option<&mut Option<(Version, Window)>>,
) -> Result<SearchPage, StoreError> {
    let plan = Plan::of(q, now)?;
    if !plan.narrow
        && !options.total
        && let Some(page) = one_statement(db, &plan, options).await?
    {
        return Ok(page);
    }
    in_snapshot(db, &plan, options, seen).await
}

/// A search checked and ready to run.
struct Plan<'q> {
    /// The query.
    q: &'q SearchQuery,
    /// The instant statuses are computed at.
    now: DateTime<Utc>,
    /// `now` as stored text.
    now_text: String,
    /// The full-text terms, if any.
    terms: Option<Vec<String>>,
    /// The page size.
    limit: u32,
    /// Whether a narrow statement orders the sequences alone (a sorter
    /// row of a few bytes instead of the whole summary), the page's rows
    /// being read afterwards: text ranks every match, and some sort keys
    /// sort every match.
    narrow: bool,
}

impl<'q> Plan<'q> {
    /// Checks `q` (audience, text, offset).
    fn of(q: &'q SearchQuery, now: DateTime<Utc>) -> Result<Plan<'q>, StoreError> {
        check_audience(&q.audience)?;
        let terms = text_terms(q.text.as_deref())?;
        if i64::try_from(q.offset).is_err() {
            return Err(StoreError::InvalidQuery(format!(
                "offset {} is too large",
                q.offset
            )));
        }
        let narrow = terms.is_some() || sorts_every_match(q.sort);
        Ok(Plan {
            q,
            now,
            now_text: format_utc(now),
            terms,
            limit: effective_limit(q.limit),
            narrow,
        })
    }

    /// The full-text terms, if any.
    fn terms(&self) -> Option<&[String]> {
        self.terms.as_deref()
    }

    /// Appends the ORDER BY, LIMIT and OFFSET of the page.
    fn paged(&self, s: &mut Sql) {
        order_by(s, self.q, self.terms.is_some());
        s.push(" LIMIT ")
            .count_literal(self.limit.into())
            .push(" OFFSET ")
            .count_literal(self.q.offset);
    }

    /// How many entries match, when the page of `shown` rows tells.
    fn matching_from_page(&self, shown: usize) -> Option<u64> {
        matching_from_page(shown, self.limit, self.q.offset)
    }
}

/// The page of a search without text, without a sort of every match and
/// without the total, in one statement (its own snapshot), when the page
/// tells how many entries match; `None` otherwise. With the documents of
/// one image and no summaries (a site's check), the statement reads the
/// lookup index and the documents only.
async fn one_statement<D: Db>(
    db: &D,
    plan: &Plan<'_>,
    options: SearchOptions,
) -> Result<Option<SearchPage>, StoreError> {
    let q = plan.q;
    let with_documents = options.documents && q.identifier.is_some();
    let mut page = Sql::new(D::DIALECT);
    let seq_at = if options.summaries {
        page.push(SUMMARY_COLUMNS);
        SUMMARY_SEQ
    } else {
        page.push("SELECT e.seq");
        0
    };
    if with_documents {
        page.push(", e.document_sha256, (SELECT x.document FROM documents x WHERE x.seq = e.seq)");
    }
    from_where(&mut page, q, None, &plan.now_text);
    plan.paged(&mut page);
    let mut rows = db.fetch(page).await?;
    let Some(matching) = plan.matching_from_page(rows.len()) else {
        return Ok(None);
    };
    let entries = if options.summaries {
        rows.iter()
            .map(|r| summary(r, plan.now))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    let (documents, documents_left_out) = if with_documents {
        // One image's documents, read with the page: the budget bounds the
        // response.
        let documents = rows
            .iter_mut()
            .map(|r| signed_document(r, seq_at + 1))
            .collect::<Result<Vec<_>, _>>()?;
        within_budget(documents, options.document_budget)
    } else if options.documents {
        let seqs = rows
            .iter()
            .map(|r| r.int(seq_at))
            .collect::<Result<Vec<_>, _>>()?;
        page_documents(db, &seqs, options.document_budget).await?
    } else {
        (Vec::new(), 0)
    };
    Ok(Some(SearchPage {
        total: 0,
        matching,
        entries,
        documents,
        documents_left_out,
    }))
}

/// The page statement of [`in_snapshot`]: the sequences with their rank
/// and the number of matches (text), the sequences alone (a sort of every
/// match), or the summaries.
fn snapshot_page(d: Dialect, plan: &Plan<'_>) -> Sql {
    let mut page = Sql::new(d);
    if plan.terms.is_some() {
        page.push("SELECT e.seq, ")
            .push(rank_expression(d))
            .push(", COUNT(*) OVER ()");
    } else if plan.narrow {
        page.push("SELECT e.seq");
    } else {
        page.push(SUMMARY_COLUMNS);
    }
    from_where(&mut page, plan.q, plan.terms(), &plan.now_text);
    plan.paged(&mut page);
    page
}

/// A search in one read transaction: the page, then (only when the page
/// does not tell) the number of matching entries, the page's summaries
/// (after a narrow statement), the total when asked, and the version and
/// window of the snapshot for `seen`; the documents of the page when
/// asked, after the transaction.
async fn in_snapshot<D: Cached>(
    db: &D,
    plan: &Plan<'_>,
    options: SearchOptions,
    seen: Option<&mut Option<(Version, Window)>>,
) -> Result<SearchPage, StoreError> {
    let d = D::DIALECT;
    let q = plan.q;
    let page = snapshot_page(d, plan);
    let totals = &db.caches().totals;
    let mut tx = db.begin_read().await?;
    let rows = tx.fetch(page).await?;
    let counted = match (plan.terms(), rows.first()) {
        (Some(_), Some(first)) => Some(u64::try_from(first.int(2)?).unwrap_or(0)),
        _ => None,
    };
    let matching = match counted.or_else(|| plan.matching_from_page(rows.len())) {
        Some(n) => n,
        // The whole catalogue with a status: what the total counts.
        None if is_catalogue(q) => {
            total(&mut tx, d, totals, q.status, &q.audience, &plan.now_text).await?
        }
        None => {
            let mut matching = Sql::new(d);
            matching.push("SELECT COUNT(*)");
            from_where(&mut matching, q, plan.terms(), &plan.now_text);
            count(&mut tx, matching).await?
        }
    };
    let seqs = rows
        .iter()
        .map(|r| r.int(if plan.narrow { 0 } else { SUMMARY_SEQ }))
        .collect::<Result<Vec<_>, _>>()?;
    let entries = if options.summaries {
        snapshot_entries(&mut tx, d, plan, &rows, &seqs).await?
    } else {
        // Documents alone: no entry is decoded.
        Vec::new()
    };
    let total = if options.total {
        total(&mut tx, d, totals, q.status, &q.audience, &plan.now_text).await?
    } else {
        0
    };
    if let Some(seen) = seen {
        *seen = Some((
            version(&mut tx, d).await?,
            window(&mut tx, d, &plan.now_text).await?,
        ));
    }
    tx.commit().await?;
    let (documents, documents_left_out) = if options.documents {
        page_documents(db, &seqs, options.document_budget).await?
    } else {
        (Vec::new(), 0)
    };
    Ok(SearchPage {
        total,
        matching,
        entries,
        documents,
        documents_left_out,
    })
}

/// The summaries of the page `rows` of [`snapshot_page`] (entries `seqs`):
/// read by sequence after a narrow statement, with the rank of a text
/// search, else decoded from the rows.
async fn snapshot_entries<T: Tx>(
    tx: &mut T,
    d: Dialect,
    plan: &Plan<'_>,
    rows: &[T::Row],
    seqs: &[i64],
) -> Result<Vec<EntrySummary>, StoreError> {
    let mut entries = Vec::with_capacity(rows.len());
    if !plan.narrow {
        for r in rows {
            entries.push(summary(r, plan.now)?);
        }
    } else if let Some(s) = by_sequence(d, SUMMARY_COLUMNS, "entries e", seqs) {
        let found = in_order(tx.fetch(s).await?, seqs, |r| r.int(SUMMARY_SEQ))?;
        for (r, ranked) in found.iter().zip(rows) {
            let mut e = summary(r, plan.now)?;
            if plan.terms.is_some() {
                e.rank = ranked.opt_float(1)?;
            }
            entries.push(e);
        }
    }
    Ok(entries)
}
