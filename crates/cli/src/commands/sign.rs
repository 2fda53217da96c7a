//! `marketplace sign`.

use std::process::ExitCode;

/// Options of `marketplace sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {}

/// Runs the command.
pub fn run(_args: SignArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet available")
}
