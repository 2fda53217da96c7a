//! The web interface: server-rendered pages (askama templates in
//! `templates/`, every value escaped), usable without JavaScript; a small
//! script (`static/app.js`) only adds conveniences.
//!
//! | page | URL |
//! |---|---|
//! | search | the HTML of `GET /metadata[/{a}[/{b}]]` ([`search`]) |
//! | image | `GET /images/{identifier}` ([`image`]) |
//! | one entry | the HTML of `GET /metadata/{identifier}/{email}/{created}` ([`image::entry_page`]) |
//! | endorser | the HTML of `GET /endorsers/{email}` ([`endorser`]) |
//! | upload | `GET /upload` (form), `POST /upload` (outcome, [`upload`]) |
//! | assets | `GET /static/{file}` ([`assets`]) |
//!
//! The endorsers list, an endorser's tags and the confirmation pages keep
//! their handlers in [`crate::routes`]; they share the base template and
//! the style sheet. Forms carry the CSRF token of [`crate::http::security`].

pub(crate) mod assets;
pub(crate) mod endorser;
pub(crate) mod image;
pub(crate) mod search;
pub(crate) mod upload;

use crate::http::links::{entry_path, is_web_link};
use crate::render::escape::{path_segment, query_value};
use crate::runtime::state::AppState;
use axum::Router;
use axum::routing::get;
use marketplace_store::{EntrySummary, Status};

/// The routes only the web interface has (the others extend original
/// routes, see the module documentation).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/images/{identifier}", get(image::image))
        .route("/static/{file}", get(assets::asset))
}

/// A location, linked only when it is http(s) or ftp.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    /// The location as written.
    pub text: String,
    /// The same, when it may be a link.
    pub href: Option<String>,
}

/// An instant as the pages show it.
#[derive(Debug, Clone, Default)]
pub(crate) struct When {
    /// As written (the `datetime` attribute).
    pub raw: String,
    /// `YYYY-MM-DD HH:MM UTC`, or the raw text.
    pub text: String,
}

impl When {
    /// An instant written `YYYY-MM-DDTHH:MM:SSZ` (other text is shown as is).
    pub(crate) fn new(raw: &str) -> When {
        let b = raw.as_bytes();
        let shaped = b.len() >= 16
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && raw.is_char_boundary(16);
        if shaped {
            When {
                raw: raw.to_string(),
                text: format!("{} {} UTC", &raw[..10], &raw[11..16]),
            }
        } else {
            When {
                raw: raw.to_string(),
                text: raw.to_string(),
            }
        }
    }

    /// Whether there is an instant at all.
    pub(crate) fn is_set(&self) -> bool {
        !self.raw.is_empty()
    }
}

/// A byte count for people: `1.5 GiB` (exact below 1 KiB).
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes == 1 {
        return "1 byte".into();
    }
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `word` quoted for a POSIX shell when it needs it (single quotes, `'`
/// written as `'\''`), so that a command shown on a page is safe to paste
/// whatever the document says.
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The status as a badge: (CSS class, label).
pub(crate) fn status_badge(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Valid => ("ok", "Valid"),
        Status::Expired => ("warn", "Expired"),
        Status::Deprecated => ("bad", "Deprecated"),
    }
}

/// The relative link of an image page.
pub(crate) fn image_href(identifier: &str) -> String {
    format!("images/{}", path_segment(identifier))
}

/// The relative link of an endorser page.
pub(crate) fn endorser_href(email: &str) -> String {
    format!("endorsers/{}", path_segment(email))
}

/// The relative link of a search for one field's value.
pub(crate) fn search_href(name: &str, value: &str) -> String {
    format!("metadata?{name}={}", query_value(value))
}

