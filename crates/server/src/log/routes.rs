//! The log as C2SP tlog-tiles serves it, under `/log`: the checkpoint, the
//! verifier key, hash tiles and entry bundles. Tiles never change once
//! served, so they carry long-lived cache headers and any static mirror or
//! CDN can hold them; only the checkpoint moves.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use marketplace_log::tiles::{self, TileRequest};

use super::proofs::with_hashes;
use crate::http::error::AppError;
use crate::http::response::with_type;
use crate::runtime::state::AppState;

/// Where the log is served.
pub(crate) const LOG_PREFIX: &str = "/log";

/// A year: tiles are immutable.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The checkpoint may move every second.
const MOVING: &str = "public, max-age=1, must-revalidate";

/// The `/log` routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/vkey", get(vkey))
        .route("/tile/{*path}", get(tile))
}

/// `GET /log/checkpoint`: the newest signed checkpoint with the witnesses'
/// cosignatures it has (404 before the first entry).
async fn checkpoint(State(state): State<AppState>) -> Result<Response, AppError> {
    let Some(latest) = state.log.current().await? else {
        return Err(AppError::not_found(
            "the log has no entry yet, so no checkpoint",
        ));
    };
    let note = cosigned(&state, &latest).await?;
    Ok(cached(
        with_type(StatusCode::OK, "text/plain; charset=utf-8", note),
        MOVING,
    ))
}

/// `checkpoint`'s note followed by the witnesses' cosignature lines kept
/// for its size.
pub(crate) async fn cosigned(
    state: &AppState,
    checkpoint: &crate::log::signer::Published,
) -> Result<String, AppError> {
    let lines = state.store.cosignatures(checkpoint.size).await?;
    Ok(format!("{}{}", checkpoint.note, lines.concat()))
}

/// `GET /log/vkey`: the log's verifier key (`<origin>+<key id>+<key>`).
async fn vkey(State(state): State<AppState>) -> Response {
    cached(
        with_type(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            format!("{}\n", state.log.verifier_key()),
        ),
        "public, max-age=86400",
    )
}

/// `GET /log/tile/…`: a hash tile or an entry bundle of the newest
/// checkpoint's tree.
async fn tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, AppError> {
    let request = TileRequest::parse(&format!("tile/{path}"))
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    let body = match state.log.tiles.get(&path) {
        Some(kept) => kept,
        None => {
            let needed = request.leaves_needed();
            let size = state.log.at_least(needed).await?.map_or(0, |c| c.size);
            request
                .check_within(size)
                .map_err(|e| AppError::not_found(e.to_string()))?;
            let bytes = if request.is_entries() {
                let leaves = state.store.log_leaves(request.leaf_range()).await?;
                tiles::entry_bundle(&leaves).map_err(AppError::internal)?
            } else {
                with_hashes(state.store.as_ref(), |r| request.hash_data(r)).await?
            };
            let bytes = axum::body::Bytes::from(bytes);
            state.log.tiles.put(path, bytes.clone());
            bytes
        }
    };
    Ok(cached(
        with_type(StatusCode::OK, "application/octet-stream", body),
        IMMUTABLE,
    ))
}

/// `response` with `Cache-Control: value`.
fn cached(mut response: Response, value: &'static str) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(value));
    response
}
