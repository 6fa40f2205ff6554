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
    /// How the run evaluates (a resumed run keeps them; absent in runs made before they were
    /// recorded, which then get the defaults).
    #[serde(default)]
    pub eval: Option<EvalSettings>,
}

/// The evaluation settings of a training run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalSettings {
    /// ODE solver of every evaluation.
    pub solver: SolverKind,
    /// Steps of a fixed-step solver.
    pub steps: usize,
    /// Tolerance of dopri5.
    pub tol: f64,
    /// Samples per evaluation during training.
    pub samples: usize,
    /// Samples of the final evaluation.
    pub final_samples: usize,
}

impl EvalSettings {
    /// The defaults for point (`images` false) or image runs.
    pub fn defaults(images: bool) -> Self {
        Self {
            solver: SolverKind::Rk4,
            steps: default_solver_steps(images),
            tol: 1e-5,
            samples: if images { 500 } else { 2000 },
            final_samples: default_eval_samples(images),
        }
    }

    /// The typed, validated solver.
    pub fn solver(&self, images: bool) -> anyhow::Result<Solver> {
        SolverArgs {
            solver: self.solver,
            steps: Some(self.steps),
            tol: self.tol,
        }
        .solver(images)
    }
}

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

/// Provenance of a metrics file (`eval.json` and `genads eval`'s files): what produced it.
#[allow(clippy::too_many_arguments)]
pub fn provenance(
    command: &str,
    samples: usize,
    solver: &Solver,
    draws: u64,
    seed: u64,
    checkpoint_step: u64,
    classifier_sha256: Option<String>,
) -> serde_json::Value {
    serde_json::json!({
        "command": command,
        "weights": "ema",
        "samples": samples,
        "solver": format!("{solver:?}"),
        "draws": draws,
        "seed": seed,
        "checkpoint_step": checkpoint_step,
        "classifier_sha256": classifier_sha256,
    })
}

/// SHA-256 of the metric classifier of an image data set (the file image scores depend on).
pub fn classifier_sha256(data: genads_runtime::experiment::DataSet) -> Option<String> {
    let kind = data.image_kind()?;
    let seed = genads_runtime::mnist::classifier::ClassifierTraining::default().seed;
    let bytes = std::fs::read(genads_runtime::mnist::classifier::classifier_path(
        kind, seed,
    ))
    .ok()?;
    Some(genads_runtime::mnist::fetch::sha256_hex(&bytes))
}

/// A metrics file: the metrics under their names, and what produced them under `provenance`
/// (readers of the numbers skip that one non-numeric entry).
pub fn metrics_json(
    metrics: &BTreeMap<String, f64>,
    provenance: serde_json::Value,
) -> anyhow::Result<Vec<u8>> {
    let mut object: serde_json::Map<String, serde_json::Value> = metrics
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::json!(v)))
        .collect();
    object.insert("provenance".into(), provenance);
    Ok(serde_json::to_vec_pretty(&serde_json::Value::Object(
        object,
    ))?)
}

/// File name of the run record inside a run directory.
pub const RUN_RECORD: &str = "run.json";

/// Writes `contents` to `path` atomically (temporary file + rename).
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
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
    let (_, experiment) = open_experiment(run)?;
    let trainer = Trainer::resume(run.to_path_buf(), experiment.model_spec())
        .with_context(|| format!("cannot open the checkpoints of {}", run.display()))?;
    warn_skipped(&trainer);
    Ok(OpenedRun {
        experiment,
        trainer,
    })
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

/// Rebuilds the experiment of a run directory from its record, checking that the stored source
/// still derives the stored signature.
pub fn open_experiment(run: &Path) -> anyhow::Result<(RunRecord, Experiment)> {
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
    Ok((record, experiment))
}

/// ODE-solver flags.
#[derive(clap::Args, Debug, Clone)]
pub struct SolverArgs {
    /// ODE solver: euler, heun, rk4 (fixed steps) or dopri5 (adaptive).
    #[arg(long, value_enum, default_value_t = SolverKind::Rk4)]
    pub solver: SolverKind,
    /// Steps of a fixed-step solver (paper: RK4 with 100 steps; default 100, or 25 for image runs,
    /// whose U-Net evaluation costs ≈ 3 ms per image).
    #[arg(long, value_parser = count_in(1, MAX_SOLVER_STEPS, ""))]
    pub steps: Option<usize>,
    /// Relative and absolute tolerance of dopri5.
    #[arg(long, default_value_t = 1e-5)]
    pub tol: f64,
}

/// Solver names on the command line.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
