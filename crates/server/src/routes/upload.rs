//! Uploads: the form (`GET /upload`) and the receiving end of
//! `POST /metadata` for documents (raw `application/rdf+xml` or
//! `application/xml`, or `multipart/form-data` from the form: the first part
//! with a file name).

use crate::auth::authn::{caller_of, client_of};
use crate::http::error::AppError;
use crate::http::links::entry_path;
use crate::http::negotiate::Media;
use crate::http::receive::{multipart_file, raw_body, upload_slot};
use crate::http::response::with_type;
use crate::render::html::{self, StatusPage};
use crate::runtime::state::AppState;
use crate::upload::ingest::{IngestOutcome, Ingested, Ingestor};
use axum::extract::{Request, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use marketplace_store::{EntryKey, NewEntry};

/// `GET /upload`: the form of the web interface ([`crate::ui::upload`]).
pub(crate) async fn form(State(state): State<AppState>) -> Response {
    html::page(StatusCode::OK, &crate::ui::upload::UploadPage::form(&state))
}

/// Receives a document (`multipart` tells the body's form) and runs the
/// upload pipeline with the authorization rules, for the caller the
/// connection layer identified.
pub(crate) async fn receive(
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
        IngestOutcome::Created(key) => {
            let logged = crate::upload::logged::cover_entry(state, &key).await?;
            Ok(logged.mark(outcome(
                state,
                media,
                StatusCode::CREATED,
                "metadata entry created",
                &key,
                &notes,
            )))
        }
        IngestOutcome::AlreadyPresent(key) => {
            let logged = crate::upload::logged::cover_entry(state, &key).await?;
            Ok(logged.mark(outcome(
                state,
                media,
                StatusCode::OK,
                "metadata entry already present",
                &key,
                &notes,
            )))
        }
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
/// mail goes to the endorser ([`crate::upload::confirm`]): 202, no `Location`.
async fn confirmation(
    state: &AppState,
    media: Media,
    entry: NewEntry,
    client: Option<std::net::IpAddr>,
    notes: &[String],
) -> Result<Response, AppError> {
    match crate::upload::confirm::request(state, entry, client).await? {
        crate::upload::confirm::Requested::Sent { key, expires_at } => {
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
        crate::upload::confirm::Requested::StillWaiting { key, expires_at } => {
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
        crate::upload::confirm::Requested::AlreadyPresent(key) => Ok(outcome(
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
