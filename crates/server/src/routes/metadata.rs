//! `/metadata[/{arg1}[/{arg2}]]`: the list (GET; POST with a form for the
//! DataTables JSON) and uploads (POST with a document).
//!
//! - XML (default): `<metadata>` holding the stored signed documents of the
//!   page (XML declarations removed); 404 `no metadata matching query
//!   found` when nothing matches. `X-Total-Count` gives the number of
//!   matching entries (a page holds at most 1000).
//! - JSON: the DataTables object (`sEcho`, `iTotalRecords`,
//!   `iTotalDisplayRecords`, `rMsg`, `aaData` rows of `["", os, osversion,
//!   arch, email, kind, created, identifier, location, description, title]`,
//!   missing values as the string `null`).
//! - HTML: the search page of the web interface ([`crate::ui::search`]).
//!
//! Lists, counts and totals cover the entries the caller may see (see
//! [`marketplace_store::Audience`]); `vo=` filters on the signer's VO.

use crate::auth::identity::Caller;
use crate::http::conditional;
use crate::http::error::AppError;
use crate::http::negotiate::Media;
use crate::http::response::with_type;
use crate::render::escape;
use crate::render::listing::{Params, list_request};
use crate::routes::{entry, upload};
use crate::runtime::config::DEFAULT_PAGE;
use crate::runtime::state::AppState;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header::{CONTENT_TYPE, ETAG};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use marketplace_store::{EntrySummary, SearchOptions, SearchPage};
use serde_json::{Value, json};

/// The original's message for an empty list.
pub(crate) const NO_MATCH: &str = "no metadata matching query found";

/// `GET /metadata`.
pub(crate) async fn get_root(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    list(
        &state,
        &caller,
        media,
        Vec::new(),
        Params::parse(query.as_deref()),
    )
    .await
}

/// `GET /metadata/{arg1}`; with `?tag=` it is the tagged entry of the
/// endorser `arg1`.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    Path(arg1): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref());
    if let Some(tag) = params.get("tag") {
        return entry::tagged(&state, &caller, media, &arg1, tag).await;
    }
    list(&state, &caller, media, vec![arg1], params).await
}

/// `GET /metadata/{arg1}/{arg2}`.
pub(crate) async fn get_two(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    Path((arg1, arg2)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    list(
        &state,
        &caller,
        media,
        vec![arg1, arg2],
        Params::parse(query.as_deref()),
    )
    .await
}

/// `POST /metadata`.
pub(crate) async fn post_root(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    request: Request,
) -> Result<Response, AppError> {
    post(&state, &caller, media, Vec::new(), request).await
}

/// `POST /metadata/{arg1}`.
pub(crate) async fn post_one(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    Path(arg1): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    post(&state, &caller, media, vec![arg1], request).await
}

/// `POST /metadata/{arg1}/{arg2}`.
pub(crate) async fn post_two(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    Path((arg1, arg2)): Path<(String, String)>,
    request: Request,
) -> Result<Response, AppError> {
    post(&state, &caller, media, vec![arg1, arg2], request).await
}

/// Dispatches a POST on its content type.
async fn post(
    state: &AppState,
    caller: &Caller,
    media: Media,
    path_values: Vec<String>,
    request: Request,
) -> Result<Response, AppError> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match content_type.as_deref() {
        Some("application/x-www-form-urlencoded") => {
            let query = Params::parse(request.uri().query());
            let body = axum::body::to_bytes(
                request.into_body(),
                crate::http::receive::MULTIPART_OVERHEAD,
            )
            .await
            .map_err(|e| AppError::bad_request(format!("cannot read the form: {e}")))?;
            let form = Params::parse_bytes(&body);
            form.refuse_nul().map_err(AppError::bad_request)?;
            let params = form.then(query);
            list(state, caller, Media::Json, path_values, params).await
        }
        Some("multipart/form-data") => upload::receive(state, media, request, true).await,
        Some("application/rdf+xml") | Some("application/xml") => {
            upload::receive(state, media, request, false).await
        }
        None => match axum::body::to_bytes(request.into_body(), 1).await {
            Ok(body) if body.is_empty() => Err(AppError::bad_request("post with null entity")),
            _ => Err(unsupported("none")),
        },
        Some(other) => Err(unsupported(other)),
    }
}

fn unsupported(content_type: &str) -> AppError {
    AppError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!(
            "unsupported media type '{content_type}': upload a document as application/rdf+xml, \
             application/xml or multipart/form-data; list with application/x-www-form-urlencoded"
        ),
    )
}

