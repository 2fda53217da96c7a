//! Browser security: response headers on every response
//! ([`SecurityHeaders`]) and protection of HTML forms against cross-site
//! request forgery ([`Csrf`]); both are [`Middleware`].
//!
//! # Headers
//!
//! Every response carries a `Content-Security-Policy` that allows scripts,
//! styles and images from the site only (no inline script, no inline style,
//! no `eval`), forbids plugins and framing (`frame-ancestors 'none'`, and
//! `X-Frame-Options: DENY` for older browsers), plus
//! `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` (links
//! to image locations on other sites carry no referrer) and
//! `Cross-Origin-Opener-Policy: same-origin`, and when the site is served
//! over HTTPS (an `https:` public URL) `Strict-Transport-Security`. A header a handler already set
//! (the confirmation pages' `Referrer-Policy: no-referrer`) is kept.
//!
//! # Cross-site request forgery
//!
//! A double-submit token: a random 256-bit value in the cookie
//! [`CSRF_COOKIE`] (`SameSite=Strict; HttpOnly`) and the same value in the
//! hidden form field [`CSRF_FIELD`] of every form the pages render
//! ([`csrf_token`], callable from templates). A forged request from another
//! site cannot know the value, and with `SameSite=Strict` the browser does
//! not even send the cookie along with it.
//!
//! The check applies to a `POST` a browser can send from another site
//! without asking first — `application/x-www-form-urlencoded`,
//! `multipart/form-data`, `text/plain`, or no body type at all — when it
//! comes from a browser, i.e. carries one of the headers browsers add on
//! their own (`Origin`, `Sec-Fetch-Site`, `Sec-Fetch-Mode`, `Referer`) or a
//! cookie. Such a request is refused (403) when
//!
//! - `Sec-Fetch-Site` says it comes from another site (`cross-site`,
//!   `same-site`), or
//! - the form field is missing or differs from the cookie.
//!
//! Not checked:
//!
//! - raw uploads as `application/rdf+xml` or `application/xml` (what the
//!   CLI and the original tools send): a page on another site can only send
//!   these with `fetch` in CORS mode, which first asks this server with a
//!   preflight `OPTIONS` request that it never answers with
//!   `Access-Control-Allow-*` headers, so the browser never sends the POST;
//! - the `application/x-www-form-urlencoded` POSTs to `/metadata…`, which
//!   are searches (the original DataTables protocol) and change nothing;
//! - requests with none of the browser headers and no cookie: scripts and
//!   command-line clients, which have no ambient authority a forgery could
//!   borrow (every browser since 2020 sends `Origin` with a `POST`).

use crate::http::error::AppError;
use crate::http::middleware::{Before, Middleware};
use crate::http::negotiate::negotiate;
use crate::runtime::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, ORIGIN, REFERER, REFERRER_POLICY,
    SET_COOKIE, STRICT_TRANSPORT_SECURITY, VARY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The cookie that holds the CSRF token.
pub(crate) const CSRF_COOKIE: &str = "mp_csrf";

/// The form field that repeats it.
pub(crate) const CSRF_FIELD: &str = "csrf_token";

/// Random bytes in a token (256 bits).
const TOKEN_BYTES: usize = 32;

/// Length of a token: [`TOKEN_BYTES`] in unpadded base64url.
const TOKEN_CHARS: usize = 43;

/// The message of a refused form.
pub(crate) const CSRF_REFUSED: &str = "the form could not be verified (its security token is missing or \
     stale, or it was sent from another site): reload the page and submit it again";

/// What a request's handlers and templates may ask about the request.
#[derive(Debug)]
pub(crate) struct Context {
    /// The CSRF token of this browser's cookie, if it sent one.
    cookie: Option<String>,
    /// The token pages render: the cookie's, or a new one made the first
    /// time a page asks (most responses render no form and need none).
    token: std::sync::OnceLock<String>,
    /// Whether a page rendered the token (then the cookie is set and the
    /// response is not stored by caches).
    used: AtomicBool,
    /// The request's path and query, as the router saw them.
    here: String,
}

