//! The report of one upload: what the marketplace's answer to a posted
//! document means (created, already present, waiting for confirmation,
//! refused, failed), the entry's URL, and how it is printed — shared by
//! `marketplace upload` and the commands that publish new entries
//! ([`crate::reissue`]).

use crate::client::{Marketplace, UploadResponse};
use crate::failure::{Code, Failure};
use serde::Serialize;

/// What happened to one uploaded document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Outcome {
    /// 201: a new entry.
    Created,
    /// 200: the same document was already stored.
    AlreadyPresent,
    /// 202: stored once the endorser confirms by e-mail.
    PendingConfirmation,
    /// 4xx: the server refused the document.
    Refused,
    /// Not sent or no usable answer (unreadable file, network, 5xx).
    Failed,
}

/// The report of one upload.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// The file (absent for documents made by other commands).
    pub file: Option<String>,
    /// What happened.
    pub outcome: Outcome,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// The entry's URL.
    pub url: Option<String>,
    /// The server's message (or ours).
    pub message: String,
    /// The server's notes on an accepted document (how it read forms of the
    /// original tools, the signature algorithm, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Report {
    /// The exit status this report calls for.
    pub(crate) fn code(&self) -> Option<Code> {
        match self.outcome {
            Outcome::Created | Outcome::AlreadyPresent | Outcome::PendingConfirmation => None,
            Outcome::Refused if matches!(self.status, Some(401 | 403)) => Some(Code::Auth),
            Outcome::Refused => Some(Code::Refused),
            Outcome::Failed => Some(Code::Network),
        }
    }

    /// Prints the outcome for people: the line on standard output (standard
    /// error when it failed), then the server's notes, one `FILE: note: …`
    /// line each, on standard error.
    pub(crate) fn print(&self) {
        match self.code() {
            None => println!("{}", self.line()),
            Some(_) => eprintln!("{}", self.line()),
        }
        let prefix = self
            .file
            .as_ref()
            .map(|f| format!("{f}: "))
            .unwrap_or_default();
        for note in &self.notes {
            eprintln!("{prefix}note: {note}");
        }
    }

    /// One line for people.
    pub(crate) fn line(&self) -> String {
        let prefix = self
            .file
            .as_ref()
            .map(|f| format!("{f}: "))
            .unwrap_or_default();
        let url = self.url.as_deref().unwrap_or("(no URL given)");
        match self.outcome {
            Outcome::Created => format!("{prefix}created {url}"),
            Outcome::AlreadyPresent => format!("{prefix}already present {url}"),
            Outcome::PendingConfirmation => format!(
                "{prefix}accepted, waiting for e-mail confirmation: {}; the entry appears at \
                 {url} once the link in that message is followed",
                self.message
            ),
            Outcome::Refused => format!(
                "{prefix}refused ({}): {}",
                self.status.unwrap_or_default(),
                self.message
            ),
            Outcome::Failed => format!("{prefix}failed: {}", self.message),
        }
    }
}

/// The entry URL the original client computed: `<endpoint>/metadata/<id>/<email>/<created>`.
fn local_url(marketplace: &Marketplace, document: &[u8]) -> Option<String> {
    let m = marketplace_format::parse(document).metadata;
    let e = m.endorsement.as_ref()?;
    Some(
        marketplace
            .entry_url(&m.identifier, &e.endorser.email, &e.created)
            .to_string(),
    )
}

/// Interprets the server's answer to an upload of `document`.
pub(crate) fn interpret(
    marketplace: &Marketplace,
    document: &[u8],
    file: Option<String>,
    answer: Result<UploadResponse, Failure>,
) -> Report {
    let answer = match answer {
        Ok(a) => a,
        Err(f) => {
            return Report {
                file,
                outcome: Outcome::Failed,
                status: None,
                url: None,
                message: f.message,
                notes: Vec::new(),
            };
        }
    };
    let outcome = match answer.status {
        201 => Outcome::Created,
        200 => Outcome::AlreadyPresent,
        202 => Outcome::PendingConfirmation,
        400..=499 => Outcome::Refused,
        _ => Outcome::Failed,
    };
    let url = answer
        .location
        .clone()
        .or_else(|| local_url(marketplace, document));
    let message = match outcome {
        Outcome::PendingConfirmation if answer.message.is_empty() => {
            "the marketplace sent a confirmation link to the endorser's address".to_string()
        }
        Outcome::Failed if (500..=599).contains(&answer.status) => format!(
            "the server failed ({}): {}; try again later, or tell the operator of {}",
            answer.status,
            answer.message,
            marketplace.base()
        ),
        Outcome::Failed => format!(
            "unexpected answer {} from {}: {}",
            answer.status,
            marketplace.base(),
            answer.message
        ),
        _ => answer.message,
    };
    Report {
        notes: answer.notes,
        file,
        outcome,
        status: Some(answer.status),
        url: if matches!(outcome, Outcome::Refused | Outcome::Failed) {
            None
        } else {
            url
        },
        message,
    }
}
