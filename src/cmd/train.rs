//! `genads train`: train a model on a data set, with periodic evaluation, checkpoints, resume, and
//! at the end a metrics table and plots in the run directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use genads_runtime::experiment::{DataSet, Experiment, ExperimentConfig};
use genads_runtime::nn::Preset;
use genads_runtime::plot::{self, CurveStyle};
use genads_runtime::train::{Budget, Progress, TrainConfig, Trainer};

use super::common::{self, RunRecord, SolverArgs, SolverKind};

/// Default step cap of a `--time` budget: high enough that the clock ends the run.
const TIME_BUDGET_MAX_STEPS: u64 = 1_000_000_000;

/// Arguments of `genads train`.
#[derive(clap::Args)]
pub struct Args {
    /// The `.genads` file of the model.
    pub model_file: PathBuf,
    /// Which model of the file (required when it holds several, e.g. a sweep).
    #[arg(long)]
    pub model: Option<String>,
    /// Data set: checkerboard, mnist or fashion-mnist (images need `genads data fetch …` first).
    #[arg(long, default_value = "checkerboard")]
    pub data: DataSet,
    /// Images: train on a seeded random subset of this many training images (paper: 10,000; at
    /// least the split's size: all of it).
    #[arg(long, default_value_t = genads_runtime::mnist::dataset::PAPER_SUBSET)]
    pub subset: usize,
    /// Network and training preset: quick (minutes on a CPU), small, paper (the published
    /// architecture and settings), or lattice (quick with the boundary-source posterior network:
    /// a data-initialised prior over a fixed lattice of sources, samples on the lattice; opt-in).
    #[arg(long, default_value = "quick")]
    pub preset: Preset,
    /// Train for this many epochs (an epoch is training-set size / batch size steps).
    #[arg(long, conflicts_with_all = ["steps", "time"])]
    pub epochs: Option<u64>,
    /// Train for this many optimiser steps.
    #[arg(long, conflicts_with_all = ["epochs", "time"])]
    pub steps: Option<u64>,
    /// Train for this much wall-clock time (e.g. 90s, 5m, 1h); the cosine schedule then spans
    /// --max-steps.
    #[arg(long, conflicts_with_all = ["epochs", "steps"])]
    pub time: Option<humantime::Duration>,
    /// Step cap of a --time budget (default: none in practice, 10⁹ steps); the learning rate
    /// decays over the time or over these steps, whichever is further along.
    #[arg(long, requires = "time")]
    pub max_steps: Option<u64>,
    /// Seed of the initialisation, the batches and the evaluation samples.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Batch size (default: the preset's).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Peak learning rate (default: the preset's).
    #[arg(long)]
    pub lr: Option<f64>,
    /// The velocity network's architecture as JSON, replacing the preset's (e.g.
    /// `{"kind":"unet","hidden":16,"depth":2,"time_dim":32,"groups":4,"pixel":true}`); stored
    /// in run.json and the checkpoints like the preset's.
    #[arg(long, value_parser = parse_net_config)]
    pub net: Option<genads_runtime::nn::NetConfig>,
    /// Fourier modes per axis of the point-source encoding (paper: 16).
    #[arg(long, default_value_t = 16)]
    pub modes: usize,
    /// Run directory (default: runs/<model name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its latest checkpoint (its stored configuration is used).
    #[arg(long)]
    pub resume: bool,
    /// Evaluate every N steps during training (default: 10 evaluations per run; 0: only at the end).
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Samples per evaluation during training (default: 2000 points, 500 images).
    #[arg(long)]
    pub eval_samples: Option<usize>,
    /// Samples of the final evaluation (paper: 10,000; default 10,000 points, 2,000 images).
    #[arg(long)]
    pub final_samples: Option<usize>,
    /// Checkpoint every N steps (default: 10 checkpoints per run).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// ODE solver of every evaluation: euler, heun, rk4 or dopri5.
    #[arg(long, value_enum, default_value_t = SolverKind::Rk4)]
    pub eval_solver: SolverKind,
    /// Steps of a fixed-step evaluation solver (paper: RK4 with 100 steps; default 100 for points,
    /// 25 for images).
    #[arg(long)]
    pub eval_steps: Option<usize>,
    /// Tolerance of dopri5 evaluations.
    #[arg(long, default_value_t = 1e-5)]
    pub eval_tol: f64,
}

