//! `genads sample`: draw samples from a trained run (EMA weights) and write them as CSV or PNG.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;

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
    /// Where the network runs: cpu (default), cuda or cuda:N (a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    pub device: genads_runtime::device::DeviceChoice,
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
    // The flags are checked against the run's data set before the run is opened.
    let images = record.experiment.data.is_image();
    let solver = args.solver.solver(images)?;
    let (out, n, noun) = if images {
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
        (out, args.n.unwrap_or(100), "images")
    } else {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| args.run.join("samples.csv"));
        let extension = out.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(extension, "csv" | "png") {
            bail!("--out {}: the file must end in .csv or .png", out.display());
        }
        (out, args.n.unwrap_or(10_000), "samples")
    };
    common::require_parent_dir(&out)?;
    let opened = common::open_run(&args.run, args.device)?;
    let mut rng = genads_runtime::rng::seeded(args.seed);
    let start = Instant::now();
    let nfe = opened.experiment.sample_to_file(
        opened.trainer.ema_net(),
        n,
        args.batch,
        &solver,
        &mut rng,
        &out,
    )?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{n} {noun} from step {} with {:?}: {} velocity evaluations, {:.2} s -> {}",
        opened.trainer.step_count(),
        solver,
        nfe,
        seconds,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
