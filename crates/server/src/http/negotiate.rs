//! Choosing the representation of a response: the `media` query parameter
//! first (`xml`, `json`, `html`, `rdf`, `txt` or a full media type), then
//! the `Accept` header (quality values honoured, earlier wins on ties), and
//! XML when the client states no preference (`*/*` or no header, as curl).
//! Browsers list `text/html` first and therefore get HTML.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use axum::http::request::Parts;
use std::convert::Infallible;

/// A representation the server can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Media {
    /// `application/xml` (the default).
    Xml,
    /// `application/rdf+xml` (single entries; lists treat it as XML).
    Rdf,
    /// `application/json`.
    Json,
    /// `text/html`.
    Html,
    /// `text/plain`.
    Text,
}

impl Media {
    /// The media named by a `media=` value or an `Accept` entry, if known.
    pub(crate) fn from_name(name: &str) -> Option<Media> {
        let name = name.trim().to_ascii_lowercase();
        let essence = name.split(';').next().unwrap_or("").trim();
        Some(match essence {
            "xml" | "text/xml" | "application/xml" | "application_xml" => Media::Xml,
            "rdf" | "application/rdf+xml" | "application_rdf" => Media::Rdf,
            "json" | "application/json" => Media::Json,
            "html" | "text/html" | "application/xhtml+xml" => Media::Html,
            "txt" | "text" | "text/plain" => Media::Text,
            _ => return None,
        })
    }

    /// The `Content-Type` of this media (UTF-8 for text types).
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Media::Xml => "application/xml; charset=utf-8",
            Media::Rdf => "application/rdf+xml; charset=utf-8",
            Media::Json => "application/json",
            Media::Html => "text/html; charset=utf-8",
            Media::Text => "text/plain; charset=utf-8",
        }
    }
}

/// The first value of the `media` parameter of a raw query string.
fn media_param(query: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "media")
        .map(|(_, v)| v)
}

/// The media the client prefers by its `Accept` header, if any is known.
pub(crate) fn from_accept(headers: &HeaderMap) -> Option<Media> {
    let mut best: Option<(f32, Media)> = None;
    for value in headers.get_all(ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let Some(media) = parts.next().and_then(Media::from_name) else {
                continue;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, media));
            }
        }
    }
    best.map(|(_, m)| m)
}

/// Paths whose successful responses have one representation whatever the
/// `Accept` header (their errors still follow it).
const SINGLE_REPRESENTATION: [&str; 6] = [
    "/static/", "/api/", "/feeds/", "/images/", "/healthz", "/metrics",
];

/// Whether the response to a request for `path` with `query` depends on
/// its `Accept` header, so that caches must key it by `Vary: Accept`: not
/// when a known `media=` parameter decides, nor for a successful response
/// of a path with a single representation. `error` tells whether the
/// response is an error page, which is always negotiated.
pub(crate) fn varies_by_accept(path: &str, query: Option<&str>, error: bool) -> bool {
    let decided = media_param(query)
        .as_deref()
        .and_then(Media::from_name)
        .is_some();
    !decided && (error || !SINGLE_REPRESENTATION.iter().any(|p| path.starts_with(p)))
}

/// The media for a request: `?media=` (when known), then `Accept`, then XML.
pub(crate) fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Media {
    media_param(query)
        .as_deref()
        .and_then(Media::from_name)
        .or_else(|| from_accept(headers))
        .unwrap_or(Media::Xml)
}

impl<S: Send + Sync> FromRequestParts<S> for Media {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(negotiate(parts.uri.query(), &parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn accept_varies_unless_media_or_a_single_representation_decides() {
        assert!(varies_by_accept("/metadata", None, false));
        assert!(varies_by_accept("/metadata", Some("status=valid"), false));
        assert!(!varies_by_accept("/metadata", Some("media=json"), false));
        assert!(varies_by_accept("/metadata", Some("media=bogus"), false));
        assert!(!varies_by_accept("/static/app.css", None, false));
        assert!(varies_by_accept("/static/missing", None, true));
        assert!(!varies_by_accept("/api/v1/images", None, false));
    }

    #[test]
    fn defaults_to_xml() {
        assert_eq!(negotiate(None, &HeaderMap::new()), Media::Xml);
        assert_eq!(negotiate(None, &accept("*/*")), Media::Xml);
        assert_eq!(negotiate(None, &accept("image/png")), Media::Xml);
    }

    #[test]
    fn browsers_get_html() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(negotiate(None, &accept(firefox)), Media::Html);
    }

    #[test]
    fn quality_and_order() {
        assert_eq!(
            negotiate(None, &accept("application/xml;q=0.5, application/json")),
            Media::Json
        );
        assert_eq!(
            negotiate(None, &accept("text/xml, application/json")),
            Media::Xml
        );
        assert_eq!(negotiate(None, &accept("application/json;q=0")), Media::Xml);
    }

    #[test]
    fn media_parameter_wins() {
        assert_eq!(
            negotiate(Some("a=1&media=json"), &accept("text/html")),
            Media::Json
        );
        assert_eq!(
            negotiate(Some("media=text%2Fhtml"), &HeaderMap::new()),
            Media::Html
        );
        assert_eq!(negotiate(Some("media=rdf"), &HeaderMap::new()), Media::Rdf);
        assert_eq!(
            negotiate(Some("media=bogus"), &accept("application/json")),
            Media::Json
        );
    }
}