/// What the pages show of an entry.
#[derive(Debug, Clone)]
pub(crate) struct EntryView {
    /// Image identifier.
    pub identifier: String,
    /// Endorser e-mail.
    pub email: String,
    /// Endorsement instant (part of the coordinates).
    pub created: When,
    /// Title, or the OS line, or the identifier.
    pub heading: String,
    /// `dcterms:alternative`, the endorser's tag (or empty).
    pub tag: String,
    /// `dcterms:description` (or empty).
    pub description: String,
    /// OS, version and architecture on one line (or empty).
    pub os_line: String,
    /// Further properties: label, value (only those present).
    pub properties: Vec<(&'static str, String)>,
    /// `dcterms:valid`: until when the endorsement holds.
    pub valid: When,
    /// `slterms:deprecated`: why, when deprecated.
    pub deprecated: Option<String>,
    /// Status at the request's instant.
    pub status: Status,
    /// CSS class of the status badge.
    pub status_class: &'static str,
    /// Label of the status badge.
    pub status_label: &'static str,
    /// Whether this is the endorser's latest entry for the image.
    pub latest: bool,
    /// Subject DN of the certificate that signed.
    pub subject: String,
    /// Issuer DN of that certificate.
    pub issuer: String,
    /// VO of the VOMS proxy that signed (or empty).
    pub vo: String,
    /// Its FQANs.
    pub fqans: Vec<String>,
    /// Whether a CA vouches for the e-mail (in a chained certificate).
    pub email_certified: bool,
    /// Whether a CA vouches for the signer (else the identity is
    /// self-asserted: a visible badge).
    pub identity_certified: bool,
    /// When the marketplace accepted the entry.
    pub accepted: When,
    /// `slreq:bytes`, exact (or empty).
    pub bytes: String,
    /// The same for people (or empty).
    pub size: String,
    /// Algorithm and value of each checksum.
    pub checksums: Vec<(String, String)>,
    /// The locations.
    pub locations: Vec<Location>,
    /// The first location that may be a link.
    pub download: Option<String>,
    /// Relative link to the entry page.
    pub entry_href: String,
    /// Relative link to the signed document.
    pub xml_href: String,
    /// Relative link to the image page.
    pub image_href: String,
    /// Relative link to the endorser page.
    pub endorser_href: String,
}

impl EntryView {
    /// The view of a store summary.
    pub(crate) fn new(e: &EntrySummary) -> EntryView {
        let m = &e.metadata;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let os_line = [
            m.os.as_deref(),
            m.os_version.as_deref(),
            m.os_arch.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        let title = text(&m.title);
        let heading = if !title.trim().is_empty() {
            title.clone()
        } else if !os_line.is_empty() {
            os_line.clone()
        } else {
            m.identifier.clone()
        };
        let optional: [(&'static str, Option<String>); 10] = [
            ("Type", m.kind_type.clone()),
            ("Kind", m.kind.clone()),
            ("Format", m.format.clone()),
            ("Compression", m.compression.clone()),
            ("Hypervisor", m.hypervisor.clone()),
            ("Version", m.version.clone()),
            ("Image created", m.created.clone()),
            ("Creator", m.creator.clone()),
            ("Publisher", m.publisher.clone()),
            (
                "Restricted to VOs",
                (!m.visible_to.is_empty()).then(|| m.visible_to.join(", ")),
            ),
        ];
        let locations: Vec<Location> = m
            .locations
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Location {
                text: l.clone(),
                href: is_web_link(l).then(|| l.trim().to_string()),
            })
            .collect();
        let (status_class, status_label) = status_badge(e.status);
        let path = entry_path(&e.key);
        EntryView {
            identifier: e.key.identifier.to_string(),
            email: e.key.email.to_string(),
            created: When::new(&e.key.created),
            heading,
            tag: text(&m.alternative),
            description: text(&m.description),
            os_line,
            properties: optional
                .into_iter()
                .filter_map(|(label, v)| v.filter(|v| !v.trim().is_empty()).map(|v| (label, v)))
                .collect(),
            valid: When::new(m.valid.as_deref().unwrap_or("")),
            deprecated: m.deprecated.clone(),
            status: e.status,
            status_class,
            status_label,
            latest: e.latest,
            subject: e.signer.subject.clone(),
            issuer: e.signer.issuer.clone(),
            vo: e.signer.vo.clone().unwrap_or_default(),
            fqans: e.signer.fqans.clone(),
            email_certified: e.signer.email_certified,
            identity_certified: e.signer.chained,
            accepted: When::new(&e.accepted_at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            bytes: m.bytes.map(|b| b.to_string()).unwrap_or_default(),
            size: m.bytes.map(human_size).unwrap_or_default(),
            checksums: m
                .checksums
                .iter()
                .map(|c| (c.algorithm.to_string(), c.value.clone()))
                .collect(),
            download: locations.iter().find_map(|l| l.href.clone()),
            locations,
            xml_href: format!("{path}?media=xml"),
            entry_href: path,
            image_href: image_href(&e.key.identifier),
            endorser_href: endorser_href(&e.key.email),
        }
    }

    /// Whether the entry is valid at the request's instant.
    pub(crate) fn is_valid(&self) -> bool {
        self.status == Status::Valid
    }

    /// Whether the entry is deprecated.
    pub(crate) fn is_deprecated(&self) -> bool {
        self.status == Status::Deprecated
    }

    /// Whether the entry is expired.
    pub(crate) fn is_expired(&self) -> bool {
        self.status == Status::Expired
    }
}

/// A summary of a stored entry with its status at `now`; `latest` as given.
pub(crate) fn summary_of(
    stored: &marketplace_store::StoredEntry,
    now: chrono::DateTime<chrono::Utc>,
    latest: bool,
) -> EntrySummary {
    let entry = &stored.entry;
    EntrySummary {
        status: Status::of(&entry.metadata, now),
        latest,
        key: entry.key.clone(),
        metadata: entry.metadata.clone(),
        signer: entry.signer.clone(),
        accepted_at: stored.accepted_at,
        rank: None,
    }
}

/// The public base URL of a state (for templates).
pub(crate) fn base(state: &AppState) -> &str {
    &state.config.public_url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(1000), "1000 bytes");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("BEE8-MMAw_x"), "BEE8-MMAw_x");
        assert_eq!(shell_quote("jane@example.org"), "jane@example.org");
        assert_eq!(shell_quote("a'$(id)'@x.org"), "'a'\\''$(id)'\\''@x.org'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("https://h/x?a=1&b=2"), "'https://h/x?a=1&b=2'");
    }

    #[test]
    fn instants() {
        let w = When::new("2014-03-08T14:10:40Z");
        assert_eq!(w.text, "2014-03-08 14:10 UTC");
        assert_eq!(w.raw, "2014-03-08T14:10:40Z");
        assert_eq!(When::new("soon").text, "soon");
        assert!(!When::new("").is_set());
        // Multi-byte text of the right length does not panic.
        assert_eq!(When::new("ééééééééééé").text, "ééééééééééé");
    }
}
