//! The search page: the HTML representation of `GET /metadata[/{a}[/{b}]]`.
//!
//! Its parameters are those of `GET /api/v1/images` — `q`, `os`,
//! `os_version`, `os_arch`, `type`, `endorser`, `vo`, `tag`, `identifier`,
//! `status`, `sort`, `order`, `page`, `per_page` — and the query is built
//! by the same function ([`crate::api::search::search_query`]), so a page
//! and the API answer the same question alike. The original's list
//! parameters still work in bookmarks: path values and
//! `identifier`/`email`/`created` by shape, `sSearch` (→ `q`),
//! `sSearch_1..3` (→ `os`, `os_version`, `os_arch`), `sSearch_4`, `sSearch_5`
//! (free text), `location`, `iDisplayStart`/`iDisplayLength`; any other
//! `status` value than the four means all (as the original). Every URL the
//! page makes is the canonical form: only what differs from the defaults.
//!
//! Results, counts and the endorser suggestions cover the entries the
//! caller may see ([`Caller::audience`]); `vo` filters on the VO of the
//! signer's proxy.

use super::{EntryView, base};
use crate::api::search::{SORT_KEYS, search_query};
use crate::auth::identity::Caller;
use crate::http::error::AppError;
use crate::render::escape::query_value;
use crate::render::html;
use crate::render::listing::{Coordinates, Params};
use crate::runtime::state::AppState;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use marketplace_store::{LocationFilter, SearchPage as Page};

/// Results per page unless the URL says otherwise.
pub(crate) const DEFAULT_PER_PAGE: u32 = 20;

/// The page sizes offered.
pub(crate) const PER_PAGE_CHOICES: [u32; 4] = [10, 20, 50, 100];

/// The largest page size accepted from a URL.
pub(crate) const MAX_PER_PAGE: u32 = 200;

/// The sort keys offered, with their labels (the names are the API's).
const SORT_LABELS: [(&str, &str); 9] = [
    ("relevance", "Best match / newest"),
    ("created", "Endorsement date"),
    ("title", "Title"),
    ("os", "Operating system"),
    ("os_version", "OS version"),
    ("os_arch", "Architecture"),
    ("endorser", "Endorser"),
    ("identifier", "Identifier"),
    ("valid", "Expiry date"),
];

/// The status choices: value, label.
const STATUS_LABELS: [(&str, &str); 4] = [
    ("valid", "Valid"),
    ("expired", "Expired"),
    ("deprecated", "Deprecated"),
    ("all", "All"),
];

/// The filters of a search, as the form shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Form {
    /// Free text.
    pub q: String,
    /// Exact OS.
    pub os: String,
    /// Exact OS version.
    pub os_version: String,
    /// Exact architecture.
    pub os_arch: String,
    /// Exact `dcterms:type`.
    pub kind_type: String,
    /// Exact endorser e-mail.
    pub endorser: String,
    /// VO of the signer.
    pub vo: String,
    /// Exact tag.
    pub tag: String,
    /// Exact identifier.
    pub identifier: String,
    /// Exact endorsement instant (original URLs only).
    pub created: String,
    /// `web` or `pdisk` (original URLs only), or empty.
    pub location: String,
    /// `valid`, `expired`, `deprecated` or `all`.
    pub status: String,
    /// A sort key of the API.
    pub sort: String,
    /// `asc`, `desc`, or empty (the key's default).
    pub order: String,
    /// 1-based page.
    pub page: u64,
    /// Results per page.
    pub per_page: u32,
}

/// Text filters: (parameter, label, field accessor).
type Field = (&'static str, &'static str, fn(&Form) -> &str);

