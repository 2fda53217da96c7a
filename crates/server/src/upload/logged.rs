//! The log index an upload's answer carries: an upload is answered only
//! once a signed checkpoint of the transparency log ([`crate::log`]) covers
//! its entry.

use axum::http::HeaderValue;
use axum::response::Response;
use marketplace_store::EntryKey;

use crate::http::error::AppError;
use crate::runtime::state::AppState;

/// The header that carries an accepted entry's leaf index.
pub(crate) const LOG_INDEX_HEADER: &str = "marketplace-log-index";

/// The header that carries the size of the checkpoint that covers it.
pub(crate) const LOG_SIZE_HEADER: &str = "marketplace-log-size";

/// Where an accepted entry is in the log, once a signed checkpoint covers
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Logged {
    /// The entry's leaf index.
    pub(crate) index: u64,
    /// The size of the checkpoint that covers it.
    pub(crate) size: u64,
}

impl Logged {
    /// `response` with [`LOG_INDEX_HEADER`] and [`LOG_SIZE_HEADER`].
    pub(crate) fn mark(self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        headers.insert(LOG_INDEX_HEADER, HeaderValue::from(self.index));
        headers.insert(LOG_SIZE_HEADER, HeaderValue::from(self.size));
        response
    }
}

/// Waits until a signed checkpoint covers the stored entry at `key` (an
/// upload is answered only then).
pub(crate) async fn cover_entry(state: &AppState, key: &EntryKey) -> Result<Logged, AppError> {
    let position = state
        .store
        .log_position(key)
        .await?
        .ok_or_else(|| AppError::internal(format!("the stored entry {key} has no log leaf")))?;
    let checkpoint = state.log.cover(position.index).await?;
    Ok(Logged {
        index: position.index,
        size: checkpoint.size,
    })
}
