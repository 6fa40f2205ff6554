//! The `genads` command-line tool: thin glue that parses arguments, calls the crates and prints.

mod cmd;

/// Training and sampling allocate and free many tensor buffers per step; glibc's malloc returns
/// large ones to the kernel each time (mmap/munmap + page faults: a third of the CPU time of a
/// quick training step), mimalloc keeps and reuses them (see [`keep_freed_memory`]).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (index 15 of `mi_option_e` in the bundled v2 `mimalloc.h`;
/// the -sys crate does not export it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Turns off mimalloc's purging of freed memory. By default it hands freed pages back to the OS
/// after 10 ms, and with transparent huge pages every re-use then faults in and zeroes 2 MiB pages.
/// `genads sample RUN --n 2000 --solver rk4 --steps 20` (loaded machine, one thread) took 83 s of
/// wall-clock (27 s in the kernel) with the default, 1.4–2.7 s with `MIMALLOC_PURGE_DELAY=-1` in the
/// environment and 4.0–4.4 s with this call (segments made before `main` still purge).
fn keep_freed_memory() {
    // SAFETY: mi_option_set only stores an option value; purge_delay is read on each purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

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
    Train(cmd::train::Args),
    /// Draw samples from a trained run.
    Sample(cmd::sample::Args),
    /// Evaluate a trained run's samples against the data.
    Eval(cmd::eval::Args),
    /// Install image data sets (MNIST, Fashion-MNIST) and the metric classifier.
    Data(cmd::data::Args),
    /// Run, resume, emit (Slurm) or collect ablation studies, and write reports.
    Study(cmd::study::Args),
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::Train(args) => cmd::train::run(args),
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
