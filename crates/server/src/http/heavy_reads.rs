//! Bounds the memory of large list responses: a request asking for a page
//! of more than [`LIGHT_PAGE`] entries (`per_page`, `limit` or
//! `iDisplayLength`) waits for one of [`HEAVY_AT_ONCE`] slots per process
//! before it runs (until its request times out: 408). A page holds at most
//! 1000 entries, and a response that carries stored documents (the XML
//! list) at most [`LIST_DOCUMENT_BUDGET`] bytes of them (the page ends
//! early and says so), so these slots bound what large lists hold at once,
//! while ordinary pages (100 by default) never wait.

use crate::http::middleware::{Before, Middleware};
use crate::render::listing::Params;
use axum::extract::Request;
use axum::response::Response;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The largest page that never waits for a slot.
pub const LIGHT_PAGE: u64 = 100;

/// Large pages a process builds at once.
pub const HEAVY_AT_ONCE: usize = 4;

/// The most bytes of stored documents one list response carries: a
/// document may be near the upload limit (a description is bounded, but
/// application metadata of other namespaces is not), so a page of 1000
/// could otherwise hold a gigabyte.
pub const LIST_DOCUMENT_BUDGET: usize = 16 * 1024 * 1024;

/// The parameters that ask for a page size.
const PAGE_SIZE_PARAMETERS: [&str; 3] = ["per_page", "limit", "iDisplayLength"];

/// Middleware: large pages wait for one of the state's slots
/// ([`crate::runtime::state::SharedState::heavy_slots`]).
#[derive(Debug, Clone)]
pub struct HeavyReads {
    slots: Arc<Semaphore>,
}

impl HeavyReads {
    /// Large pages wait for `slots` (the state's
    /// [`crate::runtime::state::SharedState::heavy_slots`]).
    pub fn new(slots: Arc<Semaphore>) -> Self {
        HeavyReads { slots }
    }
}

/// Whether a request with `query` asks for a page larger than
/// [`LIGHT_PAGE`] (a negative `iDisplayLength` asks for the largest).
pub fn is_heavy(query: Option<&str>) -> bool {
    let Some(query) = query else { return false };
    // (Cheap refusal first: most requests name no page size.)
    if !PAGE_SIZE_PARAMETERS.iter().any(|p| query.contains(p)) {
        return false;
    }
    let params = Params::parse(Some(query));
    PAGE_SIZE_PARAMETERS.iter().any(|name| {
        params
            .get(name)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .is_some_and(|n| n < 0 || n.unsigned_abs() > LIGHT_PAGE)
    })
}

impl Middleware for HeavyReads {
    type Carry = Option<OwnedSemaphorePermit>;

    fn before(&self, request: Request) -> Before<Option<OwnedSemaphorePermit>> {
        if !is_heavy(request.uri().query()) {
            return Before::Pass(request, None);
        }
        let slots = self.slots.clone();
        Before::Prepare(Box::pin(async move {
            // (The semaphore is never closed.)
            let permit = slots.acquire_owned().await.ok();
            Ok((request, permit))
        }))
    }

    async fn after(&self, permit: Option<OwnedSemaphorePermit>, response: Response) -> Response {
        drop(permit);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_pages_are_heavy() {
        assert!(!is_heavy(None));
        assert!(!is_heavy(Some("q=ubuntu")));
        assert!(!is_heavy(Some("per_page=100")));
        assert!(is_heavy(Some("per_page=1000")));
        assert!(is_heavy(Some("os=x&limit=101")));
        assert!(is_heavy(Some("iDisplayLength=500&sEcho=1")));
        assert!(!is_heavy(Some("iDisplayLength=abc")));
        assert!(is_heavy(Some("iDisplayLength=-1")));
    }
}
