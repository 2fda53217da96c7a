//! Recent search results that cost a pass over every match, reused while
//! they still hold.
//!
//! Ranking every match of a common word ("ubuntu" matches a quarter of a
//! large catalogue) costs tens of milliseconds, so does sorting the whole
//! catalogue by title, and sites and users repeat the same few searches.
//! A result depends only on the entries (which change when an entry is
//! accepted — the newest sequence grows — or when a rebuild re-derives the
//! fields — the generation grows) and on the instant (a status changes
//! when the instant passes the `dcterms:valid` of a latest, non-deprecated
//! entry). So a page is kept with the version of
//! the snapshot it was computed in and the window between the expiries
//! around that instant, and reused while both still hold: a repeated search
//! then costs one cheap version query. Every process keeps its own cache;
//! each checks the version in the shared database, so several servers on
//! one PostgreSQL never serve a page older than the entries.
//!
//! Identical searches arriving together run once: the others wait for the
//! first and take its page.
//!
//! Only full-text searches and listings sorted by a key no index orders
//! (title, OS, version, architecture, expiry: every match is sorted) are
//! kept — the others are answered from an index in about the time the
//! version query takes — without documents (their size is not bounded by
//! the page), and at most [`CAPACITY`] of them (the least recently used
//! goes first).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use chrono::{DateTime, Utc};
use marketplace_format::datetime::format_utc;

use super::Cached;
use super::kept::{Kept, Version, current_version};
use crate::StoreError;
use crate::query::{SearchOptions, SearchPage, SearchQuery};

/// The most pages kept (a page holds at most `MAX_LIMIT` summaries).
pub(crate) const CAPACITY: usize = 128;

/// The pages one store process computed (shared, so that a hit copies a
/// page outside the lock), and the searches running now (by key).
#[derive(Debug)]
pub(crate) struct SearchCache {
    pages: Kept<String, Arc<SearchPage>>,
    running: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl Default for SearchCache {
    fn default() -> Self {
        SearchCache {
            pages: Kept::new(CAPACITY),
            running: Mutex::default(),
        }
    }
}

impl SearchCache {
    /// The lock that the search for `key` holds while it runs (shared by
    /// every request for that key meanwhile; forgotten when none holds it).
    fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lock) = running.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        running.retain(|_, lock| lock.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        running.insert(key.to_string(), Arc::downgrade(&lock));
        lock
    }

    fn get(&self, key: &str, version: Version, now: &str) -> Option<SearchPage> {
        let page = self.pages.get(key, version, now)?;
        Some(SearchPage::clone(&page))
    }
}

/// Whether a search is worth keeping (see the module documentation). A
/// search for entries of one `created` also reads non-latest entries,
/// whose status the window does not cover.
fn cacheable(q: &SearchQuery, options: SearchOptions) -> bool {
    let text = q.text.as_deref().is_some_and(|t| !t.trim().is_empty());
    (text || super::search::sorts_every_match(q.sort)) && q.created.is_none() && !options.documents
}

/// [`crate::Store::search_with`]: a kept page when it still holds, else
/// the search ([`super::search::search`]), kept when worth it.
pub(crate) async fn search<D: Cached>(
    db: &D,
    q: &SearchQuery,
    now: DateTime<Utc>,
    options: SearchOptions,
) -> Result<SearchPage, StoreError> {
    if !cacheable(q, options) {
        return super::search::search(db, q, now, options, None).await;
    }
    let now_text = format_utc(now);
    // The query and options, in full, are the key (the Debug form names
    // every field, so a new filter can never be left out of it).
    let key = format!("{q:?}|{options:?}");
    let current = current_version(db).await?;
    if let Some(page) = db.caches().searches.get(&key, current, &now_text) {
        return Ok(page);
    }
    // One search per key at a time: requests arriving while it runs wait
    // for it and find its page, instead of ranking the same matches again.
    let flight = db.caches().searches.flight(&key);
    let _running = flight.lock().await;
    let current = current_version(db).await?;
    if let Some(page) = db.caches().searches.get(&key, current, &now_text) {
        return Ok(page);
    }
    let mut seen = None;
    let page = super::search::search(db, q, now, options, Some(&mut seen)).await?;
    if let Some((version, window)) = seen {
        db.caches()
            .searches
            .pages
            .put(key, version, window, Arc::new(page.clone()));
    }
    Ok(page)
}
