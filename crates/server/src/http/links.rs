//! The URLs the pages, the API and the lists share: an entry's path, and
//! which locations may be shown as links.

use crate::render::escape::path_segment;
use marketplace_store::EntryKey;

/// The relative path of an entry: `metadata/<id>/<email>/<created>`
/// (segments percent-encoded).
pub fn entry_path(key: &EntryKey) -> String {
    format!(
        "metadata/{}/{}/{}",
        path_segment(&key.identifier),
        path_segment(&key.email),
        path_segment(&key.created)
    )
}

/// Whether a location may be shown as a link (never `javascript:` & co).
pub fn is_web_link(location: &str) -> bool {
    let lower = location.trim_start().to_ascii_lowercase();
    ["http://", "https://", "ftp://"]
        .iter()
        .any(|p| lower.starts_with(p))
}
