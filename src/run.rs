//! The library API: train, resume, sample and evaluate a model — a `.genads` file read at run time
//! or a type compiled by `genads_model!` — into the run directory `genads train` makes (run.json,
//! model.genads, derivation.txt, metrics.jsonl, checkpoints/, eval.json, samples.png, curves.png),
//! with the same checkpoints and resume behaviour. The CLI is a layer over it.
//!
//! ```no_run
//! use genads::run::{Model, Run, TrainRequest};
//! use genads::runtime::train::Budget;
//!
//! # fn main() -> anyhow::Result<()> {
//! let model = Model::from_file("models/ads_linear.genads", None)?;
//! let request = TrainRequest { budget: Some(Budget::Steps(200)), ..TrainRequest::default() };
//! let mut run = Run::create(&model, &request, "runs/ads_linear")?;
//! run.train(&mut |_| {}, &mut |_, _| {})?;
//! let finished = run.finish()?; // eval.json, samples.png, curves.png
//! println!("BV {:.3}", finished.metrics["bv"]);
//! # Ok(())
//! # }
//! ```
//!
//! A compiled model: `Model::compiled::<AdsKgLinear>()` after
//! `genads_model!(file = "models/ads_kg_linear.genads")`; its generated code then computes every
//! training and sampling step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Context};
use genads_dsl::Derived;
use genads_runtime::candle_core::Device;
pub use genads_runtime::device::DeviceChoice;
use genads_runtime::experiment::{self, DataSet, EvalDefaults, Experiment, ExperimentConfig};
use genads_runtime::nn::{NetConfig, Preset, VelocityNet};
use genads_runtime::physics::{CompiledModel, Physics};
use genads_runtime::plot::{self, CurveStyle};
use genads_runtime::solver::Solver;
pub use genads_runtime::solver::SolverKind;
use genads_runtime::train::{
    Budget, ModelSpec, Progress, TrainConfig, TrainError, TrainSummary, Trainer,
};
use serde::{Deserialize, Serialize};

/// File name of the run record inside a run directory.
pub const RUN_RECORD: &str = "run.json";

/// The file the study runner opens in a cell's directory before it starts `genads train` there:
/// the one foreign entry a fresh run directory may hold.
pub const STUDY_LOG: &str = "train.log";
/// The study runner's record of how a cell ran, also allowed in a fresh run directory.
pub const STUDY_CELL_RECORD: &str = "cell.json";

/// Default step cap of a time budget: high enough that the clock ends the run.
pub const TIME_BUDGET_MAX_STEPS: u64 = 1_000_000_000;

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

/// Step cap of an adaptive (dopri5) evaluation.
pub const DOPRI5_MAX_STEPS: usize = 100_000;

/// Default steps of a fixed-step solver for image (`images`) or point data, decided from a run's
/// configuration ([`EvalDefaults::solver_steps`]).
pub fn default_solver_steps(images: bool) -> usize {
    EvalDefaults::of(images).solver_steps
}

/// Default samples of a final evaluation for image (`images`) or point data, decided from a run's
/// configuration ([`EvalDefaults::final_samples`]).
pub fn default_eval_samples(images: bool) -> usize {
    EvalDefaults::of(images).final_samples
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
    /// Independent sample sets of the final evaluation (point runs; seeds seed, seed + 1, …):
    /// eval.json holds each metric's mean, `NAME_sd` and `repeats`. One draw's WED_norm moves by
    /// ≈ 0.003 at 10,000 samples, which is as large as the differences studies compare.
    #[serde(default = "one_draw")]
    pub final_repeats: usize,
}

fn one_draw() -> usize {
    1
}

impl EvalSettings {
    /// The defaults for point (`images` false) or image runs, decided from a configuration.
    pub fn defaults(images: bool) -> Self {
        Self::from_defaults(EvalDefaults::of(images))
    }

    /// The defaults of an experiment's data.
    pub fn of(experiment: &dyn Experiment) -> Self {
        Self::from_defaults(experiment.eval_defaults())
    }

    fn from_defaults(d: EvalDefaults) -> Self {
        Self {
            solver: SolverKind::Rk4,
            steps: d.solver_steps,
            tol: 1e-5,
            samples: d.samples,
            final_samples: d.final_samples,
            final_repeats: 1,
        }
    }

