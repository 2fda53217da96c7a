//! The image page (`GET /images/{identifier}`): what the image is, every
//! current endorsement side by side, a banner when it is deprecated or
//! expired (and by whom), the timeline of every endorser's entries with
//! links to their signed documents, and the commands that download and
//! verify it. And the page of one entry (the HTML of
//! `GET /metadata/{identifier}/{email}/{created}`, [`entry_page`]).
//!
//! Both show what the caller may see: an image whose every endorser's
//! latest entry is hidden from it is 404, as an unknown one; an entry
//! whose endorser's latest entry is hidden is shown as superseded, without
//! saying by what.

use super::{EntryView, When, base, endorser_href, shell_quote};
use crate::auth::identity::Caller;
use crate::http::error::AppError;
use crate::queries;
use crate::render::escape::path_segment;
use crate::render::html;
use crate::runtime::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use marketplace_store::{Audience, EntrySummary, MAX_LIMIT, Status, StoredEntry};
use std::collections::HashSet;

/// One line of a banner: who, and what.
#[derive(Debug, Clone)]
pub(crate) struct BannerLine {
    /// The endorser.
    pub email: String,
    /// Link to the endorser's page.
    pub href: String,
    /// What happened.
    pub text: String,
}

/// A notice at the top of a page.
#[derive(Debug, Clone)]
pub(crate) struct Banner {
    /// `bad` (deprecated), `warn` (expired) or `info`.
    pub class: &'static str,
    /// Its heading.
    pub title: String,
    /// What it says.
    pub lines: Vec<BannerLine>,
}

/// A command line with what it does.
#[derive(Debug, Clone)]
pub(crate) struct Command {
    /// What it does.
    pub label: String,
    /// The command (quoted for a POSIX shell).
    pub text: String,
}

/// One entry of the timeline.
#[derive(Debug, Clone)]
pub(crate) struct TimelineItem {
    /// The entry.
    pub view: EntryView,
    /// What it was: first endorsement, update, deprecation.
    pub event: &'static str,
}

/// The image page.
#[derive(Template)]
#[template(path = "image.html")]
pub(crate) struct ImagePage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// The entry the description comes from (the newest current one, else
    /// the newest).
    pub primary: EntryView,
    /// Every endorser's latest entry that is valid.
    pub current: Vec<EntryView>,
    /// Every endorser's latest entry that is expired or deprecated.
    pub inactive: Vec<EntryView>,
    /// The image's status: a badge class and label.
    pub status: (&'static str, &'static str),
    /// Deprecation and expiry notices.
    pub banners: Vec<Banner>,
    /// Every entry, newest first.
    pub timeline: Vec<TimelineItem>,
    /// Whether the timeline was cut at the store's limit.
    pub timeline_cut: bool,
    /// How to download and verify.
    pub commands: Vec<Command>,
    /// The image in the JSON API.
    pub api_href: String,
    /// Its Atom feed.
    pub feed_href: String,
}

/// One entry's page.
#[derive(Template)]
#[template(path = "entry.html")]
pub(crate) struct EntryPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// The entry.
    pub view: EntryView,
    /// Notices (deprecated, expired, superseded).
    pub banners: Vec<Banner>,
    /// The endorser's latest entry for the image, when this is not it.
    pub latest: Option<(When, String)>,
    /// How to fetch and verify this document.
    pub commands: Vec<Command>,
    /// Where the entry is in the transparency log.
    pub log: Option<LogPanel>,
}

/// The entry page's transparency-log panel.
pub(crate) struct LogPanel {
    /// The leaf index.
    pub index: u64,
    /// The size of the newest checkpoint, when it covers the leaf.
    pub covered_by: Option<u64>,
    /// The receipt's URL (relative to the base).
    pub receipt_href: String,
    /// The log's verifier key.
    pub verifier_key: String,
    /// How to check it.
    pub commands: Vec<Command>,
}

/// A line saying why an entry is not current.
fn inactive_line(v: &EntryView) -> BannerLine {
    let text = match (&v.deprecated, v.status) {
        (Some(reason), _) => {
            format!("deprecated it on {}: “{}”", v.created.text, reason.trim())
        }
        (None, Status::Expired) => format!(
            "endorsed it on {}; the endorsement expired on {}",
            v.created.text, v.valid.text
        ),
        _ => format!("endorsed it on {}", v.created.text),
    };
    BannerLine {
        email: v.email.clone(),
        href: v.endorser_href.clone(),
        text,
    }
}

