//! `genads eval`.

use std::process::ExitCode;

/// Arguments of `genads eval`.
#[derive(clap::Args)]
pub struct Args {}

/// Run `genads eval`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`genads eval` is not implemented yet")
}
