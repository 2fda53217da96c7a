//! `POST /upload`: the upload form's target. The document goes through the
//! same pipeline as `POST /metadata` ([`crate::ingest`], then the e-mail
//! confirmation of [`crate::confirm`] when its e-mail is not certified);
//! the answer is the upload page again with the outcome: where the new
//! entry is (201, with `Location`), that it was already there (200), that
//! a confirmation mail went out and what happens next (202), or every
//! problem the pipeline found, one per line, each next to the line of the
//! document it concerns (4xx).

use super::base;
use crate::error::{AppError, FinalBody};
use crate::html;
use crate::ingest::{INVALID, IngestError, IngestOutcome, Ingestor};
use crate::links::entry_path;
use crate::state::AppState;
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
    /// A problem of the pipeline's message: `[line N: ]element: message
    /// [rule]`, or free text (signature, chain, policy and store refusals).
    pub(crate) fn parse(text: &str) -> Problem {
        let mut rest = text.trim();
        let mut line = None;
        if let Some(after) = rest.strip_prefix("line ")
            && let Some((n, tail)) = after.split_once(": ")
            && let Ok(n) = n.parse::<u32>()
        {
            line = Some(n);
            rest = tail;
        }
        let mut rule = String::new();
        if rest.ends_with(']')
            && let Some(open) = rest.rfind(" [")
        {
            let candidate = &rest[open + 2..rest.len() - 1];
            if !candidate.is_empty()
                && candidate
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                rule = candidate.to_string();
                rest = &rest[..open];
            }
        }
        let mut element = String::new();
        if !rule.is_empty()
            && let Some((head, tail)) = rest.split_once(": ")
            && !head.is_empty()
            && head.len() <= 80
            && !head.contains(char::is_whitespace)
        {
            element = head.to_string();
            rest = tail;
        }
        Problem {
            line,
            element,
            message: rest.to_string(),
            rule,
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

/// The outcome of a refusal: the message's lines as problems, placed next
/// to the lines of `document`.
pub(crate) fn refused(message: &str, document: Option<&[u8]>) -> Outcome {
    let body = message.strip_prefix(INVALID).unwrap_or(message);
    let summary = if message.starts_with(INVALID) {
        "The document was refused: it is not valid signed metadata.".to_string()
    } else {
        "The document was refused.".to_string()
    };
    let problems: Vec<Problem> = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(Problem::parse)
        .collect();
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
    answer(state, e.status, refused(&e.message, None))
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
    let caller = crate::authn::caller_of(&request);
    let client = crate::authn::client_of(&request);
    let _slot = match crate::receive::upload_slot(&state).await {
        Ok(slot) => slot,
        Err(e) => return failed(&state, e),
    };
    let bytes = match crate::receive::multipart_file(&state, request).await {
        Ok(b) => b,
        Err(e) => return failed(&state, e),
    };
    let result = Ingestor::from_state(&state)
        .ingest_as(bytes.clone(), &state.config.upload, caller.identity())
        .await;
    state.metrics.record_upload(&result);
    let links = |key: &EntryKey| (entry_path(key), super::image_href(&key.identifier));
    match result.map(|i| (i.outcome, i.notes)) {
        Ok((IngestOutcome::Created(key), notes)) => {
            let (entry_href, image_href) = links(&key);
            answer_with_notes(
                &state,
                StatusCode::CREATED,
                Outcome::Created {
                    entry_href,
                    image_href,
                    key,
                },
                notes,
            )
        }
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
            match crate::confirm::request(&state, *entry, client).await {
                Ok(
                    crate::confirm::Requested::Sent { key, expires_at }
                    | crate::confirm::Requested::StillWaiting { key, expires_at },
                ) => answer_with_notes(
                    &state,
                    StatusCode::ACCEPTED,
                    Outcome::Pending {
                        key,
                        expires: expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    },
                    notes,
                ),
                Ok(crate::confirm::Requested::AlreadyPresent(key)) => {
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
                Err(e) => answer(&state, e.status, refused(&e.message, Some(&bytes))),
            }
        }
        Err(IngestError::Store(cause)) => failed(&state, AppError::internal(cause)),
        Err(e) => {
            let status = e.status();
            answer(&state, status, refused(&e.to_string(), Some(&bytes)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_parsed() {
        let p = Problem::parse("line 12: dcterms:valid: 'soon' is not a date [date-format]");
        assert_eq!(p.line, Some(12));
        assert_eq!(p.element, "dcterms:valid");
        assert_eq!(p.message, "'soon' is not a date");
        assert_eq!(p.rule, "date-format");
        let p = Problem::parse("invalid signature: digest mismatch");
        assert_eq!((p.line, p.element.as_str()), (None, ""));
        assert_eq!(p.message, "invalid signature: digest mismatch");
        let p = Problem::parse("slreq:checksum: missing SHA-1 [required]");
        assert_eq!((p.line, p.element.as_str()), (None, "slreq:checksum"));
    }

    #[test]
    fn problems_go_next_to_their_lines() {
        let doc = b"<a>\n<b/>\n</a>\n";
        let message = format!("{INVALID}line 2: b: wrong [rule-x]\nno signature");
        let Outcome::Refused {
            problems,
            source,
            general,
            ..
        } = refused(&message, Some(doc))
        else {
            panic!()
        };
        assert_eq!(problems.len(), 2);
        assert_eq!(source.len(), 3);
        assert_eq!(source[1].problems.len(), 1);
        assert_eq!(general.len(), 1);
        assert_eq!(general[0].1.message, "no signature");
    }
}