/// The list in `media`, of the entries the caller may see.
async fn list(
    state: &AppState,
    caller: &Caller,
    media: Media,
    path_values: Vec<String>,
    params: Params,
) -> Result<Response, AppError> {
    if media == Media::Html {
        // Browsers get the search page of the web interface.
        return crate::ui::search::page(state, caller, &path_values, &params).await;
    }
    let mut request = match list_request(&path_values, &params, DEFAULT_PAGE) {
        Ok(r) => r,
        Err(message) if media == Media::Json => {
            return Ok(datatables(0, &SearchPage::default(), Some(&message)));
        }
        Err(message) => return Err(AppError::bad_request(format!("invalid query: {message}"))),
    };
    request.query.audience = caller.audience();
    let page = if request.contradictory {
        SearchPage::default()
    } else {
        // The XML list shows the signed documents alone, not the entries
        // nor the catalogue total.
        let options = SearchOptions {
            total: media == Media::Json,
            documents: media != Media::Json,
            summaries: media == Media::Json,
            document_budget: Some(state.config.max_list_document_bytes),
        };
        let now = state.clock.now();
        match state.store.search_with(&request.query, now, options).await {
            Ok(page) => page,
            Err(marketplace_store::StoreError::InvalidQuery(m)) if media == Media::Json => {
                return Ok(datatables(request.echo, &SearchPage::default(), Some(&m)));
            }
            Err(e) => return Err(e.into()),
        }
    };
    match media {
        Media::Json => Ok(datatables(request.echo, &page, None)),
        _ => xml_list(
            page,
            request.query.offset,
            state.config.max_list_document_bytes,
        ),
    }
}

/// What [`xml_list`] writes, for its entity tag: change it whenever the
/// layout of the list changes.
const XML_LIST_LAYOUT: &str = "metadata-list-xml/1";

/// The stored documents of the page inside `<metadata>`. The entity tag is
/// derived from the documents' stored digests and the count (together
/// they determine the response), so the body is not hashed again.
fn xml_list(page: SearchPage, start: u64, budget: usize) -> Result<Response, AppError> {
    let left_out = page.documents_left_out;
    let next_start = start + page.documents.len() as u64;
    if page.documents.is_empty() {
        return Err(AppError::not_found(NO_MATCH));
    }
    let count = page.matching.to_string();
    let tag = conditional::derived_etag(
        XML_LIST_LAYOUT,
        page.documents
            .iter()
            .map(|d| d.sha256.as_bytes())
            .chain([count.as_bytes()]),
    );
    let documents_bytes: usize = page.documents.iter().map(|d| d.bytes.len() + 1).sum();
    let mut body = String::with_capacity(documents_bytes + 64);
    body.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n");
    // Each document is freed once copied: the page is not held twice.
    for document in page.documents {
        match std::str::from_utf8(&document.bytes) {
            Ok(text) => {
                body.push_str(escape::strip_xml_declaration(text).trim_end());
                body.push('\n');
            }
            Err(_) => tracing::warn!(
                sha256 = %document.sha256,
                "stored document is not UTF-8; skipped"
            ),
        }
    }
    if left_out > 0 {
        // The page ends early: say so inside the list (a comment, which
        // every XML reader skips) and in a header.
        body.push_str(&format!(
            "<!-- this page ends early: {left_out} more documents of it did not fit the \
             {budget} bytes that one response carries; iDisplayStart={next_start} continues \
             the list -->\n"
        ));
    }
    body.push_str("</metadata>\n");
    let mut response = with_type(StatusCode::OK, Media::Xml.content_type(), body);
    let headers = response.headers_mut();
    if left_out > 0 {
        headers.insert(
            HeaderName::from_static("x-documents-left-out"),
            HeaderValue::from(left_out),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&count) {
        headers.insert(HeaderName::from_static("x-total-count"), v);
    }
    if let Ok(v) = HeaderValue::from_str(&tag) {
        headers.insert(ETAG, v);
    }
    Ok(response)
}

fn or_null(v: Option<&String>) -> Value {
    Value::String(v.cloned().unwrap_or_else(|| "null".into()))
}

/// One DataTables row.
fn row(e: &EntrySummary) -> Value {
    let m = &e.metadata;
    json!([
        "",
        or_null(m.os.as_ref()),
        or_null(m.os_version.as_ref()),
        or_null(m.os_arch.as_ref()),
        e.key.email,
        or_null(m.kind.as_ref()),
        e.key.created,
        e.key.identifier,
        or_null(m.locations.first()),
        or_null(m.description.as_ref()),
        or_null(m.title.as_ref()),
    ])
}

/// The DataTables object; `error` becomes `rMsg` `ERROR: …` (still 200).
fn datatables(echo: i64, page: &SearchPage, error: Option<&str>) -> Response {
    let message = match error {
        Some(e) => format!("ERROR: {e}"),
        None => NO_MATCH.to_string(),
    };
    let body = json!({
        "sEcho": echo,
        "iTotalRecords": page.total,
        "iTotalDisplayRecords": page.matching,
        "rMsg": message,
        "aaData": page.entries.iter().map(row).collect::<Vec<_>>(),
    });
    with_type(StatusCode::OK, Media::Json.content_type(), body.to_string())
}
