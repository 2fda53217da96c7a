//! An endorser's page (the HTML of `GET /endorsers/{email}?range=DAYS`):
//! the certificates it signed with, its current entries, its history over
//! the last DAYS days (as the original page) and its tags — of the entries
//! the caller may see (an endorser whose every entry is hidden looks like an
//! unknown one).

use super::{EntryView, base};
use crate::auth::identity::Caller;
use crate::http::error::AppError;
use crate::queries;
use crate::render::escape::path_segment;
use crate::render::html;
use crate::render::listing::{DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS};
use crate::runtime::state::AppState;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use marketplace_store::{EndorserSummary, MAX_LIMIT, SearchQuery, SortKey, StatusFilter};

/// The history ranges offered, in days.
pub(crate) const RANGES: [u32; 4] = [30, 90, 365, 3650];

/// The endorser page.
#[derive(Template)]
#[template(path = "endorser.html")]
pub(crate) struct EndorserPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// The endorser.
    pub email: String,
    /// The certificates it signed with.
    pub certificates: Vec<EndorserSummary>,
    /// Entries in all.
    pub entries: u64,
    /// Its latest entry of each image (any status).
    pub images: Vec<EntryView>,
    /// Whether `images` was cut at the store's limit.
    pub images_cut: bool,
    /// Range choices: days, label, selected.
    pub ranges: Vec<(u32, String, bool)>,
    /// Entries of the last `range` days, newest first.
    pub history: Vec<EntryView>,
    /// Each tag with the link to the entry it resolves to.
    pub tags: Vec<(String, String)>,
    /// Search for this endorser's current images.
    pub search_href: String,
    /// The endorser's Atom feed.
    pub feed_href: String,
}

fn range_label(days: u32) -> String {
    match days {
        365 => "last year".into(),
        3650 => "last 10 years".into(),
        d => format!("last {d} days"),
    }
}

/// The endorser page of `email` with `range` days of history (the
/// original's parameter: missing or not a number means 30).
pub(crate) async fn page(
    state: &AppState,
    caller: &Caller,
    email: &str,
    range: Option<&str>,
) -> Result<Response, AppError> {
    let audience = caller.audience();
    let range = range
        .and_then(|r| r.trim().parse::<u32>().ok())
        .unwrap_or(DEFAULT_RANGE_DAYS)
        .min(MAX_RANGE_DAYS);
    let now = state.clock.now();
    let certificates = state.store.endorser(email, &audience).await?;
    let search = state
        .store
        .search(
            &SearchQuery {
                audience: audience.clone(),
                email: Some(email.to_string()),
                status: StatusFilter::All,
                sort: SortKey::Created,
                descending: true,
                limit: MAX_LIMIT,
                ..SearchQuery::default()
            },
            now,
        )
        .await?;
    let history =
        queries::endorser_history(state, &audience, email, Some(range), MAX_LIMIT, now).await?;
    let segment = path_segment(email);
    let tags = state
        .store
        .tags(email, &audience)
        .await?
        .into_iter()
        .map(|t| {
            let href = format!("tag/{segment}/{}", path_segment(&t));
            (t, href)
        })
        .collect();
    let mut ranges: Vec<(u32, String, bool)> = RANGES
        .iter()
        .map(|d| (*d, range_label(*d), *d == range))
        .collect();
    if !RANGES.contains(&range) {
        ranges.push((range, range_label(range), true));
    }
    let page = EndorserPage {
        base: base(state),
        email: email.to_string(),
        entries: certificates.iter().map(|c| c.entries).sum(),
        certificates,
        images_cut: search.matching > search.entries.len() as u64,
        images: search.entries.iter().map(EntryView::new).collect(),
        ranges,
        history: history.iter().map(EntryView::new).collect(),
        tags,
        search_href: super::search_href("endorser", email),
        feed_href: format!("feeds/endorsers/{segment}.atom"),
    };
    Ok(html::page(StatusCode::OK, &page))
}