/// Run `genads train`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(&args.model_file)
        .with_context(|| format!("cannot read {}", args.model_file.display()))?;
    let origin = args.model_file.display().to_string();
    let models = genads_dsl::compile(&source, &origin).map_err(|d| anyhow::anyhow!("{d}"))?;
    let derived = genads_dsl::select(models, args.model.as_deref()).map_err(anyhow::Error::msg)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| common::default_run_dir(&derived.name));
    let solver_args = SolverArgs {
        solver: args.eval_solver,
        steps: args.eval_steps,
        tol: args.eval_tol,
    };
    // Bad solver flags fail before anything is trained; the defaults follow the run's data set
    // (a resumed run's stored one), once known.
    solver_args.solver(args.data.is_image())?;

    let (experiment, mut trainer) = if args.resume {
        let opened = common::open_run(&out).context("--resume needs an existing run directory")?;
        let stored = opened.experiment.derived();
        if stored.signature != derived.signature {
            bail!(
                "{} was trained with a different model (signature {}), not `{}` of {} (signature {})",
                out.display(),
                stored.signature,
                derived.name,
                args.model_file.display(),
                derived.signature
            );
        }
        eprintln!(
            "resuming {} at step {} of {}",
            out.display(),
            opened.trainer.step_count(),
            opened.trainer.config().total_steps()
        );
        (opened.experiment, opened.trainer)
    } else {
        if out.join(common::RUN_RECORD).exists() {
            bail!(
                "{} already holds a run: pass --resume to continue it, or --out to choose another directory",
                out.display()
            );
        }
        let mut experiment_config = match args.data.image_kind() {
            None => {
                let mut c =
                    ExperimentConfig::checkerboard(source.clone(), origin, derived.name.clone());
                c.modes = args.modes;
                c
            }
            Some(kind) => {
                // Missing data: the message names the command to run.
                genads_runtime::mnist::fetch::require(kind).map_err(anyhow::Error::msg)?;
                let mut c = ExperimentConfig::image(
                    args.data,
                    source.clone(),
                    origin,
                    derived.name.clone(),
                );
                c.train_size = args.subset;
                c
            }
        };
        experiment_config.data = args.data;
        experiment_config.data_seed = args.seed;
        let experiment = Experiment::from_derived(experiment_config, derived.clone())?;
        let config = train_config(&args, &experiment);
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        write_run_files(&out, &experiment, &config, &source)?;
        let mut trainer = Trainer::new(
            config,
            experiment.model_spec(),
            Some(out.clone()),
            serde_json::Value::Null,
        )?;
        if let Some(fractions) = experiment.box_fractions() {
            trainer.init_from_data(&fractions)?;
        }
        (experiment, trainer)
    };

    let total = trainer.config().total_steps();
    let planned = match trainer.config().budget {
        Budget::Time { seconds, .. } => format!(
            "{} of training",
            humantime::format_duration(Duration::from_secs_f64(seconds.round()))
        ),
        _ => format!("{total} steps planned"),
    };
    println!(
        "training `{}` on {} ({} preset, {planned}, batch {}) -> {}",
        experiment.derived().name,
        experiment.config.data,
        trainer.config().preset,
        trainer.config().batch_size,
        out.display()
    );
    let is_image = experiment.images.is_some();
    let solver = solver_args.solver(is_image)?;
    let final_samples = args
        .final_samples
        .unwrap_or(common::default_eval_samples(is_image));
    let eval_samples = args
        .eval_samples
        .unwrap_or(if is_image { 500 } else { 2000 });
    let seed = args.seed;
    if is_image {
        // Load (or train, with a message) the metric classifier before the clock starts.
        experiment.image_reference()?;
    }
    let grid_path = out.join("samples.png");
    let mut eval = |net: &dyn genads_runtime::nn::VelocityNet, step: u64| {
        if is_image {
            let e =
                experiment.evaluate_images(net, eval_samples, &solver, seed.wrapping_add(step))?;
            // The grid of this evaluation's first 100 samples (best effort: a failed PNG write
            // must not stop training).
            if let Err(err) = write_image_grid(&experiment, &e.pixels, 100, &grid_path) {
                eprintln!("note: no sample grid written: {err}");
            }
            eprintln!(
                "step {step}: FID {:.3} (real {:.3})  KID {:.4}  precision {:.3}  recall {:.3}  min class {:.1}%",
                e.report.generated.fid,
                e.report.reference.fid,
                e.report.generated.kid,
                e.report.generated.precision,
                e.report.generated.recall,
                100.0 * e.report.generated.min_class_fraction()
            );
            Ok(e.metrics)
        } else {
            experiment
                .evaluate(net, eval_samples, &solver, seed.wrapping_add(step))
                .map(|e| e.metrics)
        }
    };
    let mut reporter = Reporter::new(trainer.config().budget, total);
    let mut objective = experiment.objective();
    let summary = trainer.run(&mut objective, Some(&mut eval), &mut |p| reporter.update(p))?;
    reporter.finish();
    drop(objective);

    println!(
        "trained {} steps in {:.1} s of training time",
        summary.steps, summary.elapsed_s
    );
    if is_image {
        return final_image_evaluation(&args, final_samples, &experiment, &trainer, &solver, &out);
    }
    let genads_runtime::experiment::Evaluation { metrics, points } = experiment
        .evaluate(trainer.ema_net(), final_samples, &solver, seed)
        .context("final evaluation")?;
    common::print_metrics(
        &format!(
            "final evaluation: {} samples (EMA weights, {:?}) vs the first {} training points",
            final_samples,
            solver,
            experiment.reference_points(final_samples).len()
        ),
        &metrics,
    );
    common::write_atomic(
        &out.join("eval.json"),
        serde_json::to_string_pretty(&metrics)?.as_bytes(),
    )?;
    write_plots(&out, &experiment.derived().name, &points)?;
    println!(
        "wrote {0}/samples.png, {0}/curves.png, {0}/eval.json, {0}/metrics.jsonl",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The final evaluation of an image run: samples scored beside the real-vs-real reference, the
/// sample grid, eval.json and the FID/KID curves.
fn final_image_evaluation(
    args: &Args,
    final_samples: usize,
    experiment: &Experiment,
    trainer: &genads_runtime::train::Trainer,
    solver: &genads_runtime::solver::Solver,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let e = experiment
        .evaluate_images(trainer.ema_net(), final_samples, solver, args.seed)
        .context("final evaluation")?;
    println!(
        "final evaluation: {} samples (EMA weights, {:?}, {} velocity evaluations, {:.0} s) vs the {} test images; reference: the first {} training images",
        final_samples,
        solver,
        e.metrics.get("nfe").copied().unwrap_or(0.0),
        start.elapsed().as_secs_f64(),
        experiment.image_reference()?.test.len(),
        final_samples
    );
    println!("{}", e.report);
    common::write_atomic(
        &out.join("eval.json"),
        serde_json::to_string_pretty(&e.metrics)?.as_bytes(),
    )?;
    write_image_grid(experiment, &e.pixels, 100, &out.join("samples.png"))?;
    write_image_curves(out, &experiment.derived().name)?;
    println!(
        "wrote {0}/samples.png, {0}/curves.png, {0}/eval.json, {0}/metrics.jsonl",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the first `max` images of `pixels` as a PNG grid (10 per row, 3× enlarged).
pub fn write_image_grid(
    experiment: &Experiment,
    pixels: &[f32],
    max: usize,
    path: &Path,
) -> anyhow::Result<()> {
    let (h, w) = experiment.image_size().context("not an image experiment")?;
    let n = (pixels.len() / (h * w)).min(max);
    genads_runtime::mnist::grid::write_png_grid(path, &pixels[..n * h * w], h, w, 10, 3)
        .with_context(|| format!("writing {}", path.display()))
}

/// FID and KID of the periodic evaluations in metrics.jsonl, beside the real-vs-real FID.
fn write_image_curves(out: &Path, name: &str) -> anyhow::Result<()> {
    write_metric_curves(
        out,
        name,
        &["metrics.fid", "metrics.ref_fid", "metrics.kid"],
    )
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

/// The training configuration from the preset and the flags.
fn train_config(args: &Args, experiment: &Experiment) -> TrainConfig {
    let mut config = TrainConfig::for_preset(args.preset, experiment.kind);
    config.net = config
        .net
        .for_backbone(genads_runtime::Physics::constants(&experiment.physics).alpha != 0.0);
    if experiment.images.is_some() {
        let t = args.preset.image_training();
        config.net = args.preset.image_net_config();
        config.batch_size = t.batch_size;
        config.lr = t.lr;
        config.ema_decay = t.ema_decay;
        config.ema_start = t.ema_start;
        if args.preset == Preset::Paper {
            // PAPER.md §6.4: 1500 epochs of the 10,000-image subset at batch 128.
            config.budget = Budget::Epochs(1500);
        }
    }
    if let Some(net) = args.net {
        config.net =
            net.for_backbone(genads_runtime::Physics::constants(&experiment.physics).alpha != 0.0);
    }
    config.seed = args.seed;
    config.dataset_size = experiment.train_len() as u64;
    if let Some(b) = args.batch_size {
        config.batch_size = b;
    }
    if let Some(lr) = args.lr {
        config.lr = lr;
    }
    config.budget = match (args.epochs, args.steps, args.time) {
        (Some(e), _, _) => Budget::Epochs(e),
        (_, Some(s), _) => Budget::Steps(s),
        (_, _, Some(t)) => Budget::Time {
            seconds: Duration::from(t).as_secs_f64(),
            max_steps: args.max_steps.unwrap_or(TIME_BUDGET_MAX_STEPS),
        },
        _ => config.budget,
    };
    let total = config.total_steps();
    if let Budget::Time { seconds, .. } = config.budget {
        // The step count of a time budget is unknown: evaluate and checkpoint by the clock
        // (every tenth of the budget) unless step intervals are given.
        config.eval_every = args.eval_every.unwrap_or(0);
        config.checkpoint_every = args.checkpoint_every.unwrap_or(0);
        config.eval_every_s = if args.eval_every.is_some() {
            0.0
        } else {
            seconds / 10.0
        };
        config.checkpoint_every_s = if args.checkpoint_every.is_some() {
            0.0
        } else {
            (seconds / 10.0).min(300.0)
        };
    } else {
        config.eval_every = args.eval_every.unwrap_or((total / 10).max(1));
        config.checkpoint_every = args.checkpoint_every.unwrap_or((total / 10).max(1));
    }
    config
}

/// Parses `--net`: a [`genads_runtime::nn::NetConfig`] in JSON.
fn parse_net_config(text: &str) -> Result<genads_runtime::nn::NetConfig, String> {
    serde_json::from_str(text).map_err(|e| format!("not a network configuration: {e}"))
}

/// Writes the model source, its derivation and the run record into a fresh run directory.
fn write_run_files(
    out: &Path,
    experiment: &Experiment,
    config: &TrainConfig,
    source: &str,
) -> anyhow::Result<()> {
    let derived = experiment.derived();
    common::write_atomic(&out.join("model.genads"), source.as_bytes())?;
    let derivation = genads_dsl::explain::render(derived, genads_dsl::explain::Format::Text);
    common::write_atomic(&out.join("derivation.txt"), derivation.as_bytes())?;
    let record = RunRecord {
        experiment: experiment.config.clone(),
        train: config.clone(),
        signature: derived.signature.clone(),
    };
    common::write_atomic(
        &out.join(common::RUN_RECORD),
        serde_json::to_string_pretty(&record)?.as_bytes(),
    )
}

/// Draws the samples over the true cells and the metric curves of metrics.jsonl.
pub fn write_plots(out: &Path, name: &str, points: &[[f64; 2]]) -> anyhow::Result<()> {
    plot::samples_over_checkerboard(
        points,
        &format!("{name}: samples"),
        &out.join("samples.png"),
    )?;
    write_metric_curves(
        out,
        name,
        &["metrics.bv", "metrics.js_cell", "metrics.wed_norm"],
    )
}

/// Progress display: a bar on a terminal, plain periodic lines otherwise. A time budget shows
/// the clock instead of the step count.
struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    last_line: Instant,
    /// Seconds of a time budget.
    seconds: Option<f64>,
}

impl Reporter {
    fn new(budget: Budget, total: u64) -> Self {
        let seconds = match budget {
            Budget::Time { seconds, .. } => Some(seconds),
            _ => None,
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let (len, template) = match seconds {
                Some(s) => (
                    s.ceil() as u64,
                    "{bar:40} {elapsed_precise}/{duration_precise}  {msg}",
                ),
                None => (
                    total,
                    "{bar:40} {pos}/{len} steps  {msg}  {elapsed_precise} ETA {eta}",
                ),
            };
            let bar = indicatif::ProgressBar::new(len);
            bar.set_style(
                indicatif::ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            last_line: Instant::now(),
            seconds,
        }
    }

    fn update(&mut self, p: &Progress) {
        match &self.bar {
            Some(bar) => match self.seconds {
                Some(_) => {
                    bar.set_position(p.elapsed_s as u64);
                    bar.set_message(format!("step {}  loss {:.4}", p.step, p.loss));
                }
                None => {
                    bar.set_position(p.step);
                    bar.set_message(format!("loss {:.4}", p.loss));
                }
            },
            None => {
                if self.last_line.elapsed() >= Duration::from_secs(15) || p.step == p.total_steps {
                    let step = match self.seconds {
                        Some(s) => format!("{} ({:.0}/{s:.0} s)", p.step, p.elapsed_s),
                        None => format!("{}/{}", p.step, p.total_steps),
                    };
                    eprintln!(
                        "step {step}  epoch {}  loss {:.4}  lr {:.2e}  {:.0} s",
                        p.epoch, p.loss, p.lr, p.elapsed_s
                    );
                    self.last_line = Instant::now();
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
