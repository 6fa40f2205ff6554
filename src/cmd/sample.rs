//! `genads sample`.

use std::process::ExitCode;

/// Arguments of `genads sample`.
#[derive(clap::Args)]
pub struct Args {}

/// Run `genads sample`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`genads sample` is not implemented yet")
}
