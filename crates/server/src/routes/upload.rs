//! Uploads: the form (`GET /upload`) and the receiving end of
//! `POST /metadata` for documents (raw `application/rdf+xml` or
//! `application/xml`, or `multipart/form-data` from the form: the first part
//! with a file name).

use crate::error::{AppError, with_type};
use crate::html::{self, StatusPage};
use crate::identity::Caller;
use crate::ingest::{IngestOutcome, Ingested, Ingestor};
use crate::negotiate::Media;
use crate::routes::entry_path;
use crate::state::AppState;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::{CONTENT_LENGTH, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use marketplace_store::{EntryKey, NewEntry};

/// The caller of a request (anonymous without an identity).
pub fn caller_of(request: &Request) -> Caller {
    Caller(
        request
            .extensions()
            .get::<std::sync::Arc<crate::identity::ClientIdentity>>()
            .cloned(),
    )
}

/// The client's address (the TCP peer the accept loop attached), if known.
pub fn client_of(request: &Request) -> Option<std::net::IpAddr> {
    request
        .extensions()
        .get::<crate::authn::Connection>()
        .map(|c| c.peer.ip())
}

/// Waits for one of the state's upload slots ([`crate::state::UPLOADS_AT_ONCE`]),
/// held while the upload is read, verified and stored.
pub async fn upload_slot(state: &AppState) -> Result<tokio::sync::SemaphorePermit<'_>, AppError> {
    state
        .upload_slots
        .acquire()
        .await
        .map_err(AppError::internal)
}

/// Room for multipart framing and other form fields beyond the document.
pub const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// `GET /upload`: the form of the web interface ([`crate::ui::upload`]).
pub async fn form(State(state): State<AppState>) -> Response {
    html::page(StatusCode::OK, &crate::ui::upload::UploadPage::form(&state))
}

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
async fn raw_body(state: &AppState, request: Request) -> Result<Vec<u8>, AppError> {
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
pub async fn multipart_file(state: &AppState, request: Request) -> Result<Vec<u8>, AppError> {
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

/// Receives a document (`multipart` tells the body's form) and runs the
/// upload pipeline with the authorization rules, for the caller the
/// connection layer identified.
pub async fn receive(
    state: &AppState,
    media: Media,
    request: Request,
    multipart: bool,
) -> Result<Response, AppError> {
    let caller = caller_of(&request);
    let client = client_of(&request);
    let _slot = upload_slot(state).await?;
    let bytes = if multipart {
        multipart_file(state, request).await?
    } else {
        raw_body(state, request).await?
    };
    let result = Ingestor::from_state(state)
        .ingest_as(bytes, &state.config.upload, caller.identity())
        .await;
    state.metrics.record_upload(&result);
    let Ingested {
        outcome: done,
        notes,
    } = result?;
    match done {
        IngestOutcome::Created(key) => Ok(outcome(
            state,
            media,
            StatusCode::CREATED,
            "metadata entry created",
            &key,
            &notes,
        )),
        IngestOutcome::AlreadyPresent(key) => Ok(outcome(
            state,
            media,
            StatusCode::OK,
            "metadata entry already present",
            &key,
            &notes,
        )),
        IngestOutcome::NeedsConfirmation(entry) => {
            confirmation(state, media, *entry, client, &notes).await
        }
    }
}

/// The answer of an accepted upload: the message, then one `note: ` line
/// per note (text), or the status page with the notes listed (HTML).
fn message_page(
    state: &AppState,
    media: Media,
    status: StatusCode,
    message: &str,
    notes: &[String],
) -> Response {
    match media {
        Media::Html => html::page(
            status,
            &StatusPage {
                base: &state.config.public_url,
                title: "Upload",
                message,
                notes,
            },
        ),
        _ => {
            let mut body = format!("{message}\n");
            for note in notes {
                body.push_str("note: ");
                body.push_str(&note.replace('\n', " "));
                body.push('\n');
            }
            with_type(status, Media::Text.content_type(), body)
        }
    }
}

/// The hook of the e-mail confirmation flow (`validate_email`): the entry
/// is valid but its e-mail is not certified. It waits as pending and a
/// mail goes to the endorser ([`crate::confirm`]): 202, no `Location`.
async fn confirmation(
    state: &AppState,
    media: Media,
    entry: NewEntry,
    client: Option<std::net::IpAddr>,
    notes: &[String],
) -> Result<Response, AppError> {
    match crate::confirm::request(state, entry, client).await? {
        crate::confirm::Requested::Sent { key, expires_at } => {
            let message = format!(
                "confirmation email sent for new metadata entry {key}: it is published once \
                 the endorser follows the link mailed to {email} (before {expires})",
                email = key.email,
                expires = expires_at.format("%Y-%m-%dT%H:%M:%SZ"),
            );
            Ok(message_page(
                state,
                media,
                StatusCode::ACCEPTED,
                &message,
                notes,
            ))
        }
        crate::confirm::Requested::StillWaiting { key, expires_at } => {
            let message = format!(
                "metadata entry {key} already waits for e-mail confirmation: it is published \
                 once the endorser follows the link mailed to {email} (before {expires}); no new \
                 mail was sent",
                email = key.email,
                expires = expires_at.format("%Y-%m-%dT%H:%M:%SZ"),
            );
            Ok(message_page(
                state,
                media,
                StatusCode::ACCEPTED,
                &message,
                notes,
            ))
        }
        crate::confirm::Requested::AlreadyPresent(key) => Ok(outcome(
            state,
            media,
            StatusCode::OK,
            "metadata entry already present",
            &key,
            notes,
        )),
    }
}

/// A successful upload: the message as text (or an HTML page for
/// browsers), with the entry's URL built from the public base URL.
fn outcome(
    state: &AppState,
    media: Media,
    status: StatusCode,
    message: &str,
    key: &EntryKey,
    notes: &[String],
) -> Response {
    let location = state.public_link(&format!("/{}", entry_path(key)));
    let mut response = message_page(state, media, status, message, notes);
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, v);
    }
    response
}