/// The banners of an image from its endorsers' latest entries.
fn image_banners(current: &[EntryView], inactive: &[EntryView]) -> Vec<Banner> {
    if inactive.is_empty() {
        return Vec::new();
    }
    let lines = inactive.iter().map(inactive_line).collect();
    let (class, title) = if !current.is_empty() {
        (
            "info",
            "Some endorsers no longer vouch for this image".to_string(),
        )
    } else if inactive.iter().all(EntryView::is_deprecated) {
        ("bad", "This image is deprecated".to_string())
    } else {
        (
            "warn",
            "This image has expired: no endorsement is valid".to_string(),
        )
    };
    vec![Banner {
        class,
        title,
        lines,
    }]
}

/// The basename of a URL's path, if it looks like a file name.
fn file_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
        && !name.starts_with('.');
    ok.then(|| name.to_string())
}

/// The strongest checksum of an entry, with the tool that checks it.
fn best_checksum(v: &EntryView) -> Option<(&'static str, String)> {
    [
        ("SHA-512", "sha512sum"),
        ("SHA-256", "sha256sum"),
        ("SHA-1", "sha1sum"),
        ("MD5", "md5sum"),
    ]
    .iter()
    .find_map(|(alg, tool)| {
        v.checksums
            .iter()
            .find(|(a, _)| a == alg)
            .map(|(_, value)| (*tool, value.clone()))
    })
}

/// Commands that fetch the signed document of `v` and check it.
fn document_commands(base: &str, v: &EntryView) -> Vec<Command> {
    let id = shell_quote(&v.identifier);
    let file = format!("{}.xml", v.identifier);
    vec![
        Command {
            label: format!("Fetch the signed metadata of {}’s endorsement", v.email),
            text: format!(
                "curl -fo {} {}",
                shell_quote(&file),
                shell_quote(&format!("{base}/{}", v.xml_href))
            ),
        },
        Command {
            label: "Check its format and signature (add --ca-dir for the certificate chain)".into(),
            text: format!(
                "marketplace validate --ca-dir /etc/grid-security/certificates {}",
                shell_quote(&file)
            ),
        },
        Command {
            label: "Or print the endorser’s latest signed metadata with the client".into(),
            text: format!(
                "marketplace show -m {} --xml --endorser {} {id}",
                shell_quote(base),
                shell_quote(&v.email)
            ),
        },
    ]
}

/// The entry's place in the transparency log (none for an entry the log
/// does not hold, which `admin log-verify` reports). A GET signs nothing:
/// the newest checkpoint covers the leaf, or will within a second.
async fn log_panel(state: &AppState, stored: &StoredEntry) -> Result<Option<LogPanel>, AppError> {
    let key = &stored.entry.key;
    let Some(position) = state.store.log_position(key).await? else {
        return Ok(None);
    };
    let covered_by = state
        .log
        .current()
        .await?
        .map(|c| c.size)
        .filter(|size| *size > position.index);
    let receipt_href = format!(
        "api/v1/entries/{}/receipt",
        crate::http::links::entry_path(key).trim_start_matches("metadata/")
    );
    let base = base(state);
    let commands = vec![
        Command {
            label: "Check that the log holds exactly this document (and has not forked since you \
                    last looked)"
                .into(),
            text: format!(
                "marketplace show -m {} --verify --log-key {} {}",
                shell_quote(base),
                shell_quote(state.log.verifier_key()),
                shell_quote(&key.identifier)
            ),
        },
        Command {
            label: "Or keep the receipt (C2SP tlog-proof) to check offline".into(),
            text: format!(
                "curl -fo {} {}",
                shell_quote(&format!("{}.tlog-proof", key.identifier)),
                shell_quote(&format!("{base}/{receipt_href}"))
            ),
        },
    ];
    Ok(Some(LogPanel {
        index: position.index,
        covered_by,
        receipt_href,
        verifier_key: state.log.verifier_key().to_string(),
        commands,
    }))
}

/// Commands that download the image and verify it.
fn image_commands(base: &str, primary: &EntryView, any_current: bool) -> Vec<Command> {
    let id = shell_quote(&primary.identifier);
    let mut commands = vec![Command {
        label: "Download it, checking the signatures, the size and every checksum".into(),
        text: format!(
            "marketplace download -m {}{} {id}",
            shell_quote(base),
            if any_current { "" } else { " --any-status" }
        ),
    }];
    if let (Some(url), Some((tool, value))) = (&primary.download, best_checksum(primary)) {
        let file = file_name(url).unwrap_or_else(|| format!("{}.img", primary.identifier));
        let note = if primary.properties.iter().any(|(l, _)| *l == "Compression") {
            " (the checksums describe the decompressed image)"
        } else {
            ""
        };
        commands.push(Command {
            label: format!("Or by hand, from the first location{note}"),
            text: format!(
                "curl -fLo {file} {url}\necho {} | {tool} -c",
                shell_quote(&format!("{value}  {file}")),
                file = shell_quote(&file),
                url = shell_quote(url),
            ),
        });
    }
    commands.extend(document_commands(base, primary));
    commands
}

