//! The links of confirmation mails ([`crate::upload::confirm`]):
//!
//! - `GET /action/{token}/confirm`, `…/abort` and `…/abuse`: a page
//!   showing the pending upload and a form whose button POSTs the
//!   decision. GET never changes anything (mail scanners and link previews
//!   follow links).
//! - `POST /action/{token}/confirm`: stores the entry — 201 `metadata entry
//!   created` with `Location` (200 if the very same document was stored
//!   meanwhile; 400 when it is now older than the endorser's latest entry;
//!   409 when another document took its coordinates).
//! - `POST /action/{token}/abort`: drops it — 200.
//! - `POST /action/{token}/abuse`: drops it, logs the report and mails the
//!   administrators — 200 (the original server's abuse action, without
//!   keeping the reported upload confirmable).
//!
//! Unknown, used, expired or malformed tokens are 404 with a message that
//! names no path. Every response is `Cache-Control: no-store` and
//! `Referrer-Policy: no-referrer`; the token is masked in request spans
//! ([`crate::http::request_log::request_span`]).

use crate::http::error::AppError;
use crate::http::links::entry_path;
use crate::http::negotiate::Media;
use crate::http::response::with_type;
use crate::render::html::{self, StatusPage};
use crate::runtime::state::AppState;
use crate::upload::confirm::{self, Command};
use crate::upload::ingest::IngestOutcome;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::get;
use marketplace_store::EntryKey;

/// The page a confirmation link opens.
#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// "Confirm upload", "Abort upload" or "Report abuse".
    pub heading: &'static str,
    /// What the page is about.
    pub intro: &'static str,
    /// Image identifier.
    pub identifier: String,
    /// Title, or empty.
    pub title: String,
    /// Endorser e-mail.
    pub email: String,
    /// Endorsement created.
    pub created: String,
    /// Signer subject DN.
    pub subject: String,
    /// Signer issuer DN.
    pub issuer: String,
    /// Deprecation reason, or empty.
    pub deprecated: String,
    /// When the upload is dropped unconfirmed.
    pub expires: String,
    /// Relative URL the form POSTs to.
    pub action: String,
    /// The button's label.
    pub button: &'static str,
    /// Sentence before the link to the other decision.
    pub other_hint: &'static str,
    /// Relative link to the other decision's page.
    pub other_href: String,
    /// Its label.
    pub other_label: &'static str,
}

/// The routes of this module.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/action/{token}/{command}", get(show).post(decide))
        .layer(map_response(private))
}

/// Headers that keep the pages (and their tokens) out of caches and
/// Referer headers.
async fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

fn command_of(segment: &str) -> Result<Command, AppError> {
    Command::from_segment(segment).ok_or_else(|| AppError::not_found("invalid action"))
}

