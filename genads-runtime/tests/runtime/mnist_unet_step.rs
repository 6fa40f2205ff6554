//! Paper U-Net training-step timing (a measurement, not a test: `#[ignore]`, no assertion on time).
//!
//! `RAYON_NUM_THREADS=2 cargo test --release -p genads-runtime --test runtime mnist_unet_step -- --ignored --nocapture`

use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use genads_runtime::nn::unet::{UNet, UNetConfig};
use genads_runtime::nn::{init_seeded, Preset, VelocityNet};
use genads_runtime::rng::{normal_tensor, seeded};
use genads_runtime::State;
use std::time::Instant;

fn time_steps(cfg: &UNetConfig, batch: usize, steps: usize) -> f64 {
    let dev = Device::Cpu;
    let vm = VarMap::new();
    let net = UNet::new(
        cfg,
        2,
        false,
        VarBuilder::from_varmap(&vm, DType::F32, &dev),
    )
    .unwrap();
    init_seeded(&vm, 1).unwrap();
    let mut opt = candle_nn::AdamW::new_lr(vm.all_vars(), 3e-4).unwrap();
    let mut rng = seeded(2);
    let mut times = Vec::new();
    for _ in 0..steps + 1 {
        let phi = normal_tensor(&mut rng, &[batch, 2, 28, 28], 1.0).unwrap();
        let pi = normal_tensor(&mut rng, &[batch, 2, 28, 28], 1.0).unwrap();
        let target = normal_tensor(&mut rng, &[batch, 4, 28, 28], 1.0).unwrap();
        let t = Tensor::from_vec(vec![0.5f32; batch], batch, &dev).unwrap();
        let start = Instant::now();
        let v = net.forward(&State { phi, pi }, &t).unwrap();
        let out = Tensor::cat(&[&v.phi, &v.pi], 1).unwrap();
        let loss = (out - target).unwrap().sqr().unwrap().mean_all().unwrap();
        opt.backward_step(&loss).unwrap();
        let dt = start.elapsed().as_secs_f64();
        println!("  step {}: {dt:.3} s", times.len());
        times.push(dt);
    }
    // drop the warm-up step
    times[1..].iter().sum::<f64>() / steps as f64
}

#[test]
#[ignore = "timing measurement; run explicitly"]
fn unet_training_step_time() {
    for (name, preset, batch, steps) in [
        ("paper", Preset::Paper, 128, 3),
        ("small", Preset::Small, 128, 5),
        ("quick", Preset::Quick, 128, 10),
    ] {
        let s = time_steps(&UNetConfig::preset(preset), batch, steps);
        println!(
            "U-Net {name} (batch {batch}): {s:.3} s/step, {:.1} samples/s",
            batch as f64 / s
        );
    }
}
