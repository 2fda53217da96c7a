//! Conditional GET: a strong `ETag` on every successful `GET` response
//! (a hash of the exact bytes sent, so after compression: each content
//! coding has its own tag), `Last-Modified` where handlers set it (see
//! [`set_last_modified`]), and `304 Not Modified` for `If-None-Match` /
//! `If-Modified-Since` (RFC 9110 §13: `If-None-Match` wins; `*` matches any
//! representation).
//!
//! Bodies are hashed in memory up to [`MAX_HASHED_BODY`] bytes; a larger
//! body is passed on as it streams, without a tag. A handler that knows
//! what determines its body (the lists of signed documents: their stored
//! digests) sets a [`derived_etag`] itself, and the body is not read here;
//! a compressed form of it gets a tag of its own (`"<tag>-gzip"`).
//!
//! What a response holds depends on who asks: entries restricted to VOs
//! are in the responses to their members only (see
//! [`crate::auth::identity::Caller::audience`]). So every response made for an
//! authenticated caller — a handler extracted it as a
//! [`crate::auth::identity::Caller`], raising [`CallerUsed`] — is
//! `Cache-Control: private` (no shared cache keeps it; [`make_private`]),
//! and since a tag is the hash of the bytes sent,
//! two audiences that get different content get different tags (a tag
//! never validates another audience's copy). Responses to anonymous callers
//! hold public entries only and stay shareable.

use crate::auth::identity::{CallerUsed, ClientIdentity};
use crate::http::middleware::{Before, Middleware};
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LOCATION, ETAG, EXPIRES, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use marketplace_store::EntrySummary;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The largest body the middleware hashes (larger ones get no `ETag`).
pub const MAX_HASHED_BODY: usize = 32 * 1024 * 1024;

/// The strong entity tag of `body`: 128 bits of its SHA-256, quoted.
pub fn etag_of(body: &[u8]) -> String {
    quoted_tag(&Sha256::digest(body))
}

/// A strong entity tag derived from what determines a representation
/// instead of from its bytes, for a handler to set (the middleware then
/// neither reads nor hashes the body): `kind` names the representation
/// and its layout (change it whenever the layout changes), `parts` must
/// determine the body exactly — e.g. the digests of the stored documents
/// it lists, in order, and the counts it shows. 128 bits of the SHA-256 of
/// `kind` and the parts, each length-prefixed, quoted.
pub fn derived_etag<'a>(kind: &'a str, parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hash = Sha256::new();
    for part in std::iter::once(kind.as_bytes()).chain(parts) {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    quoted_tag(&hash.finalize())
}

