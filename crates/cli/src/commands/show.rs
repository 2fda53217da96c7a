//! `marketplace show ID`: an image with every endorser's current entry,
//! its timeline with `--history`, or a signed document with `--xml`.

use crate::client::Marketplace;
use crate::failure::Failure;
use crate::output::{self, Table, or_dash};
use crate::settings::{ClientOptions, Settings};
use marketplace_api::{Assurance, EntryItem};
use marketplace_format::Identifier;
use std::io::Write;
use std::process::ExitCode;

/// Options of `marketplace show`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Without options: the image's status, then every endorser's current entry (what it says about the
image, who signed it, where to download it), then the endorsers' latest entries that are expired
or deprecated. --history lists every entry of every endorser, newest first. --xml prints the
signed document of one entry byte for byte (the newest current one, or --endorser's latest).

Examples:
  marketplace show BEE8-MMAw-Lk_IgsEExAy3d9R8h
  marketplace show --history BEE8-MMAw-Lk_IgsEExAy3d9R8h
  marketplace show --xml --endorser jane@example.org BEE8-MMAw-Lk_IgsEExAy3d9R8h > entry.xml
  marketplace show --json BEE8-MMAw-Lk_IgsEExAy3d9R8h | jq '.current[].locations'")]
pub(crate) struct ShowArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// Every entry of every endorser, newest first.
    #[arg(long, conflicts_with = "xml")]
    pub history: bool,
    /// With --history: at most this many entries.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Print the signed XML document of one entry.
    #[arg(long)]
    pub xml: bool,
    /// Check every endorser's latest entry here: its signature, and that the marketplace's
    /// transparency log holds exactly that document and never went back or forked since this
    /// client last looked (exit 1 when anything does not hold).
    #[arg(long, conflicts_with_all = ["xml", "history"])]
    pub verify: bool,
    /// The marketplace's transparency log (with --verify).
    #[command(flatten)]
    pub log: crate::transparency::LogOptions,
    /// With --xml: this endorser's latest entry.
    #[arg(long, value_name = "EMAIL", requires = "xml", alias = "email")]
    pub endorser: Option<String>,
    /// The image identifier (checked before anything is fetched).
    #[arg(value_name = "ID")]
    pub identifier: Identifier,
}

