//! Error responses. Handlers return [`AppError`]; the [`ErrorBodies`]
//! middleware turns every 4xx/5xx response (also those axum or tower-http
//! produce themselves: 404, 405, 408, 413, 415) into the original's error
//! bodies in the negotiated media:
//!
//! - XML: `<?xml …?><error>message</error>` (`application/xml`);
//! - JSON: `{"404": "message"}`;
//! - HTML: a status page titled with the reason phrase;
//! - text: the message.
//!
//! The message is always escaped for the format (the original pasted it raw).

use crate::http::middleware::{Before, Middleware};
use crate::http::negotiate::{Media, negotiate, varies_by_accept};
use crate::render::html;
use crate::runtime::state::AppState;
use crate::upload::ingest::{IngestError, Refusal};
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Seconds a client is asked to wait (`Retry-After`) when the store is
/// unavailable.
pub(crate) const RETRY_AFTER_SECS: u64 = 30;

/// An error with the status and the message the client sees.
#[derive(Debug, Clone)]
pub(crate) struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// The description (one or more lines).
    pub message: String,
    /// Seconds after which trying again may succeed (`Retry-After`, with
    /// 429 and 503).
    pub retry_after: Option<u64>,
    /// Why a document was refused as metadata, reason by reason (the
    /// message's lines, typed): set when the error is such a refusal.
    pub refusals: Option<Vec<Refusal>>,
}

/// The message of an error response, carried to [`ErrorBodies`].
#[derive(Debug, Clone)]
pub(crate) struct ErrorMessage(pub String);

/// Marks an error response whose body is already final (the JSON API's
/// errors, `/healthz`): [`ErrorBodies`] leaves it as it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FinalBody;

impl AppError {
    /// An error with any status.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AppError {
            status,
            message: message.into(),
            retry_after: None,
            refusals: None,
        }
    }

    /// 400.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500 with a generic message; the cause is logged, not shown.
    pub(crate) fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal server error (the cause is in the server log)",
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for AppError {}

impl From<marketplace_store::StoreError> for AppError {
    fn from(e: marketplace_store::StoreError) -> Self {
        match e {
            marketplace_store::StoreError::InvalidQuery(m) => {
                AppError::bad_request(format!("invalid query: {m}"))
            }
            e @ marketplace_store::StoreError::PendingExists { .. } => {
                AppError::new(StatusCode::CONFLICT, format!("upload refused: {e}"))
            }
            marketplace_store::StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "the store is unavailable");
                let mut e = AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the store is unavailable right now (nothing was changed); please try again \
                     later",
                );
                e.retry_after = Some(RETRY_AFTER_SECS);
                e
            }
            other => AppError::internal(other),
        }
    }
}

impl From<IngestError> for AppError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Store(cause) => AppError::internal(cause),
            IngestError::Unavailable(ref cause) => {
                tracing::warn!(%cause, "upload not stored: the store is unavailable");
                let mut refused = AppError::new(e.status(), e.to_string());
                refused.retry_after = Some(RETRY_AFTER_SECS);
                refused
            }
            other => {
                let mut refused = AppError::new(other.status(), other.to_string());
                refused.refusals = other.into_refusals();
                refused
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.message.clone()).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(ErrorMessage(self.message));
        response
    }
}

/// The message for an error response that carries none of ours.
fn default_message(status: StatusCode, state: &AppState) -> String {
    match status {
        StatusCode::NOT_FOUND => "not found".into(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed".into(),
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "request entity too large: documents are limited to {} bytes",
            state.config.max_upload_bytes
        ),
        StatusCode::REQUEST_TIMEOUT => "the request took too long".into(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported media type".into(),
        other => other
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase(),
    }
}

/// The body of an error response in `media`.
pub(crate) fn render(
    status: StatusCode,
    message: &str,
    media: Media,
    state: &AppState,
) -> Response {
    let (content_type, body) = match media {
        Media::Xml | Media::Rdf => (
            Media::Xml.content_type(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>{}</error>\n",
                crate::render::escape::xml(message)
            ),
        ),
        Media::Json => (
            Media::Json.content_type(),
            serde_json::json!({ status.as_u16().to_string(): message }).to_string(),
        ),
        Media::Html => (
            Media::Html.content_type(),
            html::status_page(state, status.canonical_reason().unwrap_or("Error"), message),
        ),
        Media::Text => (Media::Text.content_type(), format!("{message}\n")),
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Middleware: renders every error response in the negotiated media.
#[derive(Clone)]
pub(crate) struct ErrorBodies(pub AppState);

/// What [`ErrorBodies`] keeps of a request for its response.
pub(crate) struct Negotiated {
    /// The representation the client asked for.
    media: Media,
    /// Whether a successful response depends on `Accept`.
    varies: bool,
    /// Whether an error response does.
    error_varies: bool,
}

impl Middleware for ErrorBodies {
    type Carry = Negotiated;

    fn before(&self, request: Request) -> Before<Negotiated> {
        let (uri, headers) = (request.uri(), request.headers());
        let negotiated = Negotiated {
            media: negotiate(uri.query(), headers),
            varies: varies_by_accept(uri.path(), uri.query(), false),
            error_varies: varies_by_accept(uri.path(), uri.query(), true),
        };
        Before::Pass(request, negotiated)
    }

    async fn after(&self, negotiated: Negotiated, mut response: Response) -> Response {
        let status = response.status();
        let final_body = response.extensions().get::<FinalBody>().is_some();
        let error = (status.is_client_error() || status.is_server_error()) && !final_body;
        if (error && negotiated.error_varies) || (!error && !final_body && negotiated.varies) {
            // Caches must not give one client's representation to another.
            response
                .headers_mut()
                .append(VARY, HeaderValue::from_static("accept"));
        }
        if !error {
            return response;
        }
        let media = negotiated.media;
        let message = match response.extensions().get::<ErrorMessage>() {
            Some(ErrorMessage(m)) => m.clone(),
            None => default_message(status, &self.0),
        };
        let (parts, _) = response.into_parts();
        let mut rendered = render(status, &message, media, &self.0);
        // Keep the headers handlers set (e.g. Allow on 405), not the old body's.
        for (name, value) in parts.headers.iter() {
            if name != CONTENT_TYPE && name != CONTENT_LENGTH {
                // (append: Vary and Set-Cookie may come several times)
                rendered.headers_mut().append(name.clone(), value.clone());
            }
        }
        rendered
    }
}