tokio::task_local! {
    static CONTEXT: Arc<Context>;
}

/// The CSRF token to put in the hidden [`CSRF_FIELD`] of a form (empty
/// outside a request, e.g. in unit tests). Templates call it as
/// `crate::http::security::csrf_token()`.
pub(crate) fn csrf_token() -> String {
    CONTEXT
        .try_with(|c| {
            c.used.store(true, Ordering::Relaxed);
            c.token
                .get_or_init(|| c.cookie.clone().unwrap_or_else(new_token))
                .clone()
        })
        .unwrap_or_default()
}

/// The path and query of the current request without the leading `/`, for
/// links to a fragment of the same page (pages have a `<base href>`, so a
/// bare `#x` would point at the base URL). Empty outside a request.
pub(crate) fn here() -> String {
    CONTEXT
        .try_with(|c| c.here.trim_start_matches('/').to_string())
        .unwrap_or_default()
}

/// A new random token.
fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    if let Err(e) = getrandom::fill(&mut bytes) {
        // Without randomness no form can be trusted: a token nobody can
        // match (forms are refused, everything else works).
        tracing::error!(error = %e, "no randomness for a CSRF token");
        return String::new();
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `value` has the shape of a token.
fn well_formed(value: &str) -> bool {
    value.len() == TOKEN_CHARS
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The value of the CSRF cookie, if the request carries a well-formed one.
pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| well_formed(v))
}

/// Compares two strings in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The media type of a request body, lowercase, without parameters.
fn body_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
}

/// Whether a browser would send a POST of this body type from another site
/// without a CORS preflight (the "simple" types, or no body type).
fn sendable_cross_site(body_type: Option<&str>) -> bool {
    matches!(
        body_type,
        None | Some("application/x-www-form-urlencoded")
            | Some("multipart/form-data")
            | Some("text/plain")
    )
}

/// Whether the request carries a header only browsers add on their own, or
/// a cookie.
fn from_browser(headers: &HeaderMap) -> bool {
    [
        ORIGIN,
        REFERER,
        COOKIE,
        HeaderName::from_static("sec-fetch-site"),
        HeaderName::from_static("sec-fetch-mode"),
    ]
    .iter()
    .any(|h| headers.contains_key(h))
}

/// Whether `Sec-Fetch-Site` says the request comes from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            v != "same-origin" && v != "none"
        })
}

/// Whether the POST needs a token (see the module documentation).
fn needs_check(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    if method != Method::POST || !from_browser(headers) {
        return false;
    }
    let kind = body_type(headers);
    if !sendable_cross_site(kind.as_deref()) {
        return false;
    }
    let is_search = kind.as_deref() == Some("application/x-www-form-urlencoded")
        && (path == "/metadata" || path.starts_with("/metadata/"));
    !is_search
}

/// The [`CSRF_FIELD`] of a form body (`urlencoded` or multipart).
async fn form_token(parts: &axum::http::request::Parts, body: &[u8]) -> Option<String> {
    match body_type(&parts.headers).as_deref() {
        Some("application/x-www-form-urlencoded") => {
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v)
        }
        Some("multipart/form-data") => {
            let mut request = Request::new(Body::from(body.to_vec()));
            if let Some(ct) = parts.headers.get(CONTENT_TYPE) {
                request.headers_mut().insert(CONTENT_TYPE, ct.clone());
            }
            let mut multipart = Multipart::from_request(request, &()).await.ok()?;
            while let Ok(Some(field)) = multipart.next_field().await {
                if field.name() == Some(CSRF_FIELD) && field.file_name().is_none() {
                    return field.text().await.ok();
                }
            }
            None
        }
        _ => None,
    }
}

/// Middleware: checks the CSRF token of form POSTs, makes the token (and
/// the request path) available to the pages, and sets the cookie when a
/// page rendered a new token.
#[derive(Clone)]
pub(crate) struct Csrf(pub AppState);

impl Middleware for Csrf {
    type Carry = Arc<Context>;

