//! `/api/v1/log…`: the transparency log as JSON (the log's identity and
//! newest checkpoint, inclusion and consistency proofs, leaves), and each
//! entry's place in it with its C2SP tlog-proof receipt. The C2SP tiles
//! themselves are served under `/log` ([`crate::log::routes`]).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use marketplace_api::log::{
    ConsistencyProof, EntryLog, InclusionProof, LogInfo, LogLeaves, Opening,
};
use marketplace_log::receipt::Receipt;
use marketplace_log::tree::{self, Hash};
use marketplace_store::{EntryKey, MAX_LOG_READ};

use super::handlers::json;
use crate::auth::identity::Caller;
use crate::http::error::AppError;
use crate::http::links::entry_path;
use crate::http::response::with_type;
use crate::log::proofs::LogError;
use crate::log::signer::Published;
use crate::render::listing::Params;
use crate::runtime::state::AppState;

/// Base64 of a hash.
fn b64(hash: &Hash) -> String {
    BASE64.encode(hash.0)
}

/// The newest checkpoint, or 404 before the first entry.
async fn latest(state: &AppState) -> Result<std::sync::Arc<Published>, AppError> {
    // This process's copy (refreshed every second), or the store's.
    state
        .log
        .at_least(1)
        .await?
        .ok_or_else(|| AppError::not_found("the log has no entry yet, so no checkpoint"))
}

/// A non-negative decimal parameter, `default` when absent.
fn number(params: &Params, name: &str, default: Option<u64>) -> Result<u64, AppError> {
    match params.non_empty(name) {
        Some(text) => text.parse().map_err(|_| {
            AppError::bad_request(format!(
                "{name} must be a non-negative integer, not '{text}'"
            ))
        }),
        None => default.ok_or_else(|| AppError::bad_request(format!("{name} is required"))),
    }
}

/// `GET /api/v1/log`.
pub(crate) async fn info(State(state): State<AppState>) -> Result<Response, AppError> {
    let latest = state.log.current().await?;
    let note = match &latest {
        Some(c) => Some(crate::log::routes::cosigned(&state, c).await?),
        None => None,
    };
    let info = LogInfo {
        origin: state.log.origin().to_string(),
        verifier_key: state.log.verifier_key().to_string(),
        size: latest.as_ref().map_or(0, |c| c.size),
        root_hash: latest.as_ref().map(|c| b64(&c.root)),
        checkpoint: note,
        tiles: state.public_link(crate::log::routes::LOG_PREFIX),
    };
    Ok(json(&info, None))
}

/// `GET /api/v1/log/proof/inclusion?index=I[&size=N]`: the audit path of
/// leaf `I` in the tree of `N` leaves (default: the newest checkpoint's).
pub(crate) async fn inclusion(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref());
    let newest = latest(&state).await?;
    let index = number(&params, "index", None)?;
    let size = number(&params, "size", Some(newest.size))?;
    if size > newest.size {
        return Err(AppError::bad_request(format!(
            "size {size} is beyond the newest checkpoint ({})",
            newest.size
        )));
    }
    if index >= size {
        return Err(AppError::bad_request(format!(
            "index {index} is not in a tree of {size} leaves"
        )));
    }
    // (The newest checkpoint's proof carries its note: another key.)
    let key = format!("{index}/{size}/{}", size == newest.size);
    let body = match state.log.proofs.get(&key) {
        Some(kept) => kept,
        None => {
            let proof = inclusion_proof(&state, index, size, &newest).await?;
            let body = Bytes::from(serde_json::to_vec(&proof).map_err(AppError::internal)?);
            state.log.proofs.put(key, body.clone());
            body
        }
    };
    Ok(with_type(StatusCode::OK, "application/json", body))
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves.
async fn inclusion_proof(
    state: &AppState,
    index: u64,
    size: u64,
    newest: &Published,
) -> Result<InclusionProof, AppError> {
    let (hashes, leaf) = state.log.inclusion(index, size).await?;
    // The newest checkpoint's root is known; another size's is computed.
    let root = if size == newest.size {
        newest.root
    } else {
        state.log.with_hashes(|r| tree::root(size, r)).await?
    };
    Ok(InclusionProof {
        index,
        size,
        leaf: BASE64.encode(&leaf),
        hashes: hashes.iter().map(b64).collect(),
        root_hash: b64(&root),
        checkpoint: (size == newest.size).then(|| newest.note.clone()),
    })
}

/// `GET /api/v1/log/proof/consistency?first=M[&second=N]`: that the tree of
/// `N` leaves (default: the newest checkpoint's) extends the tree of `M`.
pub(crate) async fn consistency(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref());
    let newest = latest(&state).await?;
    let first = number(&params, "first", None)?;
    let second = number(&params, "second", Some(newest.size))?;
    if second > newest.size || first > second {
        return Err(AppError::bad_request(format!(
            "need first <= second <= {} (the newest checkpoint), not first {first}, second \
             {second}",
            newest.size
        )));
    }
    let log = &state.log;
    let hashes = log
        .with_hashes(|r| tree::consistency_proof(first, second, r))
        .await?;
    let first_root = log.with_hashes(|r| tree::root(first, r)).await?;
    let second_root = if second == newest.size {
        newest.root
    } else {
        log.with_hashes(|r| tree::root(second, r)).await?
    };
    Ok(json(
        &ConsistencyProof {
            first,
            second,
            first_root_hash: b64(&first_root),
            second_root_hash: b64(&second_root),
            hashes: hashes.iter().map(b64).collect(),
        },
        None,
    ))
}

