//! This server as a witness of other logs (C2SP tlog-witness): for each log
//! it follows (`witness_logs`), it cosigns a checkpoint only when it extends
//! the last one it cosigned, which it keeps in the store and advances with
//! one compare-and-set, so that no race rolls it back and a fork is refused
//! with the evidence kept in the refusal.
//!
//! `POST /witness/add-checkpoint` (the protocol's route) and
//! `GET /witness/vkey` (its cosignature/v1 verifier key).

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use marketplace_log::checkpoint;
use marketplace_log::witness::{AddCheckpoint, AddCheckpointError, decide};

use crate::http::error::{AppError, FinalBody};
use crate::http::response::with_type;
use crate::runtime::state::AppState;

/// Where the witness is served.
pub(crate) const WITNESS_PREFIX: &str = "/witness";

/// The largest request a witness reads (a checkpoint with its signatures and
/// 63 proof lines fit many times over).
const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// The witness routes (404 when this server witnesses no log).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/vkey", get(vkey))
}

/// A final plain-text answer (the error renderer leaves it as it is).
fn answer(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = with_type(status, content_type, Body::from(body));
    response.extensions_mut().insert(FinalBody);
    response
}

/// `GET /witness/vkey`.
async fn vkey(State(state): State<AppState>) -> Result<Response, AppError> {
    let witness = state
        .witness
        .as_ref()
        .ok_or_else(|| AppError::not_found("this server witnesses no log"))?;
    Ok(answer(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        format!("{}\n", witness.verifier_key()),
    ))
}

/// `POST /witness/add-checkpoint`.
async fn add_checkpoint(State(state): State<AppState>, request: Request) -> Response {
    match cosign(&state, request).await {
        Ok(line) => answer(StatusCode::OK, "text/plain; charset=utf-8", line),
        Err(Refused::Protocol(AddCheckpointError::Conflict(size))) => answer(
            StatusCode::CONFLICT,
            "text/x.tlog.size",
            format!("{size}\n"),
        ),
        Err(Refused::Protocol(e)) => {
            if e.status() == 409 || e.status() == 422 {
                tracing::warn!(error = %e, "a checkpoint that does not extend the one cosigned");
            }
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            answer(status, "text/plain; charset=utf-8", format!("{e}\n"))
        }
        Err(Refused::Server(e)) => {
            let mut response = axum::response::IntoResponse::into_response(e);
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
    }
}

/// Why no cosignature.
enum Refused {
    Protocol(AddCheckpointError),
    Server(AppError),
}

impl From<AddCheckpointError> for Refused {
    fn from(e: AddCheckpointError) -> Self {
        Refused::Protocol(e)
    }
}

impl From<marketplace_store::StoreError> for Refused {
    fn from(e: marketplace_store::StoreError) -> Self {
        Refused::Server(e.into())
    }
}

/// Decides the request; the cosignature line when it extends what was
/// cosigned (recorded first).
async fn cosign(state: &AppState, request: Request) -> Result<String, Refused> {
    let Some(witness) = state.witness.as_ref() else {
        return Err(Refused::Server(AppError::not_found(
            "this server witnesses no log",
        )));
    };
    let body = axum::body::to_bytes(request.into_body(), MAX_REQUEST_BYTES)
        .await
        .map_err(|e| AddCheckpointError::Malformed(format!("cannot read the request: {e}")))?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| AddCheckpointError::Malformed("the request is not UTF-8".into()))?;
    let request = AddCheckpoint::parse(text)?;
    let origin = request.checkpoint.split('\n').next().unwrap_or_default();
    let logs = &state.config.witness_logs;
    // The last cosigned checkpoint of that log (verified when it was
    // cosigned; verified again, so a changed row is noticed).
    let last = match state.store.witnessed(origin).await? {
        Some(stored) => {
            let key = logs.iter().find(|k| k.split('+').next() == Some(origin));
            let verified = key.and_then(|k| checkpoint::verify(stored.note.as_bytes(), k).ok());
            match verified {
                Some(v) => Some((v.size, v.root)),
                None => {
                    return Err(Refused::Server(AppError::internal(format!(
                        "the checkpoint cosigned last for {origin} does not verify"
                    ))));
                }
            }
        }
        None => None,
    };
    let checkpoint = decide(&request, logs, |_| last)?;
    let note_body = checkpoint
        .note
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .to_string()
        + "\n";
    if let Some(current) = state
        .store
        .advance_witnessed(origin, request.old, checkpoint.size, &request.checkpoint)
        .await?
    {
        return Err(AddCheckpointError::Conflict(current).into());
    }
    let now = u64::try_from(state.clock.now().timestamp()).unwrap_or(0);
    Ok(witness.cosign(note_body.as_bytes(), now))
}
