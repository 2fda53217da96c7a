//! `POST /upload`: the upload form's target. The document goes through the
//! same pipeline as `POST /metadata` ([`crate::upload::ingest`], then the e-mail
//! confirmation of [`crate::upload::confirm`] when its e-mail is not certified);
//! the answer is the upload page again with the outcome: where the new
//! entry is (201, with `Location`), that it was already there (200), that
//! a confirmation mail went out and what happens next (202), or every
//! problem the pipeline found, one per line, each next to the line of the
//! document it concerns (4xx).

use super::base;
use crate::http::error::{AppError, FinalBody};
use crate::http::links::entry_path;
use crate::render::html;
use crate::runtime::state::AppState;
use crate::upload::ingest::{IngestOutcome, Ingestor, Refusal};
use askama::Template;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use marketplace_store::EntryKey;

/// The most lines of a refused document shown back.
pub(crate) const MAX_SOURCE_LINES: usize = 3000;

/// One problem the pipeline reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The line of the document, when known.
    pub line: Option<u32>,
    /// The element concerned (`dcterms:valid`), or empty.
    pub element: String,
    /// What is wrong.
    pub message: String,
    /// The rule (`date-format`), or empty.
    pub rule: String,
}

impl Problem {
    /// The problem of one reason a document was refused: a format problem
    /// keeps its line, element and rule; other reasons are their message.
    pub(crate) fn of(refusal: &Refusal) -> Problem {
        match refusal.problem() {
            Some(p) => Problem {
                line: p.line,
                element: p.element.clone(),
                message: p.message.clone(),
                rule: p.rule.to_string(),
            },
            None => Problem::general(refusal.to_string()),
        }
    }

    /// A problem that is only a message (no line, element or rule).
    pub(crate) fn general(message: impl Into<String>) -> Problem {
        Problem {
            line: None,
            element: String::new(),
            message: message.into(),
            rule: String::new(),
        }
    }
}

/// A line of the refused document, with the problems found on it.
#[derive(Debug, Clone)]
pub(crate) struct SourceLine {
    /// 1-based.
    pub number: u32,
    /// The text.
    pub text: String,
    /// The problems of this line (indices into the problem list + 1).
    pub problems: Vec<(usize, Problem)>,
}

/// What became of an upload.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// Published.
    Created {
        /// Entry page.
        entry_href: String,
        /// Image page.
        image_href: String,
        /// The coordinates.
        key: EntryKey,
    },
    /// The same document was already there.
    AlreadyPresent {
        /// Entry page.
        entry_href: String,
        /// Image page.
        image_href: String,
        /// The coordinates.
        key: EntryKey,
    },
    /// Waiting for the endorser to confirm by e-mail.
    Pending {
        /// The coordinates.
        key: EntryKey,
        /// Until when (UTC).
        expires: String,
    },
    /// Refused.
    Refused {
        /// The summary (first line of the pipeline's message).
        summary: String,
        /// Every problem, in the pipeline's order.
        problems: Vec<Problem>,
        /// The document with the problems next to their lines (empty when
        /// it is not text or too long).
        source: Vec<SourceLine>,
        /// Problems without a line.
        general: Vec<(usize, Problem)>,
    },
}

/// The upload page: the form, and the outcome of an upload.
#[derive(Template)]
#[template(path = "upload.html")]
pub(crate) struct UploadPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// Upload size limit.
    pub max_bytes: usize,
    /// Whether uploads may wait for e-mail confirmation.
    pub validate_email: bool,
    /// What became of the upload (none for the empty form).
    pub outcome: Option<Outcome>,
    /// The notes on an accepted document (forms of the original tools read
    /// leniently, the signature algorithm, ...).
    pub notes: Vec<String>,
}

impl<'a> UploadPage<'a> {
    /// The empty form.
    pub(crate) fn form(state: &'a AppState) -> Self {
        UploadPage {
            base: base(state),
            max_bytes: state.config.max_upload_bytes,
            validate_email: state.config.validate_email,
            outcome: None,
            notes: Vec::new(),
        }
    }
}

