//! What the store indexes beside a document, derived from a [`NewEntry`]
//! the same way for both back ends (at put and at rebuild), and how user
//! text becomes a safe full-text query.

use marketplace_format::datetime::{format_utc, parse_utc};
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::model::NewEntry;
use crate::query::{MAX_TEXT_BYTES, MAX_TEXT_TERMS};

/// The indexed columns of one entry.
#[derive(Debug, Clone)]
pub(crate) struct Indexed {
    /// Lowercase hex SHA-256 of the document bytes.
    pub document_sha256: String,
    /// JSON of the metadata.
    pub metadata_json: String,
    /// JSON of the signer.
    pub signer_json: String,
    /// Title as written (full text).
    pub title: Option<String>,
    /// Lowercased title (sorting).
    pub title_key: Option<String>,
    /// Description as written (full text).
    pub description: Option<String>,
    /// Normalised (trimmed, lowercased) filter keys.
    pub os: Option<String>,
    /// See `os`.
    pub os_version: Option<String>,
    /// See `os`.
    pub os_arch: Option<String>,
    /// See `os`.
    pub kind_type: Option<String>,
    /// See `os` (`slterms:kind`).
    pub kind: Option<String>,
    /// See `os`.
    pub format: Option<String>,
    /// See `os`.
    pub hypervisor: Option<String>,
    /// `dcterms:alternative`, as written.
    pub tag: Option<String>,
    /// VO of the signer's proxy.
    pub vo: Option<String>,
    /// `dcterms:valid` normalised to `YYYY-MM-DDTHH:MM:SSZ`, or `None` when
    /// missing or unreadable (never expires, as [`crate::Status::of`]).
    pub valid_at: Option<String>,
    /// Carries `slterms:deprecated`.
    pub deprecated: bool,
    /// No location, or an http(s)/ftp one.
    pub loc_web: bool,
    /// A `pdisk:` location.
    pub loc_pdisk: bool,
    /// Verified signer subject DN.
    pub signer_subject: String,
    /// Verified signer issuer DN.
    pub signer_issuer: String,
    /// Endorser text for full-text search: e-mail, its words, subject.
    pub endorser_text: String,
    /// The VOs the entry is restricted to ([`crate::visibility`]; empty:
    /// public), the rows of `entry_visibility`.
    pub visible_to: Vec<String>,
    /// `!visible_to.is_empty()`: the `restricted` column.
    pub restricted: bool,
}

/// Trimmed and lowercased, `None` when empty: the form filters compare.
pub(crate) fn filter_key(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_lowercase())
}

fn opt_key(value: &Option<String>) -> Option<String> {
    value.as_deref().and_then(filter_key)
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Whether a location is a web one (http, https, ftp).
fn is_web(location: &str) -> bool {
    let l = location.trim();
    ["http://", "https://", "ftp://"]
        .iter()
        .any(|p| starts_with_ignore_case(l, p))
}

impl Indexed {
    /// Derives the indexed columns of `entry`.
    pub(crate) fn of(entry: &NewEntry) -> Result<Indexed, StoreError> {
        let m = &entry.metadata;
        let json = |r: serde_json::Result<String>| {
            r.map_err(|e| StoreError::Backend(format!("cannot serialise entry: {e}")))
        };
        let email = &entry.key.email;
        let email_words: String = email
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        let visible_to = crate::query::visibility(m);
        Ok(Indexed {
            restricted: !visible_to.is_empty(),
            visible_to,
            document_sha256: sha256_hex(&entry.document),
            metadata_json: json(serde_json::to_string(m))?,
            signer_json: json(serde_json::to_string(&entry.signer))?,
            title: m.title.clone(),
            title_key: opt_key(&m.title),
            description: m.description.clone(),
            os: opt_key(&m.os),
            os_version: opt_key(&m.os_version),
            os_arch: opt_key(&m.os_arch),
            kind_type: opt_key(&m.kind_type),
            kind: opt_key(&m.kind),
            format: opt_key(&m.format),
            hypervisor: opt_key(&m.hypervisor),
            tag: m.alternative.clone().filter(|t| !t.is_empty()),
            vo: entry.signer.vo.clone(),
            valid_at: m
                .valid
                .as_deref()
                .and_then(|v| parse_utc(v).ok())
                .map(format_utc),
            deprecated: m.deprecated.is_some(),
            loc_web: m.locations.is_empty() || m.locations.iter().any(|l| is_web(l)),
            loc_pdisk: m
                .locations
                .iter()
                .any(|l| starts_with_ignore_case(l.trim(), "pdisk:")),
            signer_subject: entry.signer.subject.clone(),
            signer_issuer: entry.signer.issuer.clone(),
            endorser_text: format!("{email} {email_words} {}", entry.signer.subject),
        })
    }
}

/// The words of a free-text search, or `None` when it has none (blank, or
/// only punctuation): then there is no text filter. Words without a letter
/// or digit are dropped (they would match nothing).
pub(crate) fn text_terms(text: Option<&str>) -> Result<Option<Vec<String>>, StoreError> {
    let Some(text) = text else { return Ok(None) };
    if text.len() > MAX_TEXT_BYTES {
        return Err(StoreError::InvalidQuery(format!(
            "search text is longer than {MAX_TEXT_BYTES} bytes"
        )));
    }
    let terms: Vec<String> = text
        .split_whitespace()
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .map(str::to_owned)
        .collect();
    if terms.len() > MAX_TEXT_TERMS {
        return Err(StoreError::InvalidQuery(format!(
            "search text has more than {MAX_TEXT_TERMS} words"
        )));
    }
    Ok((!terms.is_empty()).then_some(terms))
}

/// An FTS5 MATCH expression for `terms`: each term a quoted string (inner
/// quotes doubled), so nothing the user typed is FTS syntax; implicit AND.
pub(crate) fn fts5_match(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_quoted_and_syntax_dropped() {
        let t = text_terms(Some(r#"  a"b NEAR( - * : ( x-y "#))
            .unwrap()
            .unwrap();
        assert_eq!(t, vec![r#"a"b"#, "NEAR(", "x-y"]);
        assert_eq!(fts5_match(&t), r#""a""b" "NEAR(" "x-y""#);
        assert_eq!(text_terms(Some("  - * ")).unwrap(), None);
        assert_eq!(text_terms(None).unwrap(), None);
        assert!(text_terms(Some(&"a ".repeat(17))).is_err());
        assert!(text_terms(Some(&"a".repeat(2000))).is_err());
    }

    #[test]
    fn locations_classify() {
        assert!(is_web("HTTPS://x"));
        assert!(is_web("ftp://x"));
        assert!(!is_web("pdisk:x"));
        assert!(!is_web("file:///x"));
        assert_eq!(filter_key("  Ubuntu "), Some("ubuntu".into()));
        assert_eq!(filter_key("  "), None);
    }
}
