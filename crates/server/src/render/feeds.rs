//! Atom feeds (RFC 4287) of accepted entries, so that sites can subscribe:
//!
//! - `/feeds/entries.atom`: every entry;
//! - `/feeds/endorsers/{email}.atom`: one endorser's entries;
//! - `/feeds/images/{identifier}.atom`: one image's entries.
//!
//! At most [`FEED_LIMIT`] entries (the most recently accepted), newest
//! acceptance first. An entry's `id` is its URL under the configured
//! public base URL (never the Host header), `updated` is when the
//! marketplace accepted it, and it links to the signed document, its page
//! and its JSON. Every text is escaped by the XML writer.
//!
//! A feed carries the entries the caller may see; a feed of an endorser or
//! image with none is 404, as one with no entries at all.

use crate::auth::identity::Caller;
use crate::http::conditional::set_last_modified;
use crate::http::error::AppError;
use crate::http::links::entry_path;
use crate::render::escape::path_segment;
use crate::runtime::state::AppState;
use atom_syndication::{Content, Entry, Feed, Generator, Link, Person, Text};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use marketplace_store::{EntrySummary, HistoryOrder, HistoryQuery};

/// The most entries a feed carries.
pub(crate) const FEED_LIMIT: u32 = 100;

/// The media type of the feeds.
pub(crate) const ATOM: &str = "application/atom+xml; charset=utf-8";

/// The routes of this module.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/feeds/entries.atom", get(all_entries))
        .route("/feeds/endorsers/{file}", get(endorser_feed))
        .route("/feeds/images/{file}", get(image_feed))
}

/// Which entries a feed shows.
enum Scope {
    All,
    Endorser(String),
    Image(String),
}

/// `name` of a `{name}.atom` path segment.
fn feed_name(file: &str) -> Result<&str, AppError> {
    file.strip_suffix(".atom")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| AppError::not_found("not found"))
}

/// `GET /feeds/entries.atom`.
pub(crate) async fn all_entries(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    feed(&state, &caller, Scope::All).await
}

/// `GET /feeds/endorsers/{email}.atom`.
pub(crate) async fn endorser_feed(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let email = feed_name(&file)?.to_string();
    feed(&state, &caller, Scope::Endorser(email)).await
}

/// `GET /feeds/images/{identifier}.atom`.
pub(crate) async fn image_feed(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let identifier = feed_name(&file)?.to_string();
    feed(&state, &caller, Scope::Image(identifier)).await
}

/// Text without the characters XML cannot carry.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

fn link(href: String, rel: &str, mime: &str, title: Option<&str>) -> Link {
    Link {
        href: clean(&href),
        rel: rel.into(),
        mime_type: Some(mime.into()),
        title: title.map(clean),
        ..Link::default()
    }
}

/// The feed document for `scope` (the entries `caller` may see), and when
/// it last changed.
async fn feed(state: &AppState, caller: &Caller, scope: Scope) -> Result<Response, AppError> {
    let now = state.clock.now();
    let (identifier, email) = match &scope {
        Scope::All => (None, None),
        Scope::Endorser(e) => (None, Some(e.clone())),
        Scope::Image(i) => (Some(i.clone()), None),
    };
    let mut entries = state
        .store
        .history(&HistoryQuery {
            audience: caller.audience(),
            identifier,
            email,
            now: Some(now),
            limit: FEED_LIMIT,
            order: HistoryOrder::Accepted,
            ..HistoryQuery::default()
        })
        .await?;
    if entries.is_empty() && !matches!(scope, Scope::All) {
        return Err(AppError::not_found("no entries for this feed"));
    }
    // Newest acceptance first (the store's order is commit order; the
    // instants the entries carry decide).
    entries.sort_by(|a, b| {
        b.accepted_at
            .cmp(&a.accepted_at)
            .then_with(|| b.key.created.cmp(&a.key.created))
    });
    let newest = entries.iter().map(|e| e.accepted_at).max();
    let document = render(state, &scope, &entries, newest.unwrap_or(now))?;
    let mut response = (StatusCode::OK, document).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ATOM));
    if let Some(at) = newest {
        set_last_modified(&mut response, at);
    }
    Ok(response)
}

