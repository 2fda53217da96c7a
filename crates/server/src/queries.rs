//! The read queries of each resource, once: the XML routes, the JSON API
//! and the HTML pages all ask the store through these, so that a page and
//! the API never disagree about what "an image's endorsements" or "an
//! endorser's recent entries" are. Each takes the caller's audience, so
//! restricted entries reach only those who may see them.

use crate::http::error::AppError;
use crate::runtime::state::AppState;
use chrono::{DateTime, Duration, Utc};
use marketplace_store::{
    Audience, EntrySummary, HistoryQuery, MAX_LIMIT, SearchQuery, SortKey, StatusFilter,
};

/// The latest entry of each endorser of `identifier` (any status), or of
/// the one endorser `email`, that `audience` may see, sorted by endorser.
pub(crate) async fn image_endorsements(
    state: &AppState,
    audience: &Audience,
    identifier: &str,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<EntrySummary>, AppError> {
    let query = SearchQuery {
        audience: audience.clone(),
        identifier: Some(identifier.to_string()),
        email: email.map(str::to_string),
        status: StatusFilter::All,
        sort: SortKey::Endorser,
        limit: MAX_LIMIT,
        ..SearchQuery::default()
    };
    Ok(state.store.search(&query, now).await?.entries)
}

/// Every entry of `identifier` (each endorser's timeline) that `audience`
/// may see, at most `limit`.
pub(crate) async fn image_history(
    state: &AppState,
    audience: &Audience,
    identifier: &str,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<EntrySummary>, AppError> {
    let query = HistoryQuery {
        audience: audience.clone(),
        identifier: Some(identifier.to_string()),
        now: Some(now),
        limit,
        ..HistoryQuery::default()
    };
    Ok(state.store.history(&query).await?)
}

/// The entries of endorser `email` that `audience` may see, at most
/// `limit`; only those of the last `days` days when given.
pub(crate) async fn endorser_history(
    state: &AppState,
    audience: &Audience,
    email: &str,
    days: Option<u32>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<EntrySummary>, AppError> {
    let query = HistoryQuery {
        audience: audience.clone(),
        email: Some(email.to_string()),
        since: days.and_then(|d| now.checked_sub_signed(Duration::days(i64::from(d)))),
        now: Some(now),
        limit,
        ..HistoryQuery::default()
    };
    Ok(state.store.history(&query).await?)
}
