//! Operations routes: `GET /healthz` (200 `{"status":"ok"}` when the store
//! answers, else 503) and `GET /metrics` (Prometheus text exposition, see
//! [`crate::metrics`]).

use crate::error::FinalBody;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Duration;

/// How long `/healthz` and `/metrics` wait for the store.
pub const STORE_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The routes of this module.
pub fn router() -> Router<AppState> {
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

/// `GET /healthz`.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let (status, body) = match probe(&state).await {
        Ok(_) => (StatusCode::OK, serde_json::json!({ "status": "ok" })),
        Err(cause) => {
            tracing::warn!(%cause, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "status": "unavailable", "message": "the store is not reachable" }),
            )
        }
    };
    let mut response = uncached(
        (status, body.to_string()).into_response(),
        "application/json",
    );
    response.extensions_mut().insert(FinalBody);
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let count = probe(&state).await;
    if let Err(cause) = &count {
        tracing::warn!(%cause, "metrics: the store did not answer");
    }
    state.metrics.set_store(count.ok());
    uncached(
        state.metrics.render().into_response(),
        crate::metrics::CONTENT_TYPE,
    )
}