/// The Atom document (UTF-8).
fn render(
    state: &AppState,
    scope: &Scope,
    entries: &[EntrySummary],
    updated: DateTime<Utc>,
) -> Result<Vec<u8>, AppError> {
    let (path, title, alternate) = match scope {
        Scope::All => (
            "/feeds/entries.atom".to_string(),
            "Marketplace: accepted entries".to_string(),
            state.public_link("/metadata?media=html"),
        ),
        Scope::Endorser(email) => (
            format!("/feeds/endorsers/{}.atom", path_segment(email)),
            format!("Marketplace: entries endorsed by {email}"),
            state.public_link(&format!("/endorsers/{}?media=html", path_segment(email))),
        ),
        Scope::Image(id) => (
            format!("/feeds/images/{}.atom", path_segment(id)),
            format!("Marketplace: entries of image {id}"),
            state.public_link(&format!("/metadata/{}?media=html", path_segment(id))),
        ),
    };
    let feed_url = state.public_link(&path);
    let feed = Feed {
        title: Text::plain(clean(&title)),
        id: clean(&feed_url),
        updated: updated.fixed_offset(),
        authors: vec![Person {
            name: "Marketplace".into(),
            ..Person::default()
        }],
        generator: Some(Generator {
            value: "marketplace".into(),
            ..Generator::default()
        }),
        links: vec![
            link(feed_url, "self", "application/atom+xml", None),
            link(alternate, "alternate", "text/html", None),
        ],
        entries: entries.iter().map(|e| entry(state, e)).collect(),
        ..Feed::default()
    };
    feed.write_to(Vec::new()).map_err(AppError::internal)
}

/// The first `CN=` of a DN.
fn common_name(dn: &str) -> Option<&str> {
    dn.split(',')
        .find_map(|rdn| rdn.trim().strip_prefix("CN="))
        .filter(|cn| !cn.is_empty())
}

/// One feed entry.
fn entry(state: &AppState, e: &EntrySummary) -> Entry {
    let m = &e.metadata;
    let path = format!("/{}", entry_path(&e.key));
    let url = state.public_link(&path);
    let api = state.public_link(&format!("/api/v1/entries{}", &path["/metadata".len()..]));
    let name = m
        .title
        .as_deref()
        .or(m.alternative.as_deref())
        .unwrap_or(&m.identifier);
    let deprecated = if m.deprecated.is_some() {
        "[deprecated] "
    } else {
        ""
    };
    let os = [
        m.os.as_deref(),
        m.os_version.as_deref(),
        m.os_arch.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let mut lines = vec![format!("Identifier: {}", m.identifier)];
    let optional = [
        ("Title", m.title.as_deref()),
        ("Description", m.description.as_deref()),
        ("OS", Some(os.as_str()).filter(|s| !s.is_empty())),
        ("Tag", m.alternative.as_deref()),
        ("Valid until", m.valid.as_deref()),
        ("Deprecated", m.deprecated.as_deref()),
    ];
    lines.extend(
        optional
            .into_iter()
            .filter_map(|(label, v)| v.map(|v| format!("{label}: {v}"))),
    );
    lines.push(format!("Endorsed by {} at {}", e.key.email, e.key.created));
    let published = Some(e.key.created.instant().fixed_offset());
    Entry {
        title: Text::plain(clean(&format!(
            "{deprecated}{name} endorsed by {}",
            e.key.email
        ))),
        id: clean(&url),
        updated: e.accepted_at.fixed_offset(),
        published,
        authors: vec![Person {
            name: clean(common_name(&e.signer.subject).unwrap_or(&e.key.email)),
            email: Some(clean(&e.key.email)),
            ..Person::default()
        }],
        links: vec![
            link(
                format!("{url}?media=xml"),
                "alternate",
                "application/rdf+xml",
                Some("signed document"),
            ),
            link(
                format!("{url}?media=html"),
                "alternate",
                "text/html",
                Some("entry page"),
            ),
            link(api, "related", "application/json", Some("JSON")),
        ],
        content: Some(Content {
            value: Some(clean(&lines.join("\n"))),
            content_type: Some("text".into()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}
