//! `genads sample`: draw samples from a trained run (EMA weights) and write them as CSV or PNG.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use genads_runtime::plot;

use super::common::{self, SolverArgs};

/// Arguments of `genads sample`.
#[derive(clap::Args)]
pub struct Args {
    /// The run directory made by `genads train`.
    pub run: PathBuf,
    /// Number of samples (default: 10,000 points, or 100 images).
    #[arg(long, value_parser = common::count_in(1, common::MAX_SAMPLES, ""))]
    pub n: Option<usize>,
    /// Samples integrated together (bounds memory; images: at most 128).
    #[arg(long, default_value_t = 2000, value_parser = common::count_in(1, 100_000, "the samples of one batch are integrated together and held in memory"))]
    pub batch: usize,
    /// Seed of the prior draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file: .csv (x,y per line) or .png (scatter over the true cells); image runs: .png
    /// (a grid, 10 per row). Default: <RUN>/samples.csv, or <RUN>/grid.png for images.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The ODE solver.
    #[command(flatten)]
    pub solver: SolverArgs,
}

/// Run `genads sample`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let record = common::read_record(&args.run)?;
    let solver = args.solver.solver(record.experiment.data.is_image())?;
    if record.experiment.data.is_image() {
        return run_images(&args, &solver);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.run.join("samples.csv"));
    let extension = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !matches!(extension, "csv" | "png") {
        bail!("--out {}: the file must end in .csv or .png", out.display());
    }
    common::require_parent_dir(&out)?;
    let opened = common::open_run(&args.run)?;
    let mut rng = genads_runtime::rng::seeded(args.seed);
    let start = Instant::now();
    let (points, nfe) = opened.experiment.sample_points(
        opened.trainer.ema_net(),
        args.n.unwrap_or(10_000),
        args.batch,
        &solver,
        &mut rng,
    )?;
    let seconds = start.elapsed().as_secs_f64();
    if extension == "csv" {
        let mut text = String::from("x,y\n");
        for p in &points {
            writeln!(text, "{},{}", p[0], p[1])?;
        }
        common::write_atomic(&out, text.as_bytes())?;
    } else {
        let title = format!(
            "{}: {} samples",
            opened.experiment.derived().constants.name,
            points.len()
        );
        plot::samples_over_checkerboard(&points, &title, &out)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    println!(
        "{} samples from step {} with {:?}: {} velocity evaluations, {:.2} s -> {}",
        points.len(),
        opened.trainer.step_count(),
        solver,
        nfe,
        seconds,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Samples of an image run, written as a PNG grid.
fn run_images(args: &Args, solver: &genads_runtime::solver::Solver) -> anyhow::Result<ExitCode> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.run.join("grid.png"));
    if out.extension().and_then(|e| e.to_str()) != Some("png") {
        bail!(
            "--out {}: samples of an image run are written as a .png grid",
            out.display()
        );
    }
    let n = args.n.unwrap_or(100);
    common::require_parent_dir(&out)?;
    let opened = common::open_run(&args.run)?;
    let mut rng = genads_runtime::rng::seeded(args.seed);
    let start = Instant::now();
    let (pixels, nfe) = opened.experiment.sample_images(
        opened.trainer.ema_net(),
        n,
        args.batch
            .min(genads_runtime::experiment::IMAGE_SAMPLE_BATCH),
        solver,
        &mut rng,
    )?;
    let seconds = start.elapsed().as_secs_f64();
    genads::run::write_image_grid(&opened.experiment, &pixels, n, &out)?;
    println!(
        "{} images from step {} with {:?}: {} velocity evaluations, {:.2} s -> {}",
        n,
        opened.trainer.step_count(),
        solver,
        nfe,
        seconds,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