    /// Checks the settings for an experiment: a valid solver, and repeated final draws (1 to
    /// 1000) only where its data allows them (point runs; image runs report the FID's bootstrap
    /// standard error instead).
    pub fn validate(&self, experiment: &dyn Experiment) -> anyhow::Result<()> {
        self.solver()?;
        if !(1..=1000).contains(&self.final_repeats) {
            bail!(
                "--final-repeats {}: between 1 and 1000 sample sets",
                self.final_repeats
            );
        }
        if !experiment.eval_defaults().repeated_draws && self.final_repeats > 1 {
            bail!(
                "--final-repeats {}: repeated final draws are implemented for point runs (the checkerboard); image runs report the FID with its bootstrap standard error (fid_se)",
                self.final_repeats
            );
        }
        Ok(())
    }

    /// The typed, validated solver.
    pub fn solver(&self) -> anyhow::Result<Solver> {
        Solver::from_kind(self.solver, self.steps, self.tol, DOPRI5_MAX_STEPS)
            .context("invalid solver flags")
    }
}

/// A model: its source, its derivation and, for a `genads_model!` type, the compiled physics
/// that replaces the interpreter in every step.
pub struct Model {
    source: String,
    origin: String,
    derived: Derived,
    compiled: Option<fn() -> Box<dyn Physics>>,
}

fn boxed<M: CompiledModel>() -> Box<dyn Physics> {
    Box::new(M::default())
}

impl Model {
    /// A model of a `.genads` file (`model`: which one, when the file holds several).
    pub fn from_file(path: impl AsRef<Path>, model: Option<&str>) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let source = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_source(&source, &path.display().to_string(), model)
    }

    /// A model of `.genads` source text; `origin` names it in diagnostics.
    pub fn from_source(source: &str, origin: &str, model: Option<&str>) -> anyhow::Result<Self> {
        let models = genads_dsl::compile(source, origin).map_err(|d| anyhow::anyhow!("{d}"))?;
        let derived = genads_dsl::select(models, model).map_err(anyhow::Error::msg)?;
        Ok(Self {
            source: source.to_string(),
            origin: origin.to_string(),
            derived,
            compiled: None,
        })
    }

    /// The model compiled into `M` by `genads_model!`: the same source and derivation, with the
    /// generated code in every training and sampling step.
    pub fn compiled<M: CompiledModel>() -> anyhow::Result<Self> {
        let mut model = Self::from_source(M::SOURCE, M::ORIGIN, Some(M::NAME))?;
        if model.derived.constants.signature != M::SIGNATURE {
            bail!(
                "{} was compiled with signature {}, but its source derives {} with this build",
                M::NAME,
                M::SIGNATURE,
                model.derived.constants.signature
            );
        }
        model.compiled = Some(boxed::<M>);
        Ok(model)
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.derived.constants.name
    }

    /// The derived model.
    pub fn derived(&self) -> &Derived {
        &self.derived
    }

    /// Whether the steps run compiled code.
    pub fn is_compiled(&self) -> bool {
        self.compiled.is_some()
    }

    /// The experiment of this model for `config`, with the compiled physics when there is one.
    fn experiment(&self, config: ExperimentConfig) -> anyhow::Result<Box<dyn Experiment>> {
        let mut experiment = experiment::from_derived(config, self.derived.clone())?;
        if let Some(make) = self.compiled {
            experiment.set_compiled(make())?;
        }
        Ok(experiment)
    }

    /// Whether the model has a Klein–Gordon backbone (α ≠ 0).
    fn has_backbone(&self) -> bool {
        self.derived.constants.alpha != 0.0
    }
}

/// How to train a fresh run; `None` fields take the preset's value.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    /// Data set.
    pub data: DataSet,
    /// Network and training preset.
    pub preset: Preset,
    /// Training length (default: the preset's).
    pub budget: Option<Budget>,
    /// Seed of initialisation, batches and evaluation samples.
    pub seed: u64,
    /// Batch size.
    pub batch_size: Option<usize>,
    /// Peak learning rate.
    pub lr: Option<f64>,
    /// The network architecture, replacing the preset's.
    pub net: Option<NetConfig>,
    /// Fourier modes per axis of the point-source encoding (default 16).
    pub modes: Option<usize>,
    /// Images: the size of the seeded training subset (default 10,000).
    pub subset: Option<usize>,
    /// Evaluate every N steps (default: 10 evaluations; a time budget: every tenth of the time).
    pub eval_every: Option<u64>,
    /// Checkpoint every N steps (default as for evaluations).
    pub checkpoint_every: Option<u64>,
    /// Evaluation settings (default: [`EvalSettings::defaults`] of the data set).
    pub eval: Option<EvalSettings>,
    /// Where the networks run (default: the CPU).
    pub device: DeviceChoice,
}

