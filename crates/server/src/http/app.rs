//! The router: routes, middleware, and the path normalisation that runs
//! before routing (`//` collapsed to `/`, trailing `/` removed, so every
//! route also answers with a trailing slash).
//!
//! Middleware, outermost first: security headers
//! ([`crate::http::security::SecurityHeaders`]), tracing, metrics
//! ([`crate::http::metrics::Track`]), conditional GET
//! ([`crate::http::conditional::Conditional`]), compression, CSRF protection
//! ([`crate::http::security::Csrf`]), error bodies
//! ([`crate::http::error::ErrorBodies`]), NUL characters refused
//! ([`crate::http::text_params::TextParams`]), the caller's identity
//! ([`crate::auth::authn::Identify`]), request timeout, large pages waiting for a
//! slot ([`crate::http::heavy_reads::HeavyReads`]), request body limit. Ours
//! are [`crate::http::middleware::Middleware`]s: none clones the stack below it
//! on a request.
//! The web interface's own routes are merged from [`crate::ui`].
//! The JSON API is nested at `/api/v1` ([`crate::api`]); feeds
//! ([`crate::render::feeds`]) and `/healthz`, `/metrics` ([`crate::runtime::ops`]) are merged.

use crate::auth::authn::{Authenticator, Identify};
use crate::http::conditional::Conditional;
use crate::http::error::{AppError, ErrorBodies};
use crate::http::heavy_reads::HeavyReads;
use crate::http::metrics::Track;
use crate::http::middleware::MiddlewareLayer;
use crate::http::security::{Csrf, SecurityHeaders};
use crate::http::text_params::TextParams;
use crate::routes::{endorsers, entry, home, metadata, tags, upload};
use crate::runtime::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use tower::util::MapRequestLayer;
use tower::{Layer, ServiceBuilder};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// The application as a service: the router behind path normalisation.
pub type App = tower::util::MapRequest<Router, fn(Request) -> Request>;

/// The routes and their middleware.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_upload_bytes + crate::http::receive::MULTIPART_OVERHEAD;
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    Router::new()
        .route("/", get(home::home))
        .route(
            "/metadata",
            get(metadata::get_root).post(metadata::post_root),
        )
        .route(
            "/metadata/{arg1}",
            get(metadata::get_one).post(metadata::post_one),
        )
        .route(
            "/metadata/{arg1}/{arg2}",
            get(metadata::get_two).post(metadata::post_two),
        )
        .route(
            "/metadata/{identifier}/{email}/{created}",
            get(entry::get_entry),
        )
        .route("/tag/{email}/{tag}", get(entry::get_tag))
        .route("/endorsers", get(endorsers::list))
        .route("/endorsers/{email}", get(endorsers::history))
        .route("/endorsers/{email}/tags", get(tags::tags))
        .route("/upload", get(upload::form).post(crate::ui::upload::submit))
        .nest(crate::api::PREFIX, crate::api::router())
        .nest(crate::log::routes::LOG_PREFIX, crate::log::routes::router())
        .nest(
            crate::log::witness::WITNESS_PREFIX,
            crate::log::witness::router(),
        )
        .merge(crate::render::feeds::router())
        .merge(crate::runtime::ops::router())
        .merge(crate::routes::action::router())
        .merge(crate::ui::router())
        .fallback(not_found)
        // One layer, the whole stack: each `Router::layer` call boxes every
        // route once more, and a boxed route is cloned on every request.
        .layer(
            ServiceBuilder::new()
                .layer(MiddlewareLayer::new(SecurityHeaders::new(
                    &state.config.public_url,
                    state.config.tls_cert.is_some(),
                )))
                // (`map_response` turns the response of the layer below it
                // into axum's, for the layer above.)
                .map_response(IntoResponse::into_response)
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(crate::http::request_log::request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(MiddlewareLayer::new(Track(state.metrics.clone())))
                .layer(MiddlewareLayer::new(Conditional))
                .map_response(IntoResponse::into_response)
                .layer(CompressionLayer::new())
                .layer(MiddlewareLayer::new(Csrf(state.clone())))
                .layer(MiddlewareLayer::new(ErrorBodies(state.clone())))
                .layer(MiddlewareLayer::new(TextParams))
                .layer(MiddlewareLayer::new(Identify(Arc::new(
                    Authenticator::new(&state),
                ))))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    timeout,
                ))
                // (Inside the timeout: a wait for a slot ends with it.)
                .layer(MiddlewareLayer::new(HeavyReads::new(
                    state.heavy_slots.clone(),
                )))
                .map_response(IntoResponse::into_response)
                .layer(RequestBodyLimitLayer::new(body_limit))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .with_state(state)
}

/// Unknown paths: 404 (the original served its home page instead).
async fn not_found() -> AppError {
    AppError::not_found("not found")
}

/// The whole application: [`router`] behind [`normalize_path`].
pub fn app(state: AppState) -> App {
    MapRequestLayer::new(normalize_path as fn(Request) -> Request).layer(router(state))
}

/// Collapses runs of `/` and removes a trailing `/` (except for `/`).
pub fn normalize_path(mut request: Request) -> Request {
    let uri = request.uri();
    let path = uri.path();
    if !path.contains("//") && (path == "/" || !path.ends_with('/')) {
        return request;
    }
    let mut clean = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && clean.ends_with('/')) {
            clean.push(c);
        }
    }
    while clean.len() > 1 && clean.ends_with('/') {
        clean.pop();
    }
    let path_and_query = match uri.query() {
        Some(q) => format!("{clean}?{q}"),
        None => clean,
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(new) = Uri::from_parts(parts) {
            *request.uri_mut() = new;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(path: &str) -> String {
        let r = Request::builder()
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        normalize_path(r).uri().to_string()
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(norm("/"), "/");
        assert_eq!(norm("//metadata///x/"), "/metadata/x");
        assert_eq!(norm("/metadata/?media=json"), "/metadata?media=json");
        assert_eq!(norm("/a//b?x=//"), "/a/b?x=//");
    }
}
