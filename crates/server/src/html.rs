//! Minimal server-rendered pages (askama templates in `templates/`,
//! auto-escaped). Every page has `<base href>` set to the configured public
//! URL, so links are relative to it. The real web UI comes later; these
//! pages are simple but correct.

use crate::state::AppState;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

/// The status page: a title and a message (upload outcomes, errors).
#[derive(Template)]
#[template(path = "status.html")]
pub struct StatusPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// Title (reason phrase, or e.g. "Upload").
    pub title: &'a str,
    /// The message.
    pub message: &'a str,
}

/// The home page: a redirect to the metadata list.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    /// Public base URL.
    pub base: &'a str,
}

/// The upload form.
#[derive(Template)]
#[template(path = "upload.html")]
pub struct UploadPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// Upload size limit.
    pub max_bytes: usize,
}

/// One row of the metadata list page.
#[derive(Debug, Clone)]
pub struct ListRow {
    /// Title, or OS description, or identifier.
    pub heading: String,
    /// Identifier.
    pub identifier: String,
    /// Endorser e-mail.
    pub email: String,
    /// Endorsement created.
    pub created: String,
    /// `slterms:kind` (or empty).
    pub kind: String,
    /// Description (or empty).
    pub description: String,
    /// An http(s) location to download from.
    pub download: Option<String>,
    /// Status at the request instant.
    pub status: &'static str,
    /// Relative link to the entry page.
    pub href: String,
}

/// The metadata list page.
#[derive(Template)]
#[template(path = "metadata.html")]
pub struct MetadataPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// Relative URL the filter form submits to.
    pub action: String,
    /// Status choices (value, label, selected).
    pub statuses: Vec<(&'static str, &'static str, bool)>,
    /// Location choices (value, label, selected).
    pub locations: Vec<(&'static str, &'static str, bool)>,
    /// The free-text search.
    pub search: String,
    /// Latest entries with the status filter.
    pub total: u64,
    /// Entries matching every filter.
    pub matching: u64,
    /// Rows shown.
    pub shown: u64,
    /// The rows.
    pub rows: Vec<ListRow>,
}

/// One entry.
#[derive(Template)]
#[template(path = "entry.html")]
pub struct EntryPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// Title (with the tag), or the tag, or the identifier.
    pub heading: String,
    /// Description.
    pub description: String,
    /// Endorser e-mail.
    pub email: String,
    /// Endorsement created.
    pub created: String,
    /// Deprecation reason.
    pub deprecated: Option<String>,
    /// Label and value of each property shown.
    pub properties: Vec<(&'static str, String)>,
    /// Algorithm and value of each checksum.
    pub checksums: Vec<(String, String)>,
    /// Each location, with a link when it is http(s) or ftp.
    pub locations: Vec<(String, Option<String>)>,
    /// Relative link to the XML download.
    pub xml_href: String,
    /// Relative link to the JSON download.
    pub json_href: String,
}

/// One row of the endorsers page.
#[derive(Debug, Clone)]
pub struct EndorserRow {
    /// First CN of the subject, or the subject.
    pub name: String,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// E-mail.
    pub email: String,
    /// The e-mail encoded as a path segment.
    pub segment: String,
}

/// The endorsers page.
#[derive(Template)]
#[template(path = "endorsers.html")]
pub struct EndorsersPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// The rows.
    pub rows: Vec<EndorserRow>,
}

/// One row of an endorser's history.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// Identifier.
    pub identifier: String,
    /// Endorsement created.
    pub created: String,
    /// A location (one row per location).
    pub location: String,
    /// Deprecation reason, or empty.
    pub deprecated: String,
    /// Relative link to the entry.
    pub href: String,
}

/// An endorser's history page.
#[derive(Template)]
#[template(path = "history.html")]
pub struct HistoryPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// The endorser.
    pub email: String,
    /// Range choices (days, selected).
    pub ranges: Vec<(u32, bool)>,
    /// The rows.
    pub rows: Vec<HistoryRow>,
}

/// An endorser's tags page.
#[derive(Template)]
#[template(path = "tags.html")]
pub struct TagsPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// The endorser.
    pub email: String,
    /// Each tag with its relative link.
    pub tags: Vec<(String, String)>,
}

/// Renders a template; a rendering failure becomes a plain escaped page.
pub fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "template rendering failed");
        "<!DOCTYPE html><title>Error</title><p>The page could not be rendered.</p>".into()
    })
}

/// A `text/html` response.
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    crate::error::with_type(
        status,
        crate::negotiate::Media::Html.content_type(),
        render(template),
    )
}

/// The status page as text.
pub fn status_page(state: &AppState, title: &str, message: &str) -> String {
    render(&StatusPage {
        base: &state.config.public_url,
        title,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_everything() {
        let text = render(&StatusPage {
            base: "http://h\"><script>",
            title: "<script>alert(1)</script>",
            message: "a & b <i>",
        });
        assert!(!text.contains("<script>"), "{text}");
        assert!(
            text.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{text}"
        );
        assert!(text.contains("a &#38; b &#60;i&#62;"));
    }
}