/// The filters shown as removable chips, in URL order.
const FILTERS: [Field; 11] = [
    ("q", "Text", |f| &f.q),
    ("identifier", "Identifier", |f| &f.identifier),
    ("os", "OS", |f| &f.os),
    ("os_version", "Version", |f| &f.os_version),
    ("os_arch", "Architecture", |f| &f.os_arch),
    ("type", "Type", |f| &f.kind_type),
    ("endorser", "Endorser", |f| &f.endorser),
    ("vo", "VO", |f| &f.vo),
    ("tag", "Tag", |f| &f.tag),
    ("created", "Endorsed at", |f| &f.created),
    ("location", "Location", |f| &f.location),
];

impl Form {
    /// The form of a request: path values, then parameters (see the module
    /// documentation).
    pub(crate) fn parse(path_values: &[String], params: &Params) -> Form {
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| params.non_empty(n))
                .unwrap_or("")
                .to_string()
        };
        let mut coordinates = Coordinates::default();
        for v in path_values {
            coordinates.add(v);
        }
        let mut text: Vec<&str> = Vec::new();
        for name in ["q", "sSearch", "sSearch_4", "sSearch_5"] {
            if let Some(v) = params.non_empty(name)
                && !text.contains(&v)
            {
                text.push(v);
            }
        }
        let status = match params.non_empty("status").map(str::to_ascii_lowercase) {
            None => "valid".to_string(),
            Some(s) if STATUS_LABELS.iter().any(|(v, _)| *v == s) => s,
            Some(_) => "all".to_string(),
        };
        let sort = params
            .non_empty("sort")
            .map(|s| s.to_ascii_lowercase().replace('-', "_"))
            .filter(|s| SORT_KEYS.iter().any(|(k, _)| k == s))
            .unwrap_or_else(|| "relevance".into());
        let order = params
            .non_empty("order")
            .map(str::to_ascii_lowercase)
            .filter(|o| o == "asc" || o == "desc")
            .unwrap_or_default();
        let number = |name: &str| params.non_empty(name).and_then(|v| v.parse::<u64>().ok());
        let legacy_length = number("iDisplayLength").filter(|n| *n > 0);
        let per_page = number("per_page")
            .or(legacy_length)
            .map(|n| n.clamp(1, u64::from(MAX_PER_PAGE)) as u32)
            .unwrap_or(DEFAULT_PER_PAGE);
        let page = number("page")
            .or_else(|| number("iDisplayStart").map(|start| start / u64::from(per_page) + 1))
            .unwrap_or(1)
            .clamp(1, u64::from(u32::MAX));
        let location = params
            .non_empty("location")
            .map(str::to_ascii_lowercase)
            .filter(|l| l == "web" || l == "pdisk")
            .unwrap_or_default();
        let or_path = |value: String, from_path: &Option<String>| {
            if value.is_empty() {
                from_path.clone().unwrap_or_default()
            } else {
                value
            }
        };
        Form {
            q: text.join(" "),
            os: get(&["os", "sSearch_1"]),
            os_version: get(&["os_version", "sSearch_2"]),
            os_arch: get(&["os_arch", "sSearch_3"]),
            kind_type: get(&["type"]),
            endorser: or_path(get(&["endorser", "email"]), &coordinates.email),
            vo: get(&["vo"]),
            tag: get(&["tag"]),
            identifier: or_path(get(&["identifier"]), &coordinates.identifier),
            created: or_path(get(&["created"]), &coordinates.created),
            location,
            status,
            sort,
            order,
            page,
            per_page,
        }
    }

    /// The canonical parameters without the page: the filters that are
    /// set, and the status, sort, order and page size when not the default.
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = FILTERS
            .iter()
            .filter(|(_, _, get)| !get(self).is_empty())
            .map(|(name, _, get)| (*name, get(self).to_string()))
            .collect();
        if self.status != "valid" {
            out.push(("status", self.status.clone()));
        }
        if self.sort != "relevance" {
            out.push(("sort", self.sort.clone()));
        }
        if !self.order.is_empty() {
            out.push(("order", self.order.clone()));
        }
        if self.per_page != DEFAULT_PER_PAGE {
            out.push(("per_page", self.per_page.to_string()));
        }
        out
    }

    /// The relative URL of this search at `page`, without the parameters
    /// named in `without`.
    pub(crate) fn href(&self, page: u64, without: &[&str]) -> String {
        let mut query: Vec<String> = self
            .params()
            .into_iter()
            .filter(|(k, _)| !without.contains(k))
            .map(|(k, v)| format!("{k}={}", query_value(&v)))
            .collect();
        if page > 1 {
            query.push(format!("page={page}"));
        }
        if query.is_empty() {
            "metadata".into()
        } else {
            format!("metadata?{}", query.join("&"))
        }
    }

    /// The store query: the API's parameters through the API's function,
    /// then the two filters only original URLs have.
    pub(crate) fn query(&self) -> Result<marketplace_store::SearchQuery, String> {
        let mut api: Vec<(String, String)> = self
            .params()
            .into_iter()
            .filter(|(k, _)| *k != "created" && *k != "location")
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        api.push(("page".into(), self.page.to_string()));
        api.push(("per_page".into(), self.per_page.to_string()));
        let mut query = search_query(&Params(api)).map_err(|e| e.message)?;
        query.created = (!self.created.is_empty()).then(|| self.created.clone());
        query.location = match self.location.as_str() {
            "web" => LocationFilter::Web,
            "pdisk" => LocationFilter::Pdisk,
            _ => LocationFilter::Any,
        };
        Ok(query)
    }
}

