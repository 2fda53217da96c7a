//! Request handlers of the original routes, one module per resource.

pub mod action;
pub mod endorsers;
pub mod entry;
pub mod home;
pub mod metadata;
pub mod tags;
pub mod upload;

use crate::escape::path_segment;
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
