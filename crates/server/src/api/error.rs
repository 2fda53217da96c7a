//! The JSON API's representation of errors: `{"error": {"status": 404,
//! "message": "..."}}` (`application/json`). The handlers return the
//! server's one error type ([`AppError`]); [`json_errors`] renders it — and
//! the errors axum produces itself under `/api/v1` (unknown path, wrong
//! method, bad path encoding) — in this form.
//!
//! Responses carry [`FinalBody`], so the server-wide error renderer
//! ([`crate::http::error::ErrorBodies`]) leaves them as they are.

use crate::http::error::{AppError, ErrorMessage, FinalBody, RETRY_AFTER_SECS};
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use marketplace_api::{ErrorBody, ErrorDetail};

/// The API's error body for `status` and `message`: final, so that the
/// server-wide renderer leaves it, with `Retry-After` on 503.
pub(crate) fn render(status: StatusCode, message: String) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            status: status.as_u16(),
            message,
        },
    };
    let text = serde_json::to_string(&body).unwrap_or_else(|_| "{}".into());
    let mut response = (status, text).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    response.extensions_mut().insert(FinalBody);
    response
}

/// The longest plain-text error body taken over as a message.
const MAX_MESSAGE_BYTES: usize = 4096;

/// Middleware of the API router: every error response that is not already
/// in the API's form becomes one (the message of an [`ErrorMessage`], or the
/// text axum wrote, or the reason phrase).
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<FinalBody>().is_some()
    {
        return response;
    }
    let known = response
        .extensions()
        .get::<ErrorMessage>()
        .map(|m| m.0.clone());
    let is_text = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let (parts, body) = response.into_parts();
    let message = match known {
        Some(m) => m,
        None => {
            let text = if is_text {
                axum::body::to_bytes(body, MAX_MESSAGE_BYTES)
                    .await
                    .ok()
                    .and_then(|b| String::from_utf8(b.to_vec()).ok())
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
            } else {
                None
            };
            text.unwrap_or_else(|| default_message(status))
        }
    };
    let mut rendered = render(status, message);
    // Keep the headers the inner response set (e.g. Allow on 405,
    // Retry-After).
    for (name, value) in parts.headers.iter() {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            rendered.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rendered
}

fn default_message(status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => "no such API resource".into(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed".into(),
        other => other
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase(),
    }
}

/// The API's fallback: 404 for any unknown path under `/api/v1`.
pub(crate) async fn not_found() -> AppError {
    AppError::not_found("no such API resource")
}
