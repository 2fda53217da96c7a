//! `marketplace admin`: rebuild the index, import and export documents,
//! show and change endorser bindings.

use crate::commands::serve::{ServerOptions, init_logging};
use anyhow::Context;
use marketplace_server::runtime::admin::FileResult;
use marketplace_server::runtime::config::ConfigLayer;
use marketplace_server::runtime::state::AppState;
use marketplace_server::runtime::{admin, serve};
use marketplace_server::upload::continuity;
use marketplace_server::upload::ingest::{IngestOutcome, Ingestor};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `marketplace admin`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  marketplace admin import /var/lib/stratuslab/marketplace    # an original data directory
  marketplace admin export backup/ --data-dir /srv/marketplace
  marketplace admin rebuild-index --database-url postgres://marketplace@db/marketplace
  marketplace admin check --data-dir /srv/marketplace
  marketplace admin backup /backups/marketplace-$(date +%F).db
  marketplace admin endorser show jane@example.org
  marketplace admin endorser rebind jane@example.org --certificate jane-2027.pem
  marketplace admin log-key --config /etc/marketplace/marketplace.toml
  marketplace admin log-verify --data-dir /srv/marketplace

The store is chosen as for `marketplace serve` (--data-dir, --database-url, --config).")]
pub(crate) struct AdminArgs {
    #[command(subcommand)]
    task: Task,
    #[command(flatten)]
    options: ServerOptions,
}

#[derive(Debug, clap::Subcommand)]
enum Task {
    /// Re-derive the index from the stored signed documents (signatures verified again).
    RebuildIndex,
    /// Import every *.xml under DIR (e.g. an original StratusLab data directory) through the
    /// upload pipeline; prints one line per file and a summary. Exit status 1 if any is refused.
    /// An export's transparency log (DIR/transparency-log) is carried: its entries are stored in
    /// log order with their own leaves and its checkpoint is recorded, so this server continues
    /// that log (it needs the exported server's log key file); a leaf whose document is missing
    /// or refused stops the import there (run it again once fixed: it resumes).
    Import {
        /// Directory to walk recursively.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Concurrent workers [default: twice the number of CPUs].
        #[arg(long, value_name = "N")]
        workers: Option<usize>,
        /// Print only refused files and the summary.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Write every stored document byte for byte to DIR/<id>/<email>/<created>.xml, and the
    /// transparency log (its newest checkpoint and every leaf) to DIR/transparency-log.
    Export {
        /// Target directory (created if needed).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Copy the embedded store, while the server runs, to FILE (a new file): one consistent
    /// snapshot, checked and synced. Restore by stopping the server and putting FILE in place of
    /// DATA_DIR/marketplace.db (without its -wal and -shm files).
    Backup {
        /// The copy to write.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Check the store: the database's integrity check, every entry read back and every
    /// stored document verified again. Exit 1 when anything is wrong.
    Check,
    /// Show or change the identity an endorser e-mail is bound to.
    #[command(subcommand)]
    Endorser(EndorserTask),
    /// Print the transparency log's verifier key (`<origin>+<key id>+<key>`, C2SP signed-note):
    /// what sites, witnesses and mirrors are configured with. Creates the key at the first use,
    /// as `serve` does.
    LogKey,
    /// Recompute the transparency log from the stored entries: every leaf records its entry
    /// (document, signer, acceptance), one leaf per entry in acceptance order, and the tree has
    /// the newest signed checkpoint's root and the stored hashes'. Exit 1 when anything differs.
    LogVerify,
}

/// `marketplace admin endorser …`.
#[derive(Debug, clap::Subcommand)]
#[command(after_help = "\
The first certificate accepted for an endorser e-mail binds it: later entries under that e-mail
must be signed with the same public key, or (with a CA directory) by a renewed certificate with
the same subject. Uploads from another key are refused with 403 naming the binding.")]
enum EndorserTask {
    /// Print the identity EMAIL is bound to (subject, issuer, key fingerprint, since when).
    Show {
        /// The endorser e-mail (any case).
        #[arg(value_name = "EMAIL")]
        email: String,
    },
    /// Bind EMAIL to the certificate in --certificate, or release it so that the next accepted
    /// entry binds it. The change is logged.
    Rebind {
        /// The endorser e-mail (any case).
        #[arg(value_name = "EMAIL")]
        email: String,
        /// PEM certificate of the endorser's new identity (checked against the CA directory
        /// when one is configured). Without it the binding is released.
        #[arg(long, value_name = "FILE")]
        certificate: Option<PathBuf>,
    },
}

/// Runs the command: `backup` on the store file itself, every other task
/// on the server's state (store and trust settings).
pub(crate) fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let config = args.options.load(ConfigLayer::default())?;
    init_logging();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        if let Task::Backup { file } = &args.task {
            // On the file itself, without the server's state.
            let size = admin::backup(&config, file)
                .await
                .map_err(anyhow::Error::msg)?;
            println!("backed up the store to {} ({size} bytes)", file.display());
            return Ok(ExitCode::SUCCESS);
        }
        let state = serve::state_for(config).await.map_err(anyhow::Error::msg)?;
        match args.task {
            Task::RebuildIndex => rebuild_index(&state).await,
            Task::Import {
                dir,
                workers,
                quiet,
            } => import(&state, &dir, workers, quiet).await,
            Task::Export { dir } => export(&state, &dir).await,
            Task::Backup { .. } => unreachable!("handled before the state is made"),
            Task::Check => check(&state).await,
            Task::Endorser(EndorserTask::Show { email }) => show_binding(&state, &email).await,
            Task::Endorser(EndorserTask::Rebind { email, certificate }) => {
                rebind(&state, &email, certificate).await
            }
            Task::LogKey => {
                println!("{}", state.log.verifier_key());
                Ok(ExitCode::SUCCESS)
            }
            Task::LogVerify => log_verify(&state).await,
        }
    })
}

