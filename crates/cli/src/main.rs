//! `marketplace`: the command-line tool of the VM image marketplace.
//!
//! Each subcommand lives in its own module under `commands/`; this file only
//! parses the command line and maps outcomes to exit statuses.

mod commands;
mod digest;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Build, sign and validate signed metadata about virtual-machine images.
#[derive(Debug, Parser)]
#[command(name = "marketplace", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe an image file: compute its checksums and write an unsigned metadata document
    /// (like stratus-build-metadata).
    Build(commands::build::BuildArgs),
    /// Sign a metadata document with a grid certificate, filling in the endorsement
    /// (like stratus-sign-metadata).
    Sign(commands::sign::SignArgs),
    /// Check metadata documents: format, signature and, with --ca-dir, the certificate chain
    /// (like stratus-validate-metadata).
    Validate(commands::validate::ValidateArgs),
    /// Run the marketplace server (embedded store in ./marketplace-data by default).
    Serve(commands::serve::ServeArgs),
    /// Administrative tasks: rebuild-index, import DIR, export DIR.
    Admin(commands::admin::AdminArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => commands::build::run(args),
        Command::Sign(args) => commands::sign::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Admin(args) => commands::admin::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("marketplace: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
