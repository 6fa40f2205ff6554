//! `genads eval`: score a trained run's samples against the data (PAPER.md §7.1) and save the
//! metrics in the run directory.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::common::{self, SolverArgs, SolverKind};

/// Arguments of `genads eval`.
#[derive(clap::Args)]
pub struct Args {
    /// The run directory made by `genads train`.
    pub run: PathBuf,
    /// Generated samples, scored against the first N training points (paper and default: 10,000);
    /// image runs: against the test split, beside the first N training images (paper: 10,000;
    /// default 2,000 for the sampling cost).
    #[arg(long, value_parser = common::count_in(1, common::MAX_SAMPLES, ""))]
    pub n: Option<usize>,
    /// Where the network runs: cpu (default), cuda or cuda:N (a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    pub device: genads_runtime::device::DeviceChoice,
    /// Seed of the prior draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Point runs: score this many independent sample sets (seeds SEED, SEED + 1, …) and report
    /// each metric's mean and standard deviation; the metrics file then holds the means under the
    /// usual names, `NAME_sd` and `repeats` (one draw's WED_norm is noisy: docs/cli.md).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub repeats: u64,
    /// Write the metrics into the run's own eval.json (the training's final evaluation, which
    /// studies aggregate) instead of a file of their own under `RUN/evals/`.
    #[arg(long)]
    pub replace: bool,
    /// The ODE solver.
    #[command(flatten)]
    pub solver: SolverArgs,
    /// Image runs: also the bits per mode of the first N test images (PAPER.md §7.2; 0: skip).
    /// Costs a forward and a backward pass per image and step (≈ 0.5 s per image with 100 steps).
    #[arg(long, default_value_t = 0, value_parser = common::count_in(0, 10_000, "the test split holds 10,000 images"))]
    pub bpm: usize,
    /// Euler steps of the likelihood integration (paper: 100).
    #[arg(long, default_value_t = 100, value_parser = common::count_in(1, common::MAX_SOLVER_STEPS, ""))]
    pub bpm_steps: usize,
    /// Hutchinson probes per divergence evaluation (paper: 1).
    #[arg(long, default_value_t = 1, value_parser = common::count_in(1, 1_000, ""))]
    pub bpm_probes: usize,
}

/// Run `genads eval`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let record = common::read_record(&args.run)?;
    let images = record.experiment.data.is_image();
    let solver = args.solver.solver(images)?;
    let n = args.n.unwrap_or(common::default_eval_samples(images));
    if args.bpm > 0 && !images {
        anyhow::bail!("--bpm: bits per mode is defined for image runs (MNIST, Fashion-MNIST)");
    }
    if args.repeats > 1 && images {
        anyhow::bail!(
            "--repeats: repeated draws are implemented for point runs (the checkerboard)"
        );
    }
    if args.seed.checked_add(args.repeats - 1).is_none() {
        anyhow::bail!(
            "--seed {} --repeats {}: the seeds overflow",
            args.seed,
            args.repeats
        );
    }
    let opened = common::open_run(&args.run, args.device)?;
    let experiment = opened.experiment.as_ref();
    let net = opened.trainer.ema_net();
    let mut draws = Vec::new();
    for seed in args.seed..=args.seed + (args.repeats - 1) {
        draws.push(experiment.evaluate(net, n, &solver, seed)?);
    }
    let seeds = if args.repeats == 1 {
        format!("seed {}", args.seed)
    } else {
        format!(
            "{} draws, seeds {}–{}",
            args.repeats,
            args.seed,
            args.seed + (args.repeats - 1)
        )
    };
    let title = format!(
        "{} at step {}: {} samples ({:?}, {seeds}) vs {}",
        experiment.derived().constants.name,
        opened.trainer.step_count(),
        n,
        solver,
        experiment.scored_against(n)?
    );
    let report = draws.first_mut().and_then(|e| e.report.take());
    let mut draws: Vec<BTreeMap<String, f64>> = draws.into_iter().map(|e| e.metrics).collect();
    let mut metrics = if let Some(report) = &report {
        // Image scores come with the real-vs-real reference: the report says more than the
        // metric table.
        println!("{title}");
        println!("{report}");
        draws.pop().unwrap_or_default()
    } else {
        let metrics = if draws.len() == 1 {
            let metrics = draws.pop().unwrap_or_default();
            common::print_metrics(&title, &metrics);
            metrics
        } else {
            let summary = genads::run::summarise_draws(&draws);
            print_draws(&title, &draws, &summary);
            summary
        };
        print_backbone_gate(&opened)?;
        metrics
    };
    if args.bpm > 0 {
        let images = experiment
            .as_images()
            .context("--bpm: bits per mode is defined for image runs (MNIST, Fashion-MNIST)")?;
        let test = &images.image_reference()?.test;
        let cfg = genads_runtime::mnist::bpm::LikelihoodConfig {
            steps: args.bpm_steps,
            divergence: genads_runtime::mnist::bpm::Divergence::Hutchinson {
                probes: args.bpm_probes,
            },
            seed: args.seed,
            ..Default::default()
        };
        let start = std::time::Instant::now();
        let b = images.bits_per_mode(net, test, args.bpm.min(test.len()), 32, &cfg)?;
        println!(
            "bits per mode: {:.4} ± {:.4} (first {} test images with lift noise, D = {}, Euler {} steps, {} Hutchinson probe(s), {:.0} s)",
            b.mean,
            b.standard_error,
            b.per_image.len(),
            b.modes,
            args.bpm_steps,
            args.bpm_probes,
            start.elapsed().as_secs_f64()
        );
        metrics.insert("bpm".into(), b.mean);
        metrics.insert("bpm_se".into(), b.standard_error);
        metrics.insert("bpm_images".into(), b.per_image.len() as f64);
    }
    let provenance = common::provenance(
        "genads eval",
        n,
        &solver,
        args.repeats,
        args.seed,
        opened.trainer.step_count(),
        common::classifier_sha256(experiment.config().data),
    );
    save(&args, &opened, n, &metrics, provenance)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the metrics with their provenance: into `RUN/evals/` under a name that says what
