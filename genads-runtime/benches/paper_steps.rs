//! One full training step of the paper's networks, timed the way `bench/pytorch_reference.py`
//! times PyTorch: synthetic states and targets of the right shapes, forward, ω-weighted MSE
//! (ω = e^{2t}), backward, global-norm clipping at 1.0, AdamW (the project's, paper settings),
//! cosine learning rate, EMA update (averaging from step 1, as the PyTorch reference does).
//! Prints one JSON line per model, like the Python script, for `bench/side_by_side.sh`. The
//! allocator is mimalloc, as in the `genads` binary (glibc's fresh mmap pages for every large
//! tensor cost ~14% of a U-Net step).
//!
//! Run: `RAYON_NUM_THREADS=2 cargo bench -p genads-runtime --bench paper_steps -- [cnn|mlp|unet|unet-small]
//! [--steps N] [--warmup N] [--batch N] [--device cpu|cuda:N]` (batch defaults: CNN and MLP 64,
//! U-Net 128). On a GPU (a build with `--features cuda`) the network, the batch and the loss are
//! on the device and the timing waits for the device to finish.

use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use genads_runtime::device::DeviceChoice;
use genads_runtime::ema::{Ema, EmaConfig};
use genads_runtime::nn::unet::{UNet, UNetConfig};
use genads_runtime::nn::{
    build_from_config, init_seeded, parameter_count, NetConfig, Preset, StateKind, VelocityNet,
};
use genads_runtime::optim::{clip_factor, global_grad_norm, AdamW, AdamWConfig, CosineSchedule};
use genads_runtime::rng::{normal_tensor, seeded, uniform_vec};
use genads_runtime::State;

fn build(
    model: &str,
    vm: &VarMap,
    device: &Device,
) -> candle_core::Result<(Box<dyn VelocityNet>, Vec<usize>)> {
    let vb = VarBuilder::from_varmap(vm, DType::F32, device);
    let err = |e: genads_runtime::nn::NetError| candle_core::Error::Msg(e.to_string());
    Ok(match model {
        "unet" => (
            Box::new(UNet::new(&UNetConfig::PAPER, 2, false, vb)?),
            vec![2, 28, 28],
        ),
        "unet-small" => (
            Box::new(UNet::new(&UNetConfig::preset(Preset::Quick), 2, false, vb)?),
            vec![2, 28, 28],
        ),
        "cnn" => {
            let kind = StateKind::Spectral {
                channels: 4,
                modes: 16,
            };
            let cfg: NetConfig = Preset::Paper.net_config(kind);
            (
                build_from_config(&cfg, kind, false, vb).map_err(err)?,
                vec![4, 16, 16],
            )
        }
        _ => {
            let kind = StateKind::Points { dim: 2 };
            let cfg: NetConfig = Preset::Paper.net_config(kind);
            (
                build_from_config(&cfg, kind, false, vb).map_err(err)?,
                vec![2],
            )
        }
    })
}

fn time_model(
    model: &str,
    batch: usize,
    warmup: usize,
    steps: usize,
    device: &Device,
) -> genads_runtime::Result<()> {
    let vm = VarMap::new();
    let ema_vm = VarMap::new();
    let (net, comp) = build(model, &vm, device)?;
    build(model, &ema_vm, device)?;
    init_seeded(&vm, 1)?;
    let named: Vec<_> = {
        let data = vm.data().lock().expect("variable map");
        data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let mut opt = AdamW::new(named, AdamWConfig::default())?;
    let ema = Ema::new(
        &vm,
        &ema_vm,
        EmaConfig {
            decay: 0.9999,
            start_step: 1,
        },
    )?;
    let total = (warmup + steps) as u64;
    let schedule = CosineSchedule::new(3e-4, 0.1, total);
    let mut rng = seeded(1);
    let mut shape = vec![batch];
    shape.extend(&comp);
    let points = comp.len() == 1;
    let mut step = |i: u64| -> genads_runtime::Result<()> {
        let state = State {
            phi: normal_tensor(&mut rng, &shape, 1.0)?.to_device(device)?,
            pi: normal_tensor(&mut rng, &shape, 1.0)?.to_device(device)?,
        };
        let target = State {
            phi: normal_tensor(&mut rng, &shape, 1.0)?.to_device(device)?,
            pi: normal_tensor(&mut rng, &shape, 1.0)?.to_device(device)?,
        };
        let t: Vec<f32> = uniform_vec(&mut rng, batch, 0.0, 1.0)
            .iter()
            .map(|&x| x as f32)
            .collect();
        let t = Tensor::from_vec(t, batch, device)?;
        let omega = (&t * 2.0)?.exp()?;
        let v = net.forward(&state, &t)?;
        let sq = ((v.phi - target.phi)?.sqr()?.flatten_from(1)?.sum(1)?
            + (v.pi - target.pi)?.sqr()?.flatten_from(1)?.sum(1)?)?;
        let per_sample = if points {
            (sq / (2 * comp[0]) as f64)?
        } else {
            sq
        };
        let loss = (omega * per_sample)?.mean_all()?;
        let grads = loss.backward()?;
        let norm = global_grad_norm(opt.vars(), &grads)?;
        opt.step(&grads, schedule.lr(i), clip_factor(norm, 1.0))?;
        ema.update(i + 1)?;
        Ok(())
    };
    for i in 0..warmup {
        step(i as u64)?;
    }
    device.synchronize()?;
    let start = Instant::now();
    for i in 0..steps {
        step((warmup + i) as u64)?;
    }
    device.synchronize()?;
    let per = start.elapsed().as_secs_f64() / steps as f64;
    let threads = rayon::current_num_threads();
    let device_name = if device.is_cpu() { "cpu" } else { "cuda" };
    println!(
        "{{\"impl\": \"rust\", \"model\": \"{model}\", \"params\": {}, \"threads\": {threads}, \"device\": \"{device_name}\", \"batch\": {batch}, \"steps\": {steps}, \"seconds_per_step\": {per}}}",
        parameter_count(&vm)
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut steps, mut warmup, mut batch) = (5usize, 2usize, None::<usize>);
    let mut device = DeviceChoice::Cpu;
    let mut models = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let next = |i: usize| args.get(i + 1).and_then(|s| s.parse().ok());
        match args[i].as_str() {
            "--steps" => {
                steps = next(i).unwrap_or(steps).max(1);
                i += 1;
            }
            "--warmup" => {
                warmup = next(i).unwrap_or(warmup);
                i += 1;
            }
            "--batch" => {
                batch = next(i);
                i += 1;
            }
            "--device" => {
                match args.get(i + 1).map(|s| s.parse::<DeviceChoice>()) {
                    Some(Ok(d)) => device = d,
                    Some(Err(e)) => {
                        eprintln!("--device: {e}");
                        std::process::exit(2);
                    }
                    None => {}
                }
                i += 1;
            }
            m @ ("cnn" | "mlp" | "unet" | "unet-small") => models.push(m.to_string()),
            _ => {}
        }
        i += 1;
    }
    if models.is_empty() {
        models = vec!["cnn".into(), "mlp".into(), "unet".into()];
    }
    let device = device.open().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    for m in models {
        let b = batch.unwrap_or(if m.starts_with("unet") { 128 } else { 64 });
        if let Err(e) = time_model(&m, b, warmup, steps, &device) {
            eprintln!("{m}: {e}");
            std::process::exit(1);
        }
    }
}
