//! `marketplace`: the command-line tool of the VM image marketplace.
//!
//! Each subcommand lives in its own module under `commands/`; this file only
//! parses the command line and maps outcomes to exit statuses (see
//! [`failure::Code`]; the table is in `--help`).

// The options' doc comments are their `--help` text, where `<id>`, `<hash>` and `<uid>` are
// placeholders for the user, not HTML.
#![allow(rustdoc::invalid_html_tags)]

mod client;
mod client_tls;
mod codec;
mod commands;
mod config_file;
mod credentials;
mod digest;
mod failure;
mod occi;
mod output;
mod reissue;
mod settings;
mod transfer;
mod transparency;
mod upload_report;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of glibc malloc: the server allocates and frees
/// response-sized buffers on every request, where glibc spent ~10 % of the
/// CPU (measured with perf; figures in docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Build, sign, validate, publish, find, download and check signed metadata about
/// virtual-machine images.
#[derive(Debug, Parser)]
#[command(name = "marketplace", version, about, long_about = None, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const AFTER_HELP: &str = concat!(
    "\
The workflow of a resource provider:
  marketplace occi-link --endpoint https://occi.site.example.org:11443 --image 'Ubuntu 24.04'
  marketplace build --location URL --os ubuntu --os-version 24.04 --os-arch x86_64 ubuntu.img
  marketplace sign --p12-cert ~/.globus/usercred.p12 ubuntu.img.xml
  marketplace upload -m https://mp.example.org ubuntu.img.xml
and of users and sites:
  marketplace search ubuntu 24.04
  marketplace download ID
  marketplace policy check --policy site-policy.toml ID

The marketplace endpoint: --marketplace-endpoint (-m), else $MARKETPLACE_ENDPOINT, else
`endpoint` in ~/.config/marketplace/config.toml (`marketplace config` shows every setting).
The option names of the stratus-*-metadata tools are accepted, and so are their names as
subcommands (stratus-upload-metadata, stratus-deprecate-metadata, ...).

",
    "Exit status:
  0  success (policy check: the image is allowed)
  1  refused or not allowed: the server refused a document, the policy denies the image,
     a downloaded file does not match its size or checksums, several OCCI resources match
  2  usage or configuration error: bad options, unreadable files, no marketplace endpoint
  3  network or server error: cannot connect, timeout, server error (5xx), unexpected answer
  4  not found: no such image or entry, no OCCI resource with that title
  5  authentication needed or refused (HTTP 401/403)"
);

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe an image file: compute its checksums and write an unsigned metadata document
    /// (like stratus-build-metadata).
    #[command(alias = "stratus-build-metadata")]
    Build(commands::build::BuildArgs),
    /// Sign a metadata document with a grid certificate, filling in the endorsement
    /// (like stratus-sign-metadata).
    #[command(alias = "stratus-sign-metadata")]
    Sign(commands::sign::SignArgs),
    /// Check metadata documents: format, signature and, with --ca-dir, the certificate chain
    /// (like stratus-validate-metadata).
    #[command(alias = "stratus-validate-metadata")]
    Validate(commands::validate::ValidateArgs),
    /// Post signed documents to the marketplace (like stratus-upload-metadata).
    #[command(alias = "stratus-upload-metadata")]
    Upload(commands::upload::UploadArgs),
    /// Search the marketplace: filters and free text, a page at a time.
    Search(Box<commands::search::SearchArgs>),
    /// Show an image with every endorser's current entry, its history, or a signed document.
    Show(commands::show::ShowArgs),
    /// Download an image from its locations, verifying size and every checksum.
    Download(commands::download::DownloadArgs),
    /// Deprecate your entry for an image (like stratus-deprecate-metadata).
    #[command(alias = "stratus-deprecate-metadata")]
    Deprecate(commands::deprecate::DeprecateArgs),
    /// Endorse an image another endorser describes (double endorsement).
    Endorse(commands::endorse::EndorseArgs),
    /// Tag your entry for an image (dcterms:alternative).
    Tag(commands::tag::TagArgs),
    /// Find the OCCI link of an image at a site, for `build --location` (like get-occi-link.pl).
    #[command(name = "occi-link", alias = "get-occi-link")]
    OcciLink(commands::occi::OcciArgs),
    /// Site policy: decide whether an image may be started, from its verified signatures.
    Policy(commands::policy::PolicyArgs),
    /// The marketplace's transparency log: monitor the entries made under an endorser's name.
    Log(commands::log::LogArgs),
    /// Show the effective client settings and where each comes from.
    Config(commands::config::ConfigArgs),
    /// Run the marketplace server (embedded store in ./marketplace-data by default).
    Serve(commands::serve::ServeArgs),
    /// Administrative tasks: rebuild-index, import DIR, export DIR.
    Admin(commands::admin::AdminArgs),
}

/// Lets a client command that writes into a closed pipe (`| head`) end
/// quietly, as other command-line tools do, instead of panicking; the server
/// commands keep Rust's default (SIGPIPE ignored).
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_) | Command::Admin(_)) {
        default_sigpipe();
    }
    let result = match cli.command {
        Command::Build(args) => commands::build::run(args),
        Command::Sign(args) => commands::sign::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Upload(args) => commands::upload::run(args),
        Command::Search(args) => commands::search::run(*args),
        Command::Show(args) => commands::show::run(args),
        Command::Download(args) => commands::download::run(args),
        Command::Deprecate(args) => commands::deprecate::run(args),
        Command::Endorse(args) => commands::endorse::run(args),
        Command::Tag(args) => commands::tag::run(args),
        Command::OcciLink(args) => commands::occi::run(args),
        Command::Policy(args) => commands::policy::run(args),
        Command::Log(args) => commands::log::run(args),
        Command::Config(args) => commands::config::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Admin(args) => commands::admin::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("marketplace: error: {e:#}");
            ExitCode::from(failure::exit_status(&e))
        }
    }
}
