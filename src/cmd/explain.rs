//! `genads explain`.

use std::process::ExitCode;

/// Arguments of `genads explain`.
#[derive(clap::Args)]
pub struct Args {}

/// Run `genads explain`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`genads explain` is not implemented yet")
}
