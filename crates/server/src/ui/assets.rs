//! The static files of the pages, compiled into the binary: the style
//! sheet, the progressive-enhancement script and the icon. Pages link them
//! with `?v=` [`version`] (a hash of their contents), so they may be
//! cached for a year.

use crate::http::error::AppError;
use crate::http::response::with_type;
use axum::extract::Path;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The style sheet.
pub(crate) const CSS: &str = include_str!("../../static/app.css");

/// The script (progressive enhancement only: every page works without it).
pub(crate) const JS: &str = include_str!("../../static/app.js");

/// The icon.
pub(crate) const ICON: &str = include_str!("../../static/favicon.svg");

/// The files: name, content type, content.
const FILES: [(&str, &str, &str); 3] = [
    ("app.css", "text/css; charset=utf-8", CSS),
    ("app.js", "text/javascript; charset=utf-8", JS),
    ("favicon.svg", "image/svg+xml", ICON),
];

/// 12 hex digits of the SHA-256 of every file: changes whenever one does.
pub(crate) fn version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let mut hash = Sha256::new();
        for (name, _, content) in FILES {
            hash.update(name.as_bytes());
            hash.update(content.as_bytes());
        }
        hash.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    });
    &VERSION
}

/// `GET /static/{file}`.
pub(crate) async fn asset(Path(file): Path<String>) -> Result<Response, AppError> {
    let Some((_, content_type, content)) = FILES.iter().find(|(name, _, _)| *name == file) else {
        return Err(AppError::not_found("not found"));
    };
    let mut response = with_type(StatusCode::OK, content_type, *content);
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(response)
}