/// `GET /action/{token}/{command}`: the decision page; changes nothing.
async fn show(
    State(state): State<AppState>,
    Path((token, command)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let command = command_of(&command)?;
    let pending = confirm::find(&state, &token).await?;
    let entry = &pending.entry;
    let (heading, intro, button, other, other_hint, other_label) = match command {
        Command::Confirm => (
            "Confirm upload",
            "This metadata entry was uploaded with your e-mail address as endorser. \
             Press the button to publish it.",
            "Confirm and publish",
            Command::Abort,
            "Not your upload?",
            "Abort it instead",
        ),
        Command::Abort => (
            "Abort upload",
            "This metadata entry was uploaded with your e-mail address as endorser. \
             Press the button to drop it; nothing has been published.",
            "Abort the upload",
            Command::Confirm,
            "Want it published?",
            "Confirm it instead",
        ),
        Command::Abuse => (
            "Report abuse",
            "This metadata entry was uploaded with your e-mail address as endorser. \
             If you did not upload it and nobody may endorse images in your name, press \
             the button: the upload is dropped (nothing has been published) and the \
             marketplace administrators are told who signed it.",
            "Report abuse and drop the upload",
            Command::Abort,
            "Only want it dropped?",
            "Abort it instead",
        ),
    };
    let page = ConfirmPage {
        base: &state.config.public_url,
        heading,
        intro,
        identifier: entry.key.identifier.to_string(),
        title: entry.metadata.title.clone().unwrap_or_default(),
        email: entry.key.email.to_string(),
        created: entry.key.created.to_string(),
        subject: entry.signer.subject.clone(),
        issuer: entry.signer.issuer.clone(),
        deprecated: entry.metadata.deprecated.clone().unwrap_or_default(),
        expires: pending.expires_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        action: format!("action/{token}/{}", command.as_str()),
        button,
        other_hint,
        other_href: format!("action/{token}/{}", other.as_str()),
        other_label,
    };
    Ok(html::page(StatusCode::OK, &page))
}

/// `POST /action/{token}/{command}`: carries out the decision.
async fn decide(
    State(state): State<AppState>,
    media: Media,
    Path((token, command)): Path<(String, String)>,
) -> Result<Response, AppError> {
    match command_of(&command)? {
        Command::Confirm => match confirm::confirm(&state, &token).await? {
            IngestOutcome::Created(key) => {
                let logged = crate::upload::logged::cover_entry(&state, &key).await?;
                Ok(logged.mark(outcome(
                    &state,
                    media,
                    StatusCode::CREATED,
                    "Confirm",
                    "metadata entry created",
                    Some(&key),
                )))
            }
            IngestOutcome::AlreadyPresent(key) => {
                let logged = crate::upload::logged::cover_entry(&state, &key).await?;
                Ok(logged.mark(outcome(
                    &state,
                    media,
                    StatusCode::OK,
                    "Confirm",
                    "metadata entry already present",
                    Some(&key),
                )))
            }
            IngestOutcome::NeedsConfirmation(_) => {
                Err(AppError::internal("a confirmed entry needs confirmation"))
            }
        },
        Command::Abort => {
            let key = confirm::abort(&state, &token).await?;
            Ok(outcome(
                &state,
                media,
                StatusCode::OK,
                "Abort",
                &format!("aborted addition of metadata entry {key}"),
                None,
            ))
        }
        Command::Abuse => {
            let report = confirm::report_abuse(&state, &token).await?;
            let told = if report.mailed {
                "the marketplace administrators were notified and may get in touch"
            } else {
                "the report was logged for the marketplace administrators"
            };
            Ok(outcome(
                &state,
                media,
                StatusCode::OK,
                "Abuse",
                &format!(
                    "abuse reported for metadata entry {}: the upload was dropped; {told}",
                    report.key
                ),
                None,
            ))
        }
    }
}

/// A decision's answer: text (or an HTML page for browsers), with the
/// entry's URL when there is one.
fn outcome(
    state: &AppState,
    media: Media,
    status: StatusCode,
    title: &str,
    message: &str,
    key: Option<&EntryKey>,
) -> Response {
    let mut response = match media {
        Media::Html => html::page(
            status,
            &StatusPage {
                base: &state.config.public_url,
                title,
                message,
                notes: &[],
            },
        ),
        _ => with_type(status, Media::Text.content_type(), format!("{message}\n")),
    };
    if let Some(key) = key
        && let Ok(v) = HeaderValue::from_str(&state.public_link(&format!("/{}", entry_path(key))))
    {
        response.headers_mut().insert(LOCATION, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_escapes_document_values() {
        let page = ConfirmPage {
            base: "https://mp.example.org",
            heading: "Confirm upload",
            intro: "",
            identifier: "id".into(),
            title: "<script>alert(1)</script>".into(),
            email: "a@b".into(),
            created: "c".into(),
            subject: "CN=<b>".into(),
            issuer: "CN=x\"y".into(),
            deprecated: String::new(),
            expires: "e".into(),
            action: "action/t/confirm".into(),
            button: "Confirm",
            other_hint: "",
            other_href: "action/t/abort".into(),
            other_label: "Abort",
        };
        let text = html::render(&page);
        assert!(!text.contains("<script>alert"), "{text}");
        assert!(!text.contains("<b>"), "{text}");
        assert!(text.contains("<form action=\"action/t/confirm\" method=\"post\">"));
    }
}
