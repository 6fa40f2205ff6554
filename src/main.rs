//! The `genads` command-line tool: thin glue that parses arguments, calls the crates and prints.

mod cmd;

/// Training and sampling allocate and free many tensor buffers per step; glibc's malloc returns
/// large ones to the kernel each time (mmap/munmap + page faults: a third of the CPU time of a
/// quick training step), mimalloc reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Holographic generative flows: check, explain, train, sample and evaluate `.genads` models.
#[derive(Parser)]
#[command(name = "genads", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate .genads files (exit code 0 when all are valid, 1 otherwise; diagnostics on stderr).
    Check(cmd::check::Args),
    /// Print the derivation of a model: constants, warp, ω, friction, backbone, affine parameter, propagator.
    Explain(cmd::explain::Args),
    /// Train a model on a data set.
    Train(Box<cmd::train::Args>),
    /// Draw samples from a trained run.
    Sample(cmd::sample::Args),
    /// Evaluate a trained run's samples against the data.
    Eval(cmd::eval::Args),
    /// Install image data sets (MNIST, Fashion-MNIST) and the metric classifier.
    Data(cmd::data::Args),
    /// Run, resume, emit (Slurm) or collect ablation studies, and write reports.
    Study(cmd::study::Args),
}

/// A closed pipe (`genads eval RUN | head`) ends the process quietly, as it does other Unix tools,
/// instead of a panic in `println!` (Rust ignores SIGPIPE by default).
#[cfg(unix)]
fn default_sigpipe() {
    // SAFETY: restores the default disposition of one signal at start-up, before any thread runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    #[cfg(unix)]
    default_sigpipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::Train(args) => cmd::train::run(*args),
        Command::Sample(args) => cmd::sample::run(args),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Data(args) => cmd::data::run(args),
        Command::Study(args) => cmd::study::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
