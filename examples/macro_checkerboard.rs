//! A model compiled by `genads_model!`, trained on the paper's checkerboard with the shared
//! runtime, then sampled and scored.
//!
//! The physics of every training and sampling step (path sample, backbone-subtracted target,
//! ω-weighted loss, backbone velocity) comes from the generated type `AdsKgLinear`; the data set,
//! the point-source codec, the IR prior, the network and the trainer are the shared runtime's
//! (the same `Experiment` wiring `genads train` uses).
//!
//! Run: `RAYON_NUM_THREADS=2 cargo run --release --example macro_checkerboard -- [STEPS] [SEED]`
//! (defaults: 300 steps, seed 1; the quick preset).

use genads::runtime::experiment::{score_points, Experiment, ExperimentConfig};
use genads::runtime::physics::{self, PathKind, Physics, State};
use genads::runtime::sample::sample_each;
use genads::runtime::solver::Solver;
use genads::runtime::train::{Budget, FlowObjective, ModelSpec, TrainConfig, Trainer};
use genads::runtime::{candle_core, nn, rng};

// The model: paper model #2 (AdS + Klein–Gordon backbone, linear path), compiled at build time.
genads::genads_model!(file = "models/ads_kg_linear.genads");

const SOURCE: &str = include_str!("../models/ads_kg_linear.genads");

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let steps: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(300);
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let model = &AdsKgLinear;
    println!(
        "model {} (signature {})",
        AdsKgLinear::NAME,
        AdsKgLinear::SIGNATURE
    );

    // Data set, codec and prior of the paper's checkerboard setting for this model.
    let config = ExperimentConfig::checkerboard(
        SOURCE.to_string(),
        "models/ads_kg_linear.genads".to_string(),
        AdsKgLinear::NAME.to_string(),
    );
    let experiment = Experiment::new(config)?;
    anyhow::ensure!(
        experiment.derived().signature == AdsKgLinear::SIGNATURE,
        "the experiment's model differs from the compiled one"
    );

    let mut cfg = TrainConfig::for_preset(nn::Preset::Quick, experiment.kind);
    cfg.net = cfg.net.for_backbone(model.constants().alpha != 0.0);
    cfg.budget = Budget::Steps(steps);
    cfg.seed = seed;
    let spec = ModelSpec {
        kind: experiment.kind,
        hermite: model.constants().path != PathKind::Linear,
        signature: AdsKgLinear::SIGNATURE.to_string(),
        device: candle_core::Device::Cpu,
    };
    let mut trainer = Trainer::new(cfg, spec, None, Default::default())?;
    if let Some(fractions) = experiment.box_fractions() {
        trainer.init_from_data(&fractions)?;
    }
    let mut objective = FlowObjective {
        physics: model,
        modes: &experiment.modes,
        data: Box::new(|r, b| experiment.data_batch(r, b)),
        prior: Box::new(|r, b| experiment.prior(r, b)),
    };
    let start = std::time::Instant::now();
    for step in 1..=steps {
        let loss = trainer.train_step(&mut objective)?;
        if step % 50 == 0 || step == steps {
            println!(
                "step {step:>5}  loss {loss:.5}  {:.1} s",
                start.elapsed().as_secs_f64()
            );
        }
    }

    // Sample with the EMA network; the velocity is the generated model's fused backbone + residual.
    let n = 2000;
    let net = trainer.ema_net();
    let modes = &experiment.modes;
    let mut rng = rng::seeded(seed + 1000);
    let mut prior = |r: &mut rand_chacha::ChaCha8Rng, b: usize| experiment.prior(r, b);
    let mut points = Vec::with_capacity(n);
    let nfe = sample_each(
        &mut prior,
        |s: &State, t: f64| {
            let b = s.phi.dims()[0];
            let tt = candle_core::Tensor::full(t as f32, b, s.phi.device())?;
            let residual = net.forward(s, &tt)?;
            physics::velocity_t(model, s, &vec![t; b], &residual, modes)
        },
        n,
        500,
        &Solver::Rk4 { steps: 20 },
        &mut rng,
        |s: State| {
            if let genads::runtime::encode::DataBatch::Points(p) =
                experiment.codec.decode(&s.phi)?
            {
                points.extend(p);
            }
            Ok(())
        },
    )?;
    let metrics = score_points(experiment.reference_points(n), &points)?;
    println!("{n} samples (RK4, 20 steps), {nfe} velocity evaluations in total:");
    for (name, value) in metrics {
        println!("  {name:<9} {value:.4}");
    }
    Ok(())
}
