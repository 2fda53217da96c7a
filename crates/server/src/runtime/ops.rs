//! Operations routes: `GET /healthz` (200 `{"status":"ok"}` when the store
//! answers and can write, else 503 with the reason) and `GET /metrics` (Prometheus text exposition, see
//! [`crate::http::metrics`]).

use crate::http::error::FinalBody;
use crate::runtime::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Duration;

/// How long `/healthz` and `/metrics` wait for the store.
pub(crate) const STORE_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The routes of this module.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

/// The store's entry count, or why it is not available.
async fn probe(state: &AppState) -> Result<u64, String> {
    match tokio::time::timeout(STORE_PROBE_TIMEOUT, state.store.count()).await {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the store did not answer in time".into()),
    }
}

fn uncached(mut response: Response, content_type: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Why the store cannot write, if its last write failed and a probe write
/// still fails (the probe runs only after a failure, so a healthy server
/// writes nothing for a health check).
async fn write_probe(state: &AppState) -> Result<(), String> {
    if state.store.write_fault().is_none() {
        return Ok(());
    }
    match tokio::time::timeout(STORE_PROBE_TIMEOUT, state.store.probe_write()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("a write did not finish in time".into()),
    }
}

/// `GET /healthz`: 200 when the store answers and can write; 503 with the
/// reason otherwise.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let unavailable = |message: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "status": "unavailable", "message": message }),
        )
    };
    let (status, body) = match probe(&state).await {
        Err(cause) => {
            tracing::warn!(%cause, "health check failed");
            unavailable("the store is not reachable".into())
        }
        Ok(_) => match write_probe(&state).await {
            Ok(()) => (StatusCode::OK, serde_json::json!({ "status": "ok" })),
            Err(cause) => {
                tracing::warn!(%cause, "health check: the store cannot write");
                unavailable(format!("the store cannot write: {cause}"))
            }
        },
    };
    let mut response = uncached(
        (status, body.to_string()).into_response(),
        "application/json",
    );
    response.extensions_mut().insert(FinalBody);
    response
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let count = probe(&state).await;
    if let Err(cause) = &count {
        tracing::warn!(%cause, "metrics: the store did not answer");
    }
    state.metrics.set_store(count.ok());
    uncached(
        state.metrics.render().into_response(),
        crate::http::metrics::CONTENT_TYPE,
    )
}