    fn before(&self, request: Request) -> Before<Arc<Context>> {
        let context = Arc::new(Context {
            cookie: cookie_token(request.headers()),
            token: std::sync::OnceLock::new(),
            used: AtomicBool::new(false),
            here: request
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
        });
        if !needs_check(request.method(), request.uri().path(), request.headers()) {
            return Before::Pass(request, context);
        }
        let state = self.0.clone();
        Before::Prepare(Box::pin(async move {
            checked_form(&state, request, &context)
                .await
                .map(|request| (request, context))
        }))
    }

    fn scope<F>(&self, context: &Arc<Context>, inner: F) -> impl Future<Output = Response> + Send
    where
        F: Future<Output = Response> + Send,
    {
        CONTEXT.scope(context.clone(), inner)
    }

    async fn after(&self, context: Arc<Context>, mut response: Response) -> Response {
        if context.used.load(Ordering::Relaxed) {
            let headers = response.headers_mut();
            // The page holds this browser's token: no shared cache may keep it.
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.append(VARY, HeaderValue::from_static("Cookie"));
            let token = context.token.get().map(String::as_str).unwrap_or_default();
            if context.cookie.is_none() && !token.is_empty() {
                let secure = if self.0.config.public_url.starts_with("https:") {
                    "; Secure"
                } else {
                    ""
                };
                let cookie =
                    format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    headers.append(SET_COOKIE, v);
                }
            }
        }
        response
    }
}

/// The request of a form POST whose token matches the cookie (the body
/// read and put back), or the refusal.
async fn checked_form(
    state: &AppState,
    request: Request,
    context: &Context,
) -> Result<Request, Response> {
    let media = negotiate(request.uri().query(), request.headers());
    // This layer is outside `ErrorBodies` (so that error pages, too, are
    // rendered inside the context): it renders its own refusals.
    let refuse = |e: AppError| crate::http::error::render(e.status, &e.message, media, state);
    if cross_site(request.headers()) {
        return Err(refuse(AppError::new(StatusCode::FORBIDDEN, CSRF_REFUSED)));
    }
    let limit = state.config.max_upload_bytes + crate::http::receive::MULTIPART_OVERHEAD;
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) if e.to_string().contains("length limit") => {
            return Err(refuse(AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request entity too large: documents are limited to {} bytes",
                    state.config.max_upload_bytes
                ),
            )));
        }
        Err(e) => {
            return Err(refuse(AppError::bad_request(format!(
                "cannot read the request body: {e}"
            ))));
        }
    };
    let field = form_token(&parts, &bytes).await;
    let valid = matches!((&context.cookie, &field), (Some(c), Some(f)) if same(c, f));
    if !valid {
        return Err(refuse(AppError::new(StatusCode::FORBIDDEN, CSRF_REFUSED)));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The origin (`scheme://host[:port]`) of an absolute URL, if it has one.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
    };
    (ok(scheme) && ok(host)).then(|| format!("{}://{}", scheme.to_ascii_lowercase(), host))
}

/// The `Content-Security-Policy` for a site whose pages link to
/// `public_url` (their `<base href>`): `'self'`, and the public origin in
/// case the browser reaches the server under another name.
pub(crate) fn content_security_policy(public_url: &str) -> String {
    let own = match origin_of(public_url) {
        Some(o) => format!("'self' {o}"),
        None => "'self'".into(),
    };
    format!(
        "default-src 'self'; script-src {own}; style-src {own}; img-src {own} data:; \
         font-src {own}; connect-src {own}; object-src 'none'; base-uri {own}; \
         form-action {own}; frame-ancestors 'none'"
    )
}

/// The security headers of every response (kept when already set).
#[derive(Debug, Clone)]
pub(crate) struct SecurityHeaders {
    csp: HeaderValue,
    /// Whether the site is served over HTTPS (then browsers are told to
    /// use nothing else: `Strict-Transport-Security`).
    https: bool,
}