/// `log-verify`: the log recomputed from the stored entries.
async fn log_verify(state: &AppState) -> anyhow::Result<ExitCode> {
    let report = admin::verify_log(state).await.map_err(anyhow::Error::msg)?;
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    let checkpoint = report
        .checkpoint_size
        .map_or("no signed checkpoint yet".to_string(), |n| {
            format!("signed checkpoint of {n}")
        });
    println!(
        "{} entries, {} leaves, {checkpoint}: {}",
        report.entries,
        report.leaves,
        if report.is_clean() {
            "the log records every entry as stored".to_string()
        } else {
            format!("{} problems", report.problem_count)
        }
    );
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `rebuild-index`: re-derives the index from the stored documents.
async fn rebuild_index(state: &AppState) -> anyhow::Result<ExitCode> {
    let n = admin::rebuild_index(state.store.as_ref(), &state.trust).await?;
    println!("reindexed {n} entries");
    Ok(ExitCode::SUCCESS)
}

/// `import DIR`: every document under `dir` through the upload pipeline,
/// one line per file (refused ones only with `quiet`), the endorsers who
/// signed with several keys, and a summary; status 1 if any was refused.
async fn import(
    state: &AppState,
    dir: &Path,
    workers: Option<usize>,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let workers =
        workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() * 2));
    let ingestor = Ingestor::from_state(state);
    let summary = admin::import_dir(dir, ingestor, &state.log, workers, |path, result| {
        print_imported(path, result, quiet)
    })
    .await
    .with_context(|| format!("cannot import {}", dir.display()))?;
    for several in &summary.several_keys {
        println!(
            "endorser {} signed with {} keys (now bound to its newest entry's):",
            several.email,
            several.keys.len()
        );
        for (subject, issuer, sha256) in &several.keys {
            println!("  {subject} issued by {issuer}, public key SHA-256 {sha256}");
        }
    }
    println!(
        "{} files: {} created, {} already present, {} refused",
        summary.files, summary.created, summary.present, summary.refused
    );
    Ok(if summary.refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The line(s) of one imported file: created or present (with the trust
/// core's notes) unless `quiet`, and refused with the reason.
fn print_imported(path: &Path, result: &FileResult, quiet: bool) {
    let path = path.display();
    match result {
        Ok(ingested) if !quiet => {
            match &ingested.outcome {
                IngestOutcome::Created(key) => println!("created {path} as {key}"),
                IngestOutcome::AlreadyPresent(key) => {
                    println!("present {path} as {key}")
                }
                IngestOutcome::NeedsConfirmation(_) => {}
            }
            for note in &ingested.notes {
                println!("note {path}: {note}");
            }
        }
        Ok(_) => {}
        Err(message) => {
            println!("refused {path}: {}", message.replace('\n', "; "))
        }
    }
}

/// `export DIR`: every stored document written under `dir`, the unreadable
/// entries listed; status 1 if any.
async fn export(state: &AppState, dir: &Path) -> anyhow::Result<ExitCode> {
    let summary = admin::export_dir(state.store.as_ref(), dir)
        .await
        .map_err(anyhow::Error::msg)?;
    for lost in &summary.unreadable {
        println!("unreadable entry {}: {}", lost.sequence, lost.error);
    }
    println!(
        "exported {} documents and the transparency log ({} leaves) to {}{}",
        summary.written,
        summary.leaves,
        dir.display(),
        match summary.unreadable.len() {
            0 => String::new(),
            n => format!("; {n} entries could not be read (listed above)"),
        }
    );
    Ok(if summary.unreadable.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `check`: the store's integrity, every entry read back and verified
/// again, each problem on a line and a summary; status 1 if any.
async fn check(state: &AppState) -> anyhow::Result<ExitCode> {
    let report = admin::check(state.store.as_ref(), &state.trust)
        .await
        .map_err(anyhow::Error::msg)?;
    for problem in &report.integrity {
        println!("database: {problem}");
    }
    for lost in &report.unreadable {
        println!("unreadable entry {}: {}", lost.sequence, lost.error);
    }
    for (entry, why) in &report.invalid {
        println!("invalid entry {entry}: {why}");
    }
    println!(
        "{} entries read: {} database problems, {} unreadable, {} invalid",
        report.entries,
        report.integrity.len(),
        report.unreadable.len(),
        report.invalid.len()
    );
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `endorser show EMAIL`: the identity `email` is bound to, if any.
async fn show_binding(state: &AppState, email: &str) -> anyhow::Result<ExitCode> {
    match state.store.binding(email).await? {
        Some(binding) => println!("{}: {binding}", binding.email),
        None => println!(
            "{}: not bound (the next accepted entry binds it)",
            email.to_ascii_lowercase()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `endorser rebind EMAIL`: binds `email` to the certificate in the PEM
/// file `certificate`, or releases it without one; prints the binding
/// before and after.
async fn rebind(
    state: &AppState,
    email: &str,
    certificate: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let binding = certificate
        .map(|pem| continuity::binding_of_certificate(email, &pem, &state.trust, state.clock.now()))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let previous = continuity::rebind(state.store.as_ref(), email, binding.clone()).await?;
    let email = email.to_ascii_lowercase();
    match previous {
        Some(p) => println!("{email} was bound to {p}"),
        None => println!("{email} was not bound"),
    }
    match binding {
        Some(b) => println!("{email} is now bound to {b}"),
        None => println!("{email} is released: the next accepted entry binds it"),
    }
    Ok(ExitCode::SUCCESS)
}