/// produced them, or with `--replace` into the run's eval.json.
fn save(
    args: &Args,
    opened: &genads::run::Run,
    n: usize,
    metrics: &BTreeMap<String, f64>,
    provenance: serde_json::Value,
) -> anyhow::Result<()> {
    let path = if args.replace {
        args.run.join("eval.json")
    } else {
        let dir = args.run.join("evals");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let solver = match args.solver.solver {
            SolverKind::Dopri5 => format!("dopri5-tol{}", args.solver.tol),
            kind => format!(
                "{}{}",
                kind.name(),
                args.solver
                    .steps
                    .unwrap_or(opened.experiment.eval_defaults().solver_steps)
            ),
        };
        let draws = if args.repeats > 1 {
            format!("-x{}", args.repeats)
        } else {
            String::new()
        };
        dir.join(format!(
            "step{}-n{n}-{solver}-seed{}{draws}.json",
            opened.trainer.step_count(),
            args.seed
        ))
    };
    common::write_atomic(&path, &common::metrics_json(metrics, provenance)?)?;
    println!("saved {}", path.display());
    Ok(())
}

/// Each metric's mean and sd (from `summary`, [`summarise_draws`]) and its value in every draw.
fn print_draws(title: &str, draws: &[BTreeMap<String, f64>], summary: &BTreeMap<String, f64>) {
    println!("{title}");
    println!("  {:<10} {:>10} {:>10}   draws", "metric", "mean", "sd");
    let Some(first) = draws.first() else {
        return;
    };
    for key in common::ordered_keys(first) {
        let each: Vec<String> = draws
            .iter()
            .map(|d| format!("{:.6}", d.get(key).copied().unwrap_or(f64::NAN)))
            .collect();
        let stat = |k: &str| summary.get(k).copied().unwrap_or(f64::NAN);
        println!(
            "  {:<10} {:>10.6} {:>10.6}   {}",
            key,
            stat(key),
            stat(&format!("{key}_sd")),
            each.join(" ")
        );
    }
}

/// For networks that gate the Klein–Gordon backbone: the coefficient β with which the trained
/// residual subtracts it (β = 1 cancels it through the gate, β = 0 leaves it), over modes and
/// channels. The network's affine heads can add linear terms of their own, so 1 − β alone is not
/// the backbone's share of the flow.
fn print_backbone_gate(opened: &genads::run::Run) -> anyhow::Result<()> {
    let physics: &dyn genads_runtime::Physics = opened.experiment.physics();
    if physics.constants().alpha == 0.0 {
        return Ok(());
    }
    let device = opened.experiment.model_spec().device;
    let mut lines = Vec::new();
    for t in [0.05f32, 0.25, 0.5, 0.75, 0.95] {
        let Some(beta) = genads_runtime::nn::backbone_gate_coefficients(
            opened.trainer.ema_net(),
            opened.experiment.kind(),
            t,
            &device,
        )?
        else {
            return Ok(());
        };
        let mean = beta.iter().map(|&b| f64::from(b)).sum::<f64>() / beta.len().max(1) as f64;
        let (lo, hi) = beta
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &b| {
                (l.min(b), h.max(b))
            });
        lines.push(format!(
            "  t = {t:<5} mean {mean:>7.3}  min {lo:>7.3}  max {hi:>7.3}"
        ));
    }
    println!(
        "backbone gate β (residual = network − β·backbone; 1 cancels the backbone through the gate), over modes:"
    );
    for line in lines {
        println!("{line}");
    }
    Ok(())
}