impl SecurityHeaders {
    /// The headers for a site at `public_url`, served over HTTPS by this
    /// server itself or by a proxy in front (`https`).
    pub(crate) fn new(public_url: &str, https: bool) -> Self {
        SecurityHeaders {
            csp: HeaderValue::from_str(&content_security_policy(public_url))
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
            https: https || public_url.starts_with("https:"),
        }
    }

    /// Adds the headers a response lacks.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        // (Constants: a `from_static` outside a constant checks its text
        // on every call.)
        const COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
        const DENY: HeaderValue = HeaderValue::from_static("DENY");
        const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
        const SAME_ORIGIN: HeaderValue = HeaderValue::from_static("same-origin");
        headers.reserve(6);
        let mut add = |name: HeaderName, value: HeaderValue| {
            headers.entry(name).or_insert(value);
        };
        add(CONTENT_SECURITY_POLICY, self.csp.clone());
        add(X_FRAME_OPTIONS, DENY);
        add(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
        add(REFERRER_POLICY, SAME_ORIGIN);
        add(COOP, SAME_ORIGIN);
        if self.https {
            // One year; browsers ignore it on plain HTTP, so a site behind
            // a TLS-terminating proxy (an https `public_url`) gets it too.
            // Not `includeSubDomains`: the marketplace may share a domain
            // with sites it does not control.
            const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");
            add(STRICT_TRANSPORT_SECURITY, HSTS);
        }
    }
}

/// Middleware: [`SecurityHeaders`] on every response.
impl Middleware for SecurityHeaders {
    type Carry = ();

    fn before(&self, request: Request) -> Before<()> {
        Before::Pass(request, ())
    }

    async fn after(&self, _: (), mut response: Response) -> Response {
        self.apply(response.headers_mut());
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn tokens_are_random_and_well_formed() {
        let (a, b) = (new_token(), new_token());
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
        assert!(!well_formed("short"));
        assert!(!well_formed(&"a".repeat(42).replace('a', "<")));
    }

    #[test]
    fn cookie_is_read_among_others() {
        let t = new_token();
        let h = headers(&[("cookie", &format!("a=1; {CSRF_COOKIE}={t}; b=2"))]);
        assert_eq!(cookie_token(&h), Some(t));
        let h = headers(&[("cookie", &format!("{CSRF_COOKIE}=x\"<"))]);
        assert_eq!(cookie_token(&h), None);
    }

    #[test]
    fn which_posts_are_checked() {
        let browser = |ct: &str| headers(&[("origin", "https://a.example"), ("content-type", ct)]);
        assert!(needs_check(
            &Method::POST,
            "/upload",
            &browser("multipart/form-data; boundary=x")
        ));
        assert!(needs_check(
            &Method::POST,
            "/action/t/confirm",
            &browser("application/x-www-form-urlencoded")
        ));
        assert!(needs_check(
            &Method::POST,
            "/metadata",
            &browser("text/plain")
        ));
        assert!(needs_check(
            &Method::POST,
            "/metadata",
            &headers(&[("cookie", "x=1")])
        ));
        // Searches, raw documents, GETs and non-browser clients are not.
        assert!(!needs_check(
            &Method::POST,
            "/metadata",
            &browser("application/x-www-form-urlencoded")
        ));
        assert!(!needs_check(
            &Method::POST,
            "/metadata",
            &browser("application/rdf+xml")
        ));
        assert!(!needs_check(
            &Method::GET,
            "/upload",
            &browser("multipart/form-data")
        ));
        assert!(!needs_check(
            &Method::POST,
            "/upload",
            &headers(&[("content-type", "multipart/form-data; boundary=x")])
        ));
    }

    #[test]
    fn fetch_metadata() {
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!cross_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!cross_site(&headers(&[])));
    }

    #[test]
    fn policy_names_the_public_origin() {
        let csp = content_security_policy("https://mp.example.org:8443/marketplace");
        assert!(csp.contains("script-src 'self' https://mp.example.org:8443;"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe"));
        let csp = content_security_policy("not a url");
        assert!(csp.contains("script-src 'self';"));
        assert!(!csp.contains("not a url"));
    }

    #[test]
    fn comparison() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