impl Default for TrainRequest {
    fn default() -> Self {
        Self {
            data: DataSet::Checkerboard,
            preset: Preset::Quick,
            budget: None,
            seed: 1,
            batch_size: None,
            lr: None,
            net: None,
            modes: None,
            subset: None,
            eval_every: None,
            checkpoint_every: None,
            eval: None,
            device: DeviceChoice::Cpu,
        }
    }
}

impl TrainRequest {
    /// The training configuration from the preset and the request.
    pub fn train_config(&self, model: &Model, experiment: &dyn Experiment) -> TrainConfig {
        let backbone = model.has_backbone();
        let mut config = experiment.train_config(self.preset, backbone);
        if let Some(net) = self.net {
            config.net = net.for_backbone(backbone);
        }
        config.seed = self.seed;
        config.dataset_size = experiment.train_len() as u64;
        if let Some(b) = self.batch_size {
            config.batch_size = b;
        }
        if let Some(lr) = self.lr {
            config.lr = lr;
        }
        config.budget = self.budget.unwrap_or(config.budget);
        let total = config.total_steps();
        if let Budget::Time { seconds, .. } = config.budget {
            // The step count of a time budget is unknown: evaluate and checkpoint by the clock
            // (every tenth of the budget) unless step intervals are given.
            config.eval_every = self.eval_every.unwrap_or(0);
            config.checkpoint_every = self.checkpoint_every.unwrap_or(0);
            config.eval_every_s = if self.eval_every.is_some() {
                0.0
            } else {
                seconds / 10.0
            };
            config.checkpoint_every_s = if self.checkpoint_every.is_some() {
                0.0
            } else {
                (seconds / 10.0).min(300.0)
            };
        } else {
            config.eval_every = self.eval_every.unwrap_or((total / 10).max(1));
            config.checkpoint_every = self.checkpoint_every.unwrap_or((total / 10).max(1));
        }
        config
    }
}

/// A run directory opened for training, sampling or evaluation.
pub struct Run {
    /// The run directory.
    pub dir: PathBuf,
    /// The model wired to its data (shared, so that callbacks of [`Run::train`] can use it).
    pub experiment: Arc<dyn Experiment>,
    /// Model, EMA model, optimiser and counters.
    pub trainer: Trainer,
    /// How the run evaluates.
    pub eval: EvalSettings,
    /// `resume` found no checkpoint and started the run again at step 0.
    pub restarted: bool,
}

/// The final evaluation of a run ([`Run::finish`]).
pub struct Finished {
    /// The metrics written to eval.json.
    pub metrics: BTreeMap<String, f64>,
    /// The scored points (point runs).
    pub points: Vec<[f64; 2]>,
    /// The image scores beside the real-vs-real reference (image runs).
    pub report: Option<genads_runtime::mnist::quality::QualityReport>,
    /// The solver used.
    pub solver: Solver,
    /// Wall-clock seconds of the evaluation.
    pub seconds: f64,
}

