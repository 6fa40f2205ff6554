//! The `genads` command-line tool.

use clap::Parser;

/// Holographic generative flows: check, explain, train, sample and evaluate `.genads` models.
#[derive(Parser)]
#[command(name = "genads", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
