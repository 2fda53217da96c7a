//! HTTP: the one place where HTTP clients are built ([`builder`]), and the
//! marketplace's API as the client commands use it ([`Marketplace`]).
//!
//! Every client the commands use comes from [`builder`]. The marketplace's
//! client adds, for an `https` endpoint, the grid TLS of
//! [`crate::client_tls`]: the CA directory as trust anchors and the user's
//! grid credential (proxy, PEM or PKCS#12) as client certificate through a
//! custom `rustls` `ResolvesClientCert`, passed with
//! `ClientBuilder::tls_backend_preconfigured` (design note `rust-stack.md`
//! §3.10). A plain `http` endpoint gets neither: no credential is ever
//! loaded or sent for it. Image locations and OCCI endpoints keep reqwest's
//! defaults (the system's CAs, no client certificate).
//!
//! Reads use the JSON API under `/api/v1` and the signed documents at
//! `/metadata/{identifier}/{email}/{created}`; uploads `POST /metadata`.
//! Failures carry the exit status ([`crate::failure::Code`]) and the
//! server's own message.

use crate::client_tls::{self, TlsState};
use crate::failure::Failure;
use crate::settings::Settings;
use marketplace_api::{HistoryView, ImageView, SearchResult};
use reqwest::Url;
use reqwest::blocking::{Client, ClientBuilder, RequestBuilder, Response};
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// The `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("marketplace-cli/", env!("CARGO_PKG_VERSION"));

/// How long establishing a connection may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A client builder with this tool's defaults: user agent, connection
/// timeout, at most 5 redirects, and `timeout` for whole requests (`None`
/// for downloads, which may take hours). The marketplace's client adds its
/// TLS settings in [`Marketplace::new`].
pub(crate) fn builder(timeout: Option<Duration>) -> ClientBuilder {
    Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(5))
        .timeout(timeout)
}

/// Builds a client from [`builder`].
pub(crate) fn build(builder: ClientBuilder) -> Result<Client, Failure> {
    builder
        .build()
        .map_err(|e| Failure::usage(format!("cannot set up HTTP: {}", chain(&e))))
}

/// An error and its causes on one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// The failure for a request that got no answer.
pub(crate) fn send_failure(what: &str, url: &Url, e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::network(format!(
            "{what} at {url} did not answer in time ({}); try again, or give a larger --timeout",
            chain(e)
        ))
    } else if e.is_connect() {
        Failure::network(format!(
            "cannot connect to {what} at {url}: {}; check the address (`marketplace config` shows \
             the endpoint in use) and your network",
            chain(e)
        ))
    } else {
        Failure::network(format!("request to {what} at {url} failed: {}", chain(e)))
    }
}

/// The message of an error body: the JSON API's `{"error": {"message"}}`,
/// the original routes' `{"404": "…"}` or `<error>…</error>`, or the text.
pub(crate) fn error_message(body: &str) -> String {
    let trimmed = body.trim();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(trimmed) {
        if let Some(m) = value.pointer("/error/message").and_then(|m| m.as_str()) {
            return m.to_string();
        }
        if let Some(obj) = value.as_object()
            && obj.len() == 1
            && let Some(m) = obj.values().next().and_then(|m| m.as_str())
        {
            return m.to_string();
        }
    }
    if let Some(start) = trimmed.find("<error>")
        && let Some(len) = trimmed[start + 7..].find("</error>")
    {
        return unescape_xml(&trimmed[start + 7..start + 7 + len]);
    }
    if trimmed.starts_with('<') && trimmed.to_ascii_lowercase().contains("<html") {
        return "(an HTML page)".into();
    }
    const MAX: usize = 2000;
    if trimmed.len() > MAX {
        let mut end = MAX;
        while !trimmed.is_char_boundary(end) {
            end -= 1;
        }
        return format!("{}…", &trimmed[..end]);
    }
    trimmed.to_string()
}

fn unescape_xml(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The answer to an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadResponse {
    /// HTTP status.
    pub status: u16,
    /// The `Location` header (the entry's URL), if any.
    pub location: Option<String>,
    /// The server's message.
    pub message: String,
    /// The server's notes on an accepted document (its `note: ` lines).
    pub notes: Vec<String>,
}

/// The marketplace at one endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Marketplace {
    base: Url,
    http: Client,
    /// What the TLS handshakes saw (https endpoints).
    tls: Option<Arc<TlsState>>,
}

impl Marketplace {
    /// The marketplace of `settings`: endpoint and timeout, and for an
    /// `https` endpoint the server's trust anchors and the client
    /// certificate (see [`client_tls::setup`]).
    pub(crate) fn new(settings: &Settings) -> Result<Self, Failure> {
        let base = settings.endpoint_url()?;
        let mut http = builder(Some(settings.timeout()));
        let mut tls = None;
        if base.scheme() == "https" {
            let setup = client_tls::setup(settings, &base)?;
            http = http.tls_backend_preconfigured(setup.config);
            tls = Some(setup.state);
        }
        Ok(Marketplace {
            base,
            http: build(http)?,
            tls,
        })
    }

