//! Server-rendered pages (askama templates in `templates/`, auto-escaped)
//! and their rendering. Every page extends `base.html`, which sets
//! `<base href>` to the configured public URL (links are relative to it),
//! links the style sheet and script of [`crate::ui::assets`] and has the
//! navigation and skip link. The pages of the web interface are in
//! [`crate::ui`]; the status, home, endorsers and tags pages are here.

use crate::runtime::state::AppState;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

/// The status page: a title and a message (upload outcomes, errors).
#[derive(Template)]
#[template(path = "status.html")]
pub(crate) struct StatusPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// Title (reason phrase, or e.g. "Upload").
    pub title: &'a str,
    /// The message.
    pub message: &'a str,
    /// Remarks below the message (an upload's notes), often none.
    pub notes: &'a [String],
}

/// The home page: a redirect to the metadata list.
#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage<'a> {
    /// Public base URL.
    pub base: &'a str,
}

/// One row of the endorsers page.
#[derive(Debug, Clone)]
pub(crate) struct EndorserRow {
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
pub(crate) struct EndorsersPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// The rows.
    pub rows: Vec<EndorserRow>,
}

/// An endorser's tags page.
#[derive(Template)]
#[template(path = "tags.html")]
pub(crate) struct TagsPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// The endorser.
    pub email: String,
    /// Each tag with its relative link.
    pub tags: Vec<(String, String)>,
}

/// Renders a template; a rendering failure becomes a plain escaped page.
pub(crate) fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "template rendering failed");
        "<!DOCTYPE html><title>Error</title><p>The page could not be rendered.</p>".into()
    })
}

/// A `text/html` response.
pub(crate) fn page(status: StatusCode, template: &impl Template) -> Response {
    crate::http::response::with_type(
        status,
        crate::http::negotiate::Media::Html.content_type(),
        render(template),
    )
}

/// The status page as text.
pub(crate) fn status_page(state: &AppState, title: &str, message: &str) -> String {
    render(&StatusPage {
        base: &state.config.public_url,
        title,
        message,
        notes: &[],
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
            notes: &["<b>note</b>".to_string()],
        });
        assert!(!text.contains("<script>"), "{text}");
        assert!(
            text.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{text}"
        );
        assert!(text.contains("a &#38; b &#60;i&#62;"));
        assert!(text.contains("&#60;b&#62;note&#60;/b&#62;"), "{text}");
    }
}
