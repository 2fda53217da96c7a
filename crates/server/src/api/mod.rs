//! The JSON API under `/api/v1`: images with their current endorsements,
//! entries, endorsers and search, described by the OpenAPI 3.1 document
//! served at `/api/v1/openapi.json` ([`openapi`]).
//!
//! The routes are declared once, in [`ROUTES`] and [`router`] together (one
//! macro builds both), so the OpenAPI test can check that the document
//! describes every route. Errors are `{"error": {"status", "message"}}`
//! ([`error`]). The JSON shapes are the `marketplace-api` crate's, so
//! that clients read them without the server; [`items`] builds them from
//! the store's rows.

pub(crate) mod error;
pub(crate) mod handlers;
pub(crate) mod items;
pub(crate) mod log;
pub(crate) mod openapi;
mod openapi_log;
pub(crate) mod search;

use crate::runtime::state::AppState;
use axum::Router;
use axum::middleware::from_fn;
use axum::routing::get;

/// Where the API is mounted.
pub const PREFIX: &str = "/api/v1";

macro_rules! api_routes {
    ($($path:literal => $handler:path),* $(,)?) => {
        /// Every route of the API (GET only), relative to [`PREFIX`], in
        /// axum's template syntax (the same as OpenAPI's).
        pub const ROUTES: &[&str] = &[$($path),*];

        /// The API router (to be nested at [`PREFIX`]).
        pub fn router() -> Router<AppState> {
            Router::new()
                $(.route($path, get($handler)))*
                .fallback(error::not_found)
                .layer(from_fn(error::json_errors))
        }
    };
}

api_routes! {
    "/images" => handlers::images,
    "/images/{identifier}" => handlers::image,
    "/images/{identifier}/history" => handlers::history,
    "/entries/{identifier}/{email}/{created}" => handlers::entry,
    "/entries/{identifier}/{email}/{created}/log" => log::entry,
    "/entries/{identifier}/{email}/{created}/receipt" => log::receipt,
    "/log" => log::info,
    "/log/proof/inclusion" => log::inclusion,
    "/log/proof/consistency" => log::consistency,
    "/log/leaves" => log::leaves,
    "/endorsers" => handlers::endorsers,
    "/endorsers/{email}" => handlers::endorser,
    "/openapi.json" => handlers::openapi,
}
