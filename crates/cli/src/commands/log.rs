//! `marketplace log monitor --endorser EMAIL|DN`: what an endorser runs (from
//! cron) to learn of every entry made under their name. It reads the
//! marketplace's transparency log from where its last run stopped, checks
//! that the leaves it read make the newest signed checkpoint's tree (so that
//! no entry was left out of what it was shown), and lists the entries whose
//! endorser e-mail or signer DN is the one watched: exit status 1 when there
//! is a new one.

use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use marketplace_log::leaf::Leaf;
use marketplace_log::tree::{Hash, MemoryTree};
use marketplace_trust::dn::DistinguishedName;
use serde::{Deserialize, Serialize};

use crate::client::Marketplace;
use crate::failure::Failure;
use crate::output;
use crate::settings::{ClientOptions, Settings};
use crate::transparency::{LogMemory, LogOptions, StateFiles, check_newest};

/// Leaves read per request.
const BATCH: u64 = 1000;

/// Options of `marketplace log`.
#[derive(Debug, clap::Args)]
pub(crate) struct LogArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: LogAction,
}

/// The log subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum LogAction {
    /// List every entry made under an endorser's name since the last run (exit status 1 when
    /// there is one).
    Monitor(MonitorArgs),
}

/// Options of `marketplace log monitor`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The first run reads the whole log; each run after it reads only what was appended since, and
checks that the leaves it read make the tree of the newest checkpoint signed by the log's key
(and that the log extends what this client saw before: a rollback or a fork is an error). What
a run has read is kept in $XDG_STATE_HOME/marketplace/monitor (or
~/.local/state/marketplace/monitor), per log and endorser. Entries restricted to VOs are in the
public log as commitments: they are counted, not matched.

Exit status: 0 when there is no new entry under that name, 1 when there is (listed) or when the
log misbehaves (a rollback, a fork, leaves that do not make the signed tree: said on stderr),
3 for network errors.

Examples:
  marketplace log monitor --endorser jane@example.org -m https://marketplace.example.org
  marketplace log monitor --endorser '/C=EU/O=Example Grid/CN=Jane Doe' --json")]
pub(crate) struct MonitorArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// The marketplace's transparency log.
    #[command(flatten)]
    pub log: LogOptions,
    /// The endorser watched: an e-mail address (any case), or a certificate DN (either
    /// notation) that matches the signer's subject.
    #[arg(long, value_name = "EMAIL|DN")]
    pub endorser: String,
}

/// What a monitor keeps between runs, per log and endorser.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    /// Leaves read so far.
    size: u64,
    /// The frontier of the tree they make (stored-hash index, base64 hash).
    frontier: Vec<(u64, String)>,
}

/// One entry found under the watched name.
#[derive(Debug, Serialize)]
struct Found {
    index: u64,
    identifier: String,
    email: String,
    created: String,
    subject: String,
    issuer: String,
    accepted: String,
}

/// What a run found.
#[derive(Debug, Serialize)]
struct Report {
    origin: String,
    endorser: String,
    from: u64,
    to: u64,
    restricted: u64,
    entries: Vec<Found>,
}

