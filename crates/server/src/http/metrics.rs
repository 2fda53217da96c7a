//! Prometheus metrics of one running application (its own registry, so
//! several servers in one process do not mix their counts):
//!
//! - `marketplace_http_requests_total{method, route, status}`;
//! - `marketplace_http_request_duration_seconds{method, route}` (histogram);
//! - `marketplace_uploads_total{outcome, reason}` (`accepted` /
//!   `created`, `already_present`; `refused` / `empty`, `too_large`,
//!   `invalid`, `older_than_latest`, `conflict`, `store_failure`;
//!   `pending` / `needs_confirmation`);
//! - `marketplace_store_entries` and `marketplace_store_up`, read from the
//!   store when `/metrics` is scraped.
//!
//! Route labels are the matched route templates (`/metadata/{arg1}`), never
//! raw paths, and `unmatched` for unknown paths, so the number of series
//! stays bounded.

use crate::http::middleware::{Before, Middleware};
use crate::upload::ingest::{IngestError, IngestOutcome, Ingested};
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use std::sync::Arc;
use std::time::Instant;

/// The `Content-Type` of the text exposition format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics of one application.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    uploads: IntCounterVec,
    entries: IntGauge,
    store_up: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    // The metrics' names and labels are constants (a bad one fails every
    // test that builds an application), and each is registered once.
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "marketplace_http_requests_total",
                "HTTP requests by method, matched route and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "marketplace_http_request_duration_seconds",
                "HTTP request duration by method and matched route.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let uploads = IntCounterVec::new(
            Opts::new(
                "marketplace_uploads_total",
                "Uploaded documents by outcome (accepted, refused, pending) and reason.",
            ),
            &["outcome", "reason"],
        )
        .expect("valid metric");
        let entries = IntGauge::new(
            "marketplace_store_entries",
            "Entries in the store (read at scrape time).",
        )
        .expect("valid metric");
        let store_up = IntGauge::new(
            "marketplace_store_up",
            "1 when the store answered at the last scrape, else 0.",
        )
        .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(uploads.clone()),
            Box::new(entries.clone()),
            Box::new(store_up.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Metrics {
            registry,
            requests,
            duration,
            uploads,
            entries,
            store_up,
        }
    }

    /// Counts a request and observes its duration.
    pub fn observe_request(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.duration
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// Counts the outcome of an upload.
    pub fn record_upload(&self, result: &Result<Ingested, IngestError>) {
        let (outcome, reason) = match result.as_ref().map(|i| &i.outcome) {
            Ok(IngestOutcome::Created(_)) => ("accepted", "created"),
            Ok(IngestOutcome::AlreadyPresent(_)) => ("accepted", "already_present"),
            Ok(IngestOutcome::NeedsConfirmation(_)) => ("pending", "needs_confirmation"),
            Err(IngestError::Empty) => ("refused", "empty"),
            Err(IngestError::TooLarge { .. }) => ("refused", "too_large"),
            Err(IngestError::Invalid(_)) => ("refused", "invalid"),
            Err(IngestError::OlderThanLatest { .. }) => ("refused", "older_than_latest"),
            Err(IngestError::Conflict(_)) => ("refused", "conflict"),
            Err(IngestError::Forbidden(_)) => ("refused", "forbidden"),
            Err(IngestError::EndorserBound(_)) => ("refused", "endorser_bound"),
            Err(IngestError::Unavailable(_)) => ("refused", "store_unavailable"),
            Err(IngestError::Store(_)) => ("refused", "store_failure"),
        };
        self.uploads.with_label_values(&[outcome, reason]).inc();
    }

    /// Records the store's entry count (`None`: the store did not answer).
    pub fn set_store(&self, entries: Option<u64>) {
        match entries {
            Some(n) => {
                self.entries.set(i64::try_from(n).unwrap_or(i64::MAX));
                self.store_up.set(1);
            }
            None => self.store_up.set(0),
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// A bounded method label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// Middleware (added with `Router::layer`, so the matched route is known):
/// counts every request by route template and status, and times it.
#[derive(Clone)]
pub(crate) struct Track(pub Arc<Metrics>);

impl Middleware for Track {
    type Carry = (Option<MatchedPath>, &'static str, Instant);

    fn before(&self, request: Request) -> Before<Self::Carry> {
        let route = request.extensions().get::<MatchedPath>().cloned();
        let method = method_label(request.method());
        Before::Pass(request, (route, method, Instant::now()))
    }

    async fn after(&self, (route, method, start): Self::Carry, response: Response) -> Response {
        self.0.observe_request(
            method,
            route.as_ref().map_or("unmatched", MatchedPath::as_str),
            response.status(),
            start.elapsed().as_secs_f64(),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_family() {
        let m = Metrics::new();
        m.observe_request("GET", "/metadata", StatusCode::OK, 0.01);
        m.record_upload(&Err(IngestError::Empty));
        m.set_store(Some(3));
        let text = m.render();
        assert!(text.contains(
            "marketplace_http_requests_total{method=\"GET\",route=\"/metadata\",status=\"200\"} 1"
        ));
        assert!(text.contains("marketplace_http_request_duration_seconds_bucket"));
        assert!(text.contains("marketplace_uploads_total{outcome=\"refused\",reason=\"empty\"} 1"));
        assert!(text.contains("marketplace_store_entries 3"));
        assert!(text.contains("marketplace_store_up 1"));
    }
}
