//! `genads train`: train a model on a data set, with periodic evaluation, checkpoints, resume, and
//! at the end a metrics table and plots in the run directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use genads_runtime::experiment::{DataSet, Experiment, ExperimentConfig};
use genads_runtime::nn::Preset;
use genads_runtime::plot::{self, CurveStyle};
use genads_runtime::train::{Budget, Progress, TrainConfig, TrainError, Trainer, MAX_BATCH_SIZE};

use super::common::{self, EvalSettings, RunRecord, SolverKind};

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
    /// Data set: checkerboard (default), mnist or fashion-mnist (images need `genads data fetch …`
    /// first).
    #[arg(long)]
    pub data: Option<DataSet>,
    /// Images: train on a seeded random subset of this many training images (default and paper:
    /// 10,000; at least the split's size: all of it).
    #[arg(long, value_parser = common::count_in(1, usize::MAX, "an empty training set trains nothing"))]
    pub subset: Option<usize>,
    /// Network and training preset: quick (default; minutes on a CPU), small, paper (the
    /// published architecture and settings), or lattice (quick with the boundary-source posterior
    /// network: a data-initialised prior over a fixed lattice of sources, samples on the lattice;
    /// opt-in).
    #[arg(long)]
    pub preset: Option<Preset>,
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
    /// Seed of the initialisation, the batches and the evaluation samples (default 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Batch size (default: the preset's).
    #[arg(long, value_parser = common::count_in(1, MAX_BATCH_SIZE, "a step's tensors grow with the batch; the presets use at most 256"))]
    pub batch_size: Option<usize>,
    /// Peak learning rate (default: the preset's).
    #[arg(long)]
    pub lr: Option<f64>,
    /// The velocity network's architecture as JSON, replacing the preset's (e.g.
    /// `{"kind":"unet","hidden":16,"depth":2,"time_dim":32,"groups":4,"pixel":true}`); stored
    /// in run.json and the checkpoints like the preset's.
    #[arg(long, value_parser = parse_net_config)]
    pub net: Option<genads_runtime::nn::NetConfig>,
    /// Fourier modes per axis of the point-source encoding (default and paper: 16).
    #[arg(long, value_parser = common::count_in(MIN_MODES, MAX_MODES, "the point-source decoder reads the field on a 128 × 128 grid; the paper uses 16"))]
    pub modes: Option<usize>,
    /// Run directory (default: runs/<model name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its newest intact checkpoint, with its stored configuration
    /// (flags that would change the training are refused; evaluation flags apply).
    #[arg(long)]
    pub resume: bool,
    /// Evaluate every N steps during training (default: 10 evaluations per run; 0: only at the end).
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Samples per evaluation during training (default: 2000 points, 500 images).
    #[arg(long, value_parser = common::count_in(1, common::MAX_SAMPLES, ""))]
    pub eval_samples: Option<usize>,
    /// Samples of the final evaluation (paper: 10,000; default 10,000 points, 2,000 images).
    #[arg(long, value_parser = common::count_in(1, common::MAX_SAMPLES, ""))]
    pub final_samples: Option<usize>,
    /// Checkpoint every N steps (default: 10 checkpoints per run).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// ODE solver of every evaluation: euler, heun, rk4 (default) or dopri5.
    #[arg(long, value_enum)]
    pub eval_solver: Option<SolverKind>,
    /// Steps of a fixed-step evaluation solver (paper: RK4 with 100 steps; default 100 for points,
    /// 25 for images).
    #[arg(long, value_parser = common::count_in(1, common::MAX_SOLVER_STEPS, ""))]
    pub eval_steps: Option<usize>,
    /// Tolerance of dopri5 evaluations (default 1e-5).
    #[arg(long)]
    pub eval_tol: Option<f64>,
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

    // Everything is checked before anything is written: a refused start leaves no trace, and a
    // started run can always be continued with --resume.
    let (experiment, mut trainer, settings) = if args.resume {
        resume(&args, &out, &derived)?
    } else {
        start(&args, &out, &derived, &source)?
    };
    let is_image = experiment.images.is_some();
    let solver = settings.solver(is_image)?;

    // SIGINT / SIGTERM: finish the current step, write a checkpoint, say how to resume. A second
    // signal ends the process at once.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .context("installing the signal handler")?;
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing the signal handler")?;
    }
    trainer.set_stop_flag(Arc::clone(&stop));

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
    let final_samples = settings.final_samples;
    let eval_samples = settings.samples;
    let seed = trainer.config().seed;
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
    let result = trainer.run(&mut objective, Some(&mut eval), &mut |p| reporter.update(p));
    reporter.finish();
    let summary = match result {
        Err(TrainError::Interrupted { step, checkpoint }) => {
            eprintln!(
                "interrupted after step {step}; checkpoint: {}\ncontinue with: genads train {} {}--out {} --resume",
                checkpoint.map_or("none".into(), |p| p.display().to_string()),
                shell_word(&args.model_file.display().to_string()),
                args.model
                    .as_deref()
                    .map_or(String::new(), |m| format!("--model {} ", shell_word(m))),
                shell_word(&out.display().to_string())
            );
            return Ok(ExitCode::from(130));
        }
        other => other?,
    };
    drop(objective);

    println!(
        "trained {} steps in {:.1} s of training time",
        summary.steps, summary.elapsed_s
    );
    if is_image {
        return final_image_evaluation(seed, final_samples, &experiment, &trainer, &solver, &out);
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
    let provenance = common::provenance(
        "genads train",
        final_samples,
        &solver,
        1,
        seed,
        trainer.step_count(),
        None,
    );
    common::write_atomic(
        &out.join("eval.json"),
        &common::metrics_json(&metrics, provenance)?,
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
    seed: u64,
    final_samples: usize,
    experiment: &Experiment,
    trainer: &genads_runtime::train::Trainer,
    solver: &genads_runtime::solver::Solver,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let e = experiment
        .evaluate_images(trainer.ema_net(), final_samples, solver, seed)
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
    let provenance = common::provenance(
        "genads train",
        final_samples,
        solver,
        1,
        seed,
        trainer.step_count(),
        common::classifier_sha256(experiment.config.data),
    );
    common::write_atomic(
        &out.join("eval.json"),
        &common::metrics_json(&e.metrics, provenance)?,
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

/// The file the study runner opens in a cell's directory before it starts `genads train` there:
/// the one foreign entry a fresh run directory may hold.
const STUDY_LOG: &str = "train.log";

/// Fewest and most Fourier modes per axis of the point-source encoding: the soft-argmax decoder
/// reads the field on a 128 × 128 grid (`PointSourceConfig::default().decoder.grid`).
const MIN_MODES: usize = 2;
const MAX_MODES: usize = 128;

/// A fresh run: everything built and checked, then the run directory written.
fn start(
    args: &Args,
    out: &Path,
    derived: &genads_dsl::Derived,
    source: &str,
) -> anyhow::Result<(Experiment, Trainer, EvalSettings)> {
    check_fresh_dir(out)?;
    let data = args.data.unwrap_or(DataSet::Checkerboard);
    let origin = args.model_file.display().to_string();
    let mut experiment_config = match data.image_kind() {
        None => {
            let mut c =
                ExperimentConfig::checkerboard(source.to_string(), origin, derived.name.clone());
            c.modes = args.modes.unwrap_or(c.modes);
            c
        }
        Some(kind) => {
            // Missing data: the message names the command to run.
            genads_runtime::mnist::fetch::require(kind).map_err(anyhow::Error::msg)?;
            let mut c =
                ExperimentConfig::image(data, source.to_string(), origin, derived.name.clone());
            c.train_size = args
                .subset
                .unwrap_or(genads_runtime::mnist::dataset::PAPER_SUBSET);
            c
        }
    };
    experiment_config.data = data;
    experiment_config.data_seed = args.seed.unwrap_or(1);
    let experiment = Experiment::from_derived(experiment_config, derived.clone())?;
    let config = train_config(args, &experiment);
    config.validate()?;
    let is_image = experiment.images.is_some();
    let settings = eval_settings(args, None, is_image);
    settings.solver(is_image)?;
    let trainer = fresh_trainer(config, &experiment, out)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    write_run_files(out, &experiment, trainer.config(), settings)?;
    Ok((experiment, trainer, settings))
}

/// A fresh trainer for `experiment` writing into `out` (nothing is written until it trains).
fn fresh_trainer(
    config: TrainConfig,
    experiment: &Experiment,
    out: &Path,
) -> anyhow::Result<Trainer> {
    let mut trainer = Trainer::new(
        config,
        experiment.model_spec(),
        Some(out.to_path_buf()),
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
    if out.join(common::RUN_RECORD).exists() {
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
        .filter(|name| name != STUDY_LOG)
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

/// Reopens a run for `--resume`: its stored configuration, its newest intact checkpoint (or step
/// 0 when it stopped before its first one).
fn resume(
    args: &Args,
    out: &Path,
    derived: &genads_dsl::Derived,
) -> anyhow::Result<(Experiment, Trainer, EvalSettings)> {
    if !out.exists() {
        bail!(
            "--resume: {} does not exist; start the run without --resume",
            out.display()
        );
    }
    let (record, experiment) = common::open_experiment(out)?;
    if record.signature != derived.signature {
        bail!(
            "{} was trained with a different model (signature {}), not `{}` of {} (signature {})",
            out.display(),
            record.signature,
            derived.name,
            args.model_file.display(),
            derived.signature
        );
    }
    refuse_changes(args, out, &record, &experiment)?;
    if !out.join("model.genads").is_file() || !out.join("derivation.txt").is_file() {
        // A start interrupted right after the record was written.
        write_model_files(out, &experiment)?;
    }
    let is_image = experiment.images.is_some();
    let settings = eval_settings(args, record.eval, is_image);
    settings.solver(is_image)?;
    let trainer = match Trainer::resume(out.to_path_buf(), experiment.model_spec()) {
        Ok(trainer) => {
            common::warn_skipped(&trainer);
            trainer
        }
        Err(TrainError::NoCheckpoint { .. }) => {
            eprintln!(
                "note: {} has no checkpoint (the run stopped before its first one): starting it at step 0 with its stored configuration",
                out.display()
            );
            fresh_trainer(record.train.clone(), &experiment, out)?
        }
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("cannot resume {}", out.display())))
        }
    };
    eprintln!(
        "resuming {} at step {} of {}",
        out.display(),
        trainer.step_count(),
        trainer.config().total_steps()
    );
    Ok((experiment, trainer, settings))
}

/// Refuses flags that would change a resumed run's training (a resumed run keeps its stored
/// configuration; giving the stored value again is fine).
fn refuse_changes(
    args: &Args,
    out: &Path,
    record: &RunRecord,
    experiment: &Experiment,
) -> anyhow::Result<()> {
    let stored = &record.train;
    let mut changed: Vec<String> = Vec::new();
    let mut differs = |flag: &str, given: String, theirs: String| {
        if given != theirs {
            changed.push(format!("{flag} {given} (the run's: {theirs})"));
        }
    };
    if let Some(data) = args.data {
        differs(
            "--data",
            data.to_string(),
            record.experiment.data.to_string(),
        );
    }
    if let (Some(subset), true) = (args.subset, experiment.images.is_some()) {
        differs(
            "--subset",
            subset.to_string(),
            record.experiment.train_size.to_string(),
        );
    }
    if let (Some(modes), false) = (args.modes, experiment.images.is_some()) {
        differs(
            "--modes",
            modes.to_string(),
            record.experiment.modes.to_string(),
        );
    }
    if let Some(preset) = args.preset {
        differs("--preset", preset.to_string(), stored.preset.to_string());
    }
    if let Some(seed) = args.seed {
        differs("--seed", seed.to_string(), stored.seed.to_string());
    }
    if let Some(batch) = args.batch_size {
        differs(
            "--batch-size",
            batch.to_string(),
            stored.batch_size.to_string(),
        );
    }
    if let Some(lr) = args.lr {
        differs("--lr", lr.to_string(), stored.lr.to_string());
    }
    if let Some(every) = args.eval_every {
        differs(
            "--eval-every",
            every.to_string(),
            stored.eval_every.to_string(),
        );
    }
    if let Some(every) = args.checkpoint_every {
        differs(
            "--checkpoint-every",
            every.to_string(),
            stored.checkpoint_every.to_string(),
        );
    }
    if let Some(net) = &args.net {
        let alpha = genads_runtime::Physics::constants(&experiment.physics).alpha;
        let net = net.for_backbone(alpha != 0.0);
        if net != stored.net {
            changed.push(format!(
                "--net (the run's: {})",
                serde_json::to_string(&stored.net)?
            ));
        }
    }
    if let Some(budget) = budget_flags(args) {
        if budget != stored.budget {
            changed.push(format!(
                "{} (the run's: {})",
                describe_budget(&budget),
                describe_budget(&stored.budget)
            ));
        }
    }
    if !changed.is_empty() {
        bail!(
            "--resume continues {} with its stored configuration, and these flags would change it: {}. To train differently (e.g. longer), start a new run with another --out",
            out.display(),
            changed.join(", ")
        );
    }
    Ok(())
}

/// The budget the flags ask for, if any.
fn budget_flags(args: &Args) -> Option<Budget> {
    match (args.epochs, args.steps, args.time) {
        (Some(e), _, _) => Some(Budget::Epochs(e)),
        (_, Some(s), _) => Some(Budget::Steps(s)),
        (_, _, Some(t)) => Some(Budget::Time {
            seconds: Duration::from(t).as_secs_f64(),
            max_steps: args.max_steps.unwrap_or(TIME_BUDGET_MAX_STEPS),
        }),
        _ => None,
    }
}

/// A budget in words, as its flag would state it.
fn describe_budget(budget: &Budget) -> String {
    match *budget {
        Budget::Steps(n) => format!("--steps {n}"),
        Budget::Epochs(n) => format!("--epochs {n}"),
        Budget::Time { seconds, max_steps } if max_steps == TIME_BUDGET_MAX_STEPS => {
            format!(
                "--time {}",
                humantime::format_duration(Duration::from_secs_f64(seconds))
            )
        }
        Budget::Time { seconds, max_steps } => format!(
            "--time {} --max-steps {max_steps}",
            humantime::format_duration(Duration::from_secs_f64(seconds))
        ),
    }
}

/// The evaluation settings: the flags over the stored ones (a resumed run) or the defaults.
fn eval_settings(args: &Args, stored: Option<EvalSettings>, images: bool) -> EvalSettings {
    let mut s = stored.unwrap_or(EvalSettings::defaults(images));
    if let Some(solver) = args.eval_solver {
        s.solver = solver;
    }
    if let Some(steps) = args.eval_steps {
        s.steps = steps;
    }
    if let Some(tol) = args.eval_tol {
        s.tol = tol;
    }
    if let Some(n) = args.eval_samples {
        s.samples = n;
    }
    if let Some(n) = args.final_samples {
        s.final_samples = n;
    }
    s
}

/// `word` quoted for a POSIX shell when it needs quoting.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The training configuration from the preset and the flags.
fn train_config(args: &Args, experiment: &Experiment) -> TrainConfig {
    let preset = args.preset.unwrap_or(Preset::Quick);
    let mut config = TrainConfig::for_preset(preset, experiment.kind);
    config.net = config
        .net
        .for_backbone(genads_runtime::Physics::constants(&experiment.physics).alpha != 0.0);
    if experiment.images.is_some() {
        let t = preset.image_training();
        config.net = preset.image_net_config();
        config.batch_size = t.batch_size;
        config.lr = t.lr;
        config.ema_decay = t.ema_decay;
        config.ema_start = t.ema_start;
        if preset == Preset::Paper {
            // PAPER.md §6.4: 1500 epochs of the 10,000-image subset at batch 128.
            config.budget = Budget::Epochs(1500);
        }
    }
    if let Some(net) = args.net {
        config.net =
            net.for_backbone(genads_runtime::Physics::constants(&experiment.physics).alpha != 0.0);
    }
    config.seed = args.seed.unwrap_or(1);
    config.dataset_size = experiment.train_len() as u64;
    if let Some(b) = args.batch_size {
        config.batch_size = b;
    }
    if let Some(lr) = args.lr {
        config.lr = lr;
    }
    config.budget = budget_flags(args).unwrap_or(config.budget);
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
    eval: EvalSettings,
) -> anyhow::Result<()> {
    let derived = experiment.derived();
    let record = RunRecord {
        experiment: experiment.config.clone(),
        train: config.clone(),
        signature: derived.signature.clone(),
        eval: Some(eval),
    };
    // The record first: once it exists the directory is a run that --resume continues (it holds
    // the source too); the other two files are for reading and are restored on resume.
    common::write_atomic(
        &out.join(common::RUN_RECORD),
        serde_json::to_string_pretty(&record)?.as_bytes(),
    )?;
    write_model_files(out, experiment)
}

/// `model.genads` and `derivation.txt` of a run directory, from its experiment.
fn write_model_files(out: &Path, experiment: &Experiment) -> anyhow::Result<()> {
    common::write_atomic(
        &out.join("model.genads"),
        experiment.config.model_source.as_bytes(),
    )?;
    let derivation =
        genads_dsl::explain::render(experiment.derived(), genads_dsl::explain::Format::Text);
    common::write_atomic(&out.join("derivation.txt"), derivation.as_bytes())
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