/// Runs the command.
pub(crate) fn run(args: LogArgs) -> anyhow::Result<ExitCode> {
    let LogAction::Monitor(args) = args.action;
    let settings = Settings::load(&args.client, None)?;
    let marketplace = Marketplace::new(&settings)?;
    let checkpoint = check_newest(
        &marketplace,
        &LogMemory::default_location(),
        args.log.log_key.as_deref(),
    )?;
    let state = StateFiles::new("monitor", "a monitor's progress");
    let key = format!("{}\n{}", checkpoint.origin, args.endorser);
    let progress: Progress = state.read(&key)?.unwrap_or_default();
    if progress.size > checkpoint.size {
        return Err(Failure::refused(format!(
            "the log {} holds {} entries, fewer than the {} this monitor read: a rollback",
            checkpoint.origin, checkpoint.size, progress.size
        ))
        .into());
    }
    let frontier = progress
        .frontier
        .iter()
        .map(|(i, h)| decode_hash(h).map(|h| (*i, h)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut tree = MemoryTree::from_frontier(progress.size, &frontier);
    let watched = Watched::new(&args.endorser);
    let mut report = Report {
        origin: checkpoint.origin.clone(),
        endorser: args.endorser.clone(),
        from: progress.size,
        to: checkpoint.size,
        restricted: 0,
        entries: Vec::new(),
    };
    let mut start = progress.size;
    while start < checkpoint.size {
        let end = checkpoint.size.min(start + BATCH);
        let batch = marketplace.log_leaves(start, end)?;
        if batch.start != start || batch.leaves.len() as u64 != end - start {
            return Err(Failure::refused(format!(
                "the log served other leaves than {start}..{end}"
            ))
            .into());
        }
        for (index, text) in (start..).zip(&batch.leaves) {
            let leaf = BASE64
                .decode(text)
                .map_err(|_| Failure::refused(format!("leaf {index} is not base64")))?;
            tree.push(&leaf)
                .map_err(|e| Failure::refused(format!("leaf {index}: {e}")))?;
            match Leaf::parse(&leaf) {
                Ok(Leaf::Entry(record)) if watched.matches(&record.email, &record.subject) => {
                    report.entries.push(Found {
                        index,
                        identifier: record.identifier,
                        email: record.email,
                        created: record.created,
                        subject: record.subject,
                        issuer: record.issuer,
                        accepted: record.accepted,
                    });
                }
                Ok(Leaf::Restricted { .. }) => report.restricted += 1,
                Ok(Leaf::Entry(_)) => {}
                Err(e) => {
                    return Err(Failure::refused(format!("leaf {index} is not a leaf: {e}")).into());
                }
            }
        }
        start = end;
    }
    let root = tree.root().map_err(|e| Failure::refused(e.to_string()))?;
    if root != checkpoint.root {
        return Err(Failure::refused(format!(
            "the leaves the log served do not make the tree of its signed checkpoint of {} \
             entries: it hides or changes entries",
            checkpoint.size
        ))
        .into());
    }
    let frontier = tree
        .frontier()
        .map_err(|e| Failure::refused(e.to_string()))?;
    state.write(
        &key,
        &Progress {
            size: tree.size(),
            frontier: frontier
                .iter()
                .map(|(i, h)| (*i, BASE64.encode(h.0)))
                .collect(),
        },
    )?;
    print(&report, settings.json);
    Ok(if report.entries.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print(report: &Report, json: bool) {
    if json {
        output::json(report);
        return;
    }
    for f in &report.entries {
        println!(
            "leaf {}: {} endorsed by {} at {} (signed by {}, issued by {}; accepted {})",
            f.index, f.identifier, f.email, f.created, f.subject, f.issuer, f.accepted
        );
    }
    let restricted = if report.restricted > 0 {
        format!(
            "; {} entries restricted to VOs (commitments, not matched)",
            report.restricted
        )
    } else {
        String::new()
    };
    println!(
        "{}: leaves {}..{} read, {} new entries under {}{restricted}",
        report.origin,
        report.from,
        report.to,
        report.entries.len(),
        report.endorser
    );
}

/// The endorser watched.
enum Watched {
    Email(String),
    Subject(String),
}

impl Watched {
    fn new(text: &str) -> Self {
        if text.contains('@') && !text.contains('=') {
            Watched::Email(text.trim().to_ascii_lowercase())
        } else {
            Watched::Subject(text.trim().to_string())
        }
    }

    fn matches(&self, email: &str, subject: &str) -> bool {
        match self {
            Watched::Email(e) => email.eq_ignore_ascii_case(e),
            Watched::Subject(dn) => DistinguishedName::same(dn, subject),
        }
    }
}

fn decode_hash(text: &str) -> Result<Hash, Failure> {
    BASE64
        .decode(text)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(Hash)
        .ok_or_else(|| Failure::usage("the monitor's saved progress holds a bad hash"))
}