/// A choice of a `<select>`.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    /// Its value.
    pub value: String,
    /// Its label.
    pub label: String,
    /// Whether it is selected.
    pub selected: bool,
}

fn choices<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>, current: &str) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            value: value.into(),
            label: label.into(),
            selected: value == current,
        })
        .collect()
}

/// An active filter with the link that removes it.
#[derive(Debug, Clone)]
pub(crate) struct Chip {
    /// What it filters.
    pub label: &'static str,
    /// The value.
    pub value: String,
    /// The search without it.
    pub remove_href: String,
}

/// A link of the pager (`number` 0 is a gap).
#[derive(Debug, Clone)]
pub(crate) struct PageLink {
    /// The page (0: an ellipsis).
    pub number: u64,
    /// Its URL.
    pub href: String,
    /// Whether it is the page shown.
    pub current: bool,
}

/// The search page.
#[derive(Template)]
#[template(path = "search.html")]
pub(crate) struct SearchPage<'a> {
    /// Public base URL.
    pub base: &'a str,
    /// The filters.
    pub form: Form,
    /// Status choices.
    pub statuses: Vec<Choice>,
    /// Sort choices.
    pub sorts: Vec<Choice>,
    /// Order choices.
    pub orders: Vec<Choice>,
    /// Page-size choices.
    pub per_pages: Vec<Choice>,
    /// Known endorsers (suggestions).
    pub endorsers: Vec<String>,
    /// The active filters.
    pub chips: Vec<Chip>,
    /// Why the search failed, if it did.
    pub error: Option<String>,
    /// Latest entries with the status filter only.
    pub total: u64,
    /// Entries matching every filter.
    pub matching: u64,
    /// 1-based position of the first row shown.
    pub first: u64,
    /// Position of the last row shown.
    pub last: u64,
    /// The rows.
    pub rows: Vec<EntryView>,
    /// The pager.
    pub pages: Vec<PageLink>,
    /// Previous page, if any.
    pub prev: Option<String>,
    /// Next page, if any.
    pub next: Option<String>,
    /// The same search in the JSON API.
    pub api_href: String,
    /// Whether "more filters" should be open (one of them is set).
    pub more_open: bool,
    /// The same search among every status (when it is not already).
    pub all_status_href: Option<String>,
}

