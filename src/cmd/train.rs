//! `genads train`: train a model on a data set, with periodic evaluation, checkpoints, resume, and
//! at the end a metrics table and plots in the run directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use genads::run::{
    self, EvalSettings, Model, Run, RunRecord, SolverKind, TrainRequest, TIME_BUDGET_MAX_STEPS,
};
use genads_runtime::experiment::DataSet;
use genads_runtime::nn::Preset;
use genads_runtime::train::{Budget, Progress, TrainError, MAX_BATCH_SIZE};

use genads::study::slurm::shell_quote;

use super::common;

/// Arguments of `genads train`.
#[derive(clap::Args)]
pub struct Args {
    /// The `.genads` file of the model.
    pub model_file: PathBuf,
    /// Which model of the file (required when it holds several, e.g. a sweep).
    #[arg(long)]
    pub model: Option<String>,
    /// Where the networks run: cpu (default), cuda or cuda:N (a build with `--features cuda`);
    /// the physics, the data and the solvers' states stay on the host.
    #[arg(long, default_value = "cpu")]
    pub device: genads_runtime::device::DeviceChoice,
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
    /// Point runs: score this many independent final sample sets (seeds SEED, SEED + 1, …);
    /// eval.json then holds each metric's mean, `NAME_sd` and `repeats` (default 1).
    #[arg(long, value_parser = common::count_in(1, 1_000, ""))]
    pub final_repeats: Option<usize>,
    /// Checkpoint every N steps (default: 10 checkpoints per run).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// ODE solver of every evaluation: euler, heun, rk4 (default) or dopri5.
    #[arg(long)]
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
    let model = Model::from_file(&args.model_file, args.model.as_deref())?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| common::default_run_dir(model.name()));

    // Everything is checked before anything is written: a refused start leaves no trace, and a
    // started run can always be continued with --resume.
    let mut run = if args.resume {
        // Without a record, `Run::resume` says why the directory cannot be resumed.
        let record = if out.join(run::RUN_RECORD).is_file() {
            Some(run::read_record(&out)?)
        } else {
            None
        };
        if let Some(record) = &record {
            refuse_changes(&args, &out, record, &model)?;
        }
        let eval = record
            .as_ref()
            .map(|r| eval_settings(&args, r.eval, r.experiment.data.is_image()));
        let run = Run::resume(&model, &out, eval, args.device)?;
        common::warn_skipped(&run.trainer);
        if run.restarted {
            eprintln!(
                "note: {} has no checkpoint (the run stopped before its first one): starting it at step 0 with its stored configuration",
                out.display()
            );
        }
        eprintln!(
            "resuming {} at step {} of {}",
            out.display(),
            run.trainer.step_count(),
            run.trainer.config().total_steps()
        );
        run
    } else {
        Run::create(&model, &request(&args), &out)?
    };
    let config = run.trainer.config();
    let total = config.total_steps();
    let planned = match config.budget {
        Budget::Time { seconds, .. } => format!(
            "{} of training",
            humantime::format_duration(Duration::from_secs_f64(seconds.round()))
        ),
        _ => format!("{total} steps planned"),
    };
    println!(
        "training `{}` on {} ({} preset, {planned}, batch {}) -> {}",
        run.experiment.derived().constants.name,
        run.experiment.config().data,
        config.preset,
        config.batch_size,
        out.display()
    );
    // Image runs: load (or train, with a message) the metric classifier before the clock starts.
    run.experiment.prepare_evaluation()?;

    // SIGINT / SIGTERM: finish the current step, write a checkpoint, say how to resume. A second
    // signal ends the process at once.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .context("installing the signal handler")?;
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing the signal handler")?;
    }
    run.set_stop_flag(Arc::clone(&stop));

    let mut reporter = Reporter::new(run.trainer.config().budget, total);
    let experiment = Arc::clone(&run.experiment);
    let result = run.train(&mut |p| reporter.update(p), &mut |step, metrics| {
        if let Some(line) = experiment.summary_line(metrics) {
            eprintln!("step {step}: {line}");
        }
    });
    reporter.finish();
    let summary = match result {
        Err(TrainError::Interrupted { step, checkpoint }) => {
            eprintln!(
                "interrupted after step {step}; checkpoint: {}\ncontinue with: genads train {} {}--out {} --resume",
                checkpoint.map_or("none".into(), |p| p.display().to_string()),
                shell_quote(&args.model_file.display().to_string()),
                args.model
                    .as_deref()
                    .map_or(String::new(), |m| format!("--model {} ", shell_quote(m))),
                shell_quote(&out.display().to_string())
            );
            return Ok(ExitCode::from(130));
        }
        other => other?,
    };
    println!(
        "trained {} steps in {:.1} s of training time",
        summary.steps, summary.elapsed_s
    );

    let finished = run.finish()?;
    let against = run.experiment.scored_against(run.eval.final_samples)?;
    if let Some(report) = &finished.report {
        println!(
            "final evaluation: {} samples (EMA weights, {:?}, {} velocity evaluations, {:.0} s) vs {against}",
            run.eval.final_samples,
            finished.solver,
            finished.metrics.get("nfe").copied().unwrap_or(0.0),
            finished.seconds,
        );
        println!("{report}");
    } else {
        common::print_metrics(
            &format!(
                "final evaluation: {} samples{} (EMA weights, {:?}) vs {against}",
                run.eval.final_samples,
                if run.eval.final_repeats > 1 {
                    format!(
                        " × {} draws (means; NAME_sd: sd over the draws)",
                        run.eval.final_repeats
                    )
                } else {
                    String::new()
                },
                finished.solver,
            ),
            &finished.metrics,
        );
    }
    println!(
        "wrote {0}/samples.png, {0}/curves.png, {0}/eval.json, {0}/metrics.jsonl",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The request of a fresh run from the flags.
fn request(args: &Args) -> TrainRequest {
    let data = args.data.unwrap_or(DataSet::Checkerboard);
    TrainRequest {
        data,
        preset: args.preset.unwrap_or(Preset::Quick),
        budget: budget_flags(args),
        seed: args.seed.unwrap_or(1),
        batch_size: args.batch_size,
        lr: args.lr,
        net: args.net,
        modes: args.modes,
        subset: args.subset,
        eval_every: args.eval_every,
        checkpoint_every: args.checkpoint_every,
        eval: Some(eval_settings(args, None, data.is_image())),
        device: args.device,
    }
}

/// Fewest and most Fourier modes per axis of the point-source encoding: the soft-argmax decoder
/// reads the field on a 128 × 128 grid (`PointSourceConfig::default().decoder.grid`).
const MIN_MODES: usize = 2;
const MAX_MODES: usize = 128;

/// Refuses flags that would change a resumed run's training (a resumed run keeps its stored
/// configuration; giving the stored value again is fine).
fn refuse_changes(
    args: &Args,
    out: &Path,
    record: &RunRecord,
    model: &Model,
) -> anyhow::Result<()> {
    let images = record.experiment.data.is_image();
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
    if let (Some(subset), true) = (args.subset, images) {
        differs(
            "--subset",
            subset.to_string(),
            record.experiment.train_size.to_string(),
        );
    }
    if let (Some(modes), false) = (args.modes, images) {
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
        let net = net.for_backbone(model.derived().constants.alpha != 0.0);
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
    if let Some(n) = args.final_repeats {
        s.final_repeats = n;
    }
    s
}

/// Parses `--net`: a [`genads_runtime::nn::NetConfig`] in JSON.
fn parse_net_config(text: &str) -> Result<genads_runtime::nn::NetConfig, String> {
    serde_json::from_str(text).map_err(|e| format!("not a network configuration: {e}"))
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
