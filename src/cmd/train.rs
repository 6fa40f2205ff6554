//! `genads train`.

use std::process::ExitCode;

/// Arguments of `genads train`.
#[derive(clap::Args)]
pub struct Args {}

/// Run `genads train`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`genads train` is not implemented yet")
}
