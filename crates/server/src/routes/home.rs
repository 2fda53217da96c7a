//! `/`: a page that sends browsers to the metadata list.

use crate::render::html::{self, HomePage};
use crate::runtime::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

/// `GET /`.
pub(crate) async fn home(State(state): State<AppState>) -> Response {
    html::page(
        StatusCode::OK,
        &HomePage {
            base: &state.config.public_url,
        },
    )
}