/// `GET /api/v1/log/leaves?start=S[&end=E]`: public leaves `S..E` of the
/// newest checkpoint's tree (at most [`MAX_LOG_READ`]).
pub(crate) async fn leaves(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref());
    let newest = latest(&state).await?;
    let start = number(&params, "start", None)?;
    let end = number(
        &params,
        "end",
        Some(newest.size.min(start.saturating_add(256))),
    )?;
    if start > end || end > newest.size || end - start > MAX_LOG_READ as u64 {
        return Err(AppError::bad_request(format!(
            "need start <= end <= {} (the newest checkpoint) and at most {MAX_LOG_READ} \
             leaves, not start {start}, end {end}",
            newest.size
        )));
    }
    let leaves = state.store.log_leaves(start..end).await?;
    Ok(json(
        &LogLeaves {
            start,
            leaves: leaves.iter().map(|l| BASE64.encode(l)).collect(),
        },
        None,
    ))
}

/// An opening as the JSON shows it.
pub(crate) fn api_opening(opening: &marketplace_log::leaf::Opening) -> Opening {
    let (nonce, entry_leaf) = opening.to_base64();
    Opening { nonce, entry_leaf }
}

/// Which checkpoint a receipt proves an entry against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReceiptCheckpoint {
    /// The newest (signing one when none covers the entry yet).
    Newest,
    /// The first that covers the entry and that a witness cosigned: the
    /// cosignatures' times bound when the entry was integrated (what a
    /// policy's `signing_time = "log"` needs).
    FirstCosigned,
}

impl ReceiptCheckpoint {
    /// The `checkpoint` query parameter: absent or `newest`, or
    /// `first-cosigned`.
    fn parse(query: Option<&str>) -> Result<Self, AppError> {
        match Params::parse(query).non_empty("checkpoint") {
            None | Some("newest") => Ok(Self::Newest),
            Some("first-cosigned") => Ok(Self::FirstCosigned),
            Some(other) => Err(AppError::bad_request(format!(
                "checkpoint must be newest or first-cosigned, not '{other}'"
            ))),
        }
    }
}

/// The log view of the entry at `key` for `caller`, or 404 when the entry
/// is missing or hidden from the caller, with its receipt against `which`
/// checkpoint (404 when no witness cosigned one that covers it yet). The
/// opening of a restricted entry's commitment is given only to those who
/// may see the entry: the visibility check comes first.
pub(crate) async fn entry_log(
    state: &AppState,
    caller: &Caller,
    key: &EntryKey,
    which: ReceiptCheckpoint,
) -> Result<(EntryLog, Receipt), AppError> {
    if state
        .store
        .get_visible(key, &caller.audience())
        .await?
        .is_none()
    {
        return Err(AppError::not_found(format!("no entry {key}")));
    }
    let position = state
        .store
        .log_position(key)
        .await?
        .ok_or_else(|| AppError::internal(format!("the entry {key} has no log leaf")))?;
    let covering = match which {
        ReceiptCheckpoint::Newest => state.log.cover(position.index).await?,
        ReceiptCheckpoint::FirstCosigned => {
            let recorded = state
                .store
                .first_cosigned_checkpoint(position.index)
                .await?
                .ok_or_else(|| {
                    AppError::not_found(format!(
                        "no witness has cosigned a checkpoint that covers {key} yet"
                    ))
                })?;
            std::sync::Arc::new(state.log.verify(&recorded.note)?)
        }
    };
    let (path, _) = state.log.inclusion(position.index, covering.size).await?;
    let opening = position.opening.as_ref().map(api_opening);
    let extra = serde_json::to_vec(&serde_json::json!({
        "leaf": BASE64.encode(&position.leaf),
        "opening": opening,
    }))
    .map_err(AppError::internal)?;
    let receipt = Receipt {
        extra: Some(extra),
        index: position.index,
        proof: path,
        checkpoint: crate::log::routes::cosigned(state, &covering).await?,
    };
    let view = EntryLog {
        index: position.index,
        leaf: BASE64.encode(&position.leaf),
        opening,
        receipt: state.public_link(&format!(
            "{}/entries/{}/receipt",
            super::PREFIX,
            entry_path(key).trim_start_matches("metadata/")
        )),
    };
    Ok((view, receipt))
}

/// The coordinates of a path, or 404.
fn key_of(identifier: &str, email: &str, created: &str) -> Result<EntryKey, AppError> {
    EntryKey::parse(identifier, email, created)
        .map_err(|e| AppError::not_found(format!("no entry {identifier}/{email}/{created}: {e}")))
}

/// `GET /api/v1/entries/{identifier}/{email}/{created}/log`.
pub(crate) async fn entry(
    State(state): State<AppState>,
    caller: Caller,
    Path((identifier, email, created)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let key = key_of(&identifier, &email, &created)?;
    let (view, _) = entry_log(&state, &caller, &key, ReceiptCheckpoint::Newest).await?;
    Ok(json(&view, None))
}

/// `GET /api/v1/entries/{identifier}/{email}/{created}/receipt[?checkpoint=first-cosigned]`:
/// the entry's C2SP tlog-proof (`.tlog-proof`), checkable offline with the
/// log's verifier key, against the newest checkpoint or the first one a
/// witness cosigned.
pub(crate) async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    Path((identifier, email, created)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let which = ReceiptCheckpoint::parse(query.as_deref())?;
    let key = key_of(&identifier, &email, &created)?;
    let (_, receipt) = entry_log(&state, &caller, &key, which).await?;
    let mut response = with_type(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        receipt.to_text(),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&format!(
        "attachment; filename=\"{}.tlog-proof\"",
        key.identifier
    )) {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

impl From<LogError> for AppError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Store(e) => e.into(),
            LogError::Tree(marketplace_log::tree::TreeError::OutOfRange(m)) => {
                AppError::bad_request(m)
            }
            other => AppError::internal(other),
        }
    }
}
