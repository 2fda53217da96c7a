//! `marketplace admin export`: every readable stored document, byte for
//! byte, in a directory tree that `admin import` reads back, with the
//! transparency log ([`super::carry`]).

use super::check::{Unreadable, readable_entries};
use marketplace_store::{EntryKey, Store};
use std::path::{Path, PathBuf};

/// The bytes a path segment of an export escapes as `%XX`: `%` itself,
/// separators and control characters. (An e-mail may hold `/`: the e-mail
/// rule of the format allows it.)
const SEGMENT_ESCAPES: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b'%').add(b'/').add(b'\\');

/// `segment` as a file or directory name: percent-encoded, `.`/`..`
/// (which would name the directory itself or its parent) written `%2E`,
/// and an empty segment `%` (which no encoding produces).
fn file_name(segment: &str) -> String {
    match segment {
        // (Never stored: the coordinates are required. Still a name.)
        "" => "%".into(),
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => percent_encoding::utf8_percent_encode(segment, SEGMENT_ESCAPES).to_string(),
    }
}

/// The file an entry is exported to: `dir/<id>/<email>/<created>.xml`,
/// each part percent-encoded where it would not be one plain file name
/// (the documents are imported back by their content, not their path).
pub fn export_path(dir: &Path, key: &EntryKey) -> PathBuf {
    dir.join(file_name(&key.identifier))
        .join(file_name(&key.email))
        .join(format!("{}.xml", file_name(&key.created)))
}

/// What `admin export` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Documents written.
    pub written: u64,
    /// Log leaves written (under [`super::LOG_DIR`]).
    pub leaves: u64,
    /// Entries the store could not give back (a damaged store): every
    /// other entry was written.
    pub unreadable: Vec<Unreadable>,
}

/// Writes every readable stored document byte for byte to
/// `dir/<id>/<email>/<created>.xml`, after the transparency log (its newest
/// checkpoint and its leaves, under `dir/transparency-log`); an entry the
/// store cannot read is listed, not fatal. A file that cannot be written
/// stops the export.
pub async fn export_dir(store: &dyn Store, dir: &Path) -> Result<ExportSummary, String> {
    // The log first: every leaf's entry is among the documents exported
    // after it, even while entries are being added.
    let leaves = super::carry::export_log(store, dir).await?;
    let mut written = 0;
    let unreadable = readable_entries(store, |stored| {
        let path = export_path(dir, &stored.entry.key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, &stored.entry.document)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        written += 1;
        Ok(())
    })
    .await?;
    Ok(ExportSummary {
        written,
        leaves,
        unreadable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_paths_are_safe() {
        const ID: &str = "HZ6rsTmtcc0dJgoGrgRhvwN3o0q";
        let key = |e: &str| EntryKey::parse(ID, e, "2014-03-08T14:10:40Z").unwrap();
        assert_eq!(
            export_path(Path::new("/x"), &key("a@b.org")),
            PathBuf::from(format!("/x/{ID}/a@b.org/2014-03-08T14:10:40Z.xml"))
        );
        // An address may hold '/' and '%': escaped, it stays one component.
        assert_eq!(
            export_path(Path::new("/x"), &key("a/b%c@d.org")),
            PathBuf::from(format!("/x/{ID}/a%2Fb%25c@d.org/2014-03-08T14:10:40Z.xml"))
        );
        // '..' and '\\' cannot even be coordinates.
        assert!(EntryKey::parse("..", "a@b.org", "2014-03-08T14:10:40Z").is_err());
        assert!(EntryKey::parse(ID, "..\\b@d.org", "2014-03-08T14:10:40Z").is_err());
    }
}
