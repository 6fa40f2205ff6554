//! Pieces shared by `train`, `sample` and `eval`: the run directory, solver flags, tables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use genads_runtime::experiment::{Experiment, ExperimentConfig};
use genads_runtime::solver::Solver;
use genads_runtime::train::{TrainConfig, Trainer};
use serde::{Deserialize, Serialize};

/// The record a run directory keeps of how it was made (`run.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// Model, data set and encoding.
    pub experiment: ExperimentConfig,
    /// Training hyper-parameters.
    pub train: TrainConfig,
    /// The model's derived signature.
    pub signature: String,
}

/// File name of the run record inside a run directory.
pub const RUN_RECORD: &str = "run.json";

/// Writes `contents` to `path` atomically (temporary file + rename).
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Reads a run directory's record.
pub fn read_record(run: &Path) -> anyhow::Result<RunRecord> {
    let path = run.join(RUN_RECORD);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} is not a GenAdS run directory (cannot read {RUN_RECORD}); `genads train` makes one",
            run.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
}

/// A trained run re-opened for sampling or evaluation: its experiment and its latest checkpoint
/// (the EMA network is what sampling uses).
pub struct OpenedRun {
    /// The experiment rebuilt from the record.
    pub experiment: Experiment,
    /// The trainer state restored from the latest checkpoint.
    pub trainer: Trainer,
}

/// Opens a run directory: rebuilds the experiment and restores the latest checkpoint, checking
/// that it belongs to the same model.
pub fn open_run(run: &Path) -> anyhow::Result<OpenedRun> {
    let record = read_record(run)?;
    let experiment = Experiment::new(record.experiment.clone())
        .with_context(|| format!("rebuilding the model of {}", run.display()))?;
    if experiment.derived().signature != record.signature {
        bail!(
            "{}: the model compiled from the stored source has signature {} but the run was trained with {} (the derivation changed since this run was made)",
            run.display(),
            experiment.derived().signature,
            record.signature
        );
    }
    let trainer = Trainer::resume(run.to_path_buf(), experiment.model_spec())
        .with_context(|| format!("loading the latest checkpoint of {}", run.display()))?;
    Ok(OpenedRun {
        experiment,
        trainer,
    })
}

/// ODE-solver flags.
#[derive(clap::Args, Debug, Clone)]
pub struct SolverArgs {
    /// ODE solver: euler, heun, rk4 (fixed steps) or dopri5 (adaptive).
    #[arg(long, value_enum, default_value_t = SolverKind::Rk4)]
    pub solver: SolverKind,
    /// Steps of a fixed-step solver (paper: RK4 with 100 steps; default 100, or 25 for image runs,
    /// whose U-Net evaluation costs ≈ 3 ms per image).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Relative and absolute tolerance of dopri5.
    #[arg(long, default_value_t = 1e-5)]
    pub tol: f64,
}

/// Solver names on the command line.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolverKind {
    /// Explicit Euler (order 1).
    Euler,
    /// Heun (order 2).
    Heun,
    /// Classical Runge–Kutta (order 4).
    Rk4,
    /// Adaptive Dormand–Prince 5(4).
    Dopri5,
}

/// Default steps of a fixed-step solver: the paper's 100 for point data, 25 for images (the sample
/// cost of the U-Net: 2,000 images × 25 RK4 steps took 446 s on one core, docs/mnist.md).
pub fn default_solver_steps(images: bool) -> usize {
    if images {
        25
    } else {
        100
    }
}

/// Default samples of a final evaluation: the paper's 10,000 points; 2,000 images (10,000 images
/// with 25 RK4 steps would take ≈ 37 minutes on one core; `--n 10000` gives the paper's protocol).
pub fn default_eval_samples(images: bool) -> usize {
    if images {
        2_000
    } else {
        10_000
    }
}

impl SolverArgs {
    /// The typed solver for point (`images` false) or image runs, validated.
    pub fn solver(&self, images: bool) -> anyhow::Result<Solver> {
        let steps = self.steps.unwrap_or(default_solver_steps(images));
        let solver = match self.solver {
            SolverKind::Euler => Solver::Euler { steps },
            SolverKind::Heun => Solver::Heun { steps },
            SolverKind::Rk4 => Solver::Rk4 { steps },
            SolverKind::Dopri5 => Solver::Dopri5 {
                rtol: self.tol,
                atol: self.tol,
                max_steps: 100_000,
            },
        };
        solver.validate().context("invalid solver flags")?;
        Ok(solver)
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
