//! Time of one full training step (forward, backward, global-norm clipping, AdamW, EMA) of the
//! paper's checkerboard CNN and MLP at batch 64 and of the CPU presets, on synthetic states of the
//! right shapes (the path/target cost is not included; it is a few element-wise ops).
//!
//! Run: `cargo bench -p genads-runtime --bench train [-- FILTER] [--steps N]`
//! (RAYON_NUM_THREADS sets candle's thread count; the paper comparison uses 2).

use std::time::Instant;

use candle_core::{Device, Tensor};
use genads_runtime::nn::{MlpConfig, NetConfig, Preset, SourceConfig, StateKind, VelocityNet};
use genads_runtime::rng::{normal_tensor, uniform_vec, ChaCha8Rng};
use genads_runtime::train::{Budget, ModelSpec, TrainConfig, Trainer};
use genads_runtime::State;

struct Case {
    name: &'static str,
    preset: Preset,
    kind: StateKind,
    net: Option<NetConfig>,
    batch: usize,
}

fn objective(
    kind: StateKind,
) -> impl FnMut(&dyn VelocityNet, &mut ChaCha8Rng, usize) -> genads_runtime::Result<Tensor> {
    move |net, rng, b| {
        let shape = kind.batch_shape(b);
        let state = State {
            phi: normal_tensor(rng, &shape, 1.0)?,
            pi: normal_tensor(rng, &shape, 1.0)?,
        };
        let target = State {
            phi: normal_tensor(rng, &shape, 1.0)?,
            pi: normal_tensor(rng, &shape, 1.0)?,
        };
        let t: Vec<f32> = uniform_vec(rng, b, 0.0, 1.0)
            .iter()
            .map(|&x| x as f32)
            .collect();
        let t = Tensor::from_vec(t, b, &Device::Cpu)?;
        // Networks that gate the backbone get a stand-in for it (the cost is the gate's, not the
        // backbone's).
        let backbone = if net.wants_backbone() {
            Some(State {
                phi: normal_tensor(rng, &shape, 1.0)?,
                pi: normal_tensor(rng, &shape, 1.0)?,
            })
        } else {
            None
        };
        let v = net.forward_with_backbone(&state, &t, backbone.as_ref())?;
        let l =
            ((v.phi - target.phi)?.sqr()?.mean_all()? + (v.pi - target.pi)?.sqr()?.mean_all()?)?;
        Ok(l)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut steps = 10u64;
    let mut filter: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--steps" => {
                steps = args
                    .get(i + 1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(steps);
                i += 1;
            }
            "--bench" => {}
            a if !a.starts_with('-') => filter = Some(a.to_string()),
            _ => {}
        }
        i += 1;
    }
    let spectral = StateKind::Spectral {
        channels: 4,
        modes: 16,
    };
    let points = StateKind::Points { dim: 2 };
    let cases = [
        Case {
            name: "paper_cnn_b64",
            preset: Preset::Paper,
            kind: spectral,
            net: None,
            batch: 64,
        },
        Case {
            name: "paper_mlp_b64",
            preset: Preset::Paper,
            kind: points,
            net: None,
            batch: 64,
        },
        Case {
            name: "quick_spectral",
            preset: Preset::Quick,
            kind: spectral,
            net: None,
            batch: Preset::Quick.training().batch_size,
        },
        Case {
            name: "quick_spectral_sub_cell",
            preset: Preset::Quick,
            kind: spectral,
            net: match Preset::Quick.net_config(spectral) {
                NetConfig::Source(cfg) => Some(NetConfig::Source(SourceConfig {
                    sub_cell: true,
                    ..cfg
                })),
                _ => None,
            },
            batch: Preset::Quick.training().batch_size,
        },
        Case {
            name: "quick_spectral_gated",
            preset: Preset::Quick,
            kind: spectral,
            net: Some(Preset::Quick.net_config(spectral).for_backbone(true)),
            batch: Preset::Quick.training().batch_size,
        },
        Case {
            name: "quick_spectral_k8",
            preset: Preset::Quick,
            kind: StateKind::Spectral {
                channels: 4,
                modes: 8,
            },
            net: None,
            batch: Preset::Quick.training().batch_size,
        },
        Case {
            name: "quick_points",
            preset: Preset::Quick,
            kind: points,
            net: None,
            batch: Preset::Quick.training().batch_size,
        },
        Case {
            name: "small_spectral",
            preset: Preset::Small,
            kind: spectral,
            net: None,
            batch: Preset::Small.training().batch_size,
        },
        Case {
            name: "mlp512x3_spectral_b256",
            preset: Preset::Quick,
            kind: spectral,
            net: Some(NetConfig::Mlp(MlpConfig {
                hidden: 512,
                depth: 3,
                time_dim: 64,
                time_scale: 1,
                fourier_octaves: 0,
            })),
            batch: 256,
        },
    ];
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    println!("# training-step benchmark, RAYON_NUM_THREADS={threads}, {steps} timed steps after 2 warm-up steps");
    println!(
        "{:<26} {:>6} {:>12} {:>12} {:>14}",
        "case", "batch", "params", "ms/step", "samples/s"
    );
    for case in cases {
        if filter
            .as_ref()
            .is_some_and(|f| !case.name.contains(f.as_str()))
        {
            continue;
        }
        let mut cfg = TrainConfig::for_preset(case.preset, case.kind);
        if let Some(net) = case.net {
            cfg.net = net;
        }
        cfg.batch_size = case.batch;
        cfg.budget = Budget::Steps(steps + 2);
        let spec = ModelSpec {
            kind: case.kind,
            hermite: false,
            signature: "bench".into(),
            device: Device::Cpu,
        };
        let mut trainer = match Trainer::new(cfg, spec, None, serde_json::Value::Null) {
            Ok(t) => t,
            Err(e) => {
                println!("{:<26} error: {e}", case.name);
                continue;
            }
        };
        let params = genads_runtime::nn::parameter_count(trainer.model_vars());
        let mut obj = objective(case.kind);
        for _ in 0..2 {
            trainer.train_step(&mut obj).expect("warm-up step");
        }
        let start = Instant::now();
        for _ in 0..steps {
            trainer.train_step(&mut obj).expect("step");
        }
        let per = start.elapsed().as_secs_f64() / steps as f64;
        println!(
            "{:<26} {:>6} {:>12} {:>12.2} {:>14.0}",
            case.name,
            case.batch,
            params,
            per * 1e3,
            case.batch as f64 / per
        );
    }
}