fn status_name<T: serde::Serialize>(status: T) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn print_entry(e: &EntryItem) {
    let field = |name: &str, value: String| println!("  {name:<12} {value}");
    let mut signer = format!("{} ({})", e.endorser.email, e.endorser.subject);
    if e.endorser.identity == Assurance::SelfAsserted {
        signer
            .push_str(" [self-asserted identity: no CA trusted by the marketplace vouches for it]");
    } else if !e.endorser.email_certified {
        signer.push_str(" [e-mail not in the certificate]");
    }
    if let Some(vo) = &e.endorser.vo {
        signer.push_str(&format!(" [VO {vo}]"));
    }
    field("endorser", signer);
    field("created", e.created.clone());
    let mut status = status_name(e.status);
    if let Some(reason) = &e.deprecated {
        status.push_str(&format!(": {reason}"));
    }
    field("status", status);
    field("valid until", or_dash(e.valid.as_deref()));
    if let Some(t) = &e.title {
        field("title", t.clone());
    }
    if let Some(d) = &e.description {
        field("description", d.clone());
    }
    let os = [
        e.os.as_deref(),
        e.os_version.as_deref(),
        e.os_arch.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    if !os.is_empty() {
        field("os", os);
    }
    let kind = [
        e.kind_type.as_deref().map(|t| format!("type {t}")),
        e.format.as_deref().map(|f| format!("format {f}")),
        e.compression
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| format!("compression {c}")),
        e.hypervisor.as_deref().map(|h| format!("hypervisor {h}")),
        e.version.as_deref().map(|v| format!("version {v}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    if !kind.is_empty() {
        field("image", kind);
    }
    if let Some(tag) = &e.tag {
        field("tag", tag.clone());
    }
    if let Some(b) = e.bytes {
        field("size", output::bytes(b));
    }
    for c in &e.checksums {
        field(&c.algorithm, c.value.clone());
    }
    for l in &e.locations {
        field("location", l.clone());
    }
    field("document", e.links.document.clone());
}

/// Runs the command.
pub(crate) fn run(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.client, None)?;
    let marketplace = Marketplace::new(&settings)?;
    let id = &args.identifier;
    if args.history {
        let history = marketplace.history(id, args.limit)?;
        if settings.json {
            output::json(&history);
            return Ok(ExitCode::SUCCESS);
        }
        let mut t = Table::new(&["CREATED", "ENDORSER", "STATUS", "LATEST", "TAG", "NOTE"]);
        for e in &history.items {
            t.row(vec![
                e.created.clone(),
                e.endorser.email.clone(),
                status_name(e.status),
                if e.latest { "yes" } else { "" }.into(),
                or_dash(e.tag.as_deref()),
                e.deprecated
                    .as_ref()
                    .map(|r| format!("deprecated: {r}"))
                    .unwrap_or_default(),
            ]);
        }
        println!("image {id}: {} entries, newest first", history.count);
        t.print();
        return Ok(ExitCode::SUCCESS);
    }
    let image = marketplace.image(id)?;
    if args.xml {
        let entry = match &args.endorser {
            Some(email) => crate::reissue::entry_of(&image, email).ok_or_else(|| {
                Failure::not_found(format!("{email} has no entry for image {id}"))
            })?,
            None => {
                let newest = |list: &'_ [EntryItem]| -> Option<usize> {
                    (0..list.len()).max_by(|a, b| list[*a].created.cmp(&list[*b].created))
                };
                match newest(&image.current) {
                    Some(i) => &image.current[i],
                    None => {
                        &image.inactive[newest(&image.inactive).ok_or_else(|| {
                            Failure::not_found(format!("image {id} has no entries"))
                        })?]
                    }
                }
            }
        };
        if args.endorser.is_none() && image.current.len() > 1 {
            eprintln!(
                "note: {} endorsers describe this image; this is {}'s entry (--endorser EMAIL \
                 for another)",
                image.current.len(),
                entry.endorser.email
            );
        }
        let bytes = marketplace.document(id, &entry.endorser.email, &entry.created)?;
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.verify {
        return verify(&marketplace, &settings, &args, &image);
    }
    if settings.json {
        output::json(&image);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "image {id}: {} ({} current endorsement(s), {} inactive)",
        status_name(image.status),
        image.current.len(),
        image.inactive.len()
    );
    for e in &image.current {
        println!();
        print_entry(e);
    }
    if !image.inactive.is_empty() {
        println!("\nexpired or deprecated:");
        for e in &image.inactive {
            println!();
            print_entry(e);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `--verify` found for one entry.
#[derive(Debug, serde::Serialize)]
struct Verified {
    email: String,
    created: String,
    /// The leaf index in the marketplace's transparency log.
    log_index: u64,
    /// The size of the signed checkpoint that proves it.
    checkpoint_size: u64,
    /// The signer the signature names.
    signer: String,
}

/// `--verify`: every endorser's latest entry checked here (signature, log).
fn verify(
    marketplace: &Marketplace,
    settings: &Settings,
    args: &ShowArgs,
    image: &marketplace_api::ImageView,
) -> anyhow::Result<ExitCode> {
    use marketplace_trust::document::{CheckOptions, SignatureStatus, check_document};
    let id = args.identifier.as_str();
    let mut verified = Vec::new();
    for e in image.current.iter().chain(&image.inactive) {
        let who = format!("{}'s entry of {}", e.endorser.email, e.created);
        let bytes = marketplace.document(id, &e.endorser.email, &e.created)?;
        let report = check_document(
            &bytes,
            &CheckOptions {
                layout: marketplace_trust::dsig::Layout::Stored,
                ..CheckOptions::default()
            },
        );
        let SignatureStatus::Valid { identity, .. } = &report.signature else {
            return Err(Failure::refused(format!("{who}: the signature does not verify")).into());
        };
        if report.metadata.identifier != id {
            return Err(Failure::refused(format!(
                "{who} describes image {}",
                report.metadata.identifier
            ))
            .into());
        }
        let logged = args
            .log
            .check(marketplace, (id, &e.endorser.email, &e.created), &bytes)?;
        verified.push(Verified {
            email: e.endorser.email.clone(),
            created: e.created.clone(),
            log_index: logged.index,
            checkpoint_size: logged.checkpoint.size,
            signer: identity.to_string(),
        });
    }
    if settings.json {
        output::json(&verified);
        return Ok(ExitCode::SUCCESS);
    }
    println!("image {id}: {} entries verified", verified.len());
    for v in &verified {
        println!(
            "  {} {}: signed by {}; in the transparency log at index {} (checkpoint of {} \
             entries)",
            v.email, v.created, v.signer, v.log_index, v.checkpoint_size
        );
    }
    Ok(ExitCode::SUCCESS)
}
