//! `marketplace search [filters] [TEXT]`: the marketplace's search
//! (`GET /api/v1/images`), a page at a time or every page with `--all`.

use crate::client::Marketplace;
use crate::failure::Failure;
use crate::output::{self, Table, or_dash};
use crate::settings::{ClientOptions, Settings};
use marketplace_api::{EntryItem, SearchResult};
use serde::Serialize;
use std::process::ExitCode;

/// Options of `marketplace search`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The search runs on the server over the latest entry of each (image, endorser); TEXT is matched
against title, description, operating system, tag and endorser, best matches first. Filters are
exact. By default only valid entries (neither expired nor deprecated) are shown.

Examples:
  marketplace search ubuntu
  marketplace search --os ubuntu --os-version 24.04 --os-arch x86_64 --per-page 50 --page 2
  marketplace search --endorser jane@example.org --status all --json
  marketplace search --vo biomed --all --max 5000 --json > biomed-images.json")]
pub(crate) struct SearchArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// Operating system (slterms:os).
    #[arg(long, value_name = "OS")]
    pub os: Option<String>,
    /// Operating system version.
    #[arg(long, value_name = "VERSION")]
    pub os_version: Option<String>,
    /// Architecture, e.g. x86_64.
    #[arg(long, value_name = "ARCH")]
    pub os_arch: Option<String>,
    /// Endorser e-mail.
    #[arg(long, value_name = "EMAIL", alias = "email")]
    pub endorser: Option<String>,
    /// VO of the VOMS proxy that signed.
    #[arg(long, value_name = "VO")]
    pub vo: Option<String>,
    /// Tag (dcterms:alternative).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Type (dcterms:type), e.g. machine.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind_type: Option<String>,
    /// Image format, e.g. raw, qcow2.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Hypervisor, e.g. kvm.
    #[arg(long, value_name = "NAME")]
    pub hypervisor: Option<String>,
    /// Entries with this status [default: valid].
    #[arg(long, value_name = "STATUS", value_parser = ["valid", "expired", "deprecated", "all"])]
    pub status: Option<String>,
    /// Sort key: relevance, created, title, os, os_version, os_arch, endorser, identifier, valid.
    #[arg(long, value_name = "KEY")]
    pub sort: Option<String>,
    /// Sort order.
    #[arg(long, value_name = "ORDER", value_parser = ["asc", "desc"])]
    pub order: Option<String>,
    /// Page to show (from 1).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub page: u64,
    /// Entries per page (at most 1000).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub per_page: u32,
    /// Fetch every page (at most --max entries).
    #[arg(long, conflicts_with = "page")]
    pub all: bool,
    /// With --all: stop after this many entries.
    #[arg(long, value_name = "N", default_value_t = 10_000, requires = "all")]
    pub max: u64,
    /// Free text.
    #[arg(value_name = "TEXT")]
    pub text: Vec<String>,
}

impl SearchArgs {
    fn query(&self) -> Vec<(String, String)> {
        let text = self.text.join(" ");
        let pairs = [
            ("q", Some(text).filter(|t| !t.trim().is_empty())),
            ("os", self.os.clone()),
            ("os_version", self.os_version.clone()),
            ("os_arch", self.os_arch.clone()),
            ("endorser", self.endorser.clone()),
            ("vo", self.vo.clone()),
            ("tag", self.tag.clone()),
            ("type", self.kind_type.clone()),
            ("format", self.format.clone()),
            ("hypervisor", self.hypervisor.clone()),
            ("status", self.status.clone()),
            ("sort", self.sort.clone()),
            ("order", self.order.clone()),
        ];
        pairs
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect()
    }
}

/// Every page of a search, as `--all --json` prints it.
#[derive(Debug, Serialize)]
struct AllPages {
    total: u64,
    matching: u64,
    truncated: bool,
    items: Vec<EntryItem>,
}

fn page_query(base: &[(String, String)], offset: u64, limit: u32) -> Vec<(String, String)> {
    let mut q = base.to_vec();
    q.push(("offset".into(), offset.to_string()));
    q.push(("limit".into(), limit.to_string()));
    q
}

/// One search result row.
fn row(e: &EntryItem) -> Vec<String> {
    let os = [
        e.os.as_deref(),
        e.os_version.as_deref(),
        e.os_arch.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let status = serde_json::to_value(e.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    vec![
        e.identifier.clone(),
        e.endorser.email.clone(),
        e.created.clone(),
        status,
        or_dash(Some(&os)),
        or_dash(e.title.as_deref().or(e.tag.as_deref())),
    ]
}

/// The results as a table.
pub(crate) fn table(items: &[EntryItem]) -> Table {
    let mut t = Table::new(&["IDENTIFIER", "ENDORSER", "CREATED", "STATUS", "OS", "TITLE"]);
    for e in items {
        t.row(row(e));
    }
    t
}

/// Runs the command.
pub(crate) fn run(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.client, None)?;
    let marketplace = Marketplace::new(&settings)?;
    let base = args.query();
    if args.all {
        let limit = args.per_page.clamp(500, 1000);
        let mut items: Vec<EntryItem> = Vec::new();
        let (total, matching) = loop {
            let page: SearchResult =
                marketplace.search(&page_query(&base, items.len() as u64, limit))?;
            let (total, matching) = (page.total, page.matching);
            let got = page.items.len();
            items.extend(page.items);
            if got == 0 || items.len() as u64 >= matching || items.len() as u64 >= args.max {
                break (total, matching);
            }
        };
        items.truncate(args.max as usize);
        let truncated = (items.len() as u64) < matching;
        if settings.json {
            output::json(&AllPages {
                total,
                matching,
                truncated,
                items,
            });
        } else {
            table(&items).print();
            println!("{} of {matching} matching entries", items.len());
            if truncated {
                eprintln!(
                    "note: stopped after --max {} entries; raise --max or narrow the search",
                    args.max
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let offset = (args.page - 1)
        .checked_mul(u64::from(args.per_page))
        .ok_or_else(|| Failure::usage("--page is too large"))?;
    let result = marketplace.search(&page_query(&base, offset, args.per_page))?;
    let pages = result.matching.div_ceil(u64::from(args.per_page)).max(1);
    if settings.json {
        let mut value = serde_json::to_value(&result)?;
        value["page"] = args.page.into();
        value["pages"] = pages.into();
        output::json(&value);
        return Ok(ExitCode::SUCCESS);
    }
    if result.items.is_empty() {
        println!(
            "no entries match (page {} of {pages}, {} matching)",
            args.page, result.matching
        );
        return Ok(ExitCode::SUCCESS);
    }
    table(&result.items).print();
    let first = offset + 1;
    let last = offset + result.items.len() as u64;
    let mut footer = format!(
        "entries {first}-{last} of {} matching, page {} of {pages}",
        result.matching, args.page
    );
    if args.page < pages {
        footer.push_str(&format!(
            " (--page {} for more, --all for every page)",
            args.page + 1
        ));
    }
    println!("{footer}");
    Ok(ExitCode::SUCCESS)
}