/// The timeline: every entry, newest first, each labelled.
fn timeline(history: &[EntrySummary]) -> Vec<TimelineItem> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut items: Vec<TimelineItem> = history
        .iter()
        .rev()
        .map(|e| {
            let first = seen.insert(e.key.email.as_str());
            let event = if e.metadata.deprecated.is_some() {
                "Deprecated"
            } else if first {
                "Endorsed"
            } else {
                "Endorsement renewed"
            };
            TimelineItem {
                view: EntryView::new(e),
                event,
            }
        })
        .collect();
    items.reverse();
    items
}

/// `GET /images/{identifier}`.
pub(crate) async fn image(
    State(state): State<AppState>,
    caller: Caller,
    Path(identifier): Path<String>,
) -> Result<Response, AppError> {
    let audience = caller.audience();
    let now = state.clock.now();
    let latest = queries::image_endorsements(&state, &audience, &identifier, None, now).await?;
    if latest.is_empty() {
        return Err(AppError::not_found(format!(
            "no image with identifier '{identifier}'"
        )));
    }
    let history = queries::image_history(&state, &audience, &identifier, MAX_LIMIT, now).await?;
    let mut views: Vec<EntryView> = latest.iter().map(EntryView::new).collect();
    // Newest endorsement first within each group.
    views.sort_by(|a, b| b.created.raw.cmp(&a.created.raw));
    let (current, inactive): (Vec<EntryView>, Vec<EntryView>) =
        views.into_iter().partition(EntryView::is_valid);
    let primary = current
        .first()
        .or(inactive.first())
        .cloned()
        .ok_or_else(|| AppError::internal("an image without entries"))?;
    let status = if !current.is_empty() {
        ("ok", "Valid")
    } else if inactive.iter().all(EntryView::is_deprecated) {
        ("bad", "Deprecated")
    } else {
        ("warn", "Expired")
    };
    let segment = path_segment(&identifier);
    let page = ImagePage {
        base: base(&state),
        banners: image_banners(&current, &inactive),
        commands: image_commands(base(&state), &primary, !current.is_empty()),
        timeline_cut: history.len() >= MAX_LIMIT as usize,
        timeline: timeline(&history),
        api_href: format!("api/v1/images/{segment}"),
        feed_href: format!("feeds/images/{segment}.atom"),
        primary,
        current,
        inactive,
        status,
    };
    Ok(html::page(StatusCode::OK, &page))
}

/// The HTML page of one stored entry that `audience` may see.
pub(crate) async fn entry_page(
    state: &AppState,
    audience: &Audience,
    stored: &StoredEntry,
) -> Result<Response, AppError> {
    let key = &stored.entry.key;
    let newest = queries::image_endorsements(
        state,
        audience,
        &key.identifier,
        Some(&key.email),
        state.clock.now(),
    )
    .await?
    .into_iter()
    .next();
    // No visible latest entry: the pair's latest is hidden from the
    // audience, so this one is not it (and what replaces it is not shown).
    let is_latest = newest.as_ref().is_some_and(|n| n.key == *key);
    let view = EntryView::new(&super::summary_of(stored, state.clock.now(), is_latest));
    let mut banners = Vec::new();
    if let Some(reason) = &view.deprecated {
        banners.push(Banner {
            class: "bad",
            title: "This entry deprecates the image".into(),
            lines: vec![BannerLine {
                email: view.email.clone(),
                href: endorser_href(&view.email),
                text: format!(
                    "deprecated it on {}: “{}”",
                    view.created.text,
                    reason.trim()
                ),
            }],
        });
    } else if view.is_expired() {
        banners.push(Banner {
            class: "warn",
            title: "This endorsement has expired".into(),
            lines: vec![BannerLine {
                email: view.email.clone(),
                href: endorser_href(&view.email),
                text: format!("vouched for the image until {}", view.valid.text),
            }],
        });
    }
    let latest = match newest {
        Some(n) if !is_latest => Some((
            When::new(&n.key.created),
            crate::http::links::entry_path(&n.key),
        )),
        _ => None,
    };
    let log = log_panel(state, stored).await?;
    let page = EntryPage {
        base: base(state),
        commands: document_commands(base(state), &view),
        view,
        banners,
        latest,
        log,
    };
    Ok(html::page(StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            file_name("https://h/a/ubuntu-24.04.img.gz?x=1").as_deref(),
            Some("ubuntu-24.04.img.gz")
        );
        assert_eq!(file_name("https://h/"), None);
        assert_eq!(file_name("https://h/$(id)"), None);
        assert_eq!(file_name("https://h/.bashrc"), None);
    }
}
