//! `/endorsers` (every endorser and the certificate names it used) and
//! `/endorsers/{email}` (its history over the last `range` days).
//!
//! XML and JSON keep the original's shape: W3C SPARQL query results (see
//! [`crate::render::results`]), columns `email, subject, issuer` for the list and
//! `identifier, created, description, location, deprecated, email` for a
//! history (one row per location).

use crate::auth::identity::Caller;
use crate::http::error::AppError;
use crate::http::negotiate::Media;
use crate::queries;
use crate::render::html::{self, EndorserRow, EndorsersPage};
use crate::render::listing::Params;
use crate::render::results::Table;
use crate::routes::tags::table_response;
use crate::runtime::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use marketplace_store::MAX_LIMIT;

/// The first CN of a DN, or the whole DN.
fn display_name(subject: &str) -> String {
    subject
        .split(',')
        .find_map(|rdn| rdn.trim().strip_prefix("CN="))
        .unwrap_or(subject)
        .to_string()
}

/// `GET /endorsers`: the endorsers of the entries the caller may see.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
) -> Result<Response, AppError> {
    let endorsers = state.store.endorsers(&caller.audience()).await?;
    Ok(match media {
        Media::Html => {
            let rows = endorsers
                .into_iter()
                .map(|e| EndorserRow {
                    name: display_name(&e.subject),
                    segment: crate::render::escape::path_segment(&e.email),
                    subject: e.subject,
                    issuer: e.issuer,
                    email: e.email,
                })
                .collect();
            html::page(
                StatusCode::OK,
                &EndorsersPage {
                    base: &state.config.public_url,
                    rows,
                },
            )
        }
        media => {
            let mut table = Table::new(&["email", "subject", "issuer"]);
            for e in endorsers {
                table.push(vec![Some(e.email), Some(e.subject), Some(e.issuer)]);
            }
            table_response(&table, media)
        }
    })
}

/// `GET /endorsers/{email}?range=DAYS`: the entries the caller may see.
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    Path(email): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref());
    if media == Media::Html {
        return crate::ui::endorser::page(&state, &caller, &email, params.get("range")).await;
    }
    // A missing or non-integer range means the default, as the original.
    let range = params
        .non_empty("range")
        .and_then(|r| r.parse::<u32>().ok())
        .unwrap_or(crate::render::listing::DEFAULT_RANGE_DAYS)
        .min(crate::render::listing::MAX_RANGE_DAYS);
    let now = state.clock.now();
    let entries = queries::endorser_history(
        &state,
        &caller.audience(),
        &email,
        Some(range),
        MAX_LIMIT,
        now,
    )
    .await?;
    let mut rows = Vec::new();
    for e in &entries {
        let m = &e.metadata;
        let locations: Vec<Option<String>> = if m.locations.is_empty() {
            vec![None]
        } else {
            m.locations.iter().cloned().map(Some).collect()
        };
        for location in locations {
            rows.push((e, location));
        }
    }
    let mut table = Table::new(&[
        "identifier",
        "created",
        "description",
        "location",
        "deprecated",
        "email",
    ]);
    for (e, location) in rows {
        table.push(vec![
            Some(e.key.identifier.to_string()),
            Some(e.key.created.to_string()),
            e.metadata.description.clone(),
            location,
            e.metadata.deprecated.clone(),
            Some(e.key.email.to_string()),
        ]);
    }
    Ok(table_response(&table, media))
}
