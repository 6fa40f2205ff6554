//! One module per subcommand: each has `Args` (clap) and `run(Args) -> anyhow::Result<ExitCode>`.

pub mod check;
pub mod common;
pub mod data;
pub mod eval;
pub mod explain;
pub mod sample;
pub mod study;
pub mod train;