/// The outcome of a refusal: its reasons as problems (or its message, one
/// problem per line, when the refusal is not about the document's
/// validity), placed next to the lines of `document`.
pub(crate) fn refused(error: &AppError, document: Option<&[u8]>) -> Outcome {
    let (summary, problems): (&str, Vec<Problem>) = match &error.refusals {
        Some(refusals) => (
            "The document was refused: it is not valid signed metadata.",
            refusals.iter().map(Problem::of).collect(),
        ),
        None => (
            "The document was refused.",
            error
                .message
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Problem::general(l.trim()))
                .collect(),
        ),
    };
    let summary = summary.to_string();
    let text = document.and_then(|d| std::str::from_utf8(d).ok());
    let mut source: Vec<SourceLine> = match text {
        Some(t) if t.lines().count() <= MAX_SOURCE_LINES => t
            .lines()
            .enumerate()
            .map(|(i, l)| SourceLine {
                number: i as u32 + 1,
                text: l.to_string(),
                problems: Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut general = Vec::new();
    for (i, p) in problems.iter().enumerate() {
        match p
            .line
            .and_then(|n| source.get_mut((n as usize).wrapping_sub(1)))
        {
            Some(line) => line.problems.push((i + 1, p.clone())),
            None => general.push((i + 1, p.clone())),
        }
    }
    if source.iter().all(|l| l.problems.is_empty()) {
        // Nothing to point at: the list says it all.
        source.clear();
    }
    Outcome::Refused {
        summary,
        problems,
        source,
        general,
    }
}

/// The page with `outcome`, as `status` (errors are final: the error
/// renderer leaves them).
fn answer(state: &AppState, status: StatusCode, outcome: Outcome) -> Response {
    answer_with_notes(state, status, outcome, Vec::new())
}

/// The page with `outcome` and the notes on the accepted document.
/// The answer of a new entry, once a signed checkpoint covers it.
async fn created(state: &AppState, key: EntryKey, notes: Vec<String>) -> Response {
    let logged = match crate::upload::logged::cover_entry(state, &key).await {
        Ok(logged) => logged,
        Err(e) => return failed(state, e),
    };
    let outcome = Outcome::Created {
        entry_href: entry_path(&key),
        image_href: super::image_href(&key.identifier),
        key,
    };
    logged.mark(answer_with_notes(
        state,
        StatusCode::CREATED,
        outcome,
        notes,
    ))
}

fn answer_with_notes(
    state: &AppState,
    status: StatusCode,
    outcome: Outcome,
    notes: Vec<String>,
) -> Response {
    let location = match &outcome {
        Outcome::Created { key, .. } => Some(state.public_link(&format!("/{}", entry_path(key)))),
        _ => None,
    };
    let mut page = UploadPage::form(state);
    page.outcome = Some(outcome);
    page.notes = notes;
    let mut response = html::page(status, &page);
    if status.is_client_error() || status.is_server_error() {
        response.extensions_mut().insert(FinalBody);
    }
    if let Some(l) = location
        && let Ok(v) = HeaderValue::from_str(&l)
    {
        response.headers_mut().insert(LOCATION, v);
    }
    response
}

/// An error of the request itself (not of the document).
fn failed(state: &AppState, e: AppError) -> Response {
    answer(state, e.status, refused(&e, None))
}

/// `POST /upload` (`multipart/form-data`: the first file part).
pub(crate) async fn submit(State(state): State<AppState>, request: Request) -> Response {
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !multipart {
        return failed(
            &state,
            AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the upload form (multipart/form-data); programs may POST the document \
                 itself to /metadata as application/rdf+xml",
            ),
        );
    }
    let caller = crate::auth::authn::caller_of(&request);
    let client = crate::auth::authn::client_of(&request);
    let _slot = match crate::http::receive::upload_slot(&state).await {
        Ok(slot) => slot,
        Err(e) => return failed(&state, e),
    };
    let bytes = match crate::http::receive::multipart_file(&state, request).await {
        Ok(b) => b,
        Err(e) => return failed(&state, e),
    };
    let result = Ingestor::from_state(&state)
        .ingest_as(bytes.clone(), &state.config.upload, caller.identity())
        .await;
    state.metrics.record_upload(&result);
    let links = |key: &EntryKey| (entry_path(key), super::image_href(&key.identifier));
    match result.map(|i| (i.outcome, i.notes)) {
        Ok((IngestOutcome::Created(key), notes)) => created(&state, key, notes).await,
        Ok((IngestOutcome::AlreadyPresent(key), notes)) => {
            let (entry_href, image_href) = links(&key);
            answer_with_notes(
                &state,
                StatusCode::OK,
                Outcome::AlreadyPresent {
                    entry_href,
                    image_href,
                    key,
                },
                notes,
            )
        }
        Ok((IngestOutcome::NeedsConfirmation(entry), notes)) => {
            match crate::upload::confirm::request(&state, *entry, client).await {
                Ok(
                    crate::upload::confirm::Requested::Sent { key, expires_at }
                    | crate::upload::confirm::Requested::StillWaiting { key, expires_at },
                ) => answer_with_notes(
                    &state,
                    StatusCode::ACCEPTED,
                    Outcome::Pending {
                        key,
                        expires: expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    },
                    notes,
                ),
                Ok(crate::upload::confirm::Requested::AlreadyPresent(key)) => {
                    let (entry_href, image_href) = links(&key);
                    answer_with_notes(
                        &state,
                        StatusCode::OK,
                        Outcome::AlreadyPresent {
                            entry_href,
                            image_href,
                            key,
                        },
                        notes,
                    )
                }
                Err(e) => answer(&state, e.status, refused(&e, Some(&bytes))),
            }
        }
        Err(e) => {
            let e = AppError::from(e);
            answer(&state, e.status, refused(&e, Some(&bytes)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::ingest::IngestError;

    #[test]
    fn format_problems_keep_their_place() {
        let problem = marketplace_format::Problem::new(
            "dcterms:valid",
            marketplace_format::Rule::DateTime,
            "'soon' is not a date",
        )
        .at(Some(12));
        let p = Problem::of(&Refusal::Format(problem));
        assert_eq!(p.line, Some(12));
        assert_eq!(p.element, "dcterms:valid");
        assert_eq!(p.message, "'soon' is not a date");
        assert_eq!(p.rule, "datetime");
        let p = Problem::of(&Refusal::Unsigned);
        assert_eq!(
            (p.line, p.element.as_str(), p.rule.as_str()),
            (None, "", "")
        );
        assert_eq!(p.message, "no signature");
    }

    #[test]
    fn problems_go_next_to_their_lines() {
        let doc = b"<a>\n<b/>\n</a>\n";
        let located =
            marketplace_format::Problem::new("b", marketplace_format::Rule::Cardinality, "wrong")
                .at(Some(2));
        let error = AppError::from(IngestError::Invalid(vec![
            Refusal::Format(located),
            Refusal::Unsigned,
        ]));
        let Outcome::Refused {
            summary,
            problems,
            source,
            general,
        } = refused(&error, Some(doc))
        else {
            panic!()
        };
        assert!(summary.contains("not valid signed metadata"), "{summary}");
        assert_eq!(problems.len(), 2);
        assert_eq!(source.len(), 3);
        assert_eq!(source[1].problems.len(), 1);
        assert_eq!(general.len(), 1);
        assert_eq!(general[0].1.message, "no signature");
    }

    #[test]
    fn other_refusals_are_their_message_lines() {
        let error = AppError::new(StatusCode::FORBIDDEN, "upload refused: first\nsecond");
        let Outcome::Refused {
            summary, problems, ..
        } = refused(&error, None)
        else {
            panic!()
        };
        assert_eq!(summary, "The document was refused.");
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages, ["upload refused: first", "second"]);
    }
}