/// The first 128 bits of `digest` in hex, quoted.
fn quoted_tag(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for b in &digest[..16] {
        tag.push(char::from(HEX[usize::from(b >> 4)]));
        tag.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    tag.push('"');
    tag
}

/// The tag of a content-coded (compressed) form of the representation
/// whose tag is `tag`: `"<opaque>-<coding>"`, so that each coding has its
/// own strong tag, as RFC 9110 §8.8.3 requires.
fn coded_tag(tag: &str, coding: &str) -> String {
    let opaque = tag.trim_end_matches('"');
    format!("{opaque}-{coding}\"")
}

/// An HTTP date (IMF-fixdate) for `at` (whole seconds; instants before
/// 1970 become 1970).
pub fn http_date(at: DateTime<Utc>) -> String {
    let secs = u64::try_from(at.timestamp()).unwrap_or(0);
    httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// Sets `Last-Modified: at` on a response.
pub fn set_last_modified(response: &mut Response, at: DateTime<Utc>) {
    if let Ok(v) = HeaderValue::from_str(&http_date(at)) {
        response.headers_mut().insert(LAST_MODIFIED, v);
    }
}

/// When a representation listing `entries` with their status at `now` last
/// changed: the newest acceptance, or the latest expiry (`dcterms:valid`)
/// already past at `now` if later — an entry that expires changes its
/// status without a new acceptance. `None` for no entries.
pub fn changed_at<'a>(
    entries: impl IntoIterator<Item = &'a EntrySummary>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    entries
        .into_iter()
        .map(|e| {
            let expired = e
                .metadata
                .valid
                .as_deref()
                .and_then(|v| marketplace_format::datetime::parse_utc(v).ok())
                .filter(|v| *v <= now);
            match expired {
                Some(v) if v > e.accepted_at => v,
                _ => e.accepted_at,
            }
        })
        .max()
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, as
/// RFC 9110 §13.1.2 requires for this header).
pub fn none_match(header: &str, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let wanted = opaque(etag);
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || opaque(t) == wanted)
}

/// Whether a resource last modified at `last_modified` (HTTP date) is
/// unchanged since `if_modified_since` (HTTP date).
pub fn not_modified_since(last_modified: &str, if_modified_since: &str) -> bool {
    match (
        httpdate::parse_http_date(last_modified),
        httpdate::parse_http_date(if_modified_since),
    ) {
        (Ok(lm), Ok(ims)) => lm <= ims,
        _ => false,
    }
}

/// What reading a body up to the limit gave.
enum Collected {
    /// The whole body.
    Full(Bytes),
    /// Too large: the body, to be sent as it streams.
    Large(Body),
}

/// Reads `body` into memory if it has at most `limit` bytes.
async fn collect(body: Body, limit: usize) -> Result<Collected, axum::Error> {
    let mut stream = body.into_data_stream();
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if buffer.len() + chunk.len() > limit {
            let head = futures_util::stream::iter([
                Ok::<Bytes, axum::Error>(Bytes::from(buffer)),
                Ok(chunk),
            ]);
            return Ok(Collected::Large(Body::from_stream(head.chain(stream))));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Collected::Full(Bytes::from(buffer)))
}

/// The headers a 304 keeps from the 200 it replaces (RFC 9110 §15.4.5).
const KEPT_ON_304: [axum::http::HeaderName; 5] =
    [CACHE_CONTROL, CONTENT_LOCATION, ETAG, EXPIRES, VARY];

fn not_modified(headers: &HeaderMap) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    for name in KEPT_ON_304.iter().chain([&LAST_MODIFIED]) {
        for value in headers.get_all(name) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response
}

/// Marks `headers` as a response for one client: `Cache-Control:
/// private` added to whatever directives it has (`no-store` already keeps
/// it out of every cache; `public` is dropped).
pub fn make_private(headers: &mut HeaderMap) {
    let current: Vec<String> = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .collect();
    let has = |name: &str| {
        current.iter().any(|d| {
            d.split('=')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    };
    if has("private") || has("no-store") {
        return;
    }
    let directives: Vec<&str> = std::iter::once("private")
        .chain(
            current
                .iter()
                .map(String::as_str)
                .filter(|d| !d.eq_ignore_ascii_case("public")),
        )
        .collect();
    if let Ok(v) = HeaderValue::from_str(&directives.join(", ")) {
        headers.insert(CACHE_CONTROL, v);
    }
}

/// Middleware: tags `GET` 200 responses and answers 304 when the client's
/// copy is current; every response made for an authenticated caller is
/// private (whether the identity was attached outside this layer or, as
/// usual, inside it: see [`CallerUsed`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditional;

/// What [`Conditional`] keeps of a request.
#[derive(Debug)]
pub struct Preconditions {
    /// An identity was attached outside this layer.
    authenticated: bool,
    /// Raised when a handler extracts the caller.
    used: CallerUsed,
    /// A `GET`'s `If-None-Match` and `If-Modified-Since` (`None` for other
    /// methods, which are left alone).
    get: Option<(Option<String>, Option<String>)>,
}

impl Middleware for Conditional {
    type Carry = Preconditions;

    fn before(&self, mut request: Request) -> Before<Preconditions> {
        let authenticated = request.extensions().get::<Arc<ClientIdentity>>().is_some();
        let used = CallerUsed::default();
        request.extensions_mut().insert(used.clone());
        let header = |name| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let get = (request.method() == Method::GET)
            .then(|| (header(IF_NONE_MATCH), header(IF_MODIFIED_SINCE)));
        Before::Pass(
            request,
            Preconditions {
                authenticated,
                used,
                get,
            },
        )
    }

    async fn after(&self, carry: Preconditions, mut response: Response) -> Response {
        code_handler_tag(&mut response);
        let mut response = match carry.get {
            Some((if_none_match, if_modified_since)) => {
                tagged(response, if_none_match, if_modified_since).await
            }
            None => response,
        };
        if carry.authenticated || carry.used.is_raised() {
            make_private(response.headers_mut());
        }
        response
    }
}

/// A tag the handler set names the identity representation: a compressed
/// response (whatever the method: a `HEAD` carries the tag of its `GET`)
/// gets the tag of its coding.
fn code_handler_tag(response: &mut Response) {
    let headers = response.headers_mut();
    let coded = match (headers.get(ETAG), headers.get(CONTENT_ENCODING)) {
        (Some(tag), Some(coding)) => match (tag.to_str(), coding.to_str()) {
            (Ok(tag), Ok(coding)) => coded_tag(tag, coding),
            _ => return,
        },
        _ => return,
    };
    if let Ok(v) = HeaderValue::from_str(&coded) {
        headers.insert(ETAG, v);
    }
}

/// A `GET`'s response, tagged, or 304 when the client's copy is current.
async fn tagged(
    response: Response,
    if_none_match: Option<String>,
    if_modified_since: Option<String>,
) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let (etag, body) = match parts.headers.get(ETAG).and_then(|v| v.to_str().ok()) {
        Some(tag) => (Some(tag.to_string()), body),
        None => match collect(body, MAX_HASHED_BODY).await {
            Ok(Collected::Full(bytes)) => {
                let tag = etag_of(&bytes);
                if let Ok(v) = HeaderValue::from_str(&tag) {
                    parts.headers.insert(ETAG, v);
                }
                (Some(tag), Body::from(bytes))
            }
            Ok(Collected::Large(body)) => (None, body),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a response body");
                let mut failed = Response::new(Body::empty());
                *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return failed;
            }
        },
    };
    let unchanged = match (&if_none_match, &etag) {
        (Some(header), Some(tag)) => none_match(header, tag),
        (Some(_), None) => false,
        (None, _) => match (&if_modified_since, parts.headers.get(LAST_MODIFIED)) {
            (Some(since), Some(lm)) => lm.to_str().is_ok_and(|lm| not_modified_since(lm, since)),
            _ => false,
        },
    };
    if unchanged {
        return not_modified(&parts.headers);
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_strong_and_stable() {
        let a = etag_of(b"hello");
        assert_eq!(a, etag_of(b"hello"));
        assert_ne!(a, etag_of(b"hello!"));
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 34);
        // 128 bits of the SHA-256 of "hello", in hex.
        assert_eq!(a, "\"2cf24dba5fb0a30e26e83b2ac5b9e29e\"");
    }

    #[test]
    fn derived_tags() {
        let tag =
            |kind: &str, parts: &[&str]| derived_etag(kind, parts.iter().map(|p| p.as_bytes()));
        let a = tag("list/1", &["ab", "c"]);
        assert_eq!(a, tag("list/1", &["ab", "c"]));
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 34);
        // The parts are delimited: moving a boundary changes the tag.
        assert_ne!(a, tag("list/1", &["a", "bc"]));
        assert_ne!(a, tag("list/1", &["abc"]));
        assert_ne!(a, tag("list/2", &["ab", "c"]));
        assert_eq!(coded_tag("\"abc\"", "gzip"), "\"abc-gzip\"");
    }

    #[test]
    fn if_none_match_lists() {
        assert!(none_match("\"a\"", "\"a\""));
        assert!(none_match("\"x\", W/\"a\"", "\"a\""));
        assert!(none_match("*", "\"a\""));
        assert!(!none_match("\"b\"", "\"a\""));
    }

    #[test]
    fn private_responses() {
        let private = |given: &[&str]| {
            let mut h = HeaderMap::new();
            for v in given {
                h.append(CACHE_CONTROL, HeaderValue::from_str(v).unwrap());
            }
            make_private(&mut h);
            h.get_all(CACHE_CONTROL)
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(private(&[]), ["private"]);
        assert_eq!(private(&["no-store"]), ["no-store"]);
        assert_eq!(
            private(&["public, max-age=3600"]),
            ["private, max-age=3600"]
        );
        assert_eq!(
            private(&["max-age=60", "Private"]),
            ["max-age=60", "Private"]
        );
    }

    /// A handler that extracts the caller, behind a layer that attaches
    /// an identity inside the conditional layer (as the authentication
    /// layer does): the response is private, an anonymous one is not.
    #[tokio::test]
    async fn responses_made_for_a_caller_are_private() {
        use crate::auth::identity::{Caller, IdentitySource};
        use axum::routing::get;
        use tower::ServiceExt;
        async fn attach(mut request: Request, next: axum::middleware::Next) -> Response {
            if request.headers().contains_key("x-who") {
                request.extensions_mut().insert(Arc::new(ClientIdentity {
                    subject: "CN=a".into(),
                    issuer: "CN=b".into(),
                    vos: vec!["vo".into()],
                    fqans: Vec::new(),
                    source: IdentitySource::TlsClientCertificate,
                }));
            }
            next.run(request).await
        }
        let app = axum::Router::new()
            .route(
                "/caller",
                get(|caller: Caller| async move { caller.vos().join(",") }),
            )
            .route("/static", get(|| async { "same for all" }))
            .layer(axum::middleware::from_fn(attach))
            .layer(crate::http::middleware::MiddlewareLayer::new(Conditional));
        let send = |path: &str, who: bool| {
            let mut request = Request::builder().uri(path);
            if who {
                request = request.header("x-who", "1");
            }
            app.clone().oneshot(request.body(Body::empty()).unwrap())
        };
        let cache_control = |r: &Response| {
            r.headers()
                .get(CACHE_CONTROL)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let r = send("/caller", true).await.unwrap();
        assert_eq!(cache_control(&r).as_deref(), Some("private"));
        assert!(r.headers().contains_key(ETAG));
        let r = send("/caller", false).await.unwrap();
        assert_eq!(cache_control(&r), None);
        // A response that does not depend on the caller stays shareable.
        let r = send("/static", true).await.unwrap();
        assert_eq!(cache_control(&r), None);
    }

    #[test]
    fn dates() {
        let at: DateTime<Utc> = "2015-01-01T00:00:00.5Z".parse().unwrap();
        let lm = http_date(at);
        assert_eq!(lm, "Thu, 01 Jan 2015 00:00:00 GMT");
        assert!(not_modified_since(&lm, &lm));
        assert!(not_modified_since(&lm, "Fri, 02 Jan 2015 00:00:00 GMT"));
        assert!(!not_modified_since(&lm, "Wed, 31 Dec 2014 23:59:59 GMT"));
        assert!(!not_modified_since(&lm, "yesterday"));
    }
}
