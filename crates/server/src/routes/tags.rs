//! `/endorsers/{email}/tags`: the distinct tags an endorser used.

use crate::auth::identity::Caller;
use crate::http::error::AppError;
use crate::http::negotiate::Media;
use crate::http::response::with_type;
use crate::render::escape::path_segment;
use crate::render::html::{self, TagsPage};
use crate::render::results::Table;
use crate::runtime::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

/// `GET /endorsers/{email}/tags`: the tags of the entries the caller may
/// see.
pub(crate) async fn tags(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    Path(email): Path<String>,
) -> Result<Response, AppError> {
    let tags = state.store.tags(&email, &caller.audience()).await?;
    Ok(match media {
        Media::Html => {
            let links = tags
                .iter()
                .map(|t| {
                    let href = format!("tag/{}/{}", path_segment(&email), path_segment(t));
                    (t.clone(), href)
                })
                .collect();
            html::page(
                StatusCode::OK,
                &TagsPage {
                    base: &state.config.public_url,
                    email,
                    tags: links,
                },
            )
        }
        media => {
            let mut table = Table::new(&["tag"]);
            for t in tags {
                table.push(vec![Some(t)]);
            }
            table_response(&table, media)
        }
    })
}

/// A table as SPARQL results JSON (for JSON) or XML (otherwise).
pub(crate) fn table_response(table: &Table, media: Media) -> Response {
    match media {
        Media::Json => with_type(
            StatusCode::OK,
            Media::Json.content_type(),
            table.to_json().to_string(),
        ),
        _ => with_type(StatusCode::OK, Media::Xml.content_type(), table.to_xml()),
    }
}
