//! Receiving an upload, whichever handler takes it (the API's `POST
//! /metadata`, the web form): waiting for an upload slot, and reading the
//! document from a raw or multipart body within the size limit, without
//! reading more than the limit.

use crate::http::error::AppError;
use crate::runtime::state::AppState;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;

/// Waits for one of the state's upload slots ([`crate::runtime::state::UPLOADS_AT_ONCE`]),
/// held while the upload is read, verified and stored.
pub(crate) async fn upload_slot(
    state: &AppState,
) -> Result<tokio::sync::SemaphorePermit<'_>, AppError> {
    state
        .upload_slots
        .acquire()
        .await
        .map_err(AppError::internal)
}

/// Room for multipart framing and other form fields beyond the document.
pub(crate) const MULTIPART_OVERHEAD: usize = 64 * 1024;

fn too_large(state: &AppState) -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "request entity too large: documents are limited to {} bytes",
            state.config.max_upload_bytes
        ),
    )
}

/// The raw body, refusing more than the limit without reading it all.
pub(crate) async fn raw_body(state: &AppState, request: Request) -> Result<Vec<u8>, AppError> {
    let limit = state.config.max_upload_bytes;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(state));
    }
    match axum::body::to_bytes(request.into_body(), limit).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(e) if e.to_string().contains("length limit") => Err(too_large(state)),
        Err(e) => Err(AppError::bad_request(format!(
            "cannot read the request body: {e}"
        ))),
    }
}

/// The first part with a file name of a multipart body.
pub(crate) async fn multipart_file(
    state: &AppState,
    request: Request,
) -> Result<Vec<u8>, AppError> {
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| AppError::new(e.status(), e.body_text()))?;
    let error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(state)
        } else {
            AppError::new(e.status(), e.body_text())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(error)? {
        if field.file_name().is_some() {
            let bytes = field.bytes().await.map_err(error)?;
            if bytes.len() > state.config.max_upload_bytes {
                return Err(too_large(state));
            }
            return Ok(bytes.to_vec());
        }
    }
    Err(AppError::bad_request("no valid file uploaded"))
}