    /// Sends a request; failures say what went wrong, in TLS too.
    fn send(&self, request: RequestBuilder) -> Result<Response, Failure> {
        if let Some(tls) = &self.tls {
            tls.reset();
        }
        request.send().map_err(|e| self.failure(&e))
    }

    /// The failure for a request that got no (complete) answer.
    fn failure(&self, e: &reqwest::Error) -> Failure {
        self.tls
            .as_ref()
            .and_then(|tls| tls.explain(&self.base, e))
            .unwrap_or_else(|| send_failure("the marketplace", &self.base, e))
    }

    /// The endpoint.
    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// The endpoint URL with `segments` appended (each percent-encoded).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The URL of an entry's page at the original routes.
    pub(crate) fn entry_url(&self, identifier: &str, email: &str, created: &str) -> Url {
        self.url(&["metadata", identifier, email, created])
    }

    fn get(&self, url: &Url, accept: &str) -> Result<Response, Failure> {
        self.send(self.http.get(url.clone()).header(ACCEPT, accept))
    }

    /// Fails for any status but 2xx, with the server's message.
    fn check(&self, response: Response, what: &str) -> Result<Response, Failure> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let url = response.url().clone();
        let body = response.text().unwrap_or_default();
        if let Some(refusal) = self.certificate_refusal(status.as_u16(), &body) {
            return Err(Failure::auth(refusal));
        }
        Err(status_failure(
            status.as_u16(),
            &error_message(&body),
            what,
            &url,
        ))
    }

    /// A TLS-terminating proxy's refusal of the client certificate after the
    /// handshake: nginx answers 400 with "No required SSL certificate was
    /// sent" or "The SSL certificate error" instead of a TLS alert.
    fn certificate_refusal(&self, status: u16, body: &str) -> Option<String> {
        let tls = self.tls.as_ref()?;
        if status != 400 {
            return None;
        }
        if body.contains("No required SSL certificate was sent") {
            let why = match &tls.withheld {
                Some(w) => format!("{w}, so it was not sent; renew it"),
                None => "none was sent: give --proxy FILE (or set X509_USER_PROXY), --cert/--key, \
                         or --p12-cert with --p12-password"
                    .to_string(),
            };
            return Some(format!(
                "the server at {} requires a client certificate; {why}",
                self.base
            ));
        }
        let client = tls.client.as_deref()?;
        body.contains("The SSL certificate error").then(|| {
            format!(
                "the server at {} refused the client certificate ({client}): \"The SSL \
                 certificate error\" — it could not verify it (its CA not trusted there, revoked, \
                 expired, or a proxy the server does not accept)",
                self.base,
            )
        })
    }

    fn get_json<T: DeserializeOwned>(&self, url: &Url, what: &str) -> Result<T, Failure> {
        let response = self.check(self.get(url, "application/json")?, what)?;
        let text = response.text().map_err(|e| self.failure(&e))?;
        serde_json::from_str(&text).map_err(|e| {
            Failure::network(format!(
                "the answer of {url} is not what this client expects ({e}); is {} a marketplace \
                 endpoint (of the same version)?",
                self.base
            ))
        })
    }

    /// `GET /api/v1/images?…`: a page of search results.
    pub(crate) fn search(&self, query: &[(String, String)]) -> Result<SearchResult, Failure> {
        let mut url = self.url(&["api", "v1", "images"]);
        url.query_pairs_mut().extend_pairs(query);
        self.get_json(&url, "the search")
    }

    /// `GET /api/v1/images/{identifier}`: the image with every endorser's latest entry.
    pub(crate) fn image(&self, identifier: &str) -> Result<ImageView, Failure> {
        let url = self.url(&["api", "v1", "images", identifier]);
        self.get_json(&url, &format!("image {identifier}"))
    }

    /// `GET /api/v1/images/{identifier}/history?limit=N`: every entry, newest first.
    pub(crate) fn history(&self, identifier: &str, limit: u32) -> Result<HistoryView, Failure> {
        let mut url = self.url(&["api", "v1", "images", identifier, "history"]);
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        self.get_json(&url, &format!("image {identifier}"))
    }

    /// The signed document of an entry, byte for byte.
    pub(crate) fn document(
        &self,
        identifier: &str,
        email: &str,
        created: &str,
    ) -> Result<Vec<u8>, Failure> {
        let mut url = self.entry_url(identifier, email, created);
        url.query_pairs_mut().append_pair("media", "xml");
        let what = format!("the entry {identifier}/{email}/{created}");
        let response = self.check(self.get(&url, "application/rdf+xml")?, &what)?;
        response
            .bytes()
            .map(|b| b.to_vec())
            .map_err(|e| self.failure(&e))
    }

    /// `GET /api/v1/log`: the log's identity and newest checkpoint.
    pub(crate) fn log_info(&self) -> Result<marketplace_api::log::LogInfo, Failure> {
        let url = self.url(&["api", "v1", "log"]);
        self.get_json(&url, "the transparency log")
    }

    /// `GET /api/v1/entries/{identifier}/{email}/{created}/receipt`: the
    /// entry's C2SP tlog-proof receipt against the newest checkpoint, or
    /// (`first_cosigned`) against the first one a witness cosigned.
    pub(crate) fn receipt(
        &self,
        identifier: &str,
        email: &str,
        created: &str,
        first_cosigned: bool,
    ) -> Result<String, Failure> {
        let mut url = self.url(&[
            "api", "v1", "entries", identifier, email, created, "receipt",
        ]);
        if first_cosigned {
            url.query_pairs_mut()
                .append_pair("checkpoint", "first-cosigned");
        }
        let what = format!("the log receipt of {identifier}/{email}/{created}");
        let response = self.check(self.get(&url, "text/plain")?, &what)?;
        response.text().map_err(|e| self.failure(&e))
    }

    /// `GET /api/v1/log/leaves?start=S&end=E`.
    pub(crate) fn log_leaves(
        &self,
        start: u64,
        end: u64,
    ) -> Result<marketplace_api::log::LogLeaves, Failure> {
        let mut url = self.url(&["api", "v1", "log", "leaves"]);
        url.query_pairs_mut()
            .append_pair("start", &start.to_string())
            .append_pair("end", &end.to_string());
        self.get_json(&url, "the log's leaves")
    }

    /// `GET /api/v1/log/proof/consistency?first=M&second=N`.
    pub(crate) fn consistency(
        &self,
        first: u64,
        second: u64,
    ) -> Result<marketplace_api::log::ConsistencyProof, Failure> {
        let mut url = self.url(&["api", "v1", "log", "proof", "consistency"]);
        url.query_pairs_mut()
            .append_pair("first", &first.to_string())
            .append_pair("second", &second.to_string());
        self.get_json(&url, "a consistency proof of the log")
    }

    /// `POST /metadata` with a signed document.
    pub(crate) fn upload(&self, document: Vec<u8>) -> Result<UploadResponse, Failure> {
        let url = self.url(&["metadata"]);
        let response = self.send(
            self.http
                .post(url)
                .header(CONTENT_TYPE, "application/rdf+xml")
                .header(ACCEPT, "text/plain")
                .body(document),
        )?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = response.text().unwrap_or_default();
        let (notes, lines): (Vec<&str>, Vec<&str>) = if (200..300).contains(&status) {
            text.lines().partition(|l| l.starts_with("note: "))
        } else {
            (Vec::new(), text.lines().collect())
        };
        let body = lines.join("\n");
        Ok(UploadResponse {
            status,
            location,
            message: self
                .certificate_refusal(status, &body)
                .unwrap_or_else(|| error_message(&body)),
            notes: notes
                .iter()
                .map(|n| n.trim_start_matches("note: ").to_string())
                .collect(),
        })
    }
}

