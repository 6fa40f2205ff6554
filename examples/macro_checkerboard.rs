//! A model compiled by `genads_model!`, trained on the paper's checkerboard through the library
//! API (`genads::run`) — the same run directory, checkpoints, metrics and plots as `genads train`,
//! with the generated code computing every training and sampling step (path sample, target,
//! ω-weighted loss, backbone velocity).
//!
//! Run: `RAYON_NUM_THREADS=2 cargo run --release --example macro_checkerboard -- [STEPS] [SEED]`
//! (defaults: 300 steps, seed 1; the quick preset; the run goes to runs/macro_ads_kg_linear,
//! which must not exist yet — `genads eval runs/macro_ads_kg_linear` works on it afterwards).

use genads::run::{EvalSettings, Model, Run, TrainRequest};
use genads::runtime::train::Budget;

// Paper model #2 (AdS + Klein–Gordon backbone, linear path), compiled at build time.
genads::genads_model!(file = "models/ads_kg_linear.genads");

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let steps: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(300);
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);

    let model = Model::compiled::<AdsKgLinear>()?;
    let request = TrainRequest {
        budget: Some(Budget::Steps(steps)),
        seed,
        // 2,000 final samples with RK4-25 instead of the paper's 10,000 with RK4-100 (minutes).
        eval: Some(EvalSettings {
            final_samples: 2000,
            final_repeats: 1,
            steps: 25,
            ..EvalSettings::defaults(false)
        }),
        ..TrainRequest::default()
    };
    let mut run = Run::create(&model, &request, "runs/macro_ads_kg_linear")?;
    run.train(
        &mut |p| {
            if p.step % 50 == 0 {
                println!(
                    "step {:>5}  loss {:.5}  {:.1} s",
                    p.step, p.loss, p.elapsed_s
                );
            }
        },
        &mut |_, _| {},
    )?;
    let finished = run.finish()?;
    println!("final evaluation ({:?}):", finished.solver);
    for (name, value) in &finished.metrics {
        println!("  {name:<9} {value:.4}");
    }
    println!("wrote {}", run.dir.display());
    Ok(())
}
