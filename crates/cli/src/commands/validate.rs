//! `marketplace validate`.

use std::process::ExitCode;

/// Options of `marketplace validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}

/// Runs the command.
pub fn run(_args: ValidateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet available")
}