/// The pager: first, last, and two pages around the current one.
fn pager(form: &Form, pages: u64) -> Vec<PageLink> {
    let current = form.page;
    let mut out = Vec::new();
    let mut last_shown = 0;
    for n in 1..=pages {
        let near = n + 2 >= current && n <= current + 2;
        if n == 1 || n == pages || near {
            if n > last_shown + 1 {
                out.push(PageLink {
                    number: 0,
                    href: String::new(),
                    current: false,
                });
            }
            out.push(PageLink {
                number: n,
                href: form.href(n, &[]),
                current: n == current,
            });
            last_shown = n;
        } else if n > current + 2 {
            // Jump to the last page.
            if pages > n {
                out.push(PageLink {
                    number: 0,
                    href: String::new(),
                    current: false,
                });
            }
            out.push(PageLink {
                number: pages,
                href: form.href(pages, &[]),
                current: pages == current,
            });
            break;
        }
    }
    out
}

/// Runs the search of `form` for `audience`: the page, or an empty page
/// and why the query is invalid (shown on the page, 400).
async fn run_search(
    state: &AppState,
    form: &Form,
    audience: marketplace_store::Audience,
) -> Result<(Page, Option<String>), AppError> {
    let query = form
        .query()
        .map(|query| marketplace_store::SearchQuery { audience, ..query });
    let result = match query {
        Ok(query) => match state.store.search(&query, state.clock.now()).await {
            Ok(page) => Ok(page),
            Err(marketplace_store::StoreError::InvalidQuery(m)) => Err(m),
            Err(e) => return Err(e.into()),
        },
        Err(m) => Err(m),
    };
    Ok(match result {
        Ok(p) => (p, None),
        Err(m) => (Page::default(), Some(m)),
    })
}

/// The active filters of `form`, each with the link that removes it.
fn chips(form: &Form) -> Vec<Chip> {
    FILTERS
        .iter()
        .filter(|(_, _, get)| !get(form).is_empty())
        .map(|(name, label, get)| Chip {
            label,
            value: get(form).to_string(),
            remove_href: form.href(1, &[name]),
        })
        .collect()
}

/// The API query of the same page of the same search (the API's default
/// page size differs, so it is always given).
fn api_query(form: &Form) -> Vec<String> {
    form.params()
        .into_iter()
        .filter(|(k, _)| !["created", "location", "per_page"].contains(k))
        .map(|(k, v)| format!("{k}={}", query_value(&v)))
        .chain((form.page > 1).then(|| format!("page={}", form.page)))
        .chain(std::iter::once(format!("per_page={}", form.per_page)))
        .collect()
}

/// The page-size choices, with `per_page` selected (and added when it is
/// not one of them).
fn per_page_choices(per_page: u32) -> Vec<Choice> {
    PER_PAGE_CHOICES
        .iter()
        .map(|n| Choice {
            value: n.to_string(),
            label: format!("{n} per page"),
            selected: *n == per_page,
        })
        .chain((!PER_PAGE_CHOICES.contains(&per_page)).then(|| Choice {
            value: per_page.to_string(),
            label: format!("{per_page} per page"),
            selected: true,
        }))
        .collect()
}

