//! One entry: `/metadata/{identifier}/{email}/{created}` (any status,
//! history included), and the tagged entry of an endorser
//! (`/metadata/{email}?tag=T`, `/tag/{email}/{tag}`).
//!
//! - XML (default): the signed document exactly as stored,
//!   `application/rdf+xml`, as an attachment `<identifier>.xml`;
//! - JSON: RDF/JSON of the document without its signature, attachment
//!   `<identifier>.json`;
//! - HTML: the entry page of the web interface ([`crate::ui::image::entry_page`]).
//!
//! An entry hidden from the caller (restricted to VOs it is not a member
//! of) is 404 with the very body of a missing one.

use crate::auth::identity::Caller;
use crate::http::error::AppError;
use crate::http::negotiate::Media;
use crate::http::response::with_type;
use crate::runtime::state::AppState;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_DISPOSITION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use marketplace_format::rdfjson::to_rdf_json;
use marketplace_store::EntryKey;

/// The original's message for a missing entry.
pub(crate) const NOT_FOUND: &str = "metadata entry not found.";

/// `GET /metadata/{identifier}/{email}/{created}`.
pub(crate) async fn get_entry(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    Path((identifier, email, created)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    // Malformed coordinates name no entry that could be stored.
    let key = EntryKey::parse(&identifier, &email, &created)
        .map_err(|_| AppError::not_found(NOT_FOUND))?;
    show(&state, &caller, media, &key).await
}

/// `GET /tag/{email}/{tag}`.
pub(crate) async fn get_tag(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    Path((email, tag)): Path<(String, String)>,
) -> Result<Response, AppError> {
    tagged(&state, &caller, media, &email, &tag).await
}

/// The entry `email`'s `tag` resolves to. One leading and one trailing
/// double quote are removed (the original's tag links carried them).
pub(crate) async fn tagged(
    state: &AppState,
    caller: &Caller,
    media: Media,
    email: &str,
    tag: &str,
) -> Result<Response, AppError> {
    let tag = tag.strip_prefix('"').unwrap_or(tag);
    let tag = tag.strip_suffix('"').unwrap_or(tag);
    match state
        .store
        .resolve_tag(email, tag, &caller.audience())
        .await?
    {
        Some(key) => show(state, caller, media, &key).await,
        None => Err(AppError::not_found(NOT_FOUND)),
    }
}

/// The representation of the entry at `key`, when the caller may see it.
pub(crate) async fn show(
    state: &AppState,
    caller: &Caller,
    media: Media,
    key: &EntryKey,
) -> Result<Response, AppError> {
    let audience = caller.audience();
    let Some(stored) = state.store.get_visible(key, &audience).await? else {
        return Err(AppError::not_found(NOT_FOUND));
    };
    Ok(match media {
        Media::Html => crate::ui::image::entry_page(state, &audience, &stored).await?,
        Media::Json => {
            let entry = &stored.entry;
            let json = match to_rdf_json(&entry.document) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(key = %entry.key, error = %e, "no RDF/JSON; serving the metadata as JSON");
                    serde_json::to_value(&entry.metadata).map_err(AppError::internal)?
                }
            };
            attachment(
                with_type(StatusCode::OK, Media::Json.content_type(), json.to_string()),
                &format!("{}.json", entry.key.identifier),
            )
        }
        _ => {
            let entry = stored.entry;
            let name = format!("{}.xml", entry.key.identifier);
            attachment(
                with_type(StatusCode::OK, "application/rdf+xml", entry.document),
                &name,
            )
        }
    })
}

/// Adds `Content-Disposition: attachment; filename=<name>` when `name` is
/// a plain file name (identifiers are; anything else is left out).
fn attachment(mut response: Response, name: &str) -> Response {
    if name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename={name}"))
    {
        response.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    response
}
