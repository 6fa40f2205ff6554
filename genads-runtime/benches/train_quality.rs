//! Time-to-quality of the training presets on the checkerboard (the measurement behind the
//! `quick`/`small` presets): trains a model file for a wall-clock budget and evaluates the EMA
//! network every `--eval-every` steps on 10,000 RK4-100 samples against the first 10,000 training
//! points (BV, JS_cell, WED_norm of PAPER.md §7.1).
//!
//! Run: `RAYON_NUM_THREADS=2 cargo bench -p genads-runtime --bench train_quality -- \
//!        ../models/baseline.genads --preset quick --seconds 300 --modes 16 --eval-every 500`
//!
//! Options may override the preset: `--batch N --lr X --hidden N --depth N --steps N` (steps =
//! schedule length). Prints one line per evaluation.

use std::collections::BTreeMap;
use std::time::Instant;

use candle_core::Device;
use genads_dsl::derived::Encoding;
use genads_runtime::data::Dataset;
use genads_runtime::encode::{
    Codec, DataBatch, DataScaling, PointSourceCodec, PointSourceConfig, RawPointCodec,
};
use genads_runtime::envelope::EnvelopeGrid;
use genads_runtime::interpreter::Interpreted;
use genads_runtime::metrics::{checkerboard_metrics, MetricOptions};
use genads_runtime::nn::{MlpConfig, NetConfig, Preset, StateKind, VelocityNet};
use genads_runtime::prior::sample_prior;
use genads_runtime::rng::ChaCha8Rng;
use genads_runtime::sample::flow_velocity;
use genads_runtime::solver::Solver;
use genads_runtime::train::{Budget, FlowObjective, ModelSpec, TrainConfig, Trainer};
use genads_runtime::{Physics, Result, State};
use rand::Rng;

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn prior(
    physics: &dyn Physics,
    codec: &dyn Codec,
    b: usize,
    rng: &mut ChaCha8Rng,
) -> Result<State> {
    let k2 = codec.prior_k2();
    sample_prior(
        rng,
        &physics.constants().prior,
        &codec.state_shape(b),
        k2.as_deref(),
    )
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let file = args
        .first()
        .cloned()
        .unwrap_or_else(|| "../models/baseline.genads".into());
    let preset: Preset = arg::<String>(&args, "--preset")
        .unwrap_or("quick".into())
        .parse()?;
    let seconds: f64 = arg(&args, "--seconds").unwrap_or(300.0);
    let modes: usize = arg(&args, "--modes").unwrap_or(16);
    let eval_every: u64 = arg(&args, "--eval-every").unwrap_or(500);
    let n_eval: usize = arg(&args, "--n").unwrap_or(10_000);
    let seed: u64 = arg(&args, "--seed").unwrap_or(1);

    let derived = genads_dsl::select(
        genads_dsl::compile_file(std::path::Path::new(&file)).map_err(|d| format!("{d:?}"))?,
        None,
    )?;
    let physics = Interpreted::new(derived)?;
    let c = physics.constants().clone();
    let data = Dataset::checkerboard(50_000, seed);
    let scaling = DataScaling::fit_points(&data.points)?;
    let codec: Box<dyn Codec> = match c.encoding {
        Encoding::None => Box::new(RawPointCodec::new(scaling)),
        Encoding::Propagator => {
            let cfg = PointSourceConfig {
                modes,
                scaling,
                ..Default::default()
            };
            let env = EnvelopeGrid::from_physics(&cfg.mode_grid()?, &physics)?;
            Box::new(PointSourceCodec::new(cfg, env)?)
        }
    };
    let shape1 = codec.state_shape(1);
    let kind = if shape1.len() == 2 {
        StateKind::Points { dim: shape1[1] }
    } else {
        StateKind::Spectral {
            channels: shape1[1],
            modes: shape1[2],
        }
    };
    let modes_t = codec.modes()?;
    let mut cfg = TrainConfig::for_preset(preset, kind);
    cfg.seed = seed;
    if let Some(b) = arg(&args, "--batch") {
        cfg.batch_size = b;
    }
    if let Some(lr) = arg(&args, "--lr") {
        cfg.lr = lr;
    }
    if let (Some(hidden), NetConfig::Mlp(m)) = (arg::<usize>(&args, "--hidden"), cfg.net) {
        cfg.net = NetConfig::Mlp(MlpConfig { hidden, ..m });
    }
    if let (Some(depth), NetConfig::Mlp(m)) = (arg::<usize>(&args, "--depth"), cfg.net) {
        cfg.net = NetConfig::Mlp(MlpConfig { depth, ..m });
    }
    if let Some(ts) = arg::<u32>(&args, "--time-scale") {
        cfg.net = match cfg.net {
            NetConfig::Mlp(m) => NetConfig::Mlp(MlpConfig {
                time_scale: ts,
                ..m
            }),
            NetConfig::Cnn(c) => NetConfig::Cnn(genads_runtime::nn::CnnConfig {
                time_scale: ts,
                ..c
            }),
            // The U-Net embeds raw t (PAPER.md §6.3).
            NetConfig::UNet(u) => NetConfig::UNet(u),
            NetConfig::Source(s) => NetConfig::Source(genads_runtime::nn::SourceConfig {
                time_scale: ts,
                ..s
            }),
            NetConfig::Mixture(m) => NetConfig::Mixture(genads_runtime::nn::MixtureConfig {
                time_scale: ts,
                ..m
            }),
        };
    }
    let max_steps: u64 = arg(&args, "--steps").unwrap_or(cfg.total_steps());
    cfg.budget = Budget::Time { seconds, max_steps };
    cfg.eval_every = eval_every;
    println!("# {file} preset {preset} kind {kind:?} net {:?} batch {} lr {} seconds {seconds} schedule {max_steps} RAYON_NUM_THREADS={}",
        cfg.net, cfg.batch_size, cfg.lr, std::env::var("RAYON_NUM_THREADS").unwrap_or_default());
    let spec = ModelSpec {
        kind,
        hermite: c.path != genads_dsl::derived::PathKind::Linear,
        signature: c.signature.clone(),
        device: Device::Cpu,
    };
    let mut trainer = Trainer::new(cfg, spec, None, serde_json::Value::Null)?;
    if let Some(fractions) = codec.box_fractions(&data.points) {
        trainer.init_from_data(&fractions)?;
    }
    let lift = c.lift_noise;
    let codec_ref = codec.as_ref();
    let points = &data.points;
    let mut objective = FlowObjective {
        physics: &physics,
        modes: &modes_t,
        data: Box::new(move |rng: &mut ChaCha8Rng, b: usize| {
            let batch: Vec<[f64; 2]> = (0..b)
                .map(|_| points[rng.random_range(0..points.len())])
                .collect();
            codec_ref.encode(&DataBatch::Points(batch), Some((rng, lift)))
        }),
        prior: Box::new(|rng: &mut ChaCha8Rng, b: usize| prior(&physics, codec_ref, b, rng)),
    };
    let real = data.head(n_eval).to_vec();
    let start = Instant::now();
    let last_loss = std::cell::Cell::new(f64::NAN);
    let mut eval = |net: &dyn VelocityNet, step: u64| -> Result<BTreeMap<String, f64>> {
        let t0 = Instant::now();
        let mut rng = genads_runtime::rng::seeded(seed + 1000);
        let mut generated = Vec::with_capacity(n_eval);
        let chunk = 2_500;
        for lo in (0..n_eval).step_by(chunk) {
            let b = chunk.min(n_eval - lo);
            let s0 = prior(&physics, codec_ref, b, &mut rng)?;
            let (s1, _) = Solver::Rk4 { steps: 100 }.solve(s0, |s: &State, t: f64| {
                flow_velocity(&physics, net, &modes_t, s, t)
            })?;
            generated.extend_from_slice(codec_ref.decode(&s1.phi)?.points()?);
        }
        let m = checkerboard_metrics(
            &real,
            &generated,
            &MetricOptions {
                sw2_projections: 0,
                ..Default::default()
            },
        )?;
        println!(
            "step {step:>6}  loss {:.4}  wall_s {:>7.1}  BV {:.4}  JS {:.5}  WED_norm {:.5}  (eval {:.1} s)",
            last_loss.get(),
            start.elapsed().as_secs_f64(),
            m.bv, m.js_cell, m.wed_norm, t0.elapsed().as_secs_f64()
        );
        Ok(BTreeMap::from([
            ("bv".into(), m.bv),
            ("js_cell".into(), m.js_cell),
            ("wed_norm".into(), m.wed_norm),
        ]))
    };
    let summary = trainer.run(&mut objective, Some(&mut eval), &mut |p| {
        last_loss.set(p.loss)
    })?;
    println!(
        "# {} steps, {:.1} s (training time includes evaluations)",
        summary.steps, summary.elapsed_s
    );
    Ok(())
}
