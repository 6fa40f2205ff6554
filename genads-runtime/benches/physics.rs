//! Physics-core throughput: a path sample, the Klein–Gordon backbone (training target) and the
//! ω-weighted loss for a training batch, on the paper's model #1 (AdS, Δ = 3/2, Hermite affine
//! path, KG backbone), interpreted from `models/ads_kg_hermite.genads`.
//!
//! Batches: 64 spectral point states (B, 4, 16, 16) and 128 image states (B, 2, 28, 28).
//! Run: `RAYON_NUM_THREADS=1 cargo bench -p genads-runtime --bench physics`.

use candle_core::{Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use genads_runtime::backbone::backbone_velocity;
use genads_runtime::interpreter::Interpreted;
use genads_runtime::loss::{flow_loss, training_target};
use genads_runtime::path::sample_path;
use genads_runtime::rng::{normal_tensor, seeded, uniform_vec};
use genads_runtime::{Modes, State};
use std::hint::black_box;

fn model(file: &str) -> Interpreted {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(file);
    let derived = genads_dsl::compile_file(&path).expect("model compiles");
    Interpreted::new(derived.into_iter().next().expect("one model")).expect("interprets")
}

fn state(shape: &[usize], seed: u64) -> State {
    let mut rng = seeded(seed);
    State {
        phi: normal_tensor(&mut rng, shape, 1.0).unwrap(),
        pi: normal_tensor(&mut rng, shape, 1.0).unwrap(),
    }
}

fn modes(h: usize, w: usize, l: f64) -> Modes {
    let k = |i: usize, n: usize| {
        let f = if i < n.div_ceil(2) {
            i as f64
        } else {
            i as f64 - n as f64
        };
        2.0 * std::f64::consts::PI * f / l
    };
    let v: Vec<f32> = (0..h * w)
        .map(|i| (k(i / w, h).powi(2) + k(i % w, w).powi(2)) as f32)
        .collect();
    Modes {
        k2: Tensor::from_vec(v, (1, 1, h, w), &Device::Cpu).unwrap(),
    }
}

fn bench(c: &mut Criterion) {
    let physics = model("ads_kg_hermite.genads");
    let cases = [
        ("spectral_64x4x16x16", [64usize, 4, 16, 16], 8.0),
        ("image_128x2x28x28", [128, 2, 28, 28], 28.0),
    ];
    for (name, shape, l) in cases {
        let (s0, s1) = (state(&shape, 1), state(&shape, 2));
        let modes = modes(shape[2], shape[3], l);
        let t = uniform_vec(&mut seeded(3), shape[0], 0.0, 1.0);
        let pred = state(&shape, 4);
        let mut g = c.benchmark_group(format!("physics/{name}"));
        g.throughput(Throughput::Elements(shape[0] as u64));
        g.bench_function("path", |b| {
            b.iter(|| black_box(sample_path(&physics, &s0, &s1, &t).unwrap()))
        });
        let sample = sample_path(&physics, &s0, &s1, &t).unwrap();
        g.bench_function("backbone", |b| {
            b.iter(|| {
                black_box(backbone_velocity(&physics, &sample.state, &sample.r, &modes).unwrap())
            })
        });
        let target = training_target(&physics, &sample, &modes).unwrap();
        g.bench_function("loss", |b| {
            b.iter(|| black_box(flow_loss(&physics, &pred, &target, &sample.r).unwrap()))
        });
        g.bench_function("path+target+loss", |b| {
            b.iter(|| {
                let sample = sample_path(&physics, &s0, &s1, &t).unwrap();
                let target = training_target(&physics, &sample, &modes).unwrap();
                black_box(flow_loss(&physics, &pred, &target, &sample.r).unwrap())
            })
        });
        g.finish();
    }
}

// Plots off: plotters is built with an embedded font only, which criterion's plotting lacks.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
