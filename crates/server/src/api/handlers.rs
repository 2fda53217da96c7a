//! The handlers of `/api/v1`. Each answers JSON (the shapes of `marketplace_api`) and
//! sets `Last-Modified` where the representation changes only when an
//! entry is accepted or expires (see [`crate::http::conditional::changed_at`]);
//! ETags come from the conditional-GET middleware.
//!
//! Every handler reads for the caller's audience ([`Caller::audience`]):
//! entries restricted to VOs the caller is not a member of are not
//! listed, counted or found (404 as for a missing one).

use super::items::{Linker, endorser_items, entry_item};
use super::search::{list_limit, search_query};
use crate::auth::identity::Caller;
use crate::http::conditional::{changed_at, set_last_modified};
use crate::http::error::AppError;
use crate::queries;
use crate::render::escape::path_segment;
use crate::render::listing::Params;
use crate::runtime::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use marketplace_api::{
    EndorserList, EndorserView, HistoryView, ImageLinks, ImageView, SearchResult,
};
use marketplace_store::{EntryKey, EntrySummary, Status};
use serde::Serialize;

/// A 200 JSON response, with `Last-Modified` when `modified` is given.
pub(crate) fn json<T: Serialize>(value: &T, modified: Option<DateTime<Utc>>) -> Response {
    let body = match serde_json::to_string(value) {
        Ok(b) => b,
        Err(e) => return AppError::internal(e).into_response(),
    };
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(at) = modified {
        set_last_modified(&mut response, at);
    }
    response
}

fn linker(state: &AppState) -> Linker<'_> {
    Linker {
        base: &state.config.public_url,
    }
}

/// `GET /api/v1/images`: search.
pub(crate) async fn images(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let mut query = search_query(&Params::parse(query.as_deref()))?;
    query.audience = caller.audience();
    let page = state.store.search(&query, state.clock.now()).await?;
    let links = linker(&state);
    let result = SearchResult {
        total: page.total,
        matching: page.matching,
        offset: query.offset,
        limit: query.limit,
        items: page.entries.iter().map(|e| entry_item(e, links)).collect(),
    };
    Ok(json(&result, None))
}

/// `GET /api/v1/images/{identifier}`.
pub(crate) async fn image(
    State(state): State<AppState>,
    caller: Caller,
    Path(identifier): Path<String>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let latest =
        queries::image_endorsements(&state, &caller.audience(), &identifier, None, now).await?;
    if latest.is_empty() {
        return Err(AppError::not_found(format!(
            "no image with identifier '{identifier}'"
        )));
    }
    let links = linker(&state);
    let (current, inactive): (Vec<&EntrySummary>, Vec<&EntrySummary>) =
        latest.iter().partition(|e| e.status == Status::Valid);
    let status = if !current.is_empty() {
        Status::Valid
    } else if inactive.iter().all(|e| e.status == Status::Deprecated) {
        Status::Deprecated
    } else {
        Status::Expired
    };
    let segment = path_segment(&identifier);
    let view = ImageView {
        status,
        current: current.iter().map(|e| entry_item(e, links)).collect(),
        inactive: inactive.iter().map(|e| entry_item(e, links)).collect(),
        links: ImageLinks {
            this: links.image(&identifier),
            history: links.abs(&format!("/api/v1/images/{segment}/history")),
            feed: links.abs(&format!("/feeds/images/{segment}.atom")),
        },
        identifier,
    };
    Ok(json(&view, changed_at(&latest, now)))
}

/// `GET /api/v1/images/{identifier}/history?limit=N`.
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(identifier): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let limit = list_limit(&Params::parse(query.as_deref()))?;
    let now = state.clock.now();
    let entries =
        queries::image_history(&state, &caller.audience(), &identifier, limit, now).await?;
    if entries.is_empty() {
        return Err(AppError::not_found(format!(
            "no image with identifier '{identifier}'"
        )));
    }
    let complete = entries.len() < limit as usize;
    let links = linker(&state);
    let view = HistoryView {
        identifier,
        count: entries.len(),
        items: entries.iter().map(|e| entry_item(e, links)).collect(),
    };
    Ok(json(&view, changed_at(&entries, now).filter(|_| complete)))
}

/// `GET /api/v1/entries/{identifier}/{email}/{created}`.
pub(crate) async fn entry(
    State(state): State<AppState>,
    caller: Caller,
    Path((identifier, email, created)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let key = EntryKey::parse(&identifier, &email, &created).map_err(|e| {
        AppError::not_found(format!("no entry {identifier}/{email}/{created}: {e}"))
    })?;
    let audience = caller.audience();
    let Some(stored) = state.store.get_visible(&key, &audience).await? else {
        return Err(AppError::not_found(format!("no entry {key}")));
    };
    let now = state.clock.now();
    let latest =
        queries::image_endorsements(&state, &audience, &key.identifier, Some(&key.email), now)
            .await?;
    // No visible latest entry: the pair's latest is hidden from the
    // caller, so this one is not it.
    let newest = latest.first();
    let entry = stored.entry;
    let summary = EntrySummary {
        status: Status::of(&entry.metadata, now),
        latest: newest.is_some_and(|l| l.key == entry.key),
        key: entry.key,
        metadata: entry.metadata,
        signer: entry.signer,
        accepted_at: stored.accepted_at,
        rank: None,
    };
    let modified = changed_at(std::iter::once(&summary).chain(newest), now);
    Ok(json(&entry_item(&summary, linker(&state)), modified))
}

/// `GET /api/v1/endorsers`.
pub(crate) async fn endorsers(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let rows = state.store.endorsers(&caller.audience()).await?;
    let items = endorser_items(rows, linker(&state));
    Ok(json(
        &EndorserList {
            total: items.len(),
            items,
        },
        None,
    ))
}

/// `GET /api/v1/endorsers/{email}?limit=N`: the endorser and its entries.
pub(crate) async fn endorser(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let limit = list_limit(&Params::parse(query.as_deref()))?;
    let audience = caller.audience();
    let rows = state.store.endorser(&email, &audience).await?;
    let links = linker(&state);
    let Some(item) = endorser_items(rows, links).into_iter().next() else {
        return Err(AppError::not_found(format!("no endorser '{email}'")));
    };
    let now = state.clock.now();
    let entries = queries::endorser_history(&state, &audience, &email, None, limit, now).await?;
    let complete = entries.len() < limit as usize;
    let view = EndorserView {
        endorser: item,
        entries: entries.iter().map(|e| entry_item(e, links)).collect(),
    };
    Ok(json(&view, changed_at(&entries, now).filter(|_| complete)))
}

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi(State(state): State<AppState>) -> Response {
    json(&super::openapi::document(&state.config.public_url), None)
}