/// The search page for a request to `/metadata[/{a}[/{b}]]`.
pub(crate) async fn page(
    state: &AppState,
    caller: &Caller,
    path_values: &[String],
    params: &Params,
) -> Result<Response, AppError> {
    let form = Form::parse(path_values, params);
    let audience = caller.audience();
    let mut endorsers: Vec<String> = state
        .store
        .endorsers(&audience)
        .await?
        .into_iter()
        .map(|e| e.email)
        .collect();
    endorsers.dedup();
    let (page, error) = run_search(state, &form, audience).await?;
    let per_page = u64::from(form.per_page);
    let pages = page.matching.div_ceil(per_page);
    let shown = page.entries.len() as u64;
    let first = (form.page - 1) * per_page + 1;
    let chips = chips(&form);
    let api_query = api_query(&form);
    let view = SearchPage {
        base: base(state),
        statuses: choices(STATUS_LABELS, &form.status),
        sorts: choices(SORT_LABELS, &form.sort),
        orders: choices(
            [
                ("", "Default order"),
                ("asc", "Ascending"),
                ("desc", "Descending"),
            ],
            &form.order,
        ),
        per_pages: per_page_choices(form.per_page),
        endorsers,
        chips,
        total: page.total,
        matching: page.matching,
        first,
        last: first + shown.saturating_sub(1),
        rows: page.entries.iter().map(EntryView::new).collect(),
        pages: if pages > 1 {
            pager(&form, pages)
        } else {
            Vec::new()
        },
        prev: (form.page > 1).then(|| form.href((form.page - 1).min(pages.max(1)), &[])),
        next: (form.page < pages).then(|| form.href(form.page + 1, &[])),
        api_href: format!("api/v1/images?{}", api_query.join("&")),
        more_open: [
            &form.kind_type,
            &form.vo,
            &form.tag,
            &form.identifier,
            &form.created,
            &form.location,
        ]
        .iter()
        .any(|v| !v.is_empty()),
        all_status_href: (form.status != "all").then(|| {
            let mut all = form.clone();
            all.status = "all".into();
            all.href(1, &[])
        }),
        error: error.clone(),
        form,
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = html::page(status, &view);
    if status != StatusCode::OK {
        response
            .extensions_mut()
            .insert(crate::http::error::FinalBody);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(path: &[&str], q: &str) -> Form {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        Form::parse(&path, &Params::parse(Some(q)))
    }

    #[test]
    fn canonical_urls() {
        let f = form(
            &[],
            "q=ubuntu&os=&status=valid&sort=relevance&page=2&per_page=20",
        );
        assert_eq!(f.href(f.page, &[]), "metadata?q=ubuntu&page=2");
        assert_eq!(f.href(1, &["q"]), "metadata");
        let f = form(
            &[],
            "os=Ubuntu+Linux&status=all&sort=created&order=asc&per_page=50",
        );
        assert_eq!(
            f.href(3, &[]),
            "metadata?os=Ubuntu%20Linux&status=all&sort=created&order=asc&per_page=50&page=3"
        );
    }

    #[test]
    fn original_parameters() {
        let f = form(
            &["jane@example.org"],
            "sSearch=tty&sSearch_1=linux&status=bogus&iDisplayStart=40&iDisplayLength=20&location=web",
        );
        assert_eq!(f.endorser, "jane@example.org");
        assert_eq!((f.q.as_str(), f.os.as_str()), ("tty", "linux"));
        assert_eq!(f.status, "all");
        assert_eq!((f.page, f.per_page), (3, 20));
        assert_eq!(f.location, "web");
        let q = f.query().unwrap();
        assert_eq!(q.email.as_deref(), Some("jane@example.org"));
        assert_eq!((q.offset, q.limit), (40, 20));
        assert_eq!(q.location, LocationFilter::Web);
    }

    #[test]
    fn same_query_as_the_api() {
        let f = form(
            &[],
            "q=a&os=b&os_version=c&os_arch=d&type=e&endorser=f%40x.org&vo=g&tag=h",
        );
        let ui = f.query().unwrap();
        let api = search_query(&Params::parse(Some(
            "q=a&os=b&os_version=c&os_arch=d&type=e&endorser=f%40x.org&vo=g&tag=h&page=1&per_page=20",
        )))
        .unwrap();
        assert_eq!(ui, api);
    }

    #[test]
    fn lenient_values() {
        let f = form(&[], "sort=bogus&order=up&page=0&per_page=100000");
        assert_eq!((f.sort.as_str(), f.order.as_str()), ("relevance", ""));
        assert_eq!((f.page, f.per_page), (1, MAX_PER_PAGE));
    }

    #[test]
    fn pager_shape() {
        let mut f = form(&[], "");
        f.page = 6;
        let numbers: Vec<u64> = pager(&f, 20).iter().map(|p| p.number).collect();
        assert_eq!(numbers, vec![1, 0, 4, 5, 6, 7, 8, 0, 20]);
        f.page = 1;
        let numbers: Vec<u64> = pager(&f, 3).iter().map(|p| p.number).collect();
        assert_eq!(numbers, vec![1, 2, 3]);
    }
}
