//! The endorsers: one row per (email, certificate subject, issuer) with the
//! number of entries and the newest `created`, for `/endorsers` and
//! `/endorsers/{email}`.
//!
//! The list of every endorser is an aggregate over every entry (140-150
//! ms at 100,000 entries), reached by an anonymous GET. It depends on
//! the entries alone — not on the instant, since it counts entries of every
//! status — so a process keeps the list it computed, per audience, with the
//! catalogue version it was computed at ([`super::kept::Version`],
//! read before the scan, so that the list is never older than its version),
//! and reuses it while the version holds: any accepted entry or rebuild, in
//! this process or another on the same database, makes it stale. Scans of
//! the whole list run one at a time in a process, so that a burst of
//! requests costs one scan, not one each.

use std::sync::Arc;

use super::Cached;
use super::kept::{Kept, Version, Window, current_version};
use super::visibility::{E, check_audience, visible_condition};
use crate::StoreError;
use crate::query::{Audience, EndorserSummary, MAX_UNPAGED_ROWS};
use crate::sql::{Db, RowRead, Sql};

/// The most audiences whose list of endorsers a process keeps.
const CAPACITY: usize = 32;

/// The lists of every endorser one store process computed, per audience.
#[derive(Debug)]
pub(crate) struct EndorserCache {
    lists: Kept<Audience, Arc<Vec<EndorserSummary>>>,
    /// Held while a whole list is computed.
    scanning: tokio::sync::Mutex<()>,
}

impl Default for EndorserCache {
    fn default() -> Self {
        EndorserCache {
            lists: Kept::new(CAPACITY),
            scanning: tokio::sync::Mutex::new(()),
        }
    }
}

impl EndorserCache {
    /// The list kept for `audience` if it was computed at `version`.
    fn get(&self, audience: &Audience, version: Version) -> Option<Vec<EndorserSummary>> {
        // The list holds at every instant: the open window, any `now`.
        let list = self.lists.get(audience, version, "")?;
        Some(Vec::clone(&list))
    }
}

/// Reads the rows of [`endorsers`].
fn endorser_summary<R: RowRead>(r: &R) -> Result<EndorserSummary, StoreError> {
    Ok(EndorserSummary {
        email: r.text(0)?,
        subject: r.text(1)?,
        issuer: r.text(2)?,
        entries: u64::try_from(r.int(3)?).unwrap_or(0),
        latest: r.text(4)?,
    })
}

/// [`crate::Store::endorsers`] (every endorser, with `email` `None`: kept
/// as the module documentation says) and [`crate::Store::endorser`].
pub(crate) async fn endorsers<D: Cached>(
    db: &D,
    email: Option<&str>,
    audience: &Audience,
) -> Result<Vec<EndorserSummary>, StoreError> {
    check_audience(audience)?;
    if email.is_some() {
        return scan(db, email, audience).await;
    }
    let cache = &db.caches().endorsers;
    if let Some(list) = cache.get(audience, current_version(db).await?) {
        return Ok(list);
    }
    let _scanning = cache.scanning.lock().await;
    // Read before the scan: the list is at least as new as this version.
    let version = current_version(db).await?;
    if let Some(list) = cache.get(audience, version) {
        return Ok(list);
    }
    let list = scan(db, None, audience).await?;
    cache.lists.put(
        audience.clone(),
        version,
        Window::default(),
        Arc::new(list.clone()),
    );
    Ok(list)
}

/// The aggregate itself.
async fn scan<D: Db>(
    db: &D,
    email: Option<&str>,
    audience: &Audience,
) -> Result<Vec<EndorserSummary>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(
        "SELECT e.email, e.signer_subject, e.signer_issuer, COUNT(*), MAX(e.created) \
         FROM entries e WHERE 1 = 1",
    );
    if let Some(email) = email {
        s.push(" AND e.email = ").text(email);
    }
    visible_condition(&mut s, E, audience);
    s.push(
        " GROUP BY e.email, e.signer_subject, e.signer_issuer \
         ORDER BY e.email, e.signer_subject, e.signer_issuer LIMIT ",
    )
    .count_literal(MAX_UNPAGED_ROWS.into());
    // Every endorser is an aggregate over every entry.
    db.fetch_scan(s)
        .await?
        .iter()
        .map(endorser_summary)
        .collect()
}
