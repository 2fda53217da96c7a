//! Errors of the JSON API: `{"error": {"status": 404, "message": "..."}}`
//! (`application/json`), for the handlers' own errors and — through
//! [`json_errors`] — for those axum produces itself under `/api/v1`
//! (unknown path, wrong method, bad path encoding).
//!
//! Responses carry [`FinalBody`], so the server-wide error renderer
//! ([`crate::error::ErrorBodies`]) leaves them as they are.

use super::types::{ErrorBody, ErrorDetail};
use crate::error::{ErrorMessage, FinalBody};
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use marketplace_store::StoreError;

/// An API error: a status and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong.
    pub message: String,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500 with a generic message; the cause is logged, not shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal server error (the cause is in the server log)",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidQuery(m) => ApiError::bad_request(format!("invalid query: {m}")),
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "the store is unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the store is unavailable right now; please try again later",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                status: self.status.as_u16(),
                message: self.message,
            },
        };
        let text = serde_json::to_string(&body).unwrap_or_else(|_| "{}".into());
        let mut response = (self.status, text).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                RETRY_AFTER,
                HeaderValue::from(crate::error::RETRY_AFTER_SECS),
            );
        }
        response.extensions_mut().insert(FinalBody);
        response
    }
}

/// The longest plain-text error body taken over as a message.
const MAX_MESSAGE_BYTES: usize = 4096;

/// Middleware of the API router: every error response that is not already
/// an API error becomes one (the message of an [`ErrorMessage`], or the
/// text axum wrote, or the reason phrase).
pub async fn json_errors(request: Request, next: Next) -> Response {
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
    let mut rendered = ApiError::new(status, message).into_response();
    // Keep the headers the inner response set (e.g. Allow on 405).
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
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such API resource")
}