/// The failure for an HTTP error status.
pub(crate) fn status_failure(status: u16, message: &str, what: &str, url: &Url) -> Failure {
    let message = if message.is_empty() {
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_ascii_lowercase()
    } else {
        message.to_string()
    };
    match status {
        401 | 403 => Failure::auth(format!(
            "{what}: the server at {url} requires other credentials ({status}: {message})"
        )),
        404 => Failure::not_found(format!("{what}: not found ({message})")),
        400..=499 => Failure::usage(format!(
            "{what}: the server refused the request ({status}): {message}"
        )),
        500..=599 => Failure::network(format!(
            "{what}: the server failed ({status}): {message}; try again later, or tell the \
             operator of {url}"
        )),
        _ => Failure::network(format!(
            "{what}: unexpected answer {status} from {url}: {message}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_error_bodies() {
        assert_eq!(
            error_message(r#"{"error": {"status": 404, "message": "no image 'x'"}}"#),
            "no image 'x'"
        );
        assert_eq!(error_message(r#"{"404": "not found"}"#), "not found");
        assert_eq!(
            error_message("<?xml version=\"1.0\"?><error>bad &lt;x&gt; &amp; y</error>"),
            "bad <x> & y"
        );
        assert_eq!(error_message("  plain text\n"), "plain text");
        assert_eq!(
            error_message("<html><body>x</body></html>"),
            "(an HTML page)"
        );
    }

    #[test]
    fn urls_keep_the_base_path_and_escape_segments() {
        let m = Marketplace {
            base: Url::parse("http://h:1/mp").unwrap(),
            http: Client::new(),
            tls: None,
        };
        assert_eq!(
            m.entry_url("ID", "a b@x.org", "2024-01-01T00:00:00Z")
                .as_str(),
            "http://h:1/mp/metadata/ID/a%20b@x.org/2024-01-01T00:00:00Z"
        );
        let root = Marketplace {
            base: Url::parse("http://h:1/").unwrap(),
            http: Client::new(),
            tls: None,
        };
        assert_eq!(
            root.url(&["api", "v1", "images"]).as_str(),
            "http://h:1/api/v1/images"
        );
    }
}
