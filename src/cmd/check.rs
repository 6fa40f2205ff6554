//! `genads check`.

use std::process::ExitCode;

/// Arguments of `genads check`.
#[derive(clap::Args)]
pub struct Args {}

/// Run `genads check`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`genads check` is not implemented yet")
}
