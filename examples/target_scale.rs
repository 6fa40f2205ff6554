//! How large, and how spread over the modes, the quantities a holographic model's network must
//! learn are: for each model of a file, at several flow times, the root-mean-square per state
//! component of the data state S₁ (the encoded boundary source), the path velocity U_t, the
//! backbone's share α·Δr·V_KG(S_t) and the training target U_t − α·Δr·V_KG (what the network
//! outputs), each split into its φ̃ and π̃ parts, with the loss weight ω(r_t) and the ratio of the
//! largest to the smallest per-mode target RMS (how unevenly the output is scaled across modes).
//!
//! Used to ask whether models that do not learn in a budget (the Δ sweep's Δ ≥ 2) are limited by
//! the physics (what the flow has to carry) or by the network's conditioning (how the target is
//! scaled): docs/ablations.md.
//!
//! Run: `cargo run --release --example target_scale -- models/delta_sweep.genads [STATES]`.

use anyhow::Context;
use genads::runtime::candle_core::Tensor;
use genads::runtime::experiment::{Experiment, ExperimentConfig, PointExperiment};
use genads::runtime::physics::{Physics, State};
use genads::runtime::rng;

/// Root mean square of every element of `t`.
fn rms(t: &Tensor) -> anyhow::Result<f64> {
    let n = t.elem_count().max(1) as f64;
    Ok((f64::from(t.sqr()?.sum_all()?.to_scalar::<f32>()?) / n).sqrt())
}

/// Per-component root mean square of a batch (first dimension: the states), as the (max / min)
/// over components with a non-zero value.
fn column_spread(t: &Tensor) -> anyhow::Result<f64> {
    let t = t.flatten_from(1)?;
    let b = t.dim(0)? as f32;
    let cols: Vec<f32> = (t.sqr()?.sum(0)? / f64::from(b))?.sqrt()?.to_vec1()?;
    let live: Vec<f32> = cols.into_iter().filter(|c| *c > 1e-12).collect();
    let max = live.iter().copied().fold(0.0f32, f32::max);
    let min = live.iter().copied().fold(f32::INFINITY, f32::min);
    Ok(f64::from(max / min))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .context("usage: target_scale MODEL.genads [STATES]")?;
    let states: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(512);
    let source = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let models = genads::dsl::compile(&source, path).map_err(|d| anyhow::anyhow!("{d}"))?;
    println!(
        "{:<24} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "model",
        "t",
        "ω(r_t)",
        "S1 φ",
        "S1 π",
        "U_t φ",
        "U_t π",
        "KG φ",
        "KG π",
        "tgt φ",
        "tgt π",
        "tgt max/min"
    );
    for derived in models {
        let experiment = PointExperiment::new(ExperimentConfig::checkerboard(
            source.clone(),
            path.clone(),
            derived.constants.name.clone(),
        ))?;
        let physics = experiment.physics();
        let c = physics.constants();
        let mut rng = rng::seeded(3);
        for t in [0.05, 0.25, 0.5, 0.75, 0.95] {
            let s0 = experiment.prior(&mut rng, states)?;
            let s1 = experiment.data_batch(&mut rng, states)?;
            let times = vec![t; states];
            let (sample, target) = genads::runtime::flow::path_and_target(
                physics,
                &s0,
                &s1,
                &times,
                experiment.modes(),
            )?;
            let backbone = State {
                phi: (&sample.velocity.phi - &target.phi)?,
                pi: (&sample.velocity.pi - &target.pi)?,
            };
            let omega = physics.radial(c.r_ir + t * (c.r_uv - c.r_ir)).omega;
            let spread = column_spread(&Tensor::cat(
                &[&target.phi.flatten_from(1)?, &target.pi.flatten_from(1)?],
                1,
            )?)?;
            println!(
                "{:<24} {:>5.2} {:>9.3} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.1}",
                derived.constants.name,
                t,
                omega,
                rms(&s1.phi)?,
                rms(&s1.pi)?,
                rms(&sample.velocity.phi)?,
                rms(&sample.velocity.pi)?,
                rms(&backbone.phi)?,
                rms(&backbone.pi)?,
                rms(&target.phi)?,
                rms(&target.pi)?,
                spread
            );
        }
    }
    Ok(())
}