impl Run {
    /// A fresh run of `model` in `dir`: everything is built and checked first, then the directory
    /// is written (a refused request leaves nothing). `dir` must not exist, be empty, or hold only
    /// the study runner's log.
    pub fn create(
        model: &Model,
        request: &TrainRequest,
        dir: impl AsRef<Path>,
    ) -> anyhow::Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        check_fresh_dir(&dir)?;
        let mut config = match request.data.image_kind() {
            None => {
                let mut c = ExperimentConfig::checkerboard(
                    model.source.clone(),
                    model.origin.clone(),
                    model.derived.constants.name.clone(),
                );
                c.modes = request.modes.unwrap_or(c.modes);
                c
            }
            Some(kind) => {
                // Missing data: the message names the command to run.
                genads_runtime::mnist::fetch::require(kind).map_err(anyhow::Error::msg)?;
                let mut c = ExperimentConfig::image(
                    request.data,
                    model.source.clone(),
                    model.origin.clone(),
                    model.derived.constants.name.clone(),
                );
                c.train_size = request
                    .subset
                    .unwrap_or(genads_runtime::mnist::dataset::PAPER_SUBSET);
                c
            }
        };
        config.data = request.data;
        config.data_seed = request.seed;
        let experiment = model.experiment(config)?;
        let train = request.train_config(model, experiment.as_ref());
        train.validate()?;
        let eval = request
            .eval
            .unwrap_or(EvalSettings::of(experiment.as_ref()));
        eval.validate(experiment.as_ref())?;
        let device = request.device.open()?;
        let trainer = fresh_trainer(train, experiment.as_ref(), &dir, &device)?;
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let record = RunRecord {
            experiment: experiment.config().clone(),
            train: trainer.config().clone(),
            signature: experiment.derived().constants.signature.clone(),
            eval: Some(eval),
        };
        // The record first: once it exists the directory is a run that `resume` continues (it
        // holds the source too); the other two files are for reading and are restored on resume.
        write_atomic(
            &dir.join(RUN_RECORD),
            serde_json::to_string_pretty(&record)?.as_bytes(),
        )?;
        write_model_files(&dir, experiment.as_ref())?;
        Ok(Self {
            dir,
            experiment: Arc::from(experiment),
            trainer,
            eval,
            restarted: false,
        })
    }

    /// Reopens `dir` to continue training `model` from its newest intact checkpoint, with its
    /// stored configuration; `eval` replaces the stored evaluation settings. A run stopped before
    /// its first checkpoint starts again at step 0 ([`Run::restarted`]); damaged checkpoints are
    /// passed over ([`Trainer::skipped_checkpoints`]).
    pub fn resume(
        model: &Model,
        dir: impl AsRef<Path>,
        eval: Option<EvalSettings>,
        device: DeviceChoice,
    ) -> anyhow::Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let device = device.open()?;
        if !dir.exists() {
            bail!(
                "--resume: {} does not exist; start the run without --resume",
                dir.display()
            );
        }
        let (record, experiment) = open_experiment(&dir, Some(model))?;
        if !dir.join("model.genads").is_file() || !dir.join("derivation.txt").is_file() {
            // A start interrupted right after the record was written.
            write_model_files(&dir, experiment.as_ref())?;
        }
        let eval = eval
            .or(record.eval)
            .unwrap_or(EvalSettings::of(experiment.as_ref()));
        eval.validate(experiment.as_ref())?;
        let spec = model_spec_on(experiment.as_ref(), &device);
        let (trainer, restarted) = match Trainer::resume(dir.clone(), spec) {
            Ok(trainer) => (trainer, false),
            Err(TrainError::NoCheckpoint { .. }) => (
                fresh_trainer(record.train.clone(), experiment.as_ref(), &dir, &device)?,
                true,
            ),
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("cannot resume {}", dir.display()))
                )
            }
        };
        Ok(Self {
            dir,
            experiment: Arc::from(experiment),
            trainer,
            eval,
            restarted,
        })
    }

    /// Opens a trained run for sampling and evaluation (the EMA weights of its newest intact
    /// checkpoint, with the networks on `device`), with the interpreted physics, or `model`'s
    /// compiled physics when given.
    pub fn open(
        dir: impl AsRef<Path>,
        model: Option<&Model>,
        device: DeviceChoice,
    ) -> anyhow::Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let device = device.open()?;
        let (record, experiment) = open_experiment(&dir, model)?;
        let trainer = Trainer::resume(dir.clone(), model_spec_on(experiment.as_ref(), &device))
            .with_context(|| format!("cannot open the checkpoints of {}", dir.display()))?;
        let eval = record.eval.unwrap_or(EvalSettings::of(experiment.as_ref()));
        Ok(Self {
            dir,
            experiment: Arc::from(experiment),
            trainer,
            eval,
            restarted: false,
        })
    }

    /// Makes [`Run::train`] checkpoint and stop after the current step once `flag` is set (a
    /// signal handler's flag).
    pub fn set_stop_flag(&mut self, flag: Arc<AtomicBool>) {
        self.trainer.set_stop_flag(flag);
    }

    /// Trains until the budget is spent, with the periodic evaluations (metrics.jsonl; image runs
    /// also redraw samples.png) and checkpoints of the configuration. `progress` sees every step,
    /// `evaluated` every periodic evaluation's metrics.
    // The runtime's own error type, so that callers can match `TrainError::Interrupted`.
    #[allow(clippy::result_large_err)]
    pub fn train(
        &mut self,
        progress: &mut dyn FnMut(&Progress),
        evaluated: &mut dyn FnMut(u64, &BTreeMap<String, f64>),
    ) -> Result<TrainSummary, TrainError> {
        let experiment = self.experiment.as_ref();
        let solver = self
            .eval
            .solver()
            .map_err(|e| TrainError::Config(format!("{e:#}")))?;
        let samples = self.eval.samples;
        let seed = self.trainer.config().seed;
        let grid_path = self.dir.join("samples.png");
        let mut eval = |net: &dyn VelocityNet, step: u64| {
            let e = experiment.evaluate(net, samples, &solver, seed.wrapping_add(step))?;
            // Image runs redraw the grid of this evaluation's first 100 samples (best effort: a
            // failed PNG write must not stop training).
            if let Err(err) = experiment.write_training_samples(&e, &grid_path) {
                eprintln!("note: no sample grid written: {err}");
            }
            evaluated(step, &e.metrics);
            Ok(e.metrics)
        };
        let mut objective = experiment.objective();
        self.trainer.run(&mut objective, Some(&mut eval), progress)
    }

    /// The final evaluation with the EMA weights: `eval.final_samples` samples scored, eval.json
    /// (with its provenance), samples.png and curves.png written.
    pub fn finish(&self) -> anyhow::Result<Finished> {
        let solver = self.eval.solver()?;
        let n = self.eval.final_samples;
        let seed = self.trainer.config().seed;
        let start = std::time::Instant::now();
        let experiment = self.experiment.as_ref();
        let name = &experiment.derived().constants.name;
        // The first draw's samples are the plotted ones; further draws (point runs) only add
        // their metrics.
        let e = experiment
            .evaluate(self.trainer.ema_net(), n, &solver, seed)
            .context("final evaluation")?;
        experiment.write_samples(&e, &self.dir.join("samples.png"))?;
        write_metric_curves(&self.dir, name, experiment.curve_metrics())?;
        let repeats = if experiment.eval_defaults().repeated_draws {
            self.eval.final_repeats.max(1) as u64
        } else {
            1
        };
        let mut draws = vec![e.metrics];
        for k in 1..repeats {
            draws.push(
                experiment
                    .evaluate(self.trainer.ema_net(), n, &solver, seed.wrapping_add(k))
                    .context("final evaluation")?
                    .metrics,
            );
        }
        let metrics = if draws.len() == 1 {
            draws.pop().unwrap_or_default()
        } else {
            summarise_draws(&draws)
        };
        let provenance = provenance(
            "genads train",
            n,
            &solver,
            repeats,
            seed,
            self.trainer.step_count(),
            classifier_sha256(experiment.config().data),
        );
        write_atomic(
            &self.dir.join("eval.json"),
            &metrics_json(&metrics, provenance)?,
        )?;
        Ok(Finished {
            metrics,
            points: e.points,
            report: e.report,
            solver,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// `n` points sampled with the EMA network (point runs), integrated `batch` at a time.
    pub fn sample_points(
        &self,
        n: usize,
        batch: usize,
        solver: &Solver,
        seed: u64,
    ) -> anyhow::Result<Vec<[f64; 2]>> {
        let points = self.experiment.as_points().with_context(|| {
            format!(
                "{} is a run on {}: it samples images, not points",
                self.dir.display(),
                self.experiment.config().data
            )
        })?;
        let mut rng = genads_runtime::rng::seeded(seed);
        let (points, _) =
            points.sample_points(self.trainer.ema_net(), n, batch, solver, &mut rng)?;
        Ok(points)
    }

    /// The checkerboard metrics of `n` samples of the EMA network (seed `seed`) against the first
    /// `n` training points; image runs: the image scores.
    pub fn evaluate(
        &self,
        n: usize,
        solver: &Solver,
        seed: u64,
    ) -> anyhow::Result<BTreeMap<String, f64>> {
        Ok(self
            .experiment
            .evaluate(self.trainer.ema_net(), n, solver, seed)?
            .metrics)
    }
}

/// A fresh trainer for `experiment` writing into `dir` (nothing is written until it trains).
/// What the trainer needs to know of the experiment's model, with the networks on `device`.
fn model_spec_on(experiment: &dyn Experiment, device: &Device) -> ModelSpec {
    ModelSpec {
        device: device.clone(),
        ..experiment.model_spec()
    }
}

fn fresh_trainer(
    config: TrainConfig,
    experiment: &dyn Experiment,
    dir: &Path,
    device: &Device,
) -> anyhow::Result<Trainer> {
    let mut trainer = Trainer::new(
        config,
        model_spec_on(experiment, device),
        Some(dir.to_path_buf()),
        serde_json::Value::Null,
    )?;
    if let Some(fractions) = experiment.box_fractions() {
        trainer.init_from_data(&fractions)?;
    }
    Ok(trainer)
}

/// Refuses a run directory that holds a run already, or files of the user's (a fresh run writes
/// model.genads, run.json, samples.png, … and would overwrite them).
fn check_fresh_dir(out: &Path) -> anyhow::Result<()> {
    if out.join(RUN_RECORD).exists() {
        bail!(
            "{} already holds a run: pass --resume to continue it, or --out to choose another directory",
            out.display()
        );
    }
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        bail!("--out {} exists and is not a directory", out.display());
    }
    let mut foreign: Vec<String> = std::fs::read_dir(out)
        .with_context(|| format!("cannot read {}", out.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != STUDY_LOG && name != STUDY_CELL_RECORD)
        .collect();
    if !foreign.is_empty() {
        foreign.sort();
        let shown = foreign
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let more = if foreign.len() > 3 { ", …" } else { "" };
        bail!(
            "--out {} is not empty ({shown}{more}) and holds no GenAdS run: a run writes model.genads, run.json, samples.png and more into it; choose another --out or empty it",
            out.display()
        );
    }
    Ok(())
}

/// `model.genads` and `derivation.txt` of a run directory, from its experiment.
fn write_model_files(out: &Path, experiment: &dyn Experiment) -> anyhow::Result<()> {
    write_atomic(
        &out.join("model.genads"),
        experiment.config().model_source.as_bytes(),
    )?;
    let derivation =
        genads_dsl::explain::render(experiment.derived(), genads_dsl::explain::Format::Text);
    write_atomic(&out.join("derivation.txt"), derivation.as_bytes())
}

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

/// Rebuilds the experiment of a run directory from its record, checking that the stored source
/// still derives the stored signature and, when `model` is given, that it is that model (whose
/// compiled physics, if any, then runs the steps).
pub fn open_experiment(
    run: &Path,
    model: Option<&Model>,
) -> anyhow::Result<(RunRecord, Box<dyn Experiment>)> {
    let record = read_record(run)?;
    if let Some(model) = model {
        if record.signature != model.derived.constants.signature {
            bail!(
                "{} was trained with a different model (signature {}), not `{}` of {} (signature {})",
                run.display(),
                record.signature,
                model.derived.constants.name,
                model.origin,
                model.derived.constants.signature
            );
        }
    }
    let mut experiment = experiment::build(record.experiment.clone())
        .with_context(|| format!("rebuilding the model of {}", run.display()))?;
    if experiment.derived().constants.signature != record.signature {
        bail!(
            "{}: the model compiled from the stored source has signature {} but the run was trained with {} (the derivation changed since this run was made)",
            run.display(),
            experiment.derived().constants.signature,
            record.signature
        );
    }
    if let Some(make) = model.and_then(|m| m.compiled) {
        experiment.set_compiled(make())?;
    }
    Ok((record, experiment))
}

/// Provenance of a metrics file (`eval.json` and `genads eval`'s files): what produced it.
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

/// The mean of every metric over independent sample sets under its own name, the sample standard
/// deviation under `NAME_sd`, and the number of draws under `repeats`.
pub fn summarise_draws(draws: &[BTreeMap<String, f64>]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for key in draws.first().map(|d| d.keys()).into_iter().flatten() {
        let values: Vec<f64> = draws.iter().filter_map(|d| d.get(key).copied()).collect();
        if let Some(stat) = crate::study::aggregate::Stat::of(&values) {
            out.insert(key.clone(), stat.mean);
            out.insert(format!("{key}_sd"), stat.std.unwrap_or(0.0));
        }
    }
    out.insert("repeats".into(), draws.len() as f64);
    out
}

/// SHA-256 of the metric classifier of an image data set (the file image scores depend on).
pub fn classifier_sha256(data: DataSet) -> Option<String> {
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

/// `curves.png`: the given metrics of metrics.jsonl against the step, on a log scale.
fn write_metric_curves(out: &Path, name: &str, keys: &[&str]) -> anyhow::Result<()> {
    let log = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap_or_default();
    let series = plot::series_from_jsonl(&log, "step", keys)?;
    let style = CurveStyle {
        title: format!("{name}: sample quality during training"),
        x_label: "step".into(),
        y_label: "metric (log scale)".into(),
        log_y: true,
    };
    // A run with no finite metric point yet has nothing to draw: not an error of the run.
    if let Err(e) = plot::metric_curves(&series, &style, &out.join("curves.png")) {
        eprintln!("note: no metric curves drawn: {e}");
    }
    Ok(())
}
