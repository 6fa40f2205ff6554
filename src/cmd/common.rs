//! Pieces shared by `train`, `sample` and `eval`: flags, bounds, tables. The run directory and
//! what it holds are the library's (`genads::run`).

use genads::run::DeviceChoice;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use genads::run::Run;
pub use genads::run::{
    classifier_sha256, default_eval_samples, default_solver_steps, metrics_json, provenance,
    read_record, write_atomic, SolverKind,
};
use genads_runtime::solver::Solver;
use genads_runtime::train::Trainer;

/// Most samples one evaluation or `genads sample` call draws: 100× the paper's 10,000, and a
/// bound on the memory a mistyped count can ask for.
pub const MAX_SAMPLES: usize = 1_000_000;

/// Most steps of a fixed-step solver (the paper uses 100).
pub const MAX_SOLVER_STEPS: usize = 100_000;

/// A clap value parser for a count flag that must lie in `lo..=hi`; the refusal states the range
/// and `why`.
pub fn count_in(
    lo: usize,
    hi: usize,
    why: &'static str,
) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let n: usize = text
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a whole number"))?;
        if n < lo || n > hi {
            let range = if hi == usize::MAX {
                format!("at least {lo}")
            } else {
                format!("between {lo} and {hi}")
            };
            return Err(if why.is_empty() {
                format!("{n} is out of range: must be {range}")
            } else {
                format!("{n} is out of range: must be {range} ({why})")
            });
        }
        Ok(n)
    }
}

/// Refuses an output file whose directory does not exist (before the work that would write it).
pub fn require_parent_dir(file: &Path) -> anyhow::Result<()> {
    let parent = file.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent {
        if !dir.is_dir() {
            bail!(
                "--out {}: the directory {} does not exist",
                file.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Opens a run directory for sampling or evaluation ([`Run::open`]) with the networks on
/// `device`, warning about damaged checkpoints passed over.
pub fn open_run(run: &Path, device: DeviceChoice) -> anyhow::Result<Run> {
    let run = Run::open(run, None, device)?;
    warn_skipped(&run.trainer);
    Ok(run)
}

/// Warns about damaged checkpoints that resuming passed over.
pub fn warn_skipped(trainer: &Trainer) {
    for (path, why) in trainer.skipped_checkpoints() {
        eprintln!(
            "warning: skipped the damaged checkpoint {} ({why}); using {}",
            path.display(),
            trainer
                .last_checkpoint()
                .map_or("none".to_string(), |p| p.display().to_string())
        );
    }
}

/// ODE-solver flags.
#[derive(clap::Args, Debug, Clone)]
pub struct SolverArgs {
    /// ODE solver: euler, heun, rk4 (fixed steps) or dopri5 (adaptive).
    #[arg(long, default_value_t = SolverKind::Rk4)]
    pub solver: SolverKind,
    /// Steps of a fixed-step solver (paper: RK4 with 100 steps; default 100, or 25 for image runs,
    /// whose U-Net evaluation costs ≈ 3 ms per image).
    #[arg(long, value_parser = count_in(1, MAX_SOLVER_STEPS, ""))]
    pub steps: Option<usize>,
    /// Relative and absolute tolerance of dopri5.
    #[arg(long, default_value_t = 1e-5)]
    pub tol: f64,
}

impl SolverArgs {
    /// The typed solver for point (`images` false) or image runs, validated.
    pub fn solver(&self, images: bool) -> anyhow::Result<Solver> {
        let steps = self.steps.unwrap_or(default_solver_steps(images));
        Solver::from_kind(self.solver, steps, self.tol, genads::run::DOPRI5_MAX_STEPS)
            .context("invalid solver flags")
    }
}

/// The metric names in reading order: the paper's checkerboard metrics first, the rest
/// alphabetically.
pub fn ordered_keys(metrics: &BTreeMap<String, f64>) -> Vec<&String> {
    let order = ["bv", "js_cell", "wed_norm", "wed", "cqs", "sw2", "nfe"];
    let mut keys: Vec<&String> = metrics.keys().collect();
    keys.sort_by_key(|k| order.iter().position(|o| o == k).unwrap_or(order.len()));
    keys
}

/// Prints metrics as an aligned two-column table.
pub fn print_metrics(title: &str, metrics: &BTreeMap<String, f64>) {
    println!("{title}");
    println!("  {:<10} {:>12}", "metric", "value");
    for key in ordered_keys(metrics) {
        println!("  {:<10} {:>12.6}", key, metrics[key]);
    }
}

/// Default run directory for a model: `runs/<model name>`.
pub fn default_run_dir(model: &str) -> PathBuf {
    PathBuf::from("runs").join(model)
}
